"""Inference preprocessing, the Recognizer (inputs, batching, order, engines, decoding) and
tools/predict_rec.py, on a small random-weight exported model."""
import logging
import os
import shutil

import cv2
import numpy as np
import pytest
import yaml
from PIL import Image

from fixtures_model import load_tool, random_weights, render_word, tiny_config
from ppcrnn.errors import ConfigError
from ppcrnn.inference import Recognizer, export_model, export_onnx
from ppcrnn.inference.engines import build_engine
from ppcrnn.inference.preprocess import MAX_WIDTH, read_image, resize_norm, stack_batch

SHAPE = [3, 32, 100]


def normalised(image):
    return (image.astype(np.float32).transpose(2, 0, 1) / 255 - 0.5) / 0.5


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("predictor"))
    config = tiny_config(folder)
    export_model(config, os.path.join(folder, "inference"), random_weights(config, os.path.join(folder, "model")))
    return os.path.join(folder, "inference")


@pytest.fixture(scope="module")
def crops():
    rng = np.random.default_rng(0)
    return [render_word(word, rng) for word in ["a", "paddle", "go", "text", "model", "reads", "on", "b2"]]


@pytest.fixture
def log_records():
    """Messages the ppcrnn logger emits during the test."""
    records = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())
    logger = logging.getLogger("ppcrnn")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_resize_norm_keeps_the_aspect_ratio_and_pads_right_with_zeros():
    image = np.random.default_rng(0).integers(0, 256, (32, 40, 3), dtype=np.uint8)
    out = resize_norm(image, SHAPE)
    assert out.shape == (3, 32, 100) and out.dtype == np.float32
    np.testing.assert_allclose(out[:, :, :40], normalised(image), atol=1e-6)
    assert not out[:, :, 40:].any()

    tall = np.random.default_rng(1).integers(0, 256, (64, 101, 3), dtype=np.uint8)
    out = resize_norm(tall, SHAPE)
    assert out.shape == (3, 32, 100)  # ceil(32 * 101 / 64) = 51 columns of image, then padding
    np.testing.assert_allclose(out[:, :, :51], normalised(cv2.resize(tall, (51, 32))), atol=1e-6)
    assert not out[:, :, 51:].any()


def test_resize_norm_wide_narrow_and_capped_crops():
    wide = np.full((32, 500, 3), 255, dtype=np.uint8)
    assert resize_norm(wide, SHAPE).shape == (3, 32, 500)
    one_pixel = np.zeros((40, 1, 3), dtype=np.uint8)
    out = resize_norm(one_pixel, SHAPE)
    assert out.shape == (3, 32, 100) and (out[:, :, 0] == -1).all() and not out[:, :, 1:].any()
    very_wide = np.full((10, 2000, 3), 255, dtype=np.uint8)
    out = resize_norm(very_wide, SHAPE)
    assert out.shape == (3, 32, MAX_WIDTH) and (out == 1).all()  # squeezed into the cap, no padding


def test_stack_batch_pads_to_the_widest():
    batch = stack_batch([np.ones((3, 32, 100), np.float32), np.ones((3, 32, 140), np.float32)])
    assert batch.shape == (2, 3, 32, 140)
    assert batch[0, :, :, :100].all() and not batch[0, :, :, 100:].any() and batch[1].all()


def test_read_image_accepts_paths_arrays_and_pil_images(tmp_path):
    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "crop.png"), bgr)
    assert np.array_equal(read_image(str(tmp_path / "crop.png")), bgr)
    assert np.array_equal(read_image(bgr), bgr)
    assert np.array_equal(read_image(Image.fromarray(bgr[:, :, ::-1].copy())), bgr)
    assert np.array_equal(read_image(bgr, "RGB"), bgr[:, :, ::-1])
    gray = bgr[:, :, 0].copy()
    expected_gray = np.repeat(gray[:, :, None], 3, axis=2)
    for variant in (gray, gray[:, :, None], Image.fromarray(gray)):
        assert np.array_equal(read_image(variant), expected_gray)
    bgra = np.dstack([bgr, np.full((20, 30), 7, np.uint8)])
    assert np.array_equal(read_image(bgra), bgr)
    assert np.array_equal(read_image(Image.fromarray(bgra[:, :, [2, 1, 0, 3]].copy(), "RGBA")), bgr)


