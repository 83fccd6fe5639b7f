"""One-line error messages for skip reports and command-line errors."""

from __future__ import annotations


def first_line(error: BaseException, with_type: bool = False) -> str:
    """The first line of an exception's message; its type name when the message is empty.

    with_type: prefix the type name ("ValueError: ..."), leaving the message part empty when there is none.
    """
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else ""
    if with_type:
        return f"{type(error).__name__}: {text}"
    return text or type(error).__name__
