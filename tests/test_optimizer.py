"""Optimizers, regularizers, gradient clipping and LR schedules built from `Optimizer` sections."""
import numpy as np
import paddle
import pytest

import ppcrnn  # noqa: F401  (registers the optimizers)
from ppcrnn.errors import ConfigError
from ppcrnn.training.optimizer import build_optimizer


class Weights(paddle.nn.Layer):
    """One weight vector and one bias, with known values."""

    def __init__(self):
        super().__init__()
        self.weight = self.create_parameter([4], default_initializer=paddle.nn.initializer.Assign(
            np.array([1.0, -2.0, 3.0, -4.0], dtype="float32")))
        self.bias = self.create_parameter([1], is_bias=True, default_initializer=paddle.nn.initializer.Assign(
            np.array([0.5], dtype="float32")))


def one_step(config, loss_scale=0.0, epochs=1, steps=1):
    """Apply one step of `config` to Weights with loss = loss_scale * sum(params)."""
    model = Weights()
    optimizer, lr = build_optimizer(config, model, epochs, steps)
    loss = loss_scale * (model.weight.sum() + model.bias.sum())
    loss.backward()
    optimizer.step()
    return model.weight.numpy(), model.bias.numpy(), optimizer, lr


SGD = {"name": "Momentum", "momentum": 0.0, "lr": {"learning_rate": 1.0}}
W0 = np.array([1.0, -2.0, 3.0, -4.0])


def test_l2_regularizer_shrinks_weights_by_factor():
    weight, _, _, _ = one_step({**SGD, "regularizer": {"name": "L2", "factor": 0.1}})
    np.testing.assert_allclose(weight, W0 * 0.9, rtol=1e-6)


def test_l1_regularizer_moves_weights_by_factor_towards_zero():
    weight, _, _, _ = one_step({**SGD, "regularizer": {"name": "L1", "factor": 0.1}})
    np.testing.assert_allclose(weight, W0 - 0.1 * np.sign(W0), rtol=1e-6)


def test_plain_weight_decay_is_the_l2_factor():
    weight, _, _, _ = one_step({**SGD, "weight_decay": 0.5})
    np.testing.assert_allclose(weight, W0 * 0.5, rtol=1e-6)


def test_clip_norm_global_bounds_the_whole_update():
    weight, bias, _, _ = one_step({**SGD, "clip_norm_global": 1.0}, loss_scale=1000.0)
    update = np.concatenate([W0 - weight, [0.5] - bias])
    assert np.linalg.norm(update) == pytest.approx(1.0, rel=1e-5)


def test_clip_norm_bounds_each_tensor():
    weight, bias, _, _ = one_step({**SGD, "clip_norm": 1.0}, loss_scale=1000.0)
    assert np.linalg.norm(W0 - weight) == pytest.approx(1.0, rel=1e-5)
    assert np.abs(0.5 - bias[0]) == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "Momentum", "RMSProp"])
def test_every_optimizer_descends(name):
    weight, _, optimizer, _ = one_step({"name": name, "lr": {"learning_rate": 0.1}}, loss_scale=1.0)
    assert np.all(weight < W0), name  # d(loss)/dw = +1 everywhere, so every weight must go down
    assert type(optimizer).__name__ == name


def test_adamw_exempts_named_parameters_from_decay():
    config = {"name": "AdamW", "lr": {"learning_rate": 0.1}, "weight_decay": 0.5, "no_weight_decay_name": "bias"}
    weight, bias, _, _ = one_step(config)
    np.testing.assert_allclose(bias, [0.5], rtol=1e-6)  # zero gradient, no decay: unchanged
    np.testing.assert_allclose(weight, W0 * (1 - 0.1 * 0.5), rtol=1e-5)  # decoupled decay


def lrs(lr_config, epochs, steps_per_epoch):
    """The learning rate used at each step of training."""
    _, _, optimizer, schedule = one_step({"name": "Adam", "lr": lr_config}, epochs=epochs, steps=steps_per_epoch)
    values = []
    for _ in range(epochs * steps_per_epoch):
        values.append(optimizer.get_lr())
        schedule.step()
    return np.array(values)


