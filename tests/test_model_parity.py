"""Exact compatibility with PaddleOCR: the parity fixtures in ../shared/parity (weights + outputs of
PaddleOCR's own model), and the state_dict / parameter counts of reference §3.2."""
import copy
import glob
import json
import logging
import os

import numpy as np
import paddle
import pytest

import ppcrnn
from conftest import SHARED
from ppcrnn.weights import load_pretrained

FIXTURES = sorted(os.path.dirname(p) for p in glob.glob(os.path.join(SHARED, "parity", "*", "fixture.json")))


def test_parity_fixtures_exist():
    assert FIXTURES, f"no parity fixtures under {os.path.join(SHARED, 'parity')}"


def _fixture_model(folder):
    with open(os.path.join(folder, "fixture.json"), encoding="utf-8") as handle:
        fixture = json.load(handle)
    architecture = copy.deepcopy(fixture["Architecture"])
    architecture["Head"]["out_channels"] = fixture["num_classes"]
    return fixture, ppcrnn.build_model(architecture)


@pytest.mark.parametrize("folder", FIXTURES, ids=os.path.basename)
def test_parity_state_dict_matches_fixture(folder):
    fixture, model = _fixture_model(folder)
    ours = {key: list(value.shape) for key, value in model.state_dict().items()}
    # Same keys in the same order: the order is the layer creation order, which (with the same
    # layer classes) fixes the auto-generated parameter names that .pdopt files are keyed by.
    assert list(ours) == list(fixture["state_dict"])
    assert ours == fixture["state_dict"]
    on_disk = paddle.load(os.path.join(folder, "model.pdparams"))
    assert {key: list(value.shape) for key, value in on_disk.items()} == fixture["state_dict"]


@pytest.mark.parametrize("folder", FIXTURES, ids=os.path.basename)
def test_parity_outputs(folder):
    fixture, model = _fixture_model(folder)
    report = load_pretrained(model, os.path.join(folder, "model.pdparams"),
                             logger=logging.getLogger("tests.parity"))
    assert not (report.missing or report.unexpected or report.shape_mismatched or report.grown)
    assert sorted(report.matched) == sorted(fixture["state_dict"])
    model.eval()
    assert fixture["cases"], "fixture without cases"
    for case in fixture["cases"]:
        images = np.load(os.path.join(folder, case["input"]))
        expected = np.load(os.path.join(folder, case["probs"]))
        assert list(images.shape) == case["shape_in"] and list(expected.shape) == case["shape_out"]
        probs = model(paddle.to_tensor(images)).numpy()
        assert probs.shape == expected.shape
        assert np.abs(probs - expected).max() <= 1e-5, case["input"]
        # Random weights give near-uniform probabilities (~1/C), where 1e-5 is loose: a wrong SE
        # slope (1/6) stays under it. The logits (log-probs up to a per-step constant) expose it.
        assert np.abs(_centred_log(probs) - _centred_log(expected)).max() <= 3e-5, case["input"]


def _centred_log(probs):
    log_probs = np.log(probs.astype(np.float64))
    return log_probs - log_probs.mean(axis=2, keepdims=True)


def _architecture(model_name, scale, num_classes=37, hidden_size=96):
    return {
        "model_type": "rec", "algorithm": "CRNN",
        "Backbone": {"name": "MobileNetV3", "model_name": model_name, "scale": scale},
        "Neck": {"name": "SequenceEncoder", "encoder_type": "rnn", "hidden_size": hidden_size},
        "Head": {"name": "CTCHead", "fc_decay": 0, "out_channels": num_classes},
    }


def _count(parameters):
    return sum(int(np.prod(p.shape)) for p in parameters)


# Reference §3.2 (hidden 96, 37 classes): keys, backbone trainable, neck, total trainable,
# total with batch-norm running statistics.
COUNTS = {
    ("large", 0.5): (301, 778_022, 666_624, 1_451_787, 1_464_155),
    ("large", 1.0): (301, 2_970_406, 1_035_264, 4_012_811, 4_037_243),
    ("small", 0.5): (245, 252_896, 519_168, 779_205, 785_365),
    ("small", 1.0): (245, 921_678, 740_352, 1_669_171, 1_681_315),
}


@pytest.mark.parametrize("variant", sorted(COUNTS), ids=lambda v: f"{v[0]}_x{v[1]}")
def test_state_dict_and_parameter_counts(variant):
    keys, backbone, neck, trainable, total = COUNTS[variant]
    model = ppcrnn.build_model(_architecture(*variant))
    assert len(model.state_dict()) == keys
    assert _count(p for p in model.backbone.parameters() if not p.stop_gradient) == backbone
    assert _count(model.neck.parameters()) == neck
    assert _count(model.head.parameters()) == 193 * 37
    assert _count(p for p in model.parameters() if not p.stop_gradient) == trainable
    assert _count(model.parameters()) == total


@pytest.mark.parametrize("variant", [("large", 0.5), ("small", 0.5)], ids=lambda v: f"{v[0]}_x{v[1]}")
def test_output_shapes(variant):
    model = ppcrnn.build_model(_architecture(*variant, num_classes=11))
    for width, steps in ((100, 25), (320, 80), (17, 4)):
        images = paddle.rand([2, 3, 32, width]) * 2 - 1
        model.train()
        logits = model(images)
        model.eval()
        probs = model(images)
        assert list(logits.shape) == list(probs.shape) == [2, steps, 11]
        np.testing.assert_allclose(probs.numpy().sum(axis=2), 1.0, rtol=0, atol=1e-5)
