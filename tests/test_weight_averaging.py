"""Checkpoint averaging: the mean of the files, BatchNorm statistics re-measured, the command line."""
import os
import sys

import numpy as np
import paddle
import pytest
import yaml

import ppcrnn  # noqa: F401  (registers every component)
from ppcrnn.config import validate_config
from ppcrnn.errors import ConfigError
from ppcrnn.training.components import build_post_process, build_recognizer
from ppcrnn.training.weight_averaging import average_weight_files, recalibrate_batch_norm
from ppcrnn.weights import save_weights
from train_helpers import render_word_set, tiny_config

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
import average_weights as average_tool  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(config file, two weight prefixes of the same tiny architecture with different values)."""
    root = tmp_path_factory.mktemp("averaging")
    render_word_set(root / "words", 16, seed=3)
    config = validate_config(tiny_config(root / "words", root / "words", root / "out"))
    config_path = root / "tiny.yml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    prefixes = []
    for seed in (1, 2):
        paddle.seed(seed)
        model = build_recognizer(config, len(build_post_process(config).character))
        for name, value in model.state_dict().items():  # non-trivial BatchNorm statistics too
            if name.endswith(("_mean", "_variance")):
                value.set_value(paddle.rand(value.shape) + seed)
        prefixes.append(str(root / f"model_{seed}"))
        save_weights(model, prefixes[-1])
    return config_path, prefixes


def load(prefix):
    return {k: np.asarray(v) for k, v in paddle.load(prefix + ".pdparams").items()}


def test_average_is_the_element_wise_mean(tiny):
    _, prefixes = tiny
    first, second = load(prefixes[0]), load(prefixes[1])
    mean = average_weight_files(prefixes)
    assert set(mean) == set(first)
    for key in first:
        np.testing.assert_allclose(mean[key], (first[key] + second[key]) / 2, rtol=1e-6, atol=1e-7)
    assert any(not np.allclose(first[key], second[key]) for key in first)  # the files really differ


def test_a_file_of_another_layout_is_named_with_the_key(tiny, tmp_path):
    _, prefixes = tiny
    state = paddle.load(prefixes[0] + ".pdparams")
    key = next(k for k in state if k.startswith("head."))
    state[key] = paddle.zeros([3, 3])
    odd = str(tmp_path / "odd")
    paddle.save(state, odd + ".pdparams")
    with pytest.raises(ConfigError, match=rf"odd\.pdparams: '{key}' has shape \[3, 3\]"):
        average_weight_files([prefixes[0], odd])
    del state[key]
    paddle.save(state, odd + ".pdparams")
    with pytest.raises(ConfigError, match=rf"key '{key}' is only in .*model_1\.pdparams"):
        average_weight_files([prefixes[0], odd])


@pytest.mark.parametrize("make_layer", [lambda: paddle.nn.BatchNorm(2), lambda: paddle.nn.BatchNorm2D(2)])
def test_recalibrated_statistics_are_the_plain_mean_over_batches(make_layer):
    model = paddle.nn.Sequential(make_layer())
    layer = model[0]
    momentum = layer._momentum
    values = [1.0, 2.0, 6.0, 100.0]  # the fourth batch lies beyond num_batches
    batches = [[paddle.full([4, 2, 3, 3], v)] for v in values]
    used = recalibrate_batch_norm(model, batches, num_batches=3)
    assert used == 3
    np.testing.assert_allclose(np.asarray(layer._mean), [3.0, 3.0], rtol=1e-6)  # not an EMA of 1, 2, 6
    np.testing.assert_allclose(np.asarray(layer._variance), [0.0, 0.0], atol=1e-6)
    assert layer._momentum == momentum and not model.training


def test_the_tool_writes_the_mean_with_fresh_batch_norm_statistics(tiny, tmp_path):
    config_path, prefixes = tiny
    first, second = load(prefixes[0]), load(prefixes[1])
    for bn_batches in (0, 2):
        output = str(tmp_path / f"averaged_{bn_batches}")
        assert average_tool.main(["-c", str(config_path), "--weights", *prefixes, "--output", output,
                                  "--bn_batches", str(bn_batches)]) == 0
        averaged = load(output)
        for key in first:
            mean = (first[key] + second[key]) / 2
            if key.endswith(("_mean", "_variance")) and bn_batches:
                assert not np.allclose(averaged[key], mean), key  # measured on the Train images
            else:
                np.testing.assert_allclose(averaged[key], mean, rtol=1e-6, atol=1e-7)


def test_the_tool_refuses_weights_of_another_architecture(tiny, tmp_path, capsys):
    config_path, prefixes = tiny
    status = average_tool.main(["-c", str(config_path), "-o", "Architecture.Neck.hidden_size=24",
                                "--weights", *prefixes, "--output", str(tmp_path / "x")])
    assert status == 1
    error = capsys.readouterr().err
    assert "the averaged --weights" in error and "'neck." in error and "has shape" in error
    assert not os.path.exists(tmp_path / "x.pdparams")


def test_files_with_only_flat_lstm_names_average_into_the_whole_model(tiny, tmp_path):
    # PaddleOCR files may name nn.LSTM's tensors only once (weight_ih_l0, not 0.cell_fw.weight_ih)
    config_path, prefixes = tiny
    flat = []
    for prefix in prefixes:
        state = {k: v for k, v in paddle.load(prefix + ".pdparams").items() if ".cell_" not in k}
        flat.append(str(tmp_path / os.path.basename(prefix)))
        paddle.save(state, flat[-1] + ".pdparams")
    output = str(tmp_path / "averaged")
    assert average_tool.main(["-c", str(config_path), "--weights", *flat, "--output", output,
                              "--bn_batches", "0"]) == 0
    first, second, averaged = load(prefixes[0]), load(prefixes[1]), load(output)
    key = "neck.encoder.lstm.1.cell_bw.weight_hh"
    np.testing.assert_allclose(averaged[key], (first[key] + second[key]) / 2, rtol=1e-6, atol=1e-7)


def test_the_tool_gives_the_same_statistics_on_every_run(tiny, tmp_path):
    config_path, prefixes = tiny
    outputs = []
    for run in range(2):
        np.random.seed(100 + run)  # whatever the process's random state, the batches are the config's
        paddle.seed(100 + run)
        outputs.append(str(tmp_path / f"run_{run}"))
        assert average_tool.main(["-c", str(config_path), "--weights", *prefixes, "--output", outputs[-1],
                                  "--bn_batches", "1"]) == 0
    first, second = load(outputs[0]), load(outputs[1])
    for key in first:
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)
