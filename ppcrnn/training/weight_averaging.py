"""Weight averaging (SWA-style): the mean of several checkpoints of one run, then fresh BatchNorm
statistics for the averaged weights.

Checkpoints taken along one training trajectory (e.g. every epoch at a constant learning rate)
sit around the same minimum; their mean usually generalises better than any one of them. The mean
of BatchNorm running statistics is not the statistics of the mean network, so they are measured
again by forward passes over training batches (`recalibrate_batch_norm`)."""
from __future__ import annotations

from typing import Dict, Iterable, List, Sequence

import numpy as np
import paddle

from ..errors import ConfigError
from ..weights import weights_file

# fluid-style nn.BatchNorm and the nn.BatchNorm1D/2D/3D family both keep `_momentum` and their
# running statistics in `_mean` / `_variance`
BATCH_NORMS = (paddle.nn.BatchNorm, paddle.nn.layer.norm._BatchNormBase)


def average_weight_files(paths: Sequence[str]) -> Dict[str, np.ndarray]:
    """The element-wise mean of the `.pdparams` files `paths` (prefixes or file paths, or a shipped
    model's name), as float32 arrays keyed like the files. Every file must hold the same keys with
    the same shapes; a ConfigError names the first file and key that differ."""
    if not paths:
        raise ConfigError("--weights: name at least one .pdparams file to average")
    files = [weights_file(path) for path in paths]
    total: Dict[str, np.ndarray] = {}
    for file_path in files:
        state = paddle.load(file_path)
        if not isinstance(state, dict):
            raise ConfigError(f"{file_path}: expected a state dict, got {type(state).__name__}")
        arrays = {key: np.asarray(value, dtype=np.float64) for key, value in state.items()}
        if not total:
            total = arrays
            continue
        _check_same_layout(files[0], _shapes_of(total), file_path, _shapes_of(arrays))
        for key, array in arrays.items():
            total[key] += array
    return {key: (value / len(files)).astype(np.float32) for key, value in total.items()}


def _shapes_of(state) -> Dict[str, tuple]:
    """{key: shape} of a state dict of arrays or tensors."""
    return {key: tuple(int(d) for d in value.shape) for key, value in state.items()}


def _check_same_layout(reference: str, reference_shapes: Dict[str, tuple], name: str,
                      shapes: Dict[str, tuple]) -> None:
    """ConfigError naming the first key that only one side has, or whose shapes differ."""
    for key in sorted(set(reference_shapes) ^ set(shapes)):
        holder = reference if key in reference_shapes else name
        raise ConfigError(f"{name}: key {key!r} is only in {holder}; averaged weights must come from "
                          f"one architecture")
    for key, shape in shapes.items():
        if shape != reference_shapes[key]:
            raise ConfigError(f"{name}: {key!r} has shape {list(shape)}, {reference} has "
                              f"{list(reference_shapes[key])}")


def batch_norm_layers(model: paddle.nn.Layer) -> List[paddle.nn.Layer]:
    return [layer for layer in model.sublayers() if isinstance(layer, BATCH_NORMS)]


def recalibrate_batch_norm(model: paddle.nn.Layer, batches: Iterable, num_batches: int) -> int:
    """Replace every BatchNorm's running mean/variance by the plain average of its batch statistics
    over the first `num_batches` of `batches` (lists whose first item is the image tensor), run in
    training mode without gradients. Returns the number of batches used; the model is left in eval
    mode with its layers' momentum as it was."""
    layers = batch_norm_layers(model)
    if not layers or num_batches < 1:
        return 0
    momentums = [layer._momentum for layer in layers]
    model.train()
    used = 0
    try:
        with paddle.no_grad():
            for batch in batches:
                if used == num_batches:
                    break
                # running = m * running + (1 - m) * batch; m = k / (k + 1) keeps the plain mean of
                # the k + 1 batches seen so far (m = 0 on the first batch drops the old statistics)
                for layer in layers:
                    layer._momentum = used / (used + 1)
                model(batch[0])
                used += 1
    finally:
        for layer, momentum in zip(layers, momentums):
            layer._momentum = momentum
        model.eval()
    return used
