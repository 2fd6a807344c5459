"""Export a trained recognizer to an inference directory PaddleX / PaddleOCR 3.x, Paddle Inference
and paddle2onnx load.

`export_model(config)` builds the model from a training config, loads `Global.pretrained_model`
(refusing weights that do not fit the config: dictionary size, hidden size, backbone), and writes
`inference.json` (PIR; or legacy `inference.pdmodel` with `Global.export_with_pir: False`) +
`inference.pdiparams` + `inference.yml` into `Global.save_inference_dir`. The program takes
`x` [N, 3, H, W] float32 (N and W dynamic, H from `RecResizeImg.image_shape`) and returns softmax
probabilities [N, W/4, num_classes]."""
from __future__ import annotations

import copy
import os
from typing import List, Optional

import paddle
from paddle.static import InputSpec

from ..character import CharacterSet
from ..errors import ConfigError
from ..modeling import build_model
from ..utils.logging import get_logger
from ..weights import LoadReport, load_pretrained
from .inference_config import InferenceConfig

PREFIX = "inference"
# Everything an earlier export may have left; PaddleX prefers .json over .pdmodel, so a stale file
# of the other format would silently shadow the new one.
EXPORT_FILES = (".json", ".pdmodel", ".pdiparams", ".pdiparams.info", ".onnx")
CLASS_WEIGHTS = ("head.fc.weight", "head.fc2.weight")  # [in, num_classes]


def _describe_dictionary(global_config: dict, charset: CharacterSet) -> str:
    source = global_config.get("character_dict_path") or "the built-in 0-9a-z set"
    space = " + space (use_space_char)" if charset.use_space_char else ""
    return f"{charset.num_classes} classes from {source}{space}"


def check_weights_fit(report: LoadReport, config: dict, charset: CharacterSet) -> None:
    """Raise ConfigError unless every model tensor was loaded from the file with its shape."""
    if not report.shape_mismatched and not report.missing:
        return
    problems = []
    for key, model_shape, file_shape in report.shape_mismatched:
        if key in CLASS_WEIGHTS and model_shape[-1] != file_shape[-1]:
            problems.append(f"{key} is {file_shape}: the weights predict {file_shape[-1]} classes but the "
                            f"config's dictionary gives {_describe_dictionary(config['Global'], charset)}; "
                            f"set Global.character_dict_path / use_space_char as in training")
        elif key.endswith("weight_hh_l0"):
            neck = config["Architecture"].get("Neck") or {}
            problems.append(f"{key} is {file_shape}: the weights have hidden_size {file_shape[-1]}, "
                            f"Architecture.Neck.hidden_size is {neck.get('hidden_size')}")
    shape_keys = [key for key, _, _ in report.shape_mismatched]
    if not problems and shape_keys:
        key, model_shape, file_shape = report.shape_mismatched[0]
        problems.append(f"{len(shape_keys)} tensors differ in shape, e.g. {key}: model {model_shape}, file "
                        f"{file_shape}; check Architecture.Backbone (model_name, scale) against training")
    if report.missing:
        problems.append(f"{len(report.missing)} model tensors are not in the file (e.g. "
                        f"{', '.join(report.missing[:3])}): the weights come from another architecture")
    raise ConfigError(f"{report.path} does not fit the config:\n  " + "\n  ".join(problems))


def _legacy_lstm_fix(model: paddle.nn.Layer) -> list:
    """Legacy export of nn.LSTM fails on its uninitialised dropout state (Paddle 3.3); an empty
    uint8 tensor exports with identical numbers. Returns (layer, original) pairs to restore."""
    patched = []
    for layer in model.sublayers():
        if isinstance(layer, paddle.nn.layer.rnn.RNNBase):
            patched.append((layer, layer._dropout_state))
            layer._dropout_state = paddle.zeros([0], "uint8")
    return patched


def save_inference_model(model: paddle.nn.Layer, save_dir: str, inference_config: InferenceConfig,
                         with_pir: bool = True, logger=None) -> List[str]:
    """Write the static program (traced in eval mode), its weights and inference.yml for `model`."""
    logger = logger or get_logger()
    os.makedirs(save_dir, exist_ok=True)
    for suffix in EXPORT_FILES:
        stale = os.path.join(save_dir, PREFIX + suffix)
        if os.path.exists(stale):
            os.remove(stale)
            logger.info(f"removed {stale} from an earlier export")
    was_training = model.training
    model.eval()
    channels, height, _ = inference_config.image_shape
    spec = [InputSpec([None, channels, height, None], "float32", "x")]
    prefix = os.path.join(save_dir, PREFIX)
    patched = [] if with_pir else _legacy_lstm_fix(model)
    try:
        with paddle.pir_utils.IrGuard() if with_pir else paddle.pir_utils.OldIrGuard():
            paddle.jit.save(paddle.jit.to_static(model, input_spec=spec, full_graph=True), prefix)
    finally:
        for layer, original in patched:
            layer._dropout_state = original
        if was_training:
            model.train()
    program_file = prefix + (".json" if with_pir else ".pdmodel")
    if not os.path.isfile(program_file):
        raise RuntimeError(f"paddle.jit.save did not write {program_file}")
    files = [program_file, prefix + ".pdiparams", inference_config.save(save_dir)]
    logger.info(f"exported the inference model to {save_dir}: {', '.join(os.path.basename(f) for f in files)}")
    return files


def export_model(config: dict, save_dir: Optional[str] = None, weights: Optional[str] = None,
                 logger=None) -> List[str]:
    """Export per a loaded training config; `save_dir`/`weights` override the Global keys."""
    logger = logger or get_logger()
    global_config = config.get("Global") or {}
    save_dir = save_dir or global_config.get("save_inference_dir")
    if not save_dir:
        raise ConfigError("Global.save_inference_dir: not set; where should the inference model go?")
    weights = weights or global_config.get("pretrained_model") or global_config.get("checkpoints")
    if not weights:
        raise ConfigError("Global.pretrained_model: not set; give the trained weights (.pdparams) to export")
    inference_config = InferenceConfig.from_training_config(config)
    charset = CharacterSet.from_config(global_config)
    architecture = copy.deepcopy(config["Architecture"])
    head = architecture.setdefault("Head", {})
    if head.get("out_channels") not in (None, charset.num_classes):
        raise ConfigError(f"Architecture.Head.out_channels: {head['out_channels']} but the dictionary "
                          f"gives {_describe_dictionary(global_config, charset)}")
    head["out_channels"] = charset.num_classes
    model = build_model(architecture)
    report = load_pretrained(model, weights, logger=logger)
    check_weights_fit(report, config, charset)
    return save_inference_model(model, save_dir, inference_config,
                                with_pir=bool(global_config.get("export_with_pir", True)), logger=logger)
