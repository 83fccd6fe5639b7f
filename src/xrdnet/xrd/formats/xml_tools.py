"""Small helpers for the XML instrument formats (.xrdml, .brml): namespace-free tags, numbers, parse errors."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np

from xrdnet.utils.errors import first_line
from xrdnet.xrd.measured import PatternFileError


def parse_xml(path: Path, data: bytes, what: str) -> ElementTree.Element:
    """The root element of XML bytes; PatternFileError naming the file (and `what` inside it) when not XML."""
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        raise PatternFileError(f"{path}: {what} is not well-formed XML ({first_line(error)})") from None


def local_name(element: ElementTree.Element) -> str:
    """A tag without its '{namespace}' (XRDML files carry a versioned namespace)."""
    return element.tag.rpartition("}")[2]


def find_all(root: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    """Every element below root (root included) whose local tag is `name`, in document order."""
    return [element for element in root.iter() if local_name(element) == name]


def find_first(root: ElementTree.Element, name: str) -> ElementTree.Element | None:
    found = find_all(root, name)
    return found[0] if found else None


def child(element: ElementTree.Element, name: str) -> ElementTree.Element | None:
    """The first direct child of element with local tag `name`."""
    return next((c for c in element if local_name(c) == name), None)


def numbers(path: Path, text: str | None, what: str) -> np.ndarray:
    """Whitespace-separated numbers of an element's text; PatternFileError when empty or not numbers."""
    try:
        values = np.array((text or "").split(), dtype=float)
    except ValueError:
        raise PatternFileError(f"{path}: {what} holds text that is not numbers") from None
    if values.size == 0:
        raise PatternFileError(f"{path}: {what} is empty")
    return values
