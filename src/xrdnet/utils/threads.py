"""One BLAS/OpenMP thread per worker process of a parallel build or check.

numpy's OpenBLAS starts a thread per core when it is loaded and keeps it spinning after each call.
A pool of one worker per core that forks from such a process runs cores × cores threads: on two
cores a dataset build ran no faster with two workers than with one (the structure-factor products
are matrix products). The thread count must be set inside the forked worker; the OMP_NUM_THREADS
variable is read only when a library loads, which happened before the fork.
"""

from __future__ import annotations

import os

from threadpoolctl import threadpool_limits


def single_threaded_worker() -> None:
    """Call first thing in a pool worker: one thread for every BLAS and OpenMP library loaded, and for any loaded later."""
    os.environ["OMP_NUM_THREADS"] = os.environ["OPENBLAS_NUM_THREADS"] = "1"
    threadpool_limits(limits=1)
