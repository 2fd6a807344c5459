"""PaddleOCR label files: one `<image path><delimiter><label>` per line, UTF-8."""
from __future__ import annotations

import os
from typing import Iterator, List, Optional, Tuple

from ..errors import DataError


def read_lines(path: str) -> List[bytes]:
    """Raw lines (newline kept, as PaddleOCR's readlines, so ratio sampling picks the same lines)."""
    if not os.path.isfile(path):
        raise DataError(f"{path}: label file not found")
    with open(path, "rb") as handle:
        return handle.readlines()


def parse_line(raw: bytes, delimiter: str) -> Optional[Tuple[str, str]]:
    """(image path, label) of one line; None for a blank line; ValueError for a malformed one.

    As PaddleOCR: text after a second delimiter is ignored. Unlike PaddleOCR a trailing '\\r'
    (CRLF files) is removed, so it neither counts toward max_text_length nor becomes a character."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    line = line.rstrip("\n").rstrip("\r")
    if not line.strip():
        return None
    parts = line.split(delimiter)
    if len(parts) < 2:
        raise ValueError(f"no {delimiter!r} delimiter between image path and label")
    return parts[0], parts[1]


def read_pairs(path: str, delimiter: str = "\t") -> Iterator[Tuple[str, str]]:
    """(image path as written, label) for every non-blank line of `path`, in order; a malformed
    line is a DataError naming `path:line` (for tools that need every line, unlike the datasets,
    which skip and count bad lines)."""
    for number, raw in enumerate(read_lines(path), 1):
        try:
            parsed = parse_line(raw, delimiter)
        except ValueError as exc:
            raise DataError(f"{path}:{number}: {exc}") from None
        if parsed is not None:
            yield parsed
