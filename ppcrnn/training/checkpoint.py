"""Checkpoints in PaddleOCR's layout: `<prefix>.pdparams` (model state_dict), `<prefix>.pdopt`
(optimizer state, LR schedule included) and `<prefix>.states` (pickle protocol 2 with PaddleOCR's
`best_model_dict`, `epoch`, `global_step`, plus ours: `characters`, `rng`, `lr_scheduler`,
`data_order`, `param_names`, `digests`).

Saving is crash-safe: the three files are first written completely under staging names (each
through `atomic_save`), then renamed over the old ones with `.states` last; `.states` records a
digest of the other two, so a crash between the renames is detected at load instead of resuming
from mismatched files. A crash before the renames leaves the previous checkpoint untouched."""
from __future__ import annotations

import hashlib
import os
import pickle
import random
import uuid
from typing import Dict, Optional

import numpy as np
import paddle

from ..errors import CheckpointError
from ..weights import atomic_save, load_checkpoint_weights

STAGED = ".staged"
STATE_FILES = (".pdopt", ".pdparams")


def capture_rng() -> dict:
    """The state of every random generator training uses (Python, NumPy, Paddle)."""
    return {"python": random.getstate(), "numpy": np.random.get_state(), "paddle": paddle.get_rng_state()}


def restore_rng(state: dict, logger) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    try:
        paddle.set_rng_state(state["paddle"])
    except (ValueError, RuntimeError, TypeError) as exc:  # e.g. saved on GPU, resumed on CPU
        logger.warning(f"could not restore Paddle's random state ({exc}); continuing without it")


def param_names(model: paddle.nn.Layer) -> Dict[str, str]:
    """Structured name -> Paddle's generated parameter name (which keys the optimizer state)."""
    return {key: param.name for key, param in model.named_parameters()}


def _digest(path: str) -> str:
    hasher = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


def _write_pickle(obj, path: str) -> None:
    """Pickle protocol 2 (PaddleOCR's `.states`) through a temp file and `os.replace`."""
    temp_path = f"{path}.{uuid.uuid4().hex}.tmp"
    try:
        with open(temp_path, "wb") as handle:
            pickle.dump(obj, handle, protocol=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_path, path)
    finally:
        if os.path.exists(temp_path):
            os.remove(temp_path)


def save_checkpoint(prefix: str, model: paddle.nn.Layer, optimizer: paddle.optimizer.Optimizer,
                    states: dict) -> None:
    """Write `<prefix>.pdparams/.pdopt/.states`; `states` gets `param_names` and `digests` added."""
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    staged = {suffix: prefix + suffix + STAGED for suffix in (*STATE_FILES, ".states")}
    try:
        atomic_save(optimizer.state_dict(), staged[".pdopt"])
        atomic_save(model.state_dict(), staged[".pdparams"])
        states = dict(states, param_names=param_names(model),
                      digests={suffix: _digest(staged[suffix]) for suffix in STATE_FILES})
        _write_pickle(states, staged[".states"])
    except BaseException:
        for path in staged.values():
            if os.path.exists(path):
                os.remove(path)
        raise
    for suffix in (*STATE_FILES, ".states"):
        os.replace(staged[suffix], prefix + suffix)


def save_best_model(save_model_dir: str, model: paddle.nn.Layer,
                    optimizer: paddle.optimizer.Optimizer) -> None:
    """PaddleOCR's extra copy of the best weights: `best_model/model.pdparams` and `.pdopt`."""
    atomic_save(model.state_dict(), os.path.join(save_model_dir, "best_model", "model.pdparams"))
    atomic_save(optimizer.state_dict(), os.path.join(save_model_dir, "best_model", "model.pdopt"))


def read_states(prefix: str) -> dict:
    """The `.states` dict of a checkpoint ({} for a weights-only prefix)."""
    path = prefix + ".states"
    if not os.path.isfile(path):
        return {}
    try:
        with open(path, "rb") as handle:
            states = pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError) as exc:
        raise CheckpointError(f"{path}: unreadable ({exc})") from None
    if not isinstance(states, dict):
        raise CheckpointError(f"{path}: expected a dict, got {type(states).__name__}")
    return states


def _check_digests(prefix: str, states: dict) -> None:
    for suffix, expected in (states.get("digests") or {}).items():
        path = prefix + suffix
        if os.path.isfile(path) and _digest(path) != expected:
            raise CheckpointError(
                f"{path} does not belong to {prefix}.states (a save was interrupted between its file "
                f"renames); resume from another checkpoint, e.g. an iter_epoch_N one")


def rename_optimizer_state(optimizer_state: dict, old_names: Dict[str, str],
                           new_names: Dict[str, str]) -> dict:
    """Re-key optimizer state saved under other generated parameter names (another process, or
    another model built earlier in this one) by matching the structured names."""
    mapping = {old_names[k]: new_names[k] for k in old_names.keys() & new_names.keys()
               if old_names[k] != new_names[k]}
    if not mapping:
        return optimizer_state
    by_length = sorted(mapping, key=len, reverse=True)

    def renamed(key: str) -> str:
        for old in by_length:
            if key == old or key.startswith(old + "_"):
                return mapping[old] + key[len(old):]
        return key

    result = {}
    for key, value in optimizer_state.items():
        if key == "master_weights" and isinstance(value, dict):
            value = {renamed(k): v for k, v in value.items()}
        result[key if key == "LR_Scheduler" else renamed(key)] = value
    return result


def checkpoint_prefix(path: str) -> str:
    """`prefix` or `prefix.pdparams` -> `prefix`."""
    return path[:-len(".pdparams")] if path.endswith(".pdparams") else path


def load_checkpoint(prefix: str, model: paddle.nn.Layer, optimizer: Optional[paddle.optimizer.Optimizer],
                    logger) -> dict:
    """Resume from `Global.checkpoints`: weights, optimizer (+ LR schedule) when `optimizer` is
    given, and return the `.states` dict (PaddleOCR checkpoints lack our extra keys)."""
    prefix = checkpoint_prefix(prefix)
    if not os.path.isfile(prefix + ".pdparams"):
        raise CheckpointError(f"Global.checkpoints: {prefix}.pdparams not found")
    states = read_states(prefix)
    _check_digests(prefix, states)
    load_checkpoint_weights(model, prefix, logger)
    if optimizer is not None:
        if os.path.isfile(prefix + ".pdopt"):
            optimizer_state = paddle.load(prefix + ".pdopt")
            if states.get("param_names"):
                optimizer_state = rename_optimizer_state(optimizer_state, states["param_names"],
                                                         param_names(model))
            optimizer.set_state_dict(optimizer_state)
        else:
            logger.warning(f"{prefix}.pdopt not found: the optimizer starts fresh")
    logger.info(f"loaded checkpoint {prefix} (epoch {states.get('epoch', '?')}, "
                f"global step {states.get('global_step', '?')})")
    return states
