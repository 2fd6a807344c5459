"""What the synthetic renderer writes: words, random strings, numbers and patterns, mixed by
config weights and kept to what the dictionary, max_text_length and the CTC length allow."""
from __future__ import annotations

import os
import unicodedata
from typing import Dict, List, Optional, Tuple

import numpy as np

from ....errors import ConfigError
from ....utils.resources import RESOURCES, bundled_path, read_word_list
from ...label_rules import LabelRules

DEFAULT_WORD_LISTS = ("words_common.txt", "words_web2_sample.txt")
# "prices" is off unless a config weights it, so configs without it draw the texts they always drew.
DEFAULT_WEIGHTS = {"words": 0.5, "random": 0.2, "numbers": 0.15, "patterns": 0.15, "prices": 0.0}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
CURRENCIES = ("$", "€", "£", "¥")
# How shop signs and price tags write an amount: a sign or "Rs." before it, "/-" after it (India).
PRICE_PREFIXES = ("₹", "₹ ", "Rs.", "Rs. ", "Rs", "$", "€", "£")
PRICE_SUFFIXES = ("", "", "", "/-", ".00", "/-only")  # half of the amounts bare
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Tries before falling back to a random string over the dictionary, which always fits.
MAX_TRIES = 20


def load_words(path: Optional[str] = None) -> Tuple[List[str], Optional[np.ndarray]]:
    """Words of `path` (one per line), or of the bundled lists; a bare name such as
    `words_common.txt` that is not a file here is looked up among the bundled lists. Lines may be
    `word<TAB>zipf` (log10 of the frequency per billion words, as `words_en_wordfreq.txt`): then the
    zipf values come back too (None when any line lacks one)."""
    paths = [bundled_path(path)] if path else [os.path.join(RESOURCES, name) for name in DEFAULT_WORD_LISTS]
    words, zipfs = [], []
    for file in paths:
        if not os.path.isfile(file):
            raise ConfigError(f"word_list: file not found: {file} (bundled lists: {', '.join(DEFAULT_WORD_LISTS)})")
        file_words, file_zipfs = read_word_list(file, "word_list")
        words += file_words
        zipfs += file_zipfs
    if not words:
        raise ConfigError(f"word_list: no words in {', '.join(paths)}")
    return words, None if None in zipfs else np.array(zipfs)


