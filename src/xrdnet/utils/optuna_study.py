"""The sampler seed of an Optuna study that a sweep may be resuming (configs/hparams_search/optuna.yaml).

The Optuna sweeper builds a new sampler every time it starts. With the same seed each time, a
resumed study would replay the random start-up trials of the first run, so the seed is offset by the
number of trials the study already holds: a fresh study and every resumption are each reproducible,
and no two draw the same points.
"""

from __future__ import annotations

from pathlib import Path

SQLITE_PREFIX = "sqlite:///"


def trials_in_study(storage: str, study_name: str) -> int:
    """How many trials `study_name` holds in the SQLite `storage` URL (0 when the file or study is missing)."""
    if not storage.startswith(SQLITE_PREFIX):
        raise ValueError(f"{storage}: only sqlite:/// study storages are supported by xrdnet's optuna config")
    if not Path(storage[len(SQLITE_PREFIX):]).is_file():
        return 0  # a missing file is a new study; opening it would create the file before the sweep folder exists
    import optuna  # the optional [sweep] extra; only a sweep that uses it gets here

    try:
        summaries = optuna.get_all_study_summaries(storage)
    except Exception as error:  # an unreadable file: say which, in one line
        raise ValueError(f"{storage}: not a readable Optuna study database ({type(error).__name__}: {error})") from None
    return next((summary.n_trials for summary in summaries if summary.study_name == study_name), 0)


def resumed_seed(seed: int | None, storage: str, study_name: str) -> int | None:
    """`seed` plus the number of trials already in the study (None stays None: an unseeded sampler)."""
    if seed is None:
        return None
    return int(seed) + trials_in_study(str(storage), str(study_name))
