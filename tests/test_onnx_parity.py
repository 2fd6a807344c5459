"""ONNX Runtime and Paddle Inference measured against the float64 answer of the same weights.

Fast, on a random-weight model; the trained-model version of these checks is the slow
`test_onnx_matches_paddle_on_200_benchmark_crops` in tests/test_integration_paddleocr.py."""
import os

import numpy as np
import paddle
import pytest

from fixtures_model import build, random_weights, tiny_config
from float64_reference import float64_model, float64_probs
from ppcrnn.inference import export_model, export_onnx
from ppcrnn.inference.engines import OnnxEngine, PaddleEngine

SHAPES = [(1, 3, 32, 41), (3, 3, 32, 181)]
# Random weights give a near-uniform softmax: both engines land ~1e-8 from float64 (measured
# 3.5e-9 ONNX Runtime, 7.0e-9 Paddle), so 1e-6 is tight yet far from flaky.
ATOL = 1e-6


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """(config, weights, export dir) of a random tiny model whose weights are not build()'s seed-0 ones."""
    folder = str(tmp_path_factory.mktemp("onnx_parity"))
    config = tiny_config(folder)
    weights = random_weights(config, os.path.join(folder, "model"), seed=3)
    export_model(config, os.path.join(folder, "inference"), weights)
    return config, weights, os.path.join(folder, "inference")


def batches():
    rng = np.random.default_rng(7)
    return [rng.uniform(-1, 1, shape).astype("float32") for shape in SHAPES]


def test_float64_twin_computes_the_loaded_weights_in_float64(model):
    config, weights, _ = model
    twin = float64_model(config, weights)
    assert {str(p.dtype) for p in twin.parameters()} == {"paddle.float64"}
    float32_model = build(config)
    float32_model.set_state_dict(paddle.load(weights))
    float32_model.eval()
    for batch in batches():
        exact = float64_probs(twin, batch)
        with paddle.no_grad():
            rounded = float32_model(paddle.to_tensor(batch)).numpy()
        assert exact.dtype == np.float64 and exact.shape == rounded.shape
        # Close to the float32 model (so the weights were loaded), yet not its float32 numbers.
        assert 0 < np.abs(exact - rounded).max() <= ATOL


def test_onnxruntime_and_paddle_are_each_close_to_float64(model):
    pytest.importorskip("paddle2onnx")
    pytest.importorskip("onnxruntime")
    config, weights, folder = model
    export_onnx(folder)
    twin = float64_model(config, weights)
    engines = {"onnxruntime": OnnxEngine(folder, cpu_threads=1),
               "paddle": PaddleEngine(folder, cpu_threads=1, enable_mkldnn=False)}
    for batch in batches():
        exact = float64_probs(twin, batch)
        for name, engine in engines.items():
            assert np.abs(engine(batch) - exact).max() <= ATOL, name