class TextSampler:
    """`sample(rng) -> str`: a text to render whose label passes `rules` (the dataset's checks).

    Characters outside the dictionary are removed, except punctuation and symbols when
    `punctuation_in_image` (then drawn but dropped from the label by CTCLabelEncode, as a 0-9a-z
    model must learn to ignore them). With the default lower-casing dictionary the text keeps
    mixed case in the image. Words are drawn uniformly, or with a frequency list in proportion to
    frequency ** `word_frequency_power` (0: uniform; 1: as often as in running text, where 'the'
    alone would be 5 %)."""

    def __init__(self, rules: LabelRules, weights: Optional[Dict[str, float]] = None,
                 word_list: Optional[str] = None, punctuation_in_image: bool = True,
                 word_frequency_power: float = 0.0):
        weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
        unknown = sorted(set(weights) - set(DEFAULT_WEIGHTS))
        if unknown or not weights or min(weights.values()) < 0 or sum(weights.values()) <= 0:
            raise ConfigError(f"text_sources: expected non-negative weights for {', '.join(DEFAULT_WEIGHTS)}, "
                              f"got {weights}")
        self.rules = rules
        self.sources = [name for name in weights if weights[name] > 0]
        total = sum(weights[name] for name in self.sources)
        self.probabilities = [weights[name] / total for name in self.sources]
        self.words, zipfs = load_words(word_list) if "words" in self.sources else ([], None)
        self.word_cdf = None
        if zipfs is not None and word_frequency_power > 0:
            weights = 10.0 ** ((zipfs - zipfs.max()) * word_frequency_power)
            self.word_cdf = np.cumsum(weights) / weights.sum()
        self.punctuation_in_image = punctuation_in_image
        # Signs beyond ASCII that the sources write; fonts must be checked for them to be drawn.
        self.symbols = set("".join(CURRENCIES + PRICE_PREFIXES)) - set(map(chr, range(128))) \
            if punctuation_in_image else set()
        charset = rules.charset
        self.in_dict = set(charset.characters[1:])
        alphabet = sorted(c for c in self.in_dict if not c.isspace())
        if charset.lower:
            alphabet += sorted({c.upper() for c in alphabet} - set(alphabet))
        self.alphabet = alphabet
        self.space = " " in self.in_dict
        self.max_length = min(rules.max_text_length or 25, rules.frames or 10 ** 6)
        self.renderable = self.in_dict | {c.upper() for c in self.in_dict} if charset.lower else self.in_dict

    def sample(self, rng) -> str:
        for _ in range(MAX_TRIES):
            source = self.sources[int(rng.choice(len(self.sources), p=self.probabilities))]
            text = self._clean(getattr(self, f"_{source}")(rng))
            if text and self.rules.check(text)[0] is None:
                return text
        while True:
            text = self._random(rng)
            if self.rules.check(text)[0] is None:
                return text

    def _clean(self, text: str) -> str:
        kept = []
        for char in text:
            if char in self.renderable or (char == " " and self.space):
                kept.append(char)
            elif self.punctuation_in_image and unicodedata.category(char)[0] in "PS":
                kept.append(char)
        return " ".join("".join(kept).split())

    # ---- sources --------------------------------------------------------------------------
    def _words(self, rng) -> str:
        count = int(rng.integers(2, 4)) if self.space and rng.random() < 0.25 else 1
        if self.word_cdf is None:
            words = [self.words[int(rng.integers(len(self.words)))] for _ in range(count)]
        else:  # searchsorted on the cumulative weights: O(log n) per word
            picks = np.minimum(np.searchsorted(self.word_cdf, rng.random(count)), len(self.words) - 1)
            words = [self.words[int(i)] for i in picks]
        text = " ".join(words)
        style = rng.random()
        styled = text.upper() if style < 0.2 else text.title() if style < 0.45 else (
            text if style < 0.6 else text.lower())
        # A dictionary without capitals (or without lower case) keeps the case it can label.
        if all(c in self.renderable for c in styled if c.isalpha()):
            return styled
        return text

    def _random(self, rng) -> str:
        length = int(rng.integers(1, min(self.max_length, 16) + 1))
        chars = [self.alphabet[int(i)] for i in rng.integers(len(self.alphabet), size=length)]
        if self.space and length > 2 and rng.random() < 0.2:
            chars[int(rng.integers(1, length - 1))] = " "
        return "".join(chars)

    def _numbers(self, rng) -> str:
        value = int(rng.integers(0, 10 ** int(rng.integers(1, 8))))
        kind = int(rng.integers(6))
        if kind == 0:
            return str(value)
        if kind == 1:
            return f"{value:,}"
        if kind == 2:
            return f"{value / 100:.2f}" if rng.random() < 0.5 else f"{value / 100:.2f}".replace(".", ",")
        if kind == 3:
            return f"-{value}"
        if kind == 4:
            return f"{value % 1000}%"
        return str(value).zfill(int(rng.integers(3, 8)))

    def _prices(self, rng) -> str:
        amount = str(int(rng.integers(1, 10 ** int(rng.integers(1, 6)))))
        prefix = PRICE_PREFIXES[int(rng.integers(len(PRICE_PREFIXES)))]
        return prefix + amount + PRICE_SUFFIXES[int(rng.integers(len(PRICE_SUFFIXES)))]

    def _patterns(self, rng) -> str:
        day, month, year = int(rng.integers(1, 29)), int(rng.integers(1, 13)), int(rng.integers(1950, 2040))
        letters = "".join(LETTERS[int(i)] for i in rng.integers(26, size=int(rng.integers(1, 4))))
        digits = str(int(rng.integers(0, 10 ** 6))).zfill(int(rng.integers(2, 6)))
        price = f"{rng.integers(0, 1000)}.{rng.integers(0, 100):02d}"
        patterns = (
            f"{year}-{month:02d}-{day:02d}", f"{day:02d}/{month:02d}/{year}", f"{day}.{month}.{year % 100:02d}",
            f"{MONTHS[month - 1]} {day}", f"{day}{MONTHS[month - 1].upper()}{year}",
            f"{int(rng.integers(0, 24)):02d}:{int(rng.integers(0, 60)):02d}",
            f"{CURRENCIES[int(rng.integers(len(CURRENCIES)))]}{price}", f"{price.replace('.', ',')}€",
            f"{letters}-{digits}", f"{letters}{digits}", f"#{digits}", f"v{day}.{month}",
            f"{int(rng.integers(100, 1000))}-{int(rng.integers(0, 10000)):04d}",
        )
        return patterns[int(rng.integers(len(patterns)))]
