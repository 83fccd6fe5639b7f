"""Pool workers of dataset and feature builds run every BLAS/OpenMP library on one thread.

With numpy's OpenBLAS on a thread per core in every worker, a two-worker build on two cores ran no
faster than one worker; the limit has to be set inside the forked worker.
"""

import multiprocessing as mp

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from xrdnet.data import dataset, features


def _thread_counts(_=None) -> list[int]:
    np.ones((64, 64)) @ np.ones((64, 64))  # BLAS is loaded and has been used
    return [pool["num_threads"] for pool in threadpool_info()]


def _counts_in_worker(initializer, initargs) -> list[int]:
    with mp.get_context("fork").Pool(1, initializer=initializer, initargs=initargs) as pool:
        return pool.apply(_thread_counts)


@pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="pools fork where they can")
@pytest.mark.parametrize("initializer, initargs", [
    (dataset._init_worker, (None, None)),
    (features._init_pool_worker, (None, None, None, "indexing", None, 0, 0)),
])
def test_build_workers_run_blas_on_one_thread(initializer, initargs):
    assert _thread_counts(), "numpy's BLAS is not seen by threadpoolctl"
    assert _counts_in_worker(initializer, initargs) == [1] * len(_thread_counts())


def test_serial_feature_build_keeps_the_main_process_threads():
    # the serial path runs in the calling process (a training run's): its torch/BLAS threads stay as they are
    before = _thread_counts()
    features._init_worker(None, None, None, "indexing", None, 0, 0)
    assert _thread_counts() == before
