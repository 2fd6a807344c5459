"""Transforms: PaddleOCR's resize and label rules re-derived here from the reference (§4.3) and
compared with ours on real benchmark crops; augmentation and batching behaviour."""
import math
import os
import random

import cv2
import numpy as np
import pytest

import ppcrnn  # noqa: F401  (registers components)
from ppcrnn.data import PadCollate, create_operators, transform
from ppcrnn.data.transforms import CTCLabelEncode, DecodeImage, KeepKeys, RecAug, RecResizeImg
from ppcrnn.data.transforms.tia import warp_mls
from ppcrnn.errors import ConfigError

SETS = ("iiit5k_test_3000", "svt_647", "ic13_857", "ic15_test_2077")


def benchmark_images(benchmarks_dir, per_set=25):
    """A fixed sample of crops from every set, plus the widest and narrowest of each sample."""
    images = []
    for name in SETS:
        folder = os.path.join(benchmarks_dir, name, "images")
        files = sorted(os.listdir(folder))
        for file in random.Random(name).sample(files, per_set):
            images.append(cv2.imread(os.path.join(folder, file), cv2.IMREAD_COLOR))
    return images


def reference_train_resize(img, image_shape):
    """§4.3 default path, written out step by step: ratio w/h, width ceil(H*ratio) capped at W,
    bilinear resize, float32, CHW, /255, -0.5, /0.5, into zeros [C, H, W] from column 0."""
    channels, height, width = image_shape
    ratio = img.shape[1] / float(img.shape[0])
    resized_w = width if math.ceil(height * ratio) > width else int(math.ceil(height * ratio))
    resized = cv2.resize(img, (resized_w, height), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    chw = np.transpose(resized, (2, 0, 1))
    normalised = np.subtract(np.divide(chw, np.float32(255)), np.float32(0.5)) / np.float32(0.5)
    out = np.zeros((channels, height, width), np.float32)
    out[:, :, :resized_w] = normalised
    return out


def reference_predictor_resize(img, image_shape):
    """PaddleOCR predict_rec for a batch of one image (§7.2)."""
    _, height, width = image_shape
    ratio = img.shape[1] * 1.0 / img.shape[0]
    target_w = int(height * max(width / height, ratio))
    resized_w = min(target_w, int(math.ceil(height * img.shape[1] / float(img.shape[0]))))
    resized = cv2.resize(img, (resized_w, height)).astype("float32")
    resized = (resized.transpose((2, 0, 1)) / 255 - 0.5) / 0.5
    out = np.zeros((3, height, target_w), np.float32)
    out[:, :, :resized_w] = resized
    return out


@pytest.mark.parametrize("image_shape", [[3, 32, 100], [3, 48, 320]])
def test_train_resize_is_bit_identical_to_paddleocr_rule(benchmarks_dir, image_shape):
    op = RecResizeImg(image_shape=image_shape)
    images = benchmark_images(benchmarks_dir)
    squeezed = 0
    for img in images:
        out = op({"image": img})["image"]
        expected = reference_train_resize(img, image_shape)
        assert out.dtype == np.float32 and out.shape == tuple(image_shape)
        assert np.array_equal(out, expected)
        squeezed += img.shape[1] / img.shape[0] > image_shape[2] / image_shape[1]
    assert 0 < squeezed < len(images)  # both branches of the width rule were exercised


def test_train_resize_pads_right_with_zero_and_reports_valid_ratio():
    img = np.full((64, 64, 3), 255, np.uint8)
    data = RecResizeImg(image_shape=[3, 32, 100])({"image": img})
    assert np.all(data["image"][:, :, :32] == 1.0) and np.all(data["image"][:, :, 32:] == 0.0)
    assert data["valid_ratio"] == pytest.approx(0.32)
    plain = RecResizeImg(image_shape=[3, 32, 100], padding=False)({"image": img})
    assert np.all(plain["image"] == 1.0) and plain["valid_ratio"] == 1.0


def test_grayscale_image_shape_gives_one_channel():
    img = np.random.RandomState(0).randint(0, 256, (40, 90, 3)).astype(np.uint8)
    out = RecResizeImg(image_shape=[1, 32, 100])({"image": img})["image"]
    assert out.shape == (1, 32, 100) and out.min() >= -1 and out.max() <= 1


def test_eval_mode_uses_the_exported_predictor_resize(benchmarks_dir):
    op = RecResizeImg(image_shape=[3, 32, 100], eval_mode=True)
    widths = set()
    for img in benchmark_images(benchmarks_dir, per_set=10):
        out = op({"image": img})["image"]
        assert np.array_equal(out, reference_predictor_resize(img, [3, 32, 100]))
        widths.add(out.shape[2])
    assert min(widths) == 100 and max(widths) > 100  # long words keep their aspect ratio


def test_infer_mode_only_switches_with_a_dictionary(tmp_path):
    wide = np.zeros((32, 400, 3), np.uint8)
    assert RecResizeImg([3, 32, 100], infer_mode=True)({"image": wide})["image"].shape == (3, 32, 100)
    dict_file = tmp_path / "d.txt"
    dict_file.write_text("a\nb\n")
    op = RecResizeImg([3, 32, 100], infer_mode=True, character_dict_path=str(dict_file))
    assert op({"image": wide})["image"].shape == (3, 32, 400)


def test_predictor_width_is_capped():
    very_wide = np.zeros((10, 5000, 3), np.uint8)
    out = RecResizeImg([3, 32, 100], eval_mode=True)({"image": very_wide})["image"]
    assert out.shape == (3, 32, 3200)


def reference_encode(text, max_len, characters, lower):
    """PaddleOCR BaseRecLabelEncode.encode (§4.3): raw length check, lower-case, drop OOV."""
    if len(text) == 0 or len(text) > max_len:
        return None
    if lower:
        text = text.lower()
    index = {c: i + 1 for i, c in enumerate(characters)}
    out = [index[c] for c in text if c in index]
    return out or None


@pytest.mark.parametrize("text", ["Hello", "ab-12", "", "x" * 25, "x" * 26, "!!!", "A" + "!" * 25,
                                  "MiXeD CaSe 42", "straße"])
def test_label_encoding_default_dictionary_matches_paddleocr(text):
    op = CTCLabelEncode(max_text_length=25)
    expected = reference_encode(text, 25, "0123456789abcdefghijklmnopqrstuvwxyz", lower=True)
    data = op({"label": text})
    if expected is None:
        assert data is None
        return
    assert data["label"].dtype == np.int64 and data["label"].shape == (25,)
    assert data["label"][: len(expected)].tolist() == expected
    assert not data["label"][len(expected):].any()
    assert int(data["length"]) == len(expected)
    assert data["label_ace"].sum() == 25 and data["label_ace"][0] == 25 - len(expected)


def test_label_encoding_with_dictionary_file_keeps_case_and_space(tmp_path):
    path = tmp_path / "dict.txt"
    path.write_bytes(b"a\r\nB\r\nc\r\n")
    op = CTCLabelEncode(max_text_length=5, character_dict_path=str(path), use_space_char=True)
    assert op({"label": "aB c"})["label"].tolist() == [1, 2, 4, 3, 0]
    assert op({"label": "AbBc"})["label"].tolist() == [2, 3, 0, 0, 0]  # no lower-casing with a file
    assert op({"label": "Ab"}) is None
    assert op({"label": "AbAbA"}) is None and op({"label": "aBcaBc"}) is None


def test_decode_image_modes(benchmarks_dir):
    folder = os.path.join(benchmarks_dir, "svt_647", "images")
    path = os.path.join(folder, sorted(os.listdir(folder))[0])
    raw = open(path, "rb").read()
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    assert np.array_equal(DecodeImage("BGR")({"image": raw})["image"], bgr)
    assert np.array_equal(DecodeImage("RGB")({"image": raw})["image"], bgr[:, :, ::-1])
    gray = DecodeImage("GRAY")({"image": raw})["image"]
    assert gray.shape == bgr.shape and np.array_equal(gray[:, :, 0], gray[:, :, 2])
    assert DecodeImage("BGR", channel_first=True)({"image": raw})["image"].shape == (3,) + bgr.shape[:2]
    assert DecodeImage("BGR")({"image": b"not an image"}) is None
    assert DecodeImage("BGR")({"image": b""}) is None
    with pytest.raises(ConfigError, match="img_mode"):
        DecodeImage("CMYK")


def test_keep_keys_orders_fields_and_names_missing_ones():
    assert KeepKeys(["b", "a"])({"a": 1, "b": 2, "c": 3}) == [2, 1]
    with pytest.raises(KeyError, match="length"):
        KeepKeys(["image", "length"])({"image": 1})


def test_create_operators_merges_global_and_checks_options():
    ops = create_operators([{"CTCLabelEncode": {"max_text_length": 5}}, {"KeepKeys": {"keep_keys": ["length"]}}],
                           {"max_text_length": 3, "use_gpu": False})
    assert ops[0].max_text_length == 3  # Global wins, as in PaddleOCR
    assert transform({"label": "abcd"}, ops) is None
    assert transform({"label": "abc"}, ops)[0] == 3
    with pytest.raises(ConfigError, match=r"Train\.dataset\.transforms\.0\.RecResizeImg\.image_shap"):
        create_operators([{"RecResizeImg": {"image_shap": [3, 32, 100]}}], {}, "Train.dataset.transforms")
    with pytest.raises(ConfigError, match=r"transforms\.1: .*img_mode"):
        create_operators([{"KeepKeys": None}, {"DecodeImage": {"img_mode": "XYZ"}}], {})


def test_mls_warp_identity_and_translation():
    img = np.random.RandomState(1).randint(0, 256, (32, 100, 3)).astype(np.uint8)
    corners = np.array([[0, 0], [100, 0], [100, 32], [0, 32], [50, 0], [50, 32]], float)
    assert np.array_equal(warp_mls(img, corners, corners), img)
    shifted = warp_mls(img, corners, corners + [3, 0])  # content moves 3 px to the right
    assert np.abs(shifted[:, 10:90].astype(int) - img[:, 7:87].astype(int)).max() <= 1


def test_rec_aug_probabilities():
    img = np.random.RandomState(2).randint(0, 256, (40, 120, 3)).astype(np.uint8)
    off = dict(tia_prob=0, crop_prob=0, reverse_prob=0, noise_prob=0, jitter_prob=0, blur_prob=0, hsv_aug_prob=0)
    assert np.array_equal(RecAug(**off)({"image": img.copy()})["image"], img)
    assert np.array_equal(RecAug(**dict(off, reverse_prob=1))({"image": img.copy()})["image"], 255 - img)
    cropped = RecAug(**dict(off, crop_prob=1))({"image": img.copy()})["image"]
    assert 32 <= cropped.shape[0] <= 39 and cropped.shape[1] == 120
    warped = RecAug(**dict(off, tia_prob=1))({"image": img.copy()})["image"]
    assert warped.shape == img.shape and warped.dtype == np.uint8 and not np.array_equal(warped, img)
    for _ in range(10):  # default probabilities on a tiny image never fail
        out = RecAug()({"image": img[:12, :15].copy()})["image"]
        assert out.dtype == np.uint8 and out.ndim == 3


def test_pad_collate_right_pads_varying_widths():
    samples = [[np.ones((3, 32, 100), np.float32), np.int64(2)], [np.ones((3, 32, 140), np.float32), np.int64(5)]]
    images, lengths = PadCollate()(samples)
    assert images.shape == (2, 3, 32, 140) and lengths.tolist() == [2, 5]
    assert np.all(images[0, :, :, 100:] == 0) and np.all(images[0, :, :, :100] == 1)
    same = PadCollate()([[np.zeros((3, 32, 100))], [np.ones((3, 32, 100))]])[0]
    assert same.shape == (2, 3, 32, 100)
