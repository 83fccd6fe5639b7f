"""The independent robustness check: measured-style scans from another simulator, scored through xrdnet-predict's path.

Peak lists come from xrayutilities (xrd.independent), cached once per structure set, or, for the
screen on synthetic validation crystals, from the dataset a checkpoint was trained on (xrdnet's own
simulator). Each condition turns a list into a diffractometer scan with this module's own renderer
(CuKα or MoKα lines placed through their d spacings, pseudo-Voigt lines, η = 0.5, one FWHM for every
line; nothing of xrdnet.xrd.profile), a background, Poisson counting noise and the condition's
effect, then preprocesses the scan exactly as `xrdnet-predict` does for a measured file
(CrystalSystemPredictor.profile_of_scan with predict's defaults: rolling-ball background, Kα2
stripped when the scan shows the doublet, xrd.doublet) and scores the checkpoint.
Scripts: scripts/independent_robustness.py.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from xrdnet.utils.atomic import atomic_path
from xrdnet.utils.threads import single_threaded_worker
from xrdnet.xrd.instrument import displacement_shift_deg
from xrdnet.xrd.wavelengths import KALPHA2_RATIO, WAVELENGTHS_ANGSTROM, Radiation, d_to_two_theta, two_theta_to_d

# (Kα1, Kα2) wavelengths (Å) of each anode's scans. CuKα: xrayutilities' lines, so a CuKα1 scan puts
# its lines exactly where xrayutilities computed them; MoKα: xrdnet.xrd.wavelengths' table.
SCAN_LINES_ANGSTROM: dict[str, tuple[float, float]] = {
    "Cu": (1.5405929, 1.544414),
    "Mo": (WAVELENGTHS_ANGSTROM["MoKa1"], WAVELENGTHS_ANGSTROM["MoKa2"]),
}
GONIOMETER_RADIUS_MM = 240.0
ETA = 0.5  # Lorentzian fraction of every line
_WINDOW_FWHM = 30.0  # lines are evaluated within ±30 FWHM (the Lorentzian tail beyond is 3e-4 of the height)


@dataclass(frozen=True)
class Condition:
    """One way of recording the scans (units: degrees 2θ, counts, mm); the defaults are the reference scan."""

    name: str
    fwhm_deg: float = 0.1
    kalpha2: bool = False          # the scan has Kα2 lines or is Kα1 only
    declared_doublet: bool | None = None  # the user names the doublet (CuKa/MoKa) or Kα1 (CuKa1/MoKa1); None: as the scan is
    strip: bool = True             # predict's --kalpha2 auto (strips a doublet it sees, its default) or keep (forced)
    radiation: str = "Cu"          # the tube's anode, a key of SCAN_LINES_ANGSTROM
    counts: float | None = 1e4     # counts of the strongest line; None: no noise and no background
    background: float = 0.05       # background level as a fraction of the strongest line's counts
    low_angle_rise: float = 0.0    # air scatter / direct beam at the scan start, fraction of the strongest line
    displacement_mm: float = 0.0   # sample displacement s: Δ2θ = −2 s cosθ / R, R = 240 mm
    correct_displacement: bool = True  # predict removes a displacement it finds (its default) or not (--displacement off)
    impurity: float = 0.0          # strongest line of a second phase (another prototype), fraction of the main one's
    scan_range: tuple[float, float] = (5.0, 90.0)
    step_deg: float = 0.01

    def __post_init__(self):
        if self.radiation not in SCAN_LINES_ANGSTROM:
            raise ValueError(f"condition {self.name!r}: unknown radiation {self.radiation!r}; "
                             f"options: {', '.join(SCAN_LINES_ANGSTROM)}")


# A MoKα scan over 2-45° (step 0.005°) of the same crystals. Its last degrees (past 41°, d < 1.006 Å) lack lines:
# the peak lists hold only what their CuKα simulation reached (xrayutilities' to 2θ = 100°, a dataset's
# to its range, 90° and a little more). That costs nothing: predict maps the MoKα scan onto the model's
# CuKα grid, which ends at d = λ_Cu / (2 sin 45°) ≈ 1.09 Å, so those d fall beyond it anyway.
_MO_SCAN = {"radiation": "Mo", "scan_range": (2.0, 45.0), "step_deg": 0.005}

CONDITIONS: tuple[Condition, ...] = (
    Condition("reference: 0.1° FWHM, Kα1, 1e4 counts, 5 % background"),
    Condition("noiseless (no background)", counts=None),
    Condition("peak width 0.03°", fwhm_deg=0.03),
    Condition("peak width 0.2°", fwhm_deg=0.2),
    Condition("peak width 0.5°", fwhm_deg=0.5),
    Condition("Kα2 on, stripped (predict's default)", kalpha2=True),
    Condition("Kα2 on, kept (forced: --kalpha2 keep)", kalpha2=True, strip=False),
    Condition("counts 1e2", counts=1e2),
    Condition("counts 1e3", counts=1e3),
    Condition("counts 1e6", counts=1e6),
    Condition("background 50 %", background=0.5),
    Condition("low-angle rise", low_angle_rise=1.0),
    Condition("displacement +0.2 mm", displacement_mm=0.2),
    Condition("displacement −0.2 mm", displacement_mm=-0.2),
    Condition("5 % impurity", impurity=0.05),
    Condition("partial range 10-80°", scan_range=(10.0, 80.0)),
    Condition("MoKα 2-45°: Kα1 (declared MoKa1)", **_MO_SCAN),
    Condition("MoKα 2-45°: Kα2 on, stripped (declared MoKa)", kalpha2=True, **_MO_SCAN),
    Condition("MoKα 2-45°: Kα2 on, kept (forced: --kalpha2 keep)", kalpha2=True, strip=False, **_MO_SCAN),
    # new rows go last, so that the rows above keep their noise and impurity draws (they follow a condition's place)
    Condition("displacement +0.2 mm, not corrected (--displacement off)", displacement_mm=0.2, correct_displacement=False),
    # the radiation declared wrongly: predict reads the doublet off the scan
    Condition("Kα2 on, declared CuKa1", kalpha2=True, declared_doublet=False),
    Condition("Kα1 only, declared CuKa", declared_doublet=True),
    Condition("MoKα 2-45°: Kα2 on, declared MoKa1", kalpha2=True, declared_doublet=False, **_MO_SCAN),
    Condition("MoKα 2-45°: Kα1 only, declared MoKa", declared_doublet=True, **_MO_SCAN),
)


def pseudo_voigt_scan(points: np.ndarray, two_theta: np.ndarray, intensity: np.ndarray, fwhm_deg: float) -> np.ndarray:
    """Σ area-normalized pseudo-Voigts (η = ETA, FWHM fwhm_deg) of the lines on `points` (per degree)."""
    near = (two_theta > points[0] - _WINDOW_FWHM * fwhm_deg) & (two_theta < points[-1] + _WINDOW_FWHM * fwhm_deg)
    two_theta, intensity = two_theta[near], intensity[near]
    scan = np.zeros_like(points)
    half = fwhm_deg / 2.0
    for lo in range(0, two_theta.size, 64):
        x = (points[None, :] - two_theta[lo:lo + 64, None]) / half
        lorentz = 1.0 / (np.pi * half * (1.0 + x * x))
        gauss = np.sqrt(np.log(2.0) / np.pi) / half * np.exp(-np.log(2.0) * x * x)
        scan += intensity[lo:lo + 64] @ (ETA * lorentz + (1.0 - ETA) * gauss)
    return scan


def measured_scan(two_theta: np.ndarray, intensity: np.ndarray, list_wavelength: float, condition: Condition,
                  rng: np.random.Generator, impurity: tuple[np.ndarray, np.ndarray] | None = None,
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(2θ points, counts) of one scan under `condition` of the lines (2θ in degrees, intensity) of a list
    simulated at list_wavelength (Å)."""
    two_theta, intensity = np.asarray(two_theta, float), np.asarray(intensity, float)
    if condition.impurity and impurity is not None and len(impurity[1]):
        scale = condition.impurity * intensity.max() / np.max(impurity[1])
        two_theta = np.concatenate([two_theta, impurity[0]])
        intensity = np.concatenate([intensity, impurity[1] * scale])
    # each d spacing diffracts at its Bragg angle of the scan's Kα1 (λ = 2 d sin θ), and with Kα2 at
    # that line's own angle as well, KALPHA2_RATIO as strong
    d = two_theta_to_d(two_theta, list_wavelength)
    kalpha1, kalpha2 = SCAN_LINES_ANGSTROM[condition.radiation]
    two_theta = d_to_two_theta(d, kalpha1)
    if condition.kalpha2:
        two_theta = np.concatenate([two_theta, d_to_two_theta(d, kalpha2)])
        intensity = np.concatenate([intensity, KALPHA2_RATIO * intensity])
    reflects = np.isfinite(two_theta)
    two_theta, intensity = two_theta[reflects], intensity[reflects]
    if condition.displacement_mm:
        two_theta = two_theta + displacement_shift_deg(two_theta, condition.displacement_mm, GONIOMETER_RADIUS_MM)
    start, stop = condition.scan_range
    points = np.arange(start, stop + condition.step_deg / 2, condition.step_deg)
    lines = pseudo_voigt_scan(points, two_theta, intensity, condition.fwhm_deg)
    if condition.counts is None:
        return points, lines
    expected = lines * (condition.counts / lines.max())
    level = condition.background * condition.counts
    expected += level * (0.5 + np.exp(-(points - points[0]) / 15.0))  # flat level and a gentle decay
    if condition.low_angle_rise:
        expected += condition.low_angle_rise * condition.counts * (points[0] / points) ** 3
    return points, rng.poisson(expected).astype(float)


