"""Fonts for the synthetic renderer: whatever the machine has, checked for glyph coverage.

Sources: Pillow's bundled font (`ImageFont.load_default`), TTF/OTF/TTC files in the system font
folders, matplotlib's bundled fonts when matplotlib is installed, the fonts inside installed Python
packages named in `font_packages` (requirements.txt installs permissively licensed ones), and user
`font_dirs`/`fonts`.
Coverage comes from the font's cmap via fontTools when installed, else by comparing a rendered
glyph with the font's missing-glyph box ("tofu"). Fonts are split train/eval by a stable hash of
their file name, so the Eval split reads fonts the model never trained on."""
from __future__ import annotations

import functools
import importlib.util
import os
import re
import sys
import zlib
from typing import Dict, FrozenSet, Iterable, List, Optional, Tuple

from PIL import ImageFont

from ....errors import ConfigError

DEFAULT_FONT = "<pillow-default>"
FONT_EXTENSIONS = (".ttf", ".otf", ".ttc")
SYSTEM_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.fonts", "~/.local/share/fonts",
                    "/Library/Fonts", "/System/Library/Fonts", "~/Library/Fonts")
# Fonts whose cmap claims Latin letters but draws symbols or placeholder boxes instead, and display
# faces (deckr-fonts' Monofett and Sixtyfour) whose letters are not legible at a 32-pixel height.
EXCLUDED = re.compile(r"LastResort|cmex10|cmsy10|cmmi10|cmti10|STIXSiz|STIXNonUni|Symbol|"
                      r"Wingding|Webdings|Dingbat|Emoji|Awesome|Monofett|Sixtyfour|hb-test", re.IGNORECASE)
_CJK_REGION = re.compile(r" (JP|KR|SC|TC|HK)$")
# A private-use code point no text font maps: its rendering is the font's missing-glyph box.
_TOFU_PROBE = "\U000F0000"


def system_font_dirs() -> List[str]:
    dirs = [os.path.expanduser(d) for d in SYSTEM_FONT_DIRS]
    if sys.platform.startswith("win"):
        dirs.append(os.path.join(os.environ.get("WINDIR", r"C:\Windows"), "Fonts"))
    try:
        import matplotlib
        dirs.append(os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf"))
    except ImportError:
        pass
    return dirs


def package_font_dirs(packages: Iterable[str]) -> List[str]:
    """The folders of installed Python packages (import names, e.g. `font_roboto`) that hold fonts.

    A package without a usable font file is an error too: a misspelt or font-less package would
    otherwise add nothing and change the data without a word."""
    dirs, missing, empty = [], [], []
    for name in packages:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):  # a dotted name whose parent is missing, or an empty name
            spec = None
        if spec is None or not spec.submodule_search_locations:
            missing.append(name)
        elif not find_font_files(spec.submodule_search_locations):
            empty.append(name)
        else:
            dirs += list(spec.submodule_search_locations)
    if missing:
        raise ConfigError(f"font_packages: not installed (or not a package): {', '.join(missing)} "
                          f"(pip install -r requirements.txt installs the ones the configs name)")
    if empty:
        raise ConfigError(f"font_packages: no {'/'.join(FONT_EXTENSIONS)} font file in: {', '.join(empty)}")
    return dirs


def find_font_files(dirs: Iterable[str]) -> List[str]:
    found = []
    for top in dirs:
        for folder, _, files in os.walk(top):
            found += [os.path.join(folder, f) for f in files if f.lower().endswith(FONT_EXTENSIONS)]
    return sorted(p for p in found if not EXCLUDED.search(os.path.basename(p)))


def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    if path == DEFAULT_FONT:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(path, size)


@functools.lru_cache(maxsize=None)
def _font_info(path: str) -> Tuple[tuple, Optional[FrozenSet[int]]]:
    """(family, style) and the cmap's code points (None without fontTools); read once per file."""
    name = load_font(path, 24).getname()
    return name, None if path == DEFAULT_FONT else _cmap_coverage(path)


def family_key(path: str) -> str:
    """The font's family name, regional CJK cuts folded in (Noto Sans JP/KR/SC draw Noto Sans' Latin)."""
    return _CJK_REGION.sub("", _font_info(path)[0][0])


def _cmap_coverage(path: str) -> Optional[FrozenSet[int]]:
    try:
        from fontTools import agl
        from fontTools.ttLib import TTFont
    except ImportError:
        return None
    font = TTFont(path, lazy=True, fontNumber=0)
    try:
        cmap = font.getBestCmap() or {}
    finally:
        font.close()
    # Some fonts (matplotlib's TeX-encoded cm*10) map Latin-1 code points to other glyphs, '£' to
    # 'Theta': beyond ASCII, a code point whose glyph is named after another character is not drawn.
    return frozenset(point for point, glyph in cmap.items()
                     if point < 128 or agl.toUnicode(glyph) in ("", chr(point)))


