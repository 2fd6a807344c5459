"""Files bundled in ppcrnn/resources (word lists), which configs and options may name bare."""
from __future__ import annotations

import os

RESOURCES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "resources")


def bundled_path(path: str) -> str:
    """`path` when it is a file; else the bundled file of that name when there is one (e.g.
    `words_en_wordfreq.txt`); else `path` unchanged, for the caller to report as missing."""
    if not os.path.isfile(path) and os.path.isfile(os.path.join(RESOURCES, path)):
        return os.path.join(RESOURCES, path)
    return path
