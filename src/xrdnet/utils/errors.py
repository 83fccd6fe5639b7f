"""One-line error messages for skip reports and command-line errors."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator


def first_line(error: BaseException, with_type: bool = False) -> str:
    """The first line of an exception's message; its type name when the message is empty.

    with_type: prefix the type name ("ValueError: ..."), leaving the message part empty when there is none.
    """
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else ""
    if with_type:
        return f"{type(error).__name__}: {text}"
    return text or type(error).__name__


class SetupError(RuntimeError):
    """A run cannot start (a missing key or optional package, an unreachable service); the one-line message says why.

    Entry points print it as `<program>: <message>` and exit with status 2, without a traceback.
    """



@contextlib.contextmanager
def exit_on_setup_error(program: str) -> Iterator[None]:
    """Turn a SetupError (also one that Hydra's instantiate wrapped) into `<program>: <message>` and exit status 2."""
    try:
        yield
    except Exception as error:
        cause: BaseException | None = error
        while cause is not None and not isinstance(cause, SetupError):
            cause = cause.__cause__
        if cause is None:
            raise
        print(f"{program}: {cause}", file=sys.stderr, flush=True)
        sys.exit(2)