def test_constant_lr_is_a_float_without_warmup():
    _, _, _, schedule = one_step({"name": "Adam", "lr": {"learning_rate": 0.002}})
    assert schedule == 0.002


def test_constant_lr_with_warmup_ramps_then_holds():
    values = lrs({"learning_rate": 0.1, "warmup_epoch": 1}, epochs=3, steps_per_epoch=10)
    np.testing.assert_allclose(values[:10], np.arange(10) * 0.01, atol=1e-9)
    np.testing.assert_allclose(values[10:], 0.1)


def test_cosine_with_warmup():
    values = lrs({"name": "Cosine", "learning_rate": 0.1, "warmup_epoch": 0.5}, epochs=4, steps_per_epoch=10)
    assert values[0] == 0.0 and values[5] == pytest.approx(0.1)
    assert np.all(np.diff(values[:6]) > 0) and np.all(np.diff(values[5:]) < 0)
    assert values[-1] < 0.01


def test_piecewise_switches_at_epoch_boundaries():
    values = lrs({"name": "Piecewise", "decay_epochs": [2, 3], "values": [0.1, 0.01, 0.001]},
                 epochs=4, steps_per_epoch=5)
    np.testing.assert_allclose(values, [0.1] * 10 + [0.01] * 5 + [0.001] * 5)


def test_linear_decays_to_end_lr():
    values = lrs({"name": "Linear", "learning_rate": 0.1, "end_lr": 0.0}, epochs=2, steps_per_epoch=5)
    np.testing.assert_allclose(values, 0.1 * (1 - np.arange(10) / 10), atol=1e-9)


def test_one_cycle_rises_to_max_then_falls():
    values = lrs({"name": "OneCycle", "max_lr": 0.1}, epochs=2, steps_per_epoch=10)
    peak = int(values.argmax())
    assert values[peak] == pytest.approx(0.1, rel=1e-3) and 0 < peak < 19
    assert values[0] == pytest.approx(0.1 / 25) and values[-1] < values[0]


def test_step_decay_every_step_size_epochs():
    values = lrs({"name": "Step", "learning_rate": 1.0, "step_size": 1, "gamma": 0.5}, epochs=3, steps_per_epoch=4)
    np.testing.assert_allclose(values, [1.0] * 4 + [0.5] * 4 + [0.25] * 4)


@pytest.mark.parametrize("config, key", [
    ({"name": "Adam", "lr": {"learning_rate": 0.1}, "betaa1": 0.9}, "Optimizer.betaa1"),
    ({"name": "Adam", "lr": {"name": "Cosine"}}, "Optimizer.lr.learning_rate"),
    ({"name": "Adam", "lr": {"warmup_epoch": 1}}, "Optimizer.lr.learning_rate"),
    ({"name": "Adam", "lr": {"name": "Cosine", "learning_rate": "fast"}}, "Optimizer.lr.learning_rate"),
    ({"name": "Adam", "lr": {"name": "Exponential", "learning_rate": 0.1}}, "Optimizer.lr.name"),
    ({"name": "Adam", "lr": {"learning_rate": 0.1}, "regularizer": {"name": "L3", "factor": 0.1}},
     "Optimizer.regularizer.name"),
    ({"name": "Adam", "lr": {"name": "Piecewise", "decay_epochs": [1], "values": [0.1]}}, "Optimizer.lr.values"),
    ({"name": "Adagrad", "lr": {"learning_rate": 0.1}}, "Optimizer.name"),
])
def test_config_errors_name_the_key(config, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        build_optimizer(config, Weights(), 2, 5)


def test_unknown_schedule_lists_known_ones():
    with pytest.raises(ConfigError, match="Cosine") as info:
        build_optimizer({"name": "Adam", "lr": {"name": "Cosin", "learning_rate": 0.1}}, Weights(), 2, 5)
    assert "OneCycle" in str(info.value)
