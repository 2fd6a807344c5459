"""The realism options of SyntheticDataSet: outline, curved baseline, text on a circle, block
letters' sides, neighbouring words, vivid colours, scene backgrounds and the downscale range (each
changes the render when on, keeps the label, and at probability 0 draws no random number: earlier
configs render byte-identically); fonts from installed font packages; frequency-weighted word
lists; eval_font_fraction 0. The bends' geometry: test_synthetic_bends.py."""
import importlib.util
import os
import re
import subprocess
import sys
import types
from collections import Counter

import cv2
import numpy as np
import pytest

import ppcrnn  # noqa: F401  (registers components)
from ppcrnn.character import CharacterSet
from ppcrnn.data.datasets import SyntheticDataSet
from ppcrnn.data.datasets.synthetic import renderer as renderer_module
from ppcrnn.data.datasets.synthetic.backgrounds import KINDS, make_background
from ppcrnn.data.datasets.synthetic.fonts import DEFAULT_FONT, load_font, package_font_dirs
from ppcrnn.data.datasets.synthetic.renderer import Renderer, Variation
from ppcrnn.data.datasets.synthetic.text_sources import load_words
from ppcrnn.errors import ConfigError

TRANSFORMS = [{"DecodeImage": {"img_mode": "BGR"}}, {"CTCLabelEncode": None},
              {"RecResizeImg": {"image_shape": [3, 32, 100]}},
              {"KeepKeys": {"keep_keys": ["image", "label", "length"]}}]
GLOBAL = {"max_text_length": 25, "character_dict_path": None, "use_space_char": False}
CHARSET = CharacterSet()
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Every draw but the one under test off, so that what a test sees is that option's doing.
QUIET = {"rotate_prob": 0, "skew_prob": 0, "perspective_prob": 0, "spacing_prob": 0, "stroke_prob": 0,
         "shadow_prob": 0, "blur_prob": 0, "downscale_prob": 0, "noise_prob": 0, "jpeg_prob": 0}


def make(**options):
    return SyntheticDataSet(TRANSFORMS, **dict({"num_samples": 8, "global_config": GLOBAL}, **options))


def font(size=30):
    return load_font(DEFAULT_FONT, size)


def same(a, b) -> bool:
    return a.shape == b.shape and np.array_equal(a, b)


# ---- each option: on changes the render, keeps the label; at 0 it is as if absent ---------------

DEFAULT_BACKGROUNDS = dict(Variation().backgrounds)
OPTIONS = {
    "outline": ({"outline_prob": 1.0}, {"outline_prob": 0.0}),
    "curve": ({"curve_prob": 1.0, "max_curve": 0.6}, {"curve_prob": 0.0, "max_curve": 0.6}),
    "arc": ({"arc_prob": 1.0, "arc_radius": [2.0, 3.0]}, {"arc_prob": 0.0, "arc_radius": [2.0, 3.0]}),
    "extrude": ({"extrude_prob": 1.0}, {"extrude_prob": 0.0}),
    "neighbours": ({"neighbours_prob": 1.0}, {"neighbours_prob": 0.0}),
    "vivid_colour": ({"vivid_colour_prob": 1.0}, {"vivid_colour_prob": 0.0}),
    "scene": ({"backgrounds": {"scene": 1.0}}, {"backgrounds": dict(DEFAULT_BACKGROUNDS, scene=0.0)}),
    # the factor range: the default range spelled out is the old fixed range
    "downscale_factor": ({"downscale_prob": 1.0, "downscale_factor": [0.25, 0.3]},
                         {"downscale_prob": 1.0, "downscale_factor": [0.35, 0.8]}),
}


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_an_option_changes_renders_keeps_labels_and_at_zero_is_as_if_absent(name):
    on, off = OPTIONS[name]
    absent = {k: v for k, v in off.items() if k not in ("outline_prob", "curve_prob", "max_curve",
                                                        "arc_prob", "arc_radius", "extrude_prob",
                                                        "neighbours_prob", "vivid_colour_prob",
                                                        "backgrounds", "downscale_factor")}
    with_on, with_off, without = make(variation=on), make(variation=off), make(variation=absent)
    changed = 0
    for index in range(6):
        a, b, c = with_on.render(index), with_off.render(index), without.render(index)
        assert b["label"] == c["label"] and b["font"] == c["font"]
        assert same(b["image"], c["image"]), f"{name} at 0 changed sample {index}"
        # the text and its font are drawn before the renderer: the option leaves them alone
        assert a["label"] == b["label"] and a["font"] == b["font"]
        changed += not same(a["image"], b["image"])
        image = a["image"]
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3 and min(image.shape[:2]) >= 8
        assert float(image.std()) > 3  # not a blank crop
        # the training item carries the label of the text drawn (no sample was skipped or replaced)
        _, label, length = with_on[index]
        assert CHARSET.decode_indices(label[:int(length)].tolist()) == \
            CHARSET.decode_indices(CHARSET.encode(a["label"])[0])
    assert changed >= 5, f"{name} on changed only {changed} of 6 renders"
    assert with_on.skip_report() == ""


