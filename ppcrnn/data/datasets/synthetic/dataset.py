"""SyntheticDataSet: word crops rendered on the fly from fonts on the machine; no download."""
from __future__ import annotations

from typing import Dict, List, Optional

import numpy as np

from ....errors import ConfigError
from ....registry import DATASETS
from ..base import RecDataset, SampleError
from .fonts import FontLibrary
from .renderer import Renderer, Variation
from .text_sources import TextSampler

SPLITS = {"train": 0, "eval": 1}


@DATASETS.register
class SyntheticDataSet(RecDataset):
    """`num_samples` rendered samples per epoch, each a pure function of (render_seed, split,
    epoch when `fresh_each_epoch`, index), then the config's transforms (DecodeImage takes the
    rendered BGR array as is). Item: KeepKeys' list, e.g. [image [3, 32, 100], label [25], length].

    Text: `text_sources` weights over words (shipped list or `word_list`), random strings over the
    dictionary, numbers, patterns (dates, times, prices, codes) and, when weighted, prices as shop
    signs write them (₹/Rs./$ before, /- after); a `word<TAB>zipf` list (bundled:
    `words_en_wordfreq.txt`) is drawn by frequency ** `word_frequency_power`. Fonts: Pillow's
    bundled font, system and matplotlib fonts, the fonts in the Python packages `font_packages`,
    `font_dirs`, `fonts`; a font lacking a glyph is not used for that text. `split: eval` (default:
    the section's mode) draws another seed stream and only the `eval_font_fraction` of fonts held
    out from training; `balance_font_families` draws a font family first, then a face. `variation`
    tunes renderer.Variation.
    build_dataset passes `mode`, `seed`, `shuffle`, `global_config`, `key_prefix`; rendering
    ignores `seed` (the loader's) so that samples depend on `render_seed` alone."""

    def __init__(self, transforms: List[dict], num_samples: int = 100000, render_seed: int = 0,
                 split: Optional[str] = None, fresh_each_epoch: Optional[bool] = None,
                 text_sources: Optional[Dict[str, float]] = None, word_list: Optional[str] = None,
                 punctuation_in_image: bool = True, word_frequency_power: float = 0.0,
                 fonts: List[str] = (), font_dirs: List[str] = (), font_packages: List[str] = (),
                 use_system_fonts: bool = True, use_default_font: bool = True,
                 eval_font_fraction: float = 0.2, balance_font_families: bool = False,
                 variation: Optional[dict] = None,
                 mode: str = "train", seed: Optional[int] = None, shuffle: bool = False,
                 global_config: Optional[dict] = None, key_prefix: str = "dataset"):
        super().__init__(transforms, mode, global_config, key_prefix)
        self.split = (split or self.mode).lower()
        if self.split not in SPLITS:
            raise ConfigError(f"{key_prefix}.split: expected train or eval, got {split!r}")
        if num_samples < 1:
            raise ConfigError(f"{key_prefix}.num_samples: expected a positive number, got {num_samples}")
        if not self.rules.active:
            raise ConfigError(f"{key_prefix}: SyntheticDataSet needs a CTCLabelEncode transform or Global "
                              f"dictionary settings to know which characters to draw")
        self.num_samples = num_samples
        self.render_seed = render_seed
        self.fresh_each_epoch = self.split == "train" if fresh_each_epoch is None else fresh_each_epoch
        self.epoch = 0
        self.texts = TextSampler(self.rules, text_sources, word_list, punctuation_in_image,
                                 word_frequency_power)
        characters = set(self.texts.alphabet) | set(self.texts.renderable)
        characters |= {chr(c) for c in range(33, 127)} | self.texts.symbols if punctuation_in_image else set()
        self.fonts = FontLibrary(characters, self.split, eval_font_fraction, fonts, font_dirs,
                                 use_system_fonts, use_default_font, balance_font_families,
                                 warn=self.logger.warning, font_packages=font_packages)
        self.variation = Variation.from_config(variation)
        self.renderer = Renderer(self.variation, filler=self.texts.sample)
        fonts = f"{len(self.fonts.fonts)} fonts"
        if balance_font_families:
            fonts += f" in {len(self.fonts.families)} families, drawn family first"
        self.logger.info(f"{self.describe()}: {num_samples} samples per epoch, {fonts}")

    def describe(self) -> str:
        return f"SyntheticDataSet({self.split}, seed {self.render_seed})"

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def render(self, index: int) -> dict:
        """The raw sample `index`: {'image': uint8 [h, w, 3] BGR, 'label': str, 'font': path}."""
        epoch = self.epoch if self.fresh_each_epoch else 0
        rng = np.random.default_rng([self.render_seed, SPLITS[self.split], epoch, index])
        text = self.texts.sample(rng)
        font_path = self.fonts.pick(text, rng)
        while font_path is None:  # no font draws every character: another text
            text = self.texts.sample(rng)
            font_path = self.fonts.pick(text, rng)
        size = int(rng.integers(self.variation.font_size[0], self.variation.font_size[1] + 1))
        font = self.fonts.get(font_path, size)
        return {"image": self.renderer.render(text, font, rng), "label": text, "font": font_path}

    def _read(self, index: int):
        source = f"synthetic #{index}"
        try:
            return self.render(index), source
        except Exception as exc:  # e.g. a font Pillow cannot draw at some size: skip, count, go on
            raise SampleError("transform_failed", source, f"rendering: {exc}") from None
