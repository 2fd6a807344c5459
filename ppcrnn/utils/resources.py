"""Files bundled in ppcrnn/resources (word lists), which configs and options may name bare, and
the reader of word lists (synthetic texts and decoding lexicons alike)."""
from __future__ import annotations

import math
import os
from typing import List, Optional, Tuple

from ..errors import ConfigError

RESOURCES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "resources")


def bundled_path(path: str) -> str:
    """`path` when it is a file; else the bundled file of that name when there is one (e.g.
    `words_en_wordfreq.txt`); else `path` unchanged, for the caller to report as missing."""
    if not os.path.isfile(path) and os.path.isfile(os.path.join(RESOURCES, path)):
        return os.path.join(RESOURCES, path)
    return path


def read_word_list(path: str, key: str) -> Tuple[List[str], List[Optional[float]]]:
    """Words of a UTF-8 word list, one per line (blank lines skipped), and their log10 frequencies
    from `word<TAB>zipf` lines (as the bundled `words_en_wordfreq.txt`; None where a line holds the
    word only). A bare name that is not a file here finds a bundled list. Errors name `key` (the
    config key or option), the file and the line."""
    path = bundled_path(path)
    if not os.path.isfile(path):
        raise ConfigError(f"{key}: file not found: {path}")
    words, frequencies = [], []
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError as exc:
                raise ConfigError(f"{key}: {path}:{number}: not valid UTF-8 ({exc})") from None
            word, _, frequency = line.partition("\t")
            if not word.strip():
                continue
            try:
                value = float(frequency) if frequency.strip() else None
            except ValueError:
                value = math.nan
            if value is not None and not math.isfinite(value):
                raise ConfigError(f"{key}: {path}:{number}: expected word<TAB>zipf frequency, got {line!r}")
            words.append(word.strip())
            frequencies.append(value)
    return words, frequencies