def _rendered_coverage(path: str, characters: Iterable[str]) -> FrozenSet[int]:
    """Characters whose glyph differs from the missing-glyph box (and is not empty)."""
    font = load_font(path, 24)
    tofu = font.getmask(_TOFU_PROBE)
    tofu_key = (tofu.size, bytes(tofu))
    covered = set()
    for char in characters:
        mask = font.getmask(char)
        if char.isspace() or (mask.size[0] * mask.size[1] > 0 and (mask.size, bytes(mask)) != tofu_key):
            covered.add(ord(char))
    return frozenset(covered)


class FontLibrary:
    """The fonts of one split with the characters each can draw (restricted to `characters`).

    `fonts` is a sorted list of (path, coverage); `pick(text, rng)` returns a path that covers
    every non-space character of `text`, or None: any face alike, or with `balance_families` a
    family first (DejaVu alone has 19 faces on a typical machine), then one of its faces. PIL font
    objects are cached per (path, size)."""

    def __init__(self, characters: Iterable[str], split: str = "train", eval_font_fraction: float = 0.2,
                 fonts: Iterable[str] = (), font_dirs: Iterable[str] = (), use_system_fonts: bool = True,
                 use_default_font: bool = True, balance_families: bool = False, warn=print,
                 font_packages: Iterable[str] = ()):
        wanted = {c for c in characters if not c.isspace()}
        paths = list(fonts)
        missing = [p for p in paths if not os.path.isfile(p)] + [d for d in font_dirs if not os.path.isdir(d)]
        if missing:
            raise ConfigError(f"fonts / font_dirs: not found: {', '.join(missing)}")
        paths += find_font_files(list(font_dirs) + package_font_dirs(font_packages)
                                 + (system_font_dirs() if use_system_fonts else []))
        candidates = ([DEFAULT_FONT] if use_default_font else []) + sorted(set(paths))
        usable: Dict[str, FrozenSet[int]] = {}
        seen_names = set()
        for path in candidates:
            try:
                name, cmap = _font_info(path)
                coverage = cmap if cmap is not None else _rendered_coverage(path, wanted)
            except Exception as exc:  # an unreadable font file is skipped, not fatal
                warn(f"font {path}: cannot be used ({exc}), skipped")
                continue
            coverage = frozenset(ord(c) for c in wanted if ord(c) in coverage)
            if name in seen_names or not coverage:
                continue  # the same face from two folders, or no glyph the dictionary needs
            seen_names.add(name)
            usable[path] = coverage
        if not usable:
            raise ConfigError("SyntheticDataSet: no usable font (none found or none covers the dictionary)")
        self.fonts = self._split(sorted(usable.items()), split, eval_font_fraction, warn)
        families: Dict[str, list] = {}
        for font in self.fonts:
            families.setdefault(family_key(font[0]) if balance_families else font[0], []).append(font)
        self.families = list(families.values())
        self._cache: Dict[tuple, ImageFont.FreeTypeFont] = {}

    @staticmethod
    def _split(fonts: list, split: str, fraction: float, warn) -> list:
        if fraction <= 0:  # nothing held out: both splits draw every font
            return fonts
        if len(fonts) < 2:
            warn("SyntheticDataSet: only one font available; train and eval splits share it")
            return fonts
        # A stable order (hash of the file name), so every machine holds out the same faces.
        ranked = sorted((zlib.crc32(os.path.basename(path).encode()), path) for path, _ in fonts)
        count = min(len(fonts) - 1, max(1, round(fraction * len(fonts))))
        held_out = {path for _, path in ranked[:count]}
        return [f for f in fonts if (f[0] in held_out) == (split == "eval")]

    @property
    def paths(self) -> List[str]:
        return [path for path, _ in self.fonts]

    def pick(self, text: str, rng) -> Optional[str]:
        needed = {ord(c) for c in text if not c.isspace()}
        family = self.families[int(rng.integers(len(self.families)))]
        # no second draw for one-face groups: unbalanced sampling draws exactly as it always did
        first = family[int(rng.integers(len(family)))] if len(family) > 1 else family[0]
        if needed <= first[1]:
            return first[0]
        able = [path for path, coverage in self.fonts if needed <= coverage]
        return able[int(rng.integers(len(able)))] if able else None

    def get(self, path: str, size: int) -> ImageFont.FreeTypeFont:
        key = (path, size)
        if key not in self._cache:
            if len(self._cache) > 512:
                self._cache.clear()
            self._cache[key] = load_font(path, size)
        return self._cache[key]