def declared_wavelength(condition: Condition) -> str:
    """What a user gives xrdnet-predict as --wavelength for this scan: 'CuKa'/'MoKa' for a doublet, 'CuKa1'/'MoKa1'
    for Kα1 alone; what the scan holds unless the condition declares otherwise."""
    doublet = condition.kalpha2 if condition.declared_doublet is None else condition.declared_doublet
    return f"{condition.radiation}Ka" if doublet else f"{condition.radiation}Ka1"


def predict_profile(points: np.ndarray, counts: np.ndarray, condition: Condition, predictor) -> np.ndarray:
    """The model input xrdnet-predict makes of this scan with its defaults (--background rolling_ball,
    --kalpha2 auto, or keep when the condition does not strip; --displacement auto, or off when the condition
    does not correct) and the declared_wavelength."""
    profile, _ = predictor.profile_of_scan(points, counts, Radiation.named(declared_wavelength(condition)),
                                           background="rolling_ball", kalpha2="auto" if condition.strip else "keep",
                                           displacement="auto" if condition.correct_displacement else "off")
    return profile


def score_conditions(predictor, peak_lists: Sequence[tuple[np.ndarray, np.ndarray]], labels: np.ndarray,
                     list_wavelength: float, conditions: Sequence[Condition] = CONDITIONS, seed: int = 0,
                     progress: bool = True) -> list[tuple[str, float]]:
    """(condition name, accuracy) for each condition of the peak lists (simulated at list_wavelength, Å);
    a scan predict cannot use counts as wrong."""
    labels = np.asarray(labels)
    rows = []
    for place, condition in enumerate(tqdm(conditions, desc="conditions", unit="condition", disable=not progress)):
        # a condition of the table draws by its place there, so a run of some conditions repeats their rows
        number = CONDITIONS.index(condition) if condition in CONDITIONS else place
        rng = np.random.default_rng([seed, number])
        profiles, usable = [], []
        for index, (two_theta, intensity) in enumerate(peak_lists):
            other = peak_lists[(index + 1 + int(rng.integers(len(peak_lists) - 1))) % len(peak_lists)] \
                if condition.impurity and len(peak_lists) > 1 else None
            points, counts = measured_scan(two_theta, intensity, list_wavelength, condition, rng, other)
            try:
                profiles.append(predict_profile(points, counts, condition, predictor))
                usable.append(index)
            except ValueError:  # nothing of the scan on the model's grid: wrong, as a user would get no answer
                continue
        correct = 0
        if profiles:
            predicted = predictor.predict_proba(np.stack(profiles)).argmax(1)
            correct = int((predicted == labels[usable]).sum())
        rows.append((condition.name, correct / len(labels)))
    return rows


