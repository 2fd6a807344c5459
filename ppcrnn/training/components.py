"""Building what train, eval and infer share: the post-processor, the model sized from its
character list, and the weights named by `Global.checkpoints` / `Global.pretrained_model`."""
from __future__ import annotations

import copy

import paddle

from ..config import with_global
from ..errors import ConfigError
from ..modeling import build_model
from ..registry import POSTPROCESSES
from ..weights import load_pretrained
from .checkpoint import load_checkpoint


def build_post_process(config: dict):
    """`PostProcess` with Global merged in (PaddleOCR's rule); `.character` starts with blank."""
    section = config.get("PostProcess")
    if not section:
        raise ConfigError("PostProcess: missing (e.g. {name: CTCLabelDecode})")
    return POSTPROCESSES.build(with_global(section, config["Global"]), "PostProcess", passthrough=True)


def build_recognizer(config: dict, num_classes: int) -> paddle.nn.Layer:
    """The model with `Head.out_channels = num_classes` (len(characters) + blank)."""
    architecture = copy.deepcopy(config["Architecture"])
    architecture.setdefault("Head", {})["out_channels"] = num_classes
    return build_model(architecture)


def load_weights(config: dict, model: paddle.nn.Layer, characters, logger, required: bool = True) -> str:
    """Load `Global.checkpoints` (weights only) or else `Global.pretrained_model` (shape-filtered,
    with head growth); returns the path used, '' when neither is set and not `required`."""
    global_config = config["Global"]
    if global_config.get("checkpoints"):
        load_checkpoint(global_config["checkpoints"], model, None, logger)
        return global_config["checkpoints"]
    if global_config.get("pretrained_model"):
        load_pretrained(model, global_config["pretrained_model"], characters=characters, logger=logger)
        return global_config["pretrained_model"]
    if required:
        raise ConfigError("Global.checkpoints / Global.pretrained_model: set one to the weights to use, "
                          "e.g. -o Global.checkpoints=./output/rec/best_accuracy")
    return ""
