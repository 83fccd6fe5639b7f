"""Is the data pipeline faster than the model? Samples/s of each alone, side by side in one process.

Pipeline: the default training DataLoader (stored peak lists -> augmented, rendered profiles ->
batches), with no model. Model: the default 1D-CNN LightningModule's training step (forward, loss,
backward, optimizer step) on batches already in memory, with no data work. Both run on the CPU with
the default config and each has the whole machine while it is measured: the model step uses torch's
threads on every core, the pipeline one loader worker per core (--workers; the rate per worker is
printed too, so a ratio at any worker count follows from it).

    python scripts/bench_pipeline.py                 # default config, small dataset
    python scripts/bench_pipeline.py --workers 1     # the pipeline on one core
    python scripts/bench_pipeline.py --batches 50 data.train_mode=on_the_fly

Last line: pipeline_over_model=<samples/s of the pipeline / samples/s of the model step>.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch.utils.data import DataLoader

from xrdnet.config import CONFIG_DIR


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=60, help="batches timed for each side (default 60)")
    parser.add_argument("--n", type=int, default=3000, help="synthetic structures in the benchmark dataset (default 3000)")
    parser.add_argument("--data-dir", default=None, help="dataset cache folder (default: a temporary folder)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="loader workers of the pipeline (default: one per core, %(default)s here)")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides of the training config, e.g. model=mlp")
    return parser.parse_args()


def samples_per_second(batches, count: int, step) -> float:
    iterator = iter(batches)
    step(next(iterator))  # warm-up: first batch pays for imports, allocation, worker start
    done, started = 0, time.perf_counter()
    for _ in range(count):
        try:
            batch = next(iterator)
        except StopIteration:
            iterator = iter(batches)
            batch = next(iterator)
        step(batch)
        done += len(batch[1])
    return done / (time.perf_counter() - started)


def main() -> None:
    args = parse_args()
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="xrdnet-bench-")
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=[f"paths.data_dir={data_dir}", "paths.output_dir=.", f"data.source.n={args.n}",
                                          "data.real_source=null", f"data.num_workers={args.workers}",
                                          *args.overrides])
    OmegaConf.resolve(cfg)
    torch.manual_seed(0)
    datamodule = instantiate(cfg.data)
    datamodule.prepare_data()
    datamodule.setup("fit")
    loader = datamodule.train_dataloader()

    model = instantiate(cfg.model, **datamodule.model_kwargs())
    model.log = lambda *a, **k: None  # no trainer attached: logging is not what is measured
    model.log_dict = lambda *a, **k: None
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()

    def train_step(batch):
        loss = model.training_step(batch, 0)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    # the model's batches come from an in-process loader, so no loader worker runs while the model is timed
    in_process = iter(DataLoader(datamodule.train_set, batch_size=datamodule.batch_size))
    cached = [next(in_process) for _ in range(4)]
    model_rate = samples_per_second(cached, args.batches, train_step)
    pipeline_rate = samples_per_second(loader, args.batches, lambda batch: None)
    workers = max(1, datamodule.num_workers)
    print(f"config: model={cfg.model.net._target_.rsplit('.', 1)[-1]} batch={datamodule.batch_size} "
          f"grid={datamodule.grid.n_points} points train_mode={datamodule.train_mode} "
          f"num_workers={datamodule.num_workers} torch_threads={torch.get_num_threads()}")
    print(f"{'':<28}{'samples/s':>12}")
    print(f"{'model training step':<28}{model_rate:>12.0f}")
    print(f"{'data pipeline':<28}{pipeline_rate:>12.0f}")
    print(f"{'data pipeline per worker':<28}{pipeline_rate / workers:>12.0f}")
    print(f"pipeline_over_model={pipeline_rate / model_rate:.2f}")


if __name__ == "__main__":
    main()
