"""Models for the export / deployment tests.

`tiny_config` + `random_weights`: a small random-weight CRNN (MobileNetV3 small x0.35) with a
training config, exported in about a second, for tests of the export and predictor mechanics.

`train_reader`: a CRNN trained here from scratch to read a fixed vocabulary (`WORDS`) rendered in
Pillow's built-in font at the size of `render_page`, stopping as soon as it reads fresh renders of
every word and detector-like crops of the page (about 1000 Adam steps of 16 crops with ppcrnn's
fast CPU training step: some 2 minutes). Its inputs are preprocessed exactly as at inference
(`resize_norm`), so the exported model reads the crops a text detector finds on `render_page`."""
from __future__ import annotations

import copy
import importlib.util
import os
from typing import List, Sequence

import cv2
import numpy as np
import paddle
import yaml
from PIL import Image, ImageDraw, ImageFont

import ppcrnn
from ppcrnn.character import CharacterSet
from ppcrnn.inference import InferenceConfig
from ppcrnn.inference.preprocess import resize_norm, stack_batch
from ppcrnn.losses import CTCLoss
from ppcrnn.training.fast_step import build_train_step, restore_model
from ppcrnn.postprocess import CTCLabelDecode
from ppcrnn.utils.logging import get_logger
from ppcrnn.weights import save_weights

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE_LINES = [["paddle", "crnn", "export"], ["model", "reads", "page"], ["onnx", "2024", "text"]]
WORDS = [word for line in PAGE_LINES for word in line]
PAGE_FONT_SIZE = 32
LINE_HEIGHT = 70  # pixels between the tops of two lines of render_page


def tiny_config(data_dir: str, image_shape: Sequence[int] = (3, 32, 100), hidden_size: int = 16,
                scale: float = 0.35, img_mode: str = "BGR", **global_options) -> dict:
    """A complete, valid training config (PaddleOCR schema) for a small CRNN; its label file
    `data_dir/labels.txt` is named but never read by the export tests."""
    transforms = [{"DecodeImage": {"img_mode": img_mode, "channel_first": False}}, {"CTCLabelEncode": None},
                  {"RecResizeImg": {"image_shape": list(image_shape)}},
                  {"KeepKeys": {"keep_keys": ["image", "label", "length"]}}]
    dataset = {"name": "SimpleDataSet", "data_dir": data_dir,
               "label_file_list": [os.path.join(data_dir, "labels.txt")], "transforms": transforms}
    loader = {"shuffle": False, "batch_size_per_card": 16, "drop_last": False, "num_workers": 0}
    return {
        "Global": {"use_gpu": False, "epoch_num": 1, "save_model_dir": os.path.join(data_dir, "out"),
                   "character_dict_path": None, "use_space_char": False, "max_text_length": 25,
                   **global_options},
        "Optimizer": {"name": "Adam", "lr": {"learning_rate": 0.005}},
        "Architecture": {"model_type": "rec", "algorithm": "CRNN", "Transform": None,
                         "Backbone": {"name": "MobileNetV3", "model_name": "small", "scale": scale,
                                      "small_stride": [1, 2, 2, 2]},
                         "Neck": {"name": "SequenceEncoder", "encoder_type": "rnn", "hidden_size": hidden_size},
                         "Head": {"name": "CTCHead", "fc_decay": 0.0}},
        "Loss": {"name": "CTCLoss"},
        "PostProcess": {"name": "CTCLabelDecode"},
        "Metric": {"name": "RecMetric", "main_indicator": "acc"},
        "Train": {"dataset": copy.deepcopy(dataset), "loader": dict(loader, shuffle=True)},
        "Eval": {"dataset": dataset, "loader": loader},
    }


