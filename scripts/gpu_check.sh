#!/usr/bin/env bash
# GPU readiness check, for a machine with a CUDA GPU (the CI has none). From a clone set up with
# scripts/setup.sh (after installing a CUDA build of torch) or with xrdnet installed:
#   bash scripts/gpu_check.sh            # a few minutes; about one of them is torch.compile compiling
# Steps: CUDA is visible to torch; a tiny training with trainer=gpu (16-bit mixed precision) that
# really ran on the GPU; the same with compile=true; xrdnet-eval of the compiled run's checkpoint; the
# plain predictor loading that checkpoint on the CPU. Prints PASS/FAIL per step and exits 1 if any
# failed; each step's log stays in the work folder ($XRDNET_GPU_CHECK_DIR, else a new temporary one).
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python)}
WORK=${XRDNET_GPU_CHECK_DIR:-$(mktemp -d -t xrdnet-gpu-check.XXXXXX)}
mkdir -p "$WORK"
# a dataset of 1,400 crystals and two epochs: every part of a run, in a minute or two
TINY=(paths.log_dir="$WORK/outputs" paths.data_dir="$WORK/data" data.source.n=1400 trainer.max_epochs=2
      callbacks.rich_progress_bar=null)
RESULTS=()
FAILED=0

# step NAME COMMAND...: run it with its output in $WORK/NAME.log, record PASS or FAIL
step() {
  local name=$1; shift
  echo "== $name" >&2
  if "$@" >"$WORK/$name.log" 2>&1; then
    RESULTS+=("PASS  $name")
  else
    RESULTS+=("FAIL  $name   (log: $WORK/$name.log)")
    FAILED=1
  fi
}

# train NAME OVERRIDES...: a tiny run on the GPU; fails unless Lightning used the GPU with 16-bit AMP
train() {
  local name=$1; shift
  "$PYTHON" -m xrdnet.train trainer=gpu "${TINY[@]}" hydra.run.dir="$WORK/outputs/$name" "$@" &&
    grep -q "GPU available: True (cuda), used: True" "$WORK/outputs/$name/train.log" "$WORK/$name.log" &&
    grep -q "16bit Automatic Mixed Precision" "$WORK/$name.log"
}

best_checkpoint() {
  "$PYTHON" -c "import json, sys; print(json.load(open(sys.argv[1]))['best_checkpoint'])" "$WORK/outputs/$1/metrics.json"
}

step cuda_visible "$PYTHON" -c "
import sys, torch
print('torch', torch.__version__, 'CUDA', torch.version.cuda, 'available', torch.cuda.is_available())
if not torch.cuda.is_available():
    sys.exit(1)
print('device', torch.cuda.get_device_name(0))"
step train_gpu_mixed_precision train train_gpu_mixed_precision
step train_gpu_compiled train train_gpu_compiled compile=true
CKPT=$(best_checkpoint train_gpu_compiled 2>/dev/null || true)
step eval_compiled_checkpoint "$PYTHON" -m xrdnet.eval ckpt_path="$CKPT" paths.data_dir="$WORK/data" \
  hydra.run.dir="$WORK/outputs/eval"
step predictor_loads_it_on_cpu "$PYTHON" -c "
import sys
from pymatgen.core import Lattice, Structure
from xrdnet.predictor import CrystalSystemPredictor
predictor = CrystalSystemPredictor.from_checkpoint(sys.argv[1], map_location='cpu')
nacl = Structure(Lattice.cubic(5.64), ['Na', 'Cl'], [[0, 0, 0], [0.5, 0.5, 0.5]])
probabilities = predictor.predict_proba(predictor.profile_of_structure(nacl)[None])
assert probabilities.shape == (1, 7) and abs(probabilities.sum() - 1) < 1e-4, probabilities
print({name: round(float(p), 3) for name, p in zip(predictor.class_names, probabilities[0])})" "$CKPT"

echo
echo "xrdnet GPU check ($WORK)"
printf '  %s\n' "${RESULTS[@]}"
if [ "$FAILED" = 0 ]; then echo "PASS"; else echo "FAIL"; fi
exit "$FAILED"
