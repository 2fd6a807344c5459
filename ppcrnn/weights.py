"""Weight files in PaddleOCR's format: shape-filtered loading with a report, head growth for
fine-tuning with appended characters, and atomic saving.

A `.pdparams` file is `paddle.save(model.state_dict())`. Loading copies every tensor whose key and
shape match the model (cast to the model's dtype, so fp16 files load) and keeps the model's fresh
initialisation for the rest, as PaddleOCR's `load_pretrained_params` does. One exception: when only
the head's class dimension grew and the new character list starts with the old one, the old
columns of the head are kept and only the appended classes start from their fresh init."""
from __future__ import annotations

import os
import pickle
import uuid
from dataclasses import dataclass, field
from typing import Iterator, List, Optional, Sequence, Tuple

import paddle
import yaml

from .character import DEFAULT_CHARACTERS, CharacterSet
from .errors import ConfigError
from .model_zoo import SHIPPED, pretrained_weights
from .utils.logging import get_logger

SUFFIX = ".pdparams"
HEAD_LAYERS = ("head.fc", "head.fc2")  # the layer whose output is the class dimension
SHOWN = 5  # names listed per category in the log summary


@dataclass
class LoadReport:
    """What happened to each key when a weight file was loaded into a model."""

    path: str
    matched: List[str] = field(default_factory=list)
    shape_mismatched: List[Tuple[str, List[int], List[int]]] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    grown: List[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{len(self.matched)} matched, {len(self.shape_mismatched)} shape-mismatched, "
                f"{len(self.missing)} missing, {len(self.unexpected)} unexpected, "
                f"{len(self.grown)} grown")


def weights_file(path: str) -> str:
    """`prefix` or `prefix.pdparams` -> the existing `.pdparams` file (FileNotFoundError if absent);
    the name of a shipped model (`en_mv3_crnn`) -> its weights inside the package."""
    if path in SHIPPED and not os.path.exists(path):
        return pretrained_weights(path)
    file_path = path if path.endswith(SUFFIX) else path + SUFFIX
    if not os.path.isfile(file_path):
        raise FileNotFoundError(f"weights file not found: {file_path} (from {path!r})")
    return file_path


