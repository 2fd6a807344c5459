"""The built-in synthetic generator: deterministic per (seed, index), valid labels, held-out
eval fonts, glyph coverage respected, and it feeds a DataLoader."""
import os

import numpy as np
import pytest

import ppcrnn  # noqa: F401  (registers components)
from ppcrnn.character import CharacterSet
from ppcrnn.data import build_dataloader
from ppcrnn.data.datasets import SyntheticDataSet
from ppcrnn.data.datasets.synthetic.fonts import DEFAULT_FONT, FontLibrary, _font_info, _rendered_coverage
from ppcrnn.data.datasets.synthetic.backgrounds import make_background
from ppcrnn.data.datasets.synthetic.renderer import LUMA_BGR, Renderer, Variation
from ppcrnn.data.datasets.synthetic.text_sources import RESOURCES
from ppcrnn.errors import ConfigError
from ppcrnn.losses.feasibility import ctc_min_length

TRANSFORMS = [{"DecodeImage": {"img_mode": "BGR"}}, {"CTCLabelEncode": None},
              {"RecResizeImg": {"image_shape": [3, 32, 100]}},
              {"KeepKeys": {"keep_keys": ["image", "label", "length"]}}]
GLOBAL = {"max_text_length": 25, "character_dict_path": None, "use_space_char": False}


def make(**options):
    return SyntheticDataSet(TRANSFORMS, **dict({"num_samples": 50, "global_config": GLOBAL}, **options))


@pytest.fixture(scope="module")
def train_set():
    return make()


def test_samples_are_a_function_of_seed_and_index(train_set):
    other = make()
    for index in (7, 3, 7, 0):  # order of access does not matter
        first, second = train_set.render(index), other.render(index)
        assert first["label"] == second["label"] and first["font"] == second["font"]
        assert np.array_equal(first["image"], second["image"])
    reseeded = make(render_seed=1)
    differ = [reseeded.render(i)["label"] != train_set.render(i)["label"] for i in range(10)]
    assert sum(differ) >= 8
    assert len({train_set.render(i)["label"] for i in range(20)}) >= 18


def test_labels_fit_dictionary_length_and_ctc_frames(train_set):
    charset = CharacterSet()
    for index in range(60):
        sample = train_set.render(index)
        image, label = sample["image"], sample["label"]
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
        assert image.shape[0] >= 8 and image.shape[1] >= 8
        indices, _ = charset.encode(label)
        assert 1 <= len(label) <= 25 and indices and ctc_min_length(indices) <= 25


def test_eval_split_uses_held_out_fonts_and_other_samples(train_set):
    evaluation = make(split="eval", eval_font_fraction=0.3)
    train = make(eval_font_fraction=0.3)
    if evaluation.fonts.paths == train.fonts.paths == [DEFAULT_FONT]:
        pytest.skip("only Pillow's bundled font on this machine: nothing to hold out")
    assert evaluation.fonts.paths and train.fonts.paths
    assert not set(evaluation.fonts.paths) & set(train.fonts.paths)
    assert {evaluation.render(i)["font"] for i in range(20)} <= set(evaluation.fonts.paths)
    assert [evaluation.render(i)["label"] for i in range(5)] != [train.render(i)["label"] for i in range(5)]


def test_epochs_are_fresh_for_train_and_fixed_for_eval(train_set):
    train, evaluation = make(), make(split="eval")
    before = [train.render(i)["label"] for i in range(5)], [evaluation.render(i)["label"] for i in range(5)]
    train.set_epoch(1)
    evaluation.set_epoch(1)
    after = [train.render(i)["label"] for i in range(5)], [evaluation.render(i)["label"] for i in range(5)]
    assert before[0] != after[0] and before[1] == after[1]


def test_text_contrasts_with_the_background_actually_under_it():
    """A gradient spans 90 luma levels under the text: the text colour keeps min_contrast from the
    lighter and the darker part alike (tint clipping may cost a few levels), on either side."""
    renderer = Renderer(Variation(min_contrast=90.0))
    luma = LUMA_BGR
    alpha = np.zeros((32, 120, 1), np.float32)
    alpha[8:24, 10:110] = 1.0
    sides = set()
    for seed in range(200):
        rng = np.random.default_rng(seed)
        start = rng.uniform(0, 165)
        image = make_background("flat", 32, 120, np.full(3, start), rng)
        image += np.linspace(0, 90, 120, dtype=np.float32)[None, :, None]  # left to right: +90
        under = image[8:24, 10:110] @ luma
        text = renderer._text_colour(image, alpha, rng) @ luma
        low, high = np.percentile(under, [10, 90])
        if high + 90 <= 255 or low - 90 >= 0:  # room on at least one side
            assert max(text - high, low - text) >= 90 - 20, (seed, text, low, high)
        else:
            assert min(text, 255 - text) < 20, (seed, text)
        sides.add(text > under.mean())
    assert sides == {True, False}


