"""`inference.yml`: the model-directory description PaddleX 3.x (PaddleOCR 3.x) reads.

`InferenceConfig.from_training_config(config)` derives it from a training config: the PaddleX model
name (`Global.model_name`, default PP-OCRv4_mobile_rec), the colour order (`DecodeImage.img_mode`)
and `RecResizeImg.image_shape` [C, H, W] of the Eval (else Train) transforms, and the character
list. PaddleX decodes with `["blank"] + character_dict + [" "]`, so a trailing space class (from
`use_space_char`) is left out of `character_dict` and the appended space takes its index.
`.save(dir)` writes the file with only the ops PaddleX accepts; `.load(dir)` reads one back."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import List, Optional

import yaml

from ..character import DEFAULT_CHARACTERS, CharacterSet
from ..errors import ConfigError
from ..utils.logging import get_logger
from .preprocess import IMG_MODES

FILE_NAME = "inference.yml"
DEFAULT_MODEL_NAME = "PP-OCRv4_mobile_rec"
# PaddleX 3.x recognition names served by its CTC "paddle"/"onnxruntime" predictor with no
# name-specific behaviour (arabic_* names reorder text, PP-OCRv5/v6 names may route to other engines).
PADDLEX_MODEL_NAMES = (
    "PP-OCRv4_mobile_rec", "PP-OCRv4_server_rec", "PP-OCRv4_server_rec_doc", "en_PP-OCRv4_mobile_rec",
    "PP-OCRv3_mobile_rec", "en_PP-OCRv3_mobile_rec", "latin_PP-OCRv3_mobile_rec",
)


def _find_op(transforms: list, name: str) -> Optional[dict]:
    for op in transforms or []:
        if isinstance(op, dict) and name in op:
            return op[name] or {}
    return None


def _image_shape(value, where: str) -> List[int]:
    if (not isinstance(value, (list, tuple)) or len(value) != 3
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)):
        raise ConfigError(f"{where}: expected [C, H, W] positive integers, got {value!r}")
    if value[0] != 3:
        raise ConfigError(f"{where}: PaddleX feeds 3-channel images; C must be 3, got {value[0]}")
    return list(value)


@dataclass
class InferenceConfig:
    """What an exported recognizer needs besides its weights."""

    model_name: str
    img_mode: str
    image_shape: List[int]
    character_dict: List[str]

    @property
    def characters(self) -> List[str]:
        """Class list as PaddleX decodes it: blank, the dictionary, then a space."""
        return ["blank"] + self.character_dict + [" "]

    @classmethod
    def from_training_config(cls, config: dict) -> "InferenceConfig":
        global_config = config.get("Global") or {}
        model_name = global_config.get("model_name") or global_config.get("pdx_model_name") or DEFAULT_MODEL_NAME
        if model_name not in PADDLEX_MODEL_NAMES:
            raise ConfigError(f"Global.model_name: '{model_name}' is not a PaddleX recognition model name "
                              f"that loads this model; use one of {', '.join(PADDLEX_MODEL_NAMES)}")
        split = "Eval" if config.get("Eval") else "Train"
        transforms = ((config.get(split) or {}).get("dataset") or {}).get("transforms")
        where = f"{split}.dataset.transforms"
        resize = _find_op(transforms, "RecResizeImg")
        if resize is None or "image_shape" not in resize:
            raise ConfigError(f"{where}: no RecResizeImg with image_shape; export needs the training height")
        image_shape = _image_shape(resize["image_shape"], f"{where}.RecResizeImg.image_shape")
        decode = _find_op(transforms, "DecodeImage") or {}
        img_mode = decode.get("img_mode", "RGB")  # DecodeImage's default, as in PaddleOCR
        if img_mode not in IMG_MODES:
            raise ConfigError(f"{where}.DecodeImage.img_mode: PaddleX reads {' or '.join(IMG_MODES)} "
                              f"colour images, got {img_mode!r}")
        if decode.get("channel_first"):
            raise ConfigError(f"{where}.DecodeImage.channel_first: must be false for export")
        return cls(model_name, img_mode, image_shape, paddlex_dictionary(CharacterSet.from_config(global_config)))

    def to_dict(self) -> dict:
        return {
            "Global": {"model_name": self.model_name},
            "PreProcess": {"transform_ops": [
                {"DecodeImage": {"channel_first": False, "img_mode": self.img_mode}},
                {"RecResizeImg": {"image_shape": list(self.image_shape)}},
                {"KeepKeys": {"keep_keys": ["image"]}},
            ]},
            "PostProcess": {"name": "CTCLabelDecode", "character_dict": list(self.character_dict)},
        }

    def save(self, model_dir: str) -> str:
        path = os.path.join(model_dir, FILE_NAME)
        with open(path, "w", encoding="utf-8") as handle:
            yaml.safe_dump(self.to_dict(), handle, default_flow_style=False, allow_unicode=True, sort_keys=False)
        return path

    @classmethod
    def load(cls, model_dir: str) -> "InferenceConfig":
        """Read `model_dir/inference.yml`; ops other than DecodeImage/RecResizeImg are ignored."""
        path = os.path.join(model_dir, FILE_NAME)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path}: not found; is {model_dir} an exported model directory?")
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
        try:
            transforms = data["PreProcess"]["transform_ops"]
        except (KeyError, TypeError):
            raise ConfigError(f"{path}: PreProcess.transform_ops: missing") from None
        resize = _find_op(transforms, "RecResizeImg")
        if resize is None:
            raise ConfigError(f"{path}: PreProcess.transform_ops: no RecResizeImg")
        image_shape = _image_shape(resize.get("image_shape"), f"{path}: RecResizeImg.image_shape")
        img_mode = (_find_op(transforms, "DecodeImage") or {}).get("img_mode", "RGB")
        if img_mode not in IMG_MODES:
            raise ConfigError(f"{path}: DecodeImage.img_mode: expected BGR or RGB, got {img_mode!r}")
        post = data.get("PostProcess") or {}
        if post.get("name") != "CTCLabelDecode":
            raise ConfigError(f"{path}: PostProcess.name: expected CTCLabelDecode, got {post.get('name')!r}")
        character_dict = post.get("character_dict")
        if character_dict is None:
            # PaddleX's fallback; a model trained on another dictionary would decode wrongly.
            get_logger().warning(f"{path}: PostProcess.character_dict missing; decoding with 0-9a-z")
            character_dict = list(DEFAULT_CHARACTERS)
        model_name = (data.get("Global") or {}).get("model_name") or DEFAULT_MODEL_NAME
        return cls(model_name, img_mode, image_shape, [str(c) for c in character_dict])


def paddlex_dictionary(charset: CharacterSet) -> List[str]:
    """`character_dict` for inference.yml: PaddleX's `["blank"] + it + [" "]` starts with `charset`."""
    characters = charset.characters[1:]
    return characters[:-1] if characters and characters[-1] == " " else characters