def markdown_table(rows: Sequence[tuple[str, float]], header: str) -> str:
    lines = [header, "", "| condition | accuracy |", "|---|---:|"]
    lines += [f"| {name} | {value:.3f} |" for name, value in rows]
    return "\n".join(lines) + "\n"


def clean_accuracy(predictor, peaks, indices: np.ndarray) -> float:
    """The checkpoint on its own clean renders of the items `indices` of a PeakListSet (xrdnet-eval's figure)."""
    from xrdnet.data.datamodule import render_all

    profiles, labels = (t.numpy() for t in render_all(peaks, np.asarray(indices), predictor.grid,
                                                      predictor.settings).tensors)
    return float((predictor.predict_proba(profiles).argmax(1) == labels).mean())


def validation_items(val_indices: np.ndarray, count: int, seed: int) -> np.ndarray:
    """A seeded random `count` of the validation split's item indices (all of them when fewer), ascending."""
    val_indices = np.asarray(val_indices)
    chosen = np.random.default_rng(seed).choice(val_indices, size=min(count, len(val_indices)), replace=False)
    return np.sort(chosen)


# --- the peak lists, computed once and cached --------------------------------------------------------------


def _prototype_peaks(index: int) -> dict:
    from xrdnet.structures.aflow import AflowPrototypes
    from xrdnet.xrd.independent import independent_peaks

    item = AflowPrototypes().get(index)
    try:
        two_theta, intensity = independent_peaks(item.structure)
    except Exception as error:  # a structure xrayutilities cannot read is reported, the others still count
        return {"index": index, "name": item.name, "label": item.label, "error": f"{type(error).__name__}: {error}"}
    return {"index": index, "name": item.name, "label": item.label, "two_theta": two_theta, "intensity": intensity}