def test_balanced_families_are_drawn_alike_whatever_their_face_counts():
    fonts = make(num_samples=600, balance_font_families=True)
    family_of = {path: _font_info(path)[0][0] for path in fonts.fonts.paths}
    counts = {}
    for index in range(len(fonts)):
        family = family_of[fonts.render(index)["font"]]
        counts[family] = counts.get(family, 0) + 1
    faces = {family: list(family_of.values()).count(family) for family in counts}
    assert len(counts) == len(fonts.fonts.families) and max(faces.values()) > 1
    expected = len(fonts) / len(counts)
    assert all(abs(count - expected) < 0.5 * expected for count in counts.values()), (counts, faces)


def test_fonts_without_a_glyph_are_not_used_for_that_text():
    default_coverage = _rendered_coverage(DEFAULT_FONT, "abcж")
    assert ord("a") in default_coverage
    assert ord("ж") not in default_coverage  # Pillow's bundled font has no Cyrillic: seen as tofu
    library = FontLibrary("abcж", eval_font_fraction=0.0)
    library.fonts += FontLibrary("abcж", split="eval", eval_font_fraction=0.0).fonts  # every font found
    assert DEFAULT_FONT in dict(library.fonts)
    if not any(ord("ж") in coverage for _, coverage in library.fonts):
        pytest.skip("no font with Cyrillic on this machine")
    rng = np.random.default_rng(0)
    picks = {library.pick("жab", rng) for _ in range(50)}
    assert DEFAULT_FONT not in picks and all(ord("ж") in dict(library.fonts)[p] for p in picks)


def test_dictionary_file_limits_what_is_drawn(tmp_path):
    path = tmp_path / "digits.txt"
    path.write_text("\n".join("0123456789-") + "\n")
    dataset = make(global_config=dict(GLOBAL, character_dict_path=str(path), max_text_length=8),
                   text_sources={"numbers": 1.0, "words": 1.0}, punctuation_in_image=False)
    for index in range(30):
        label = dataset.render(index)["label"]
        assert set(label) <= set("0123456789-") and 1 <= len(label) <= 8


def test_word_list_by_bundled_name_or_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a bare bundled name works from any directory
    common = make(word_list="words_common.txt", text_sources={"words": 1.0})
    with open(os.path.join(RESOURCES, "words_common.txt"), encoding="utf-8") as handle:
        assert common.texts.words == [line.strip() for line in handle if line.strip()]
    own = tmp_path / "plates.txt"
    own.write_text("AB123\nXY987\n")
    assert make(word_list=str(own), text_sources={"words": 1.0}).texts.words == ["AB123", "XY987"]
    with pytest.raises(ConfigError, match="word_list: file not found: nowhere.txt .bundled lists"):
        make(word_list="nowhere.txt", text_sources={"words": 1.0})


def test_bad_options_are_config_errors():
    with pytest.raises(ConfigError, match="variation.blurr_prob"):
        Variation.from_config({"blurr_prob": 0.1})
    with pytest.raises(ConfigError, match="variation.blur_prob: expected"):
        Variation.from_config({"blur_prob": "high"})
    with pytest.raises(ConfigError, match="variation.font_size"):
        Variation.from_config({"font_size": [40, 20]})
    with pytest.raises(ConfigError, match="text_sources"):
        make(text_sources={"poems": 1.0})
    with pytest.raises(ConfigError, match="split"):
        make(split="test")


def test_synthetic_batches_through_a_dataloader():
    config = {"Global": dict(GLOBAL, seed=3),
              "Train": {"dataset": {"name": "SyntheticDataSet", "num_samples": 16, "transforms": TRANSFORMS,
                                    "variation": {"jpeg_prob": 1.0}},
                        "loader": {"batch_size_per_card": 8, "shuffle": True, "drop_last": True,
                                   "num_workers": 2}}}
    loader = build_dataloader(config, "Train")
    batches = list(loader)
    assert len(batches) == 2
    images, labels, lengths = batches[0]
    assert images.shape == [8, 3, 32, 100] and labels.shape == [8, 25]
    assert float(images.abs().max()) <= 1.0 and int(lengths.min()) >= 1
    assert loader.dataset.skip_report() == ""
