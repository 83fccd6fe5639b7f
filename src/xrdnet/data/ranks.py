"""Which process of a distributed run this is, and the rule that only one process per node prepares data."""

from __future__ import annotations

import logging
import time

import torch.distributed as dist

from xrdnet.utils.errors import SetupError

log = logging.getLogger(__name__)


def process_rank() -> tuple[int, int]:
    """(global rank, world size) of this process in torch.distributed's group; (0, 1) outside one."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def prepare_data_once(trainer, datamodule, poll_s: float = 2.0, timeout_min: float | None = None) -> None:
    """Lightning's prepare_data rule, before the model exists: one process builds, the others wait.

    Local rank 0 of each node (global rank 0 when `datamodule.prepare_data_per_node` is false) runs
    `prepare_data`, which builds or finds the datasets and their cached features; every other rank
    waits until `datamodule.is_prepared()` and then only loads in `setup`. xrdnet-train needs the data
    before the Trainer's process group exists (the model's inputs depend on it), so the other ranks
    poll the files rather than meet at a barrier. The build lock stays as a second guard.

    timeout_min: a waiting rank gives up after this many minutes with a one-line SetupError (rank 0
    may have died: a launcher that does not stop the other tasks would otherwise leave them waiting
    until the job's time limit); None waits for ever.
    """
    per_node = getattr(datamodule, "prepare_data_per_node", True)
    if (trainer.local_rank if per_node else trainer.global_rank) == 0:
        datamodule.prepare_data()
        return
    is_prepared = getattr(datamodule, "is_prepared", None)
    if is_prepared is None:  # nothing kept on disk (the sinc warm-up): nothing to wait for
        return
    started = next_report = time.monotonic()
    while not is_prepared():
        waited = time.monotonic() - started
        if timeout_min is not None and waited >= 60 * timeout_min:
            raise SetupError(f"rank {trainer.global_rank} waited {waited / 60:.1f} min for rank 0 to prepare the data in "
                             f"{getattr(datamodule, 'data_dir', '?')} and gave up (prepare_timeout_min={timeout_min:g}): "
                             f"see rank 0's log for why it stopped")
        if time.monotonic() >= next_report:
            log.info("rank %d: waiting for rank 0 to prepare the data (%.0f s so far)", trainer.global_rank,
                     time.monotonic() - started)
            next_report += 60
        time.sleep(poll_s)
