"""SyntheticDataSet's `prices` text source: amounts as shop signs write them (₹, Rs., $ before,
/- after). The signs are drawn with fonts that have them (by glyph, not only by cmap) and never
reach the 0-9a-z label; a config that does not weight the source draws the texts it drew before."""
import os
import re

import numpy as np
import pytest

import ppcrnn  # noqa: F401  (registers components)
from ppcrnn.data.datasets import SyntheticDataSet
from ppcrnn.data.datasets.synthetic.fonts import FontLibrary
from ppcrnn.data.datasets.synthetic.text_sources import TextSampler
from ppcrnn.errors import ConfigError

TRANSFORMS = [{"DecodeImage": {"img_mode": "BGR"}}, {"CTCLabelEncode": None},
              {"RecResizeImg": {"image_shape": [3, 32, 100]}},
              {"KeepKeys": {"keep_keys": ["image", "label", "length"]}}]
GLOBAL = {"max_text_length": 25, "character_dict_path": None, "use_space_char": False}
SIGNS = "₹$€£"


def prices(punctuation_in_image: bool) -> SyntheticDataSet:
    return SyntheticDataSet(TRANSFORMS, num_samples=60, global_config=GLOBAL, text_sources={"prices": 1.0},
                            punctuation_in_image=punctuation_in_image, eval_font_fraction=0.0)


def test_prices_draw_currency_signs_with_fonts_that_have_them():
    dataset = prices(punctuation_in_image=True)
    samples = [dataset.render(i) for i in range(60)]
    texts = [sample["label"] for sample in samples]
    assert all(re.fullmatch(r"(₹|Rs\.?|\$|€|£)\d+(/-|\.00|/-only)?", text) for text in texts), texts
    assert {text[0] for text in texts} >= {"₹", "R", "$"}
    coverage = dict(dataset.fonts.fonts)
    for sample in samples:
        assert {ord(c) for c in sample["label"]} <= coverage[sample["font"]], sample
    # the signs are drawn but not labelled: the encoded label holds the digits (and "rs") only
    decode = dataset.rules.charset.characters
    for index in range(10):
        image, label, length = dataset[index]
        encoded = "".join(decode[int(i)] for i in label[:int(length)])
        assert encoded == re.sub(r"[^0-9a-z]", "", texts[index].lower()), (texts[index], encoded)
        assert image.shape == (3, 32, 100)


def test_without_punctuation_in_image_the_signs_are_left_out():
    texts = [prices(punctuation_in_image=False).render(i)["label"] for i in range(40)]
    assert not any(set(text) & set(SIGNS + "./-") for text in texts), texts
    assert all(re.fullmatch(r"(Rs)?\d+(00|only)?", text) for text in texts), texts


def test_an_unweighted_prices_source_draws_exactly_as_before():
    rules = prices(True).rules
    before = {"words": 0.5, "random": 0.2, "numbers": 0.15, "patterns": 0.15}
    streams = []
    for weights in (None, before, dict(before, prices=0.0)):
        sampler, rng = TextSampler(rules, weights), np.random.default_rng(3)
        streams.append([sampler.sample(rng) for _ in range(200)])
    assert streams[0] == streams[1] == streams[2]
    weighted, rng = TextSampler(rules, dict(before, prices=1.0)), np.random.default_rng(3)
    assert [weighted.sample(rng) for _ in range(200)] != streams[0]


def test_a_negative_prices_weight_is_a_config_error_naming_the_sources():
    with pytest.raises(ConfigError, match=r"text_sources: .*prices"):
        TextSampler(prices(True).rules, {"prices": -1.0})


def test_a_font_whose_cmap_sends_a_sign_to_another_glyph_is_not_used_for_it():
    """matplotlib's TeX-encoded cm*10 fonts map U+00A3 '£' to their 'Theta' glyph."""
    matplotlib = pytest.importorskip("matplotlib")
    fonts = os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf")
    tex, unicode_font = os.path.join(fonts, "cmss10.ttf"), os.path.join(fonts, "DejaVuSans.ttf")
    library = FontLibrary(set("Ab1$£"), eval_font_fraction=0.0, fonts=[tex, unicode_font],
                          use_system_fonts=False, use_default_font=False)
    coverage = dict(library.fonts)
    assert {ord(c) for c in "Ab1$"} <= coverage[tex] and ord("£") not in coverage[tex]
    assert {ord(c) for c in "Ab1$£"} <= coverage[unicode_font]
    assert all(library.pick("£1", np.random.default_rng(seed)) == unicode_font for seed in range(8))
