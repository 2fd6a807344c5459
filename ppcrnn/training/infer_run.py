"""The inference program behind `tools/infer_rec.py`, as PaddleOCR's: Eval transforms without the
label ops, `RecResizeImg` in infer mode, one image at a time, `path\\ttext\\tscore` lines."""
from __future__ import annotations

import copy
import os
from typing import List, Tuple

import numpy as np
import paddle

from ..data.transforms import create_operators, transform
from ..errors import ConfigError
from ..utils.logging import get_logger
from .components import build_post_process, build_recognizer, load_weights
from .environment import setup_environment

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".gif", ".rgb", ".webp"}


def image_files(path: str) -> List[str]:
    """`path` itself, or the images directly inside the folder `path`, sorted."""
    if os.path.isfile(path):
        return [path]
    if os.path.isdir(path):
        found = sorted(os.path.join(path, name) for name in os.listdir(path)
                       if os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS)
        if found:
            return found
        raise ConfigError(f"Global.infer_img: no image ({', '.join(sorted(IMAGE_EXTENSIONS))}) in {path}")
    raise ConfigError(f"Global.infer_img: not found: {path}")


def inference_ops(config: dict) -> list:
    """Eval transforms with label ops dropped, infer-mode resize and KeepKeys=['image']."""
    transforms = []
    for op in copy.deepcopy(config["Eval"]["dataset"]["transforms"]):
        name = next(iter(op))
        if "Label" in name:
            continue
        if name == "RecResizeImg":
            op[name] = {**(op[name] or {}), "infer_mode": True}
        elif name == "KeepKeys":
            op[name] = {"keep_keys": ["image"]}
        transforms.append(op)
    global_config = dict(config["Global"], infer_mode=True)
    return create_operators(transforms, global_config, "Eval.dataset.transforms")


def infer_images(config: dict) -> List[Tuple[str, str, float]]:
    """Recognise `Global.infer_img` (file or folder) and write `save_res_path`; returns the rows."""
    logger = get_logger()
    g = config["Global"]
    if not g.get("infer_img"):
        raise ConfigError("Global.infer_img: set it to an image file or a folder of images")
    if not config.get("Eval"):
        raise ConfigError("Eval: missing; inference uses Eval.dataset.transforms")
    setup_environment(g, logger, for_training=False)
    post_process = build_post_process(config)
    model = build_recognizer(config, len(post_process.character))
    load_weights(config, model, post_process.character, logger)
    model.eval()
    ops = inference_ops(config)
    rows, failed = [], []
    for path in image_files(g["infer_img"]):
        with open(path, "rb") as handle:
            batch = transform({"image": handle.read()}, ops)
        if batch is None:
            failed.append(path)
            logger.warning(f"{path}: cannot be decoded; skipped")
            continue
        with paddle.no_grad():
            preds = model(paddle.to_tensor(np.expand_dims(batch[0], axis=0)))
        text, score = post_process(preds)[0]
        rows.append((path, text, float(score)))
        logger.info(f"{path}: {text!r} ({score:.4f})")
    save_path = g.get("save_res_path") or "./output/rec/predicts_rec.txt"
    os.makedirs(os.path.dirname(os.path.abspath(save_path)), exist_ok=True)
    with open(save_path, "w", encoding="utf-8") as handle:
        handle.writelines(f"{path}\t{text}\t{score}\n" for path, text, score in rows)
    logger.info(f"{len(rows)} result(s) written to {save_path}"
                + (f"; {len(failed)} unreadable image(s) skipped" if failed else ""))
    return rows