def prototype_peak_lists(cache_dir: str | Path, count: int | None = None, workers: int = 1,
                         progress: bool = True) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray, list[str], list[str]]:
    """(peak lists, labels, names, skipped 'name: reason') of the first `count` AFLOW prototypes (all: None),
    from `cache_dir` or computed there (written atomically) with `workers` processes."""
    from xrdnet.structures.aflow import AflowPrototypes
    from xrdnet.xrd.independent import _xrayutilities

    total = len(AflowPrototypes())
    count = total if count is None else min(count, total)
    path = Path(cache_dir) / f"independent_peaks-xrayutilities{_xrayutilities().__version__}-n{count}.npz"
    if not path.exists():
        indices = range(count)
        if workers > 1:
            with multiprocessing.get_context("spawn").Pool(workers, initializer=single_threaded_worker) as pool:
                items = list(tqdm(pool.imap(_prototype_peaks, indices), total=count, desc="xrayutilities",
                                  unit="structure", disable=not progress))
        else:
            items = [_prototype_peaks(i) for i in tqdm(indices, desc="xrayutilities", unit="structure",
                                                       disable=not progress)]
        good = [item for item in items if "error" not in item]
        skipped = [f"{item['name']}: {item['error']}" for item in items if "error" in item]
        offsets = np.cumsum([0] + [len(item["two_theta"]) for item in good])
        with atomic_path(path, suffix=".npz") as tmp:
            np.savez(tmp, offsets=offsets, labels=np.array([item["label"] for item in good], dtype=np.int64),
                     two_theta=np.concatenate([item["two_theta"] for item in good]) if good else np.zeros(0),
                     intensity=np.concatenate([item["intensity"] for item in good]) if good else np.zeros(0),
                     names=np.array([item["name"] for item in good]), skipped=np.array(json.dumps(skipped)))
    with np.load(path) as arrays:
        offsets = arrays["offsets"]
        lists = [(arrays["two_theta"][a:b], arrays["intensity"][a:b]) for a, b in zip(offsets[:-1], offsets[1:])]
        return lists, arrays["labels"], [str(n) for n in arrays["names"]], json.loads(str(arrays["skipped"]))