def atomic_save(obj, path: str) -> None:
    """`paddle.save(obj, path)` through a temporary file in the same folder and `os.replace`, so a
    crash never leaves a truncated file under `path`. Plain dicts come out as ordinary pickles."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    temp_path = os.path.join(directory, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    try:
        paddle.save(obj, temp_path)
        with open(temp_path, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp_path, path)
    finally:
        if os.path.exists(temp_path):
            os.remove(temp_path)


def save_weights(model: paddle.nn.Layer, prefix: str) -> str:
    """Write `prefix.pdparams` (PaddleOCR's format) atomically; returns the file path."""
    path = prefix + SUFFIX
    atomic_save(model.state_dict(), path)
    return path


def load_pretrained(model: paddle.nn.Layer, path: str, characters: Optional[Sequence[str]] = None,
                    logger=None) -> LoadReport:
    """Load `Global.pretrained_model` weights, shape-filtered; see the module docstring.

    `characters` is the model's full class list with "blank" first (or a CharacterSet); it enables
    head growth. Returns the LoadReport (also logged)."""
    return _load(model, weights_file(path), characters, logger or get_logger(), "pretrained")


def load_checkpoint_weights(model: paddle.nn.Layer, prefix: str, logger=None) -> LoadReport:
    """Load the weights of a `Global.checkpoints` resume; every missing or mismatched key is logged."""
    return _load(model, weights_file(prefix), None, logger or get_logger(), "checkpoint")


def _shape(value) -> List[int]:
    return [int(d) for d in value.shape]


def _as_tensor(value, like: paddle.Tensor) -> paddle.Tensor:
    tensor = value if isinstance(value, paddle.Tensor) else paddle.to_tensor(value)
    return tensor.astype(like.dtype) if tensor.dtype != like.dtype else tensor


def load_state(model: paddle.nn.Layer, state: dict, source: str, purpose: str, logger=None) -> LoadReport:
    """Load an in-memory state dict (e.g. averaged weights) as a `.pdparams` file loads: matching
    keys and shapes, nn.LSTM's two names for one tensor; `source` names it in the report."""
    return _apply(model, state, source, None, logger or get_logger(), purpose)


def _load(model, file_path: str, characters, logger, purpose: str) -> LoadReport:
    state = paddle.load(file_path)
    if not isinstance(state, dict):
        raise ValueError(f"{file_path}: expected a state dict, got {type(state).__name__}")
    return _apply(model, state, file_path, characters, logger, purpose)


def _apply(model, state: dict, file_path: str, characters, logger, purpose: str) -> LoadReport:
    model_state = model.state_dict()
    report = LoadReport(file_path)
    growth = _plan_growth(model_state, state, file_path, characters, logger)
    loaded_tensors = set()
    for key, target in model_state.items():
        if key not in state:
            report.missing.append(key)
            continue
        value = _as_tensor(state[key], target)
        if _shape(value) == _shape(target):
            target.set_value(value)
            report.matched.append(key)
            loaded_tensors.add(id(target))
        elif growth is not None and key.rsplit(".", 1)[0] == growth:
            fresh = target.numpy()
            fresh[..., :value.shape[-1]] = value.numpy()  # classes are the last axis of weight and bias
            target.set_value(fresh)
            report.grown.append(key)
            loaded_tensors.add(id(target))
        else:
            report.shape_mismatched.append((key, _shape(target), _shape(value)))
    # nn.LSTM exposes each tensor under two names; a file holding only one of them loads it fully.
    report.missing = [k for k in report.missing if id(model_state[k]) not in loaded_tensors]
    report.unexpected = [k for k in state if k not in model_state]
    _log_report(report, purpose, logger)
    return report


def _log_report(report: LoadReport, purpose: str, logger) -> None:
    logger.info(f"loaded {purpose} weights from {report.path}: {report.summary()}")
    # The head is what a new dictionary changes (PaddleOCR#4357): always show it.
    mismatched = report.shape_mismatched
    shown = mismatched[:SHOWN] + [m for m in mismatched[SHOWN:] if m[0].startswith("head.")]
    for key, model_shape, file_shape in shown:
        logger.warning(f"The shape of model params {key} {model_shape} not matched with loaded "
                       f"params {key} {file_shape}: kept the model's fresh initialisation")
    if len(mismatched) > len(shown):
        logger.warning(f"... and {len(mismatched) - len(shown)} more shape-mismatched keys")
    for label, keys in (("missing from the file (fresh init kept)", report.missing),
                        ("in the file but not in the model (ignored)", report.unexpected)):
        if keys:
            more = f" ... and {len(keys) - SHOWN} more" if len(keys) > SHOWN else ""
            logger.warning(f"{len(keys)} keys {label}: {', '.join(keys[:SHOWN])}{more}")
    if report.grown:
        logger.info(f"grew the head ({', '.join(report.grown)}): old classes kept, new ones freshly initialised")


def _head_class_growth(model_state, state) -> Optional[Tuple[str, int, int]]:
    """(layer, old classes, new classes) when the head differs from the file only by having more
    classes; None otherwise."""
    for layer in HEAD_LAYERS:
        keys = (layer + ".weight", layer + ".bias")
        if not all(k in model_state and k in state for k in keys):
            continue
        (model_w, file_w), (model_b, file_b) = [(_shape(model_state[k]), _shape(state[k])) for k in keys]
        if model_w == file_w and model_b == file_b:
            return None
        old, new = file_b[-1] if file_b else 0, model_b[-1] if model_b else 0
        if (len(model_w) == 2 and model_w[0] == file_w[0] and file_w[1] == old == file_b[0]
                and model_w[1] == new == model_b[0] and 0 < old < new):
            return layer, old, new
        return None
    return None


def _plan_growth(model_state, state, file_path: str, characters, logger) -> Optional[str]:
    """The head layer to grow, or None (after a warning saying why the head is re-initialised)."""
    found = _head_class_growth(model_state, state)
    if found is None:
        return None
    layer, old_classes, new_classes = found
    why = _growth_refusal(file_path, characters, old_classes, new_classes, logger)
    if why is None:
        return layer
    logger.warning(f"{layer}: the file has {old_classes} classes, the model {new_classes}; the head is "
                   f"re-initialised because {why}")
    return None


def _growth_refusal(file_path: str, characters, old_classes: int, new_classes: int,
                    logger) -> Optional[str]:
    if characters is None:
        return "no character list was given to check that the new dictionary extends the old one"
    characters = list(getattr(characters, "characters", characters))  # a CharacterSet or a list
    if len(characters) != new_classes:
        return f"the given character list has {len(characters)} entries, not {new_classes}"
    for old_characters, source in _old_character_sources(file_path, old_classes, logger):
        if len(old_characters) != old_classes:
            logger.warning(f"{source}: lists {len(old_characters)} classes but the weights have "
                           f"{old_classes}; ignored")
            continue
        for index, (old, new) in enumerate(zip(old_characters, characters)):
            if old != new:
                return (f"the new dictionary does not start with the old one ({source}): class "
                        f"{index} was {old!r}, is now {new!r}")
        return None
    return (f"the old character list is unknown (no 'characters' in the .states file, no usable "
            f"config.yml beside the weights, and {old_classes} classes is not the default "
            f"{len(DEFAULT_CHARACTERS) + 1})")


def _old_character_sources(file_path: str, old_classes: int, logger) -> Iterator[Tuple[List[str], str]]:
    """Candidate old class lists (blank first), most trustworthy first."""
    prefix = file_path[:-len(SUFFIX)]
    states_path = prefix + ".states"
    if os.path.isfile(states_path):
        try:
            with open(states_path, "rb") as handle:
                states = pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError) as exc:
            logger.warning(f"{states_path}: unreadable ({exc}); looking elsewhere for the old characters")
        else:
            if isinstance(states, dict) and states.get("characters"):
                yield list(states["characters"]), states_path
    config_path = os.path.join(os.path.dirname(prefix), "config.yml")
    if os.path.isfile(config_path):
        try:
            with open(config_path, encoding="utf-8") as handle:
                global_config = (yaml.safe_load(handle) or {}).get("Global") or {}
            old_set = CharacterSet.from_config(global_config)
        except (OSError, yaml.YAMLError, ConfigError, AttributeError) as exc:
            logger.warning(f"{config_path}: cannot rebuild the old character set ({exc})")
        else:
            yield old_set.characters, f"{config_path} (Global.character_dict_path)"
    if old_classes == len(DEFAULT_CHARACTERS) + 1:
        yield CharacterSet().characters, "the default 0-9a-z set"
