"""The float64 twin of a trained CRNN: the near-exact answer the float32 engines are measured against.

Paddle and ONNX Runtime both round in float32, each in its own order (summation order of the
convolutions and of the SE global averages), and a trained BiLSTM amplifies those differences.
Comparing each engine with the same weights evaluated in float64 says which engine is off and by
how much, which an engine-to-engine difference cannot."""
import numpy as np
import paddle

from fixtures_model import build


def float64_model(config: dict, weights: str) -> paddle.nn.Layer:
    """`config`'s model in float64 (every parameter and activation) with the float32 `weights`
    (a .pdparams path) loaded exactly, in eval mode."""
    paddle.set_default_dtype("float64")
    try:
        model = build(config)
    finally:
        paddle.set_default_dtype("float32")
    # fluid-style nn.BatchNorm creates its parameters in float32 whatever the default dtype.
    for layer in model.sublayers():
        if isinstance(layer, paddle.nn.BatchNorm):
            layer.to(dtype="float64")
    model.set_state_dict({key: value.astype("float64") for key, value in paddle.load(weights).items()})
    model.eval()
    return model


def float64_probs(model: paddle.nn.Layer, batch: np.ndarray) -> np.ndarray:
    """Probabilities [N, W/4, C] (float64) of the float32 batch [N, 3, H, W]."""
    with paddle.no_grad():
        return model(paddle.to_tensor(batch.astype("float64"))).numpy()