def test_all_new_options_at_zero_render_as_a_config_without_them():
    zero = {"outline_prob": 0, "curve_prob": 0, "max_curve": 0.9, "arc_prob": 0, "arc_radius": [2, 9],
            "extrude_prob": 0, "neighbours_prob": 0,
            "vivid_colour_prob": 0, "downscale_factor": [0.35, 0.8],
            "backgrounds": dict(DEFAULT_BACKGROUNDS, scene=0)}
    for base in ({}, {"outline_prob": 0, "blur_prob": 1.0, "downscale_prob": 1.0}):
        explicit, plain = make(variation=dict(zero, **base)), make(variation=base or None)
        for index in range(8):
            assert same(explicit.render(index)["image"], plain.render(index)["image"])


def _renderer_before_the_options():
    """renderer.py as it was before the options were added (from git), or None."""
    try:
        source = subprocess.run(["git", "show", "885a61b^:ppcrnn/data/datasets/synthetic/renderer.py"],
                                cwd=REPO, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    if source.returncode != 0:
        return None
    name = "ppcrnn.data.datasets.synthetic._renderer_before_options"
    module = types.ModuleType(name)
    module.__package__ = "ppcrnn.data.datasets.synthetic"  # its relative imports: today's backgrounds
    sys.modules[name] = module
    try:
        exec(compile(source.stdout, "renderer.py@885a61b^", "exec"), module.__dict__)
    finally:
        del sys.modules[name]
    return module


def test_default_renders_are_byte_identical_to_before_the_options():
    """The compatibility promise itself: an option at probability 0 draws no random number, so the
    renderer of the commit before the options renders every default sample exactly as today's."""
    before = _renderer_before_the_options()
    if before is None:
        pytest.skip("no git history here to read the earlier renderer from")
    library = make(eval_font_fraction=0.0).fonts
    for options in ({}, {"stroke_prob": 0.5, "spacing_prob": 0.5, "shadow_prob": 0.5, "downscale_prob": 0.7}):
        old, new = before.Renderer(before.Variation(**options)), Renderer(Variation(**options), filler=str)
        for seed in range(24):
            path = library.paths[seed % len(library.paths)]
            face = library.get(path, 18 + seed % 24)
            text = ["Hello", "World 42", "naïve", "x"][seed % 4] if seed % 3 else "CRNN-2024"
            a = old.render(text, face, np.random.default_rng(seed))
            b = new.render(text, face, np.random.default_rng(seed))
            assert same(a, b), (options, seed, path)


# ---- what each option does ------------------------------------------------------------------------

def test_outline_is_a_second_wider_layer_around_the_fill():
    quiet = Renderer(Variation(**QUIET))
    outlined = Renderer(Variation(**dict(QUIET, outline_prob=1.0)))
    for seed in range(5):
        plain, _ = quiet._mask("Outline", font(), np.random.default_rng(seed))
        both, box = outlined._mask("Outline", font(), np.random.default_rng(seed))
        assert plain.ndim == 2 and both.ndim == 3 and both.shape[2] == 2
        fill, rim = both[..., 0].astype(int), both[..., 1].astype(int)
        assert (rim >= fill - 1).all()  # the rim covers the glyphs (a few levels of anti-aliasing)
        assert (rim > 127).sum() > 1.3 * (fill > 127).sum()
        # the fill itself is the plain text, only moved by the wider padding
        assert abs(int((fill > 127).sum()) - int((plain > 127).sum())) <= 2
    image = outlined.render("Outline", font(), np.random.default_rng(0))
    assert image.dtype == np.uint8 and image.shape[2] == 3


def test_extrude_paints_the_glyphs_swept_down_to_one_side():
    extruded = Renderer(Variation(**dict(QUIET, extrude_prob=1.0)))
    height = 60
    background = np.full((height, 120, 3), 128, np.float32)
    glyphs = np.zeros((height, 120, 1), np.float32)
    glyphs[10:40, 40:50] = 1  # one bar
    sides = set()
    for seed in range(8):
        image = extruded._extrude(background, glyphs, np.random.default_rng(seed))
        luma_change = np.abs((image - background) @ np.float32([0.114, 0.587, 0.299]))
        changed = luma_change > 1
        changed[10:40, 40:50] = False  # the face is drawn over this afterwards
        ys, xs = np.nonzero(changed)
        assert ys.size > 20, seed
        # swept down by at most 12 % of the crop height, never up
        assert ys.min() >= 10 and ys.max() <= 40 + 0.12 * height + 1, (seed, ys.min(), ys.max())
        left, right = xs.min() < 40, xs.max() >= 50
        assert left != right, seed
        sides.add("left" if left else "right")
        # in a colour apart from the background
        assert luma_change.max() >= 0.8 * Variation().min_contrast
    assert sides == {"left", "right"}


def test_render_extrudes_the_glyphs_it_draws(monkeypatch):
    calls = []
    original = Renderer._extrude

    def spy(self, image, glyphs, rng):
        calls.append((image.shape, glyphs.shape, float(glyphs.max())))
        return original(self, image, glyphs, rng)

    monkeypatch.setattr(Renderer, "_extrude", spy)
    image = Renderer(Variation(**dict(QUIET, extrude_prob=1.0))).render("Block", font(), np.random.default_rng(0))
    assert calls == [(image.shape[:2] + (3,), image.shape[:2] + (1,), calls[0][2])] and calls[0][2] > 0.9
    Renderer(Variation(**QUIET)).render("Block", font(), np.random.default_rng(0))
    assert len(calls) == 1


def _sides_with_ink(mask, box):
    """Which of left, right (on the text's line) and above, below (other lines) hold ink."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    ink = mask > 64
    band = ink[y0 + 2:y1 - 2]
    sides = {"left": band[:, :max(0, x0 - 3)].any(), "right": band[:, x1 + 3:].any(),
             "above": ink[:max(0, y0 - 2)].any(), "below": ink[y1 + 2:].any()}
    return sorted(side for side, found in sides.items() if found)


def test_neighbours_draw_filler_words_around_the_text_and_only_when_on():
    calls = []

    def filler(rng):
        calls.append(1)
        return "Word"

    def ink_outside(mask, box):
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        inside = np.zeros(mask.shape, bool)
        inside[max(0, y0 - 3):y1 + 3, max(0, x0 - 3):x1 + 3] = True
        return int(((mask > 64) & ~inside).sum())

    never = Renderer(Variation(**QUIET), filler=filler)
    for seed in range(10):
        mask, box = never._mask("Middle", font(), np.random.default_rng(seed))
        assert ink_outside(mask, box) == 0
    assert calls == []
    always = Renderer(Variation(**dict(QUIET, neighbours_prob=1.0)), filler=filler)
    with_neighbours = 0
    for seed in range(12):
        before = len(calls)
        mask, box = always._mask("Middle", font(), np.random.default_rng(seed))
        drawn = len(calls) - before
        sides = _sides_with_ink(mask, box)
        assert len(sides) == drawn, (seed, sides, drawn)  # one neighbour on each side drawn
        with_neighbours += drawn > 0
    assert with_neighbours >= 8  # each of 4 sides is drawn with probability 1/2
    # no filler (a bare Renderer): the option has nothing to draw and renders as usual
    assert Renderer(Variation(neighbours_prob=1.0)).render("Alone", font(), np.random.default_rng(1)).ndim == 3


def _hsv(colour):
    pixel = np.clip(np.round(colour), 0, 255).astype(np.uint8)[None, None]
    return cv2.cvtColor(pixel, cv2.COLOR_BGR2HSV)[0, 0].astype(int)


def test_vivid_colours_are_saturated_backgrounds():
    vivid, muted = Renderer(Variation(vivid_colour_prob=1.0)), Renderer(Variation())
    vivid_hsv = np.array([_hsv(vivid._background_colour(np.random.default_rng(s))) for s in range(200)])
    muted_hsv = np.array([_hsv(muted._background_colour(np.random.default_rng(s))) for s in range(200)])
    assert vivid_hsv[:, 1].min() >= 85 and 55 <= vivid_hsv[:, 2].min() and vivid_hsv[:, 2].max() <= 245
    assert vivid_hsv[:, 1].mean() > muted_hsv[:, 1].mean() + 40
    assert len(set(vivid_hsv[:, 0] // 20)) >= 8  # hues all round the wheel


def test_scene_background_is_clutter_around_the_colour():
    assert "scene" in KINDS
    colour = np.array([40.0, 120.0, 200.0])
    spreads, offsets = [], []
    for seed in range(20):
        image = make_background("scene", 32, 120, colour, np.random.default_rng(seed))
        flat = make_background("flat", 32, 120, colour, np.random.default_rng(seed))
        assert image.shape == (32, 120, 3) and image.min() >= -0.5 and image.max() <= 255.5  # float blur
        assert float(flat.reshape(-1, 3).std(axis=0).max()) == 0.0
        pixels = image.reshape(-1, 3)
        spreads.append(float(pixels.std(axis=0).max()))
        offsets.append(float(np.abs(np.median(pixels, axis=0) - colour).max()))
    assert min(spreads) > 3 and np.median(spreads) > 10  # shapes of other colours, not a flat fill
    assert np.median(offsets) < 20  # mostly near the colour asked for, as the text colour assumes
    assert Variation.from_config({"backgrounds": {"scene": 1.0}}).backgrounds == {"scene": 1.0}
    with pytest.raises(ConfigError, match=r"variation\.backgrounds: unknown \['scenery'\]"):
        Variation.from_config({"backgrounds": {"scenery": 1.0}})


def _sharpness(image):
    return float(np.abs(cv2.Laplacian(image.astype(np.float32), cv2.CV_32F)).mean())


def test_downscale_factor_sets_how_much_detail_is_lost():
    image = np.random.default_rng(0).integers(0, 256, size=(40, 120, 3), dtype=np.uint8)
    degraded = {}
    for factor in (0.25, 0.5, 0.8, 1.0):
        renderer = Renderer(Variation(**dict(QUIET, downscale_prob=1.0, downscale_factor=[factor, factor])))
        out = renderer._degrade(image.copy(), np.random.default_rng(1))
        assert out.shape == image.shape and out.dtype == np.uint8
        degraded[factor] = _sharpness(out)
        if factor == 1.0:
            assert np.array_equal(out, image)  # a factor of 1 is no downscale at all
    assert degraded[0.25] < degraded[0.5] < degraded[0.8] < degraded[1.0]
    with pytest.raises(ConfigError, match=r"variation\.downscale_factor"):
        Variation.from_config({"downscale_factor": [0.8, 0.3]})


@pytest.mark.parametrize("key", ["outline_prob", "curve_prob", "max_curve", "arc_prob", "extrude_prob",
                                 "neighbours_prob", "vivid_colour_prob"])
def test_new_options_are_checked_like_the_others(key):
    assert getattr(Variation.from_config({key: 0.5}), key) == 0.5
    with pytest.raises(ConfigError, match=rf"variation\.{key}: expected"):
        Variation.from_config({key: "often"})
    with pytest.raises(ConfigError, match=rf"variation\.{key}: expected"):
        Variation.from_config({key: -0.1})


# ---- fonts from Python packages -------------------------------------------------------------------

def test_an_installed_font_package_contributes_its_fonts():
    pytest.importorskip("font_roboto")
    folders = package_font_dirs(["font_roboto"])
    assert folders and all(os.path.isdir(folder) for folder in folders)
    shipped = {os.path.join(root, name) for folder in folders for root, _, names in os.walk(folder)
               for name in names if name.lower().endswith((".ttf", ".otf"))}
    assert len(shipped) >= 2
    only_package = make(font_packages=["font_roboto"], use_system_fonts=False, use_default_font=False,
                        eval_font_fraction=0.0)
    assert set(only_package.fonts.paths) == shipped
    assert {only_package.render(i)["font"] for i in range(8)} <= shipped
    with pytest.raises(ConfigError, match="no usable font"):  # without it: nothing to draw with
        make(use_system_fonts=False, use_default_font=False)
    machine = set(make(eval_font_fraction=0.0).fonts.paths)
    both = set(make(font_packages=["font_roboto"], eval_font_fraction=0.0).fonts.paths)
    if not any(os.path.basename(path).startswith("Roboto") for path in machine):  # else deduplicated by name
        assert both == machine | shipped


def test_a_missing_font_package_is_a_config_error_naming_it():
    assert importlib.util.find_spec("no_such_font_package_xyz") is None
    with pytest.raises(ConfigError, match=r"font_packages: not installed \(or not a package\): no_such_font_package_xyz"):
        make(font_packages=["no_such_font_package_xyz"])
    with pytest.raises(ConfigError, match=r"not a package\): no_such_font_package_xyz, other_missing_fonts_xyz"):
        package_font_dirs(["no_such_font_package_xyz", "other_missing_fonts_xyz"])


# ---- frequency-weighted word lists ------------------------------------------------------------------

def word_set(tmp_path, rows, power, name="words.txt"):
    path = tmp_path / name
    path.write_text("".join(rows), encoding="utf-8")
    return make(word_list=str(path), text_sources={"words": 1.0}, punctuation_in_image=False,
                word_frequency_power=power)


def draws(dataset, count, seed=0):
    rng = np.random.default_rng(seed)
    return Counter(dataset.texts.sample(rng).lower() for _ in range(count))


@pytest.mark.parametrize("power", [0.0, 1.0, 2.0, 3.0])
def test_draws_follow_frequency_to_the_power(tmp_path, power):
    # zipf 5 vs 5 - log10(2): "apple" is twice as frequent, so drawn 2 ** power times as often
    dataset = word_set(tmp_path, ["apple\t5.0\n", f"berry\t{5 - np.log10(2):.6f}\n"], power)
    counts = draws(dataset, 3000)
    assert set(counts) == {"apple", "berry"}
    share, expected = counts["apple"] / 3000, 2 ** power / (2 ** power + 1)
    assert abs(share - expected) < 0.04, (power, share, expected)


def test_a_high_power_lets_frequent_words_dominate_and_zero_is_uniform(tmp_path):
    rows = ["common\t6.0\n", "usual\t5.0\n", "rare\t4.0\n", "obscure\t3.0\n"]
    dominated = draws(word_set(tmp_path, rows, 4.0), 2000)
    assert dominated["common"] / 2000 > 0.97
    uniform = draws(word_set(tmp_path, rows, 0.0), 4000)
    assert set(uniform) == {"common", "usual", "rare", "obscure"}
    assert all(abs(n / 4000 - 0.25) < 0.05 for n in uniform.values()), uniform
    # a list without frequencies on every line is drawn uniformly whatever the power
    partly = draws(word_set(tmp_path, rows[:3] + ["obscure\n"], 4.0, name="partly.txt"), 4000)
    assert all(abs(n / 4000 - 0.25) < 0.05 for n in partly.values()), partly


def test_a_bad_frequency_is_a_config_error_with_its_line(tmp_path):
    with pytest.raises(ConfigError, match=r"word_list: .*bad\.txt:2: expected word<TAB>zipf"):
        word_set(tmp_path, ["fine\t4.5\n", "broken\tlots\n"], 1.0, name="bad.txt")


def test_the_bundled_wordfreq_list_parses_and_weights_draws():
    words, zipfs = load_words("words_en_wordfreq.txt")
    assert len(words) > 50000 and zipfs is not None and len(zipfs) == len(words)
    assert len(set(words)) == len(words)
    assert all(re.fullmatch(r"[a-z0-9]{1,20}", word) for word in words)
    assert np.all(np.isfinite(zipfs)) and 0 < zipfs.min() and zipfs.max() < 9
    assert np.all(np.diff(zipfs) <= 0)  # most frequent first
    weights = 10.0 ** zipfs
    top = set(words[:100])
    top_share = weights[:100].sum() / weights.sum()
    frequent = make(word_list="words_en_wordfreq.txt", text_sources={"words": 1.0},
                    punctuation_in_image=False, word_frequency_power=1.0)
    uniform = make(word_list="words_en_wordfreq.txt", text_sources={"words": 1.0},
                   punctuation_in_image=False)
    assert frequent.texts.words == words
    got_frequent, got_uniform = draws(frequent, 2000), draws(uniform, 2000)
    share = sum(n for w, n in got_frequent.items() if w in top) / 2000
    assert abs(share - top_share) < 0.06, (share, top_share)
    assert sum(n for w, n in got_uniform.items() if w in top) / 2000 < 0.02
    assert len(got_uniform) > 1800  # uniform over 56k words: hardly a repeat


# ---- eval_font_fraction 0 -------------------------------------------------------------------------

def test_eval_font_fraction_zero_trains_on_every_font():
    train, evaluation = make(eval_font_fraction=0.0), make(split="eval", eval_font_fraction=0.0)
    held_train, held_eval = make(eval_font_fraction=0.3), make(split="eval", eval_font_fraction=0.3)
    everything = set(held_train.fonts.paths) | set(held_eval.fonts.paths)
    assert train.fonts.paths == evaluation.fonts.paths
    assert set(train.fonts.paths) == everything
    if len(everything) > 1:
        assert set(held_eval.fonts.paths) and not set(held_eval.fonts.paths) & set(held_train.fonts.paths)
        assert len(train.fonts.paths) > len(held_train.fonts.paths)
    # the splits still draw other samples
    assert [train.render(i)["label"] for i in range(5)] != [evaluation.render(i)["label"] for i in range(5)]


def test_an_optional_draw_at_zero_leaves_the_generator_untouched():
    """`_hit`, through which every new option draws: at 0 the rng state does not move."""
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    assert renderer_module._hit(0.0, rng) is False and rng.bit_generator.state == state
    assert renderer_module._hit(1.0, rng) is True and rng.bit_generator.state != state


def test_a_missing_dotted_font_package_is_a_config_error_too():
    with pytest.raises(ConfigError, match=r"font_packages: not installed \(or not a package\): no_such_font_package_xyz\.fonts"):
        package_font_dirs(["no_such_font_package_xyz.fonts"])