@pytest.mark.parametrize("bad, error, message", [
    (np.zeros((5, 5, 3), np.float32), ValueError, "uint8"),
    (np.zeros((5, 0, 3), np.uint8), ValueError, "empty"),
    (np.zeros((5, 5, 2), np.uint8), ValueError, "shape"),
    ("missing.png", FileNotFoundError, "missing.png"),
    (12, TypeError, "int"),
])
def test_read_image_errors_say_what_is_wrong(bad, error, message):
    with pytest.raises(error, match=message):
        read_image(bad)


def test_unreadable_file_is_named(tmp_path):
    (tmp_path / "note.png").write_text("not an image")
    with pytest.raises(ValueError, match="note.png"):
        read_image(str(tmp_path / "note.png"))


class WidthEngine:
    """Stand-in engine whose answer for a row is the row's image width (columns before the zero
    padding), spelled as one character; it records the batch shapes it is given."""

    def __init__(self):
        self.shapes = []

    def __call__(self, batch):
        self.shapes.append(batch.shape)
        probs = np.zeros((len(batch), batch.shape[3] // 4, 37), np.float32)
        probs[:, :, 0] = 1.0
        for row, image in enumerate(batch):
            width = int(np.flatnonzero(np.abs(image).sum(axis=(0, 1)))[-1]) + 1
            probs[row, 0, 0], probs[row, 0, 1 + width % 36] = 0.0, 1.0
        return probs


def test_results_come_back_in_input_order_whatever_the_batching(model_dir, crops):
    def recognise(images, batch_size):
        recognizer = Recognizer(model_dir, batch_size=batch_size, cpu_threads=1, enable_mkldnn=False)
        recognizer.engine = WidthEngine()
        return recognizer(images), recognizer.engine.shapes

    singles = [recognise(crop, 1)[0][0] for crop in crops]
    assert len({text for text, _ in singles}) == len(crops), "widths must differ to reveal a misorder"
    for batch_size in (3, 8):
        results, shapes = recognise(crops, batch_size)
        assert results == singles
        assert [shape[0] for shape in shapes] == [batch_size] * (len(crops) // batch_size) + (
            [len(crops) % batch_size] if len(crops) % batch_size else [])
        assert [shape[3] for shape in shapes] == sorted(shape[3] for shape in shapes)  # sorted by aspect


def test_all_input_kinds_give_the_same_result(model_dir, crops, tmp_path):
    recognizer = Recognizer(model_dir, cpu_threads=1, enable_mkldnn=False)
    crop = crops[3]
    cv2.imwrite(str(tmp_path / "crop.png"), crop)
    results = recognizer([str(tmp_path / "crop.png"), crop, Image.fromarray(crop[:, :, ::-1].copy())])
    assert results[0] == results[1] == results[2]
    gray = crop[:, :, 0].copy()
    assert recognizer(gray) == recognizer(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR))


def test_extreme_crops_are_recognised(model_dir):
    recognizer = Recognizer(model_dir, cpu_threads=1, enable_mkldnn=False)
    extremes = [np.zeros((32, 1, 3), np.uint8), np.full((1, 1, 3), 255, np.uint8),
                np.full((200, 3, 3), 90, np.uint8), np.full((32, 20000, 3), 200, np.uint8)]
    results = recognizer(extremes)
    assert len(results) == 4
    for text, score in results:
        assert isinstance(text, str) and 0.0 <= score <= 1.0


def test_onnxruntime_engine_gives_the_paddle_results(model_dir, crops, tmp_path):
    pytest.importorskip("paddle2onnx")
    pytest.importorskip("onnxruntime")
    model_dir = shutil.copytree(model_dir, str(tmp_path / "inference"))
    export_onnx(model_dir)
    paddle_results = Recognizer(model_dir, cpu_threads=1, enable_mkldnn=False)(crops)
    onnx_results = Recognizer(model_dir, engine="onnxruntime", cpu_threads=1)(crops)
    assert [t for t, _ in onnx_results] == [t for t, _ in paddle_results]
    np.testing.assert_allclose([s for _, s in onnx_results], [s for _, s in paddle_results], atol=1e-5)


def test_threads_are_capped_at_the_cores(model_dir, tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    model_dir = shutil.copytree(model_dir, str(tmp_path / "inference"))
    export_onnx(model_dir)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    engine = build_engine(model_dir, "onnxruntime", cpu_threads=8)
    assert engine.session.get_session_options().intra_op_num_threads == 2


def test_lexicon_and_beam_decoding(model_dir, crops):
    lexicon = ["alpha", "beta", "gamma"]
    results = Recognizer(model_dir, cpu_threads=1, enable_mkldnn=False, mode="lexicon", lexicon=lexicon,
                         max_edit_distance=25)(crops)
    assert {text for text, _ in results} <= set(lexicon)
    # A word longer than the frames can spell has P = 0: with an oov_penalty every greedy text
    # stands (the penalty reaches the decoder); without one that word would be every result.
    greedy = Recognizer(model_dir, cpu_threads=1, enable_mkldnn=False)(crops)
    kept = Recognizer(model_dir, cpu_threads=1, enable_mkldnn=False, mode="lexicon", lexicon=["q" * 200],
                      oov_penalty=10)(crops)
    assert [text for text, _ in kept] == [text for text, _ in greedy]
    beam = Recognizer(model_dir, cpu_threads=1, enable_mkldnn=False, mode="beam", beam_width=4)(crops)
    assert len(beam) == len(crops) and all(set(t) <= set("0123456789abcdefghijklmnopqrstuvwxyz") for t, _ in beam)


def test_a_dictionary_shorter_than_the_head_is_refused(model_dir, crops, tmp_path):
    broken = str(tmp_path / "broken")
    shutil.copytree(model_dir, broken)
    with open(os.path.join(broken, "inference.yml"), encoding="utf-8") as handle:
        yml = yaml.safe_load(handle)
    yml["PostProcess"]["character_dict"] = ["a", "b", "c"]
    with open(os.path.join(broken, "inference.yml"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(yml, handle)
    with pytest.raises(ConfigError, match="predicts 37 classes"):
        Recognizer(broken, cpu_threads=1, enable_mkldnn=False)(crops[0])


def test_bad_arguments(model_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match="inference.yml"):
        Recognizer(str(tmp_path))
    with pytest.raises(ValueError, match="batch_size"):
        Recognizer(model_dir, batch_size=0)
    with pytest.raises(ValueError, match="engine"):
        Recognizer(model_dir, engine="tensorrt")


def red_pixels(path):
    picture = np.asarray(Image.open(path).convert("RGB")).astype(int)
    return int(((picture[:, :, 0] > 150) & (picture[:, :, 1] < 60) & (picture[:, :, 2] < 60)).sum())


def test_predict_rec_cli_writes_results_and_marks_wrong_crops(model_dir, crops, tmp_path, capsys, log_records):
    main = load_tool("predict_rec").main
    folder = tmp_path / "crops"
    folder.mkdir()
    for i, crop in enumerate(crops[:3]):
        cv2.imwrite(str(folder / f"{i}.png"), crop)
    (folder / "broken.png").write_text("not an image")
    (tmp_path / "labels.txt").write_text("".join(f"crops/{i}.png\tnever\n" for i in range(3)), encoding="utf-8")
    args = [str(folder), "--model_dir", model_dir, "--labels", str(tmp_path / "labels.txt"),
            "--enable_mkldnn", "false", "--cpu_threads", "1"]
    assert main(args + ["--vis", str(tmp_path / "wrong.png"), "--save_res_path", str(tmp_path / "res.txt")]) == 0
    printed = [line.split("\t") for line in capsys.readouterr().out.splitlines() if "\t" in line]
    assert [os.path.basename(p) for p, _, _ in printed] == ["0.png", "1.png", "2.png"]
    assert (tmp_path / "res.txt").read_text(encoding="utf-8").count("\n") == 3
    assert any("skipped 1 of 4" in message for message in log_records)
    assert any("accuracy: 0/3" in message for message in log_records)
    assert red_pixels(tmp_path / "wrong.png") > 100

    # Labels equal to the predictions: nothing is marked wrong.
    (tmp_path / "labels.txt").write_text("".join(f"crops/{os.path.basename(p)}\t{text}\n" for p, text, _ in printed),
                                         encoding="utf-8")
    assert main(args + ["--vis", str(tmp_path / "right.png")]) == 0
    assert any("accuracy: 3/3" in message for message in log_records)
    assert red_pixels(tmp_path / "right.png") == 0


def test_predict_rec_cli_reports_bad_label_lines(model_dir, tmp_path, capsys):
    (tmp_path / "labels.txt").write_text("a.png\tok\nno-tab-here\n", encoding="utf-8")
    assert load_tool("predict_rec").main(["--model_dir", model_dir, "--labels", str(tmp_path / "labels.txt")]) == 1
    assert "labels.txt:2" in capsys.readouterr().err