def load_tool(name: str):
    """The module of `tools/<name>.py` (tools/ is scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"tool_{name}", os.path.join(REPO, "tools", name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(config: dict, seed: int = 0) -> paddle.nn.Layer:
    paddle.seed(seed)
    architecture = copy.deepcopy(config["Architecture"])
    architecture["Head"]["out_channels"] = CharacterSet.from_config(config["Global"]).num_classes
    return ppcrnn.build_model(architecture)


def random_weights(config: dict, prefix: str, seed: int = 0) -> str:
    """Save a freshly initialised model for `config` as `prefix.pdparams`; returns the path."""
    return save_weights(build(config, seed), prefix)


def write_config(config: dict, path: str) -> str:
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(config, handle, sort_keys=False)
    return path


def render_word(word: str, rng: np.random.Generator, size: int = PAGE_FONT_SIZE) -> np.ndarray:
    """BGR crop of `word` in Pillow's built-in font, dark on light, small random margins (like
    the boxes a detector draws around the words of `render_page`)."""
    font = ImageFont.load_default(size=size)
    left, top, right, bottom = font.getbbox(word)
    pad_left, pad_right, pad_top, pad_bottom = (int(v) for v in rng.integers(0, 9, size=4))
    background, ink = int(rng.integers(225, 256)), int(rng.integers(0, 40))
    image = Image.new("L", (right - left + pad_left + pad_right, bottom - top + pad_top + pad_bottom), background)
    ImageDraw.Draw(image).text((pad_left - left, pad_top - top), word, fill=ink, font=font)
    noisy = np.asarray(image, dtype=np.float32) + rng.normal(0, 3, (image.height, image.width))
    return cv2.cvtColor(np.clip(noisy, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def _page_layout(lines: List[List[str]], gap: int):
    """(word, text origin, ink box) of every word of `render_page`."""
    font = ImageFont.load_default(size=PAGE_FONT_SIZE)
    for row, words in enumerate(lines):
        x, y = 40, 40 + LINE_HEIGHT * row
        for word in words:
            left, top, right, bottom = font.getbbox(word)
            yield word, (x, y), (x + left, y + top, x + right, y + bottom)
            x += right + gap


def render_page(lines: List[List[str]] = PAGE_LINES, gap: int = 110) -> np.ndarray:
    """BGR page with `lines` of words far enough apart for a detector to box each word."""
    font = ImageFont.load_default(size=PAGE_FONT_SIZE)
    page = Image.new("L", (800, 80 + LINE_HEIGHT * len(lines)), 255)
    draw = ImageDraw.Draw(page)
    for word, origin, _ in _page_layout(lines, gap):
        draw.text(origin, word, fill=0, font=font)
    return cv2.cvtColor(np.asarray(page), cv2.COLOR_GRAY2BGR)


def page_word_crops(rng: np.random.Generator, lines: List[List[str]] = PAGE_LINES, gap: int = 110) -> list:
    """(word, crop) for every word of `render_page`, cut with margins like PP-OCRv4 det's boxes
    (measured: 1-4 px left and right, 4-8 above the ink, 3-7 below)."""
    page = render_page(lines, gap)
    crops = []
    for word, _, (left, top, right, bottom) in _page_layout(lines, gap):
        pad_left, pad_top, pad_right, pad_bottom = (int(v) for v in rng.integers([1, 4, 1, 3], [5, 9, 5, 8]))
        crops.append((word, page[top - pad_top:bottom + pad_bottom, left - pad_left:right + pad_right]))
    return crops


def _batch(words: List[str], rng, charset: CharacterSet, image_shape):
    images = stack_batch([resize_norm(render_word(w, rng), image_shape) for w in words])
    encoded = [charset.encode(w)[0] for w in words]
    labels = np.zeros((len(words), max(map(len, encoded))), dtype=np.int32)
    for i, indices in enumerate(encoded):
        labels[i, :len(indices)] = indices
    return paddle.to_tensor(images), paddle.to_tensor(labels), paddle.to_tensor([len(e) for e in encoded])


def reads_all_words(model, rng, decoder, image_shape, repeats: int = 5) -> bool:
    """Whether `model` reads fresh renders of every word and word crops of the page."""
    samples = [(word, render_word(word, rng)) for word in WORDS * repeats]
    samples += [sample for _ in range(repeats) for sample in page_word_crops(rng)]
    model.eval()
    with paddle.no_grad():
        texts = [decoder(model(paddle.to_tensor(resize_norm(crop, image_shape)[None])))[0][0] for _, crop in samples]
    model.train()
    return texts == [word for word, _ in samples]


def train_reader(config: dict, prefix: str, max_steps: int = 3000, batch_size: int = 16,
                 learning_rate: float = 0.005, seed: int = 0) -> str:
    """Train `config`'s model on renders of WORDS until it reads them; save `prefix.pdparams`."""
    # The integration tests' reader stops after 1249 steps on a 2-core AMD EPYC (AVX2) and after 1031
    # on a 2-core Intel Xeon (AVX-512): the kernels round differently. The cap only bounds a failing run.
    charset = CharacterSet.from_config(config["Global"])
    image_shape = InferenceConfig.from_training_config(config).image_shape
    model = build(config, seed)
    optimizer = paddle.optimizer.Adam(learning_rate=learning_rate, parameters=model.parameters())
    # The project's fast CPU step (C++ depthwise convolutions) when it can be built; same numbers.
    train_step, decoder = build_train_step(model, CTCLoss(), optimizer), CTCLabelDecode()
    rng = np.random.default_rng(seed)
    perfect_batches = 0
    for step in range(max_steps):
        words = [WORDS[i] for i in rng.integers(0, len(WORDS), batch_size)]
        result = train_step(*_batch(words, rng, charset, image_shape))
        perfect = [text for text, _ in decoder(result.logits)] == words
        perfect_batches = perfect_batches + 1 if perfect else 0
        if perfect_batches >= 3 and reads_all_words(model, rng, decoder, image_shape):
            break
    else:
        raise AssertionError(f"the fixture model did not learn to read {WORDS} in {max_steps} steps")
    restore_model(model)
    get_logger().info(f"fixture model reads its {len(WORDS)} words after {step + 1} steps")
    return save_weights(model, prefix)
