"""A wall-clock limit on a block of code, for third-party loops that bound nothing themselves (pyxtal)."""

from __future__ import annotations

import contextlib
import signal
import threading


class TimeLimitExceeded(BaseException):
    """The block ran past its limit (a BaseException so that a library's `except Exception` cannot swallow it)."""


@contextlib.contextmanager
def time_limit(seconds: float | None):
    """Raise TimeLimitExceeded in the block after `seconds` (SIGALRM; only in a main thread on POSIX, else no limit)."""
    usable = seconds is not None and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def _expire(signum, frame):
        raise TimeLimitExceeded()

    previous = signal.signal(signal.SIGALRM, _expire)
    # keeps firing every 0.1 s: pyxtal has bare `except:` blocks that could swallow a single alarm
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.1)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
