"""The fast CPU training paths (ppcrnn.training.fast_step, ppcrnn.ops) against plain dygraph."""
import numpy as np
import paddle
import paddle.nn.functional as F
import pytest

from ppcrnn.losses.ctc_loss import CTCLoss
from ppcrnn.modeling import build_model
from ppcrnn.ops import build, depthwise_conv
from ppcrnn.training.fast_step import (ONEDNN_OP_TYPES, SWITCHED_FORWARDS, accelerate_model,
                                       build_train_step, keep_freed_memory, onednn_unavailable_reason,
                                       restore_model)

ARCH = {"model_type": "rec", "algorithm": "CRNN",
        "Backbone": {"name": "MobileNetV3", "scale": 0.5, "model_name": "large"},
        "Neck": {"name": "SequenceEncoder", "encoder_type": "rnn", "hidden_size": 96},
        "Head": {"name": "CTCHead", "fc_decay": 0.0, "out_channels": 37}}


def unavailable(method):
    return onednn_unavailable_reason() if method == "onednn" else build.load_operators()[1]


METHODS = [pytest.param(m, marks=pytest.mark.skipif(unavailable(m) is not None, reason=f"{m} unavailable"))
           for m in ("custom_op", "onednn")]


def make_step(method):
    paddle.seed(7)
    model = build_model(ARCH)
    model.train()
    optimizer = paddle.optimizer.Adam(learning_rate=5e-4, parameters=model.parameters())
    return model, build_train_step(model, CTCLoss(), optimizer, to_static=method is not None,
                                   method=method or "auto")


def batch(width, size=4, seed=0):
    rng = np.random.default_rng(seed)
    images = paddle.to_tensor(rng.uniform(-1, 1, (size, 3, 32, width)).astype("float32"))
    labels = paddle.to_tensor(rng.integers(1, 37, (size, 10)).astype("int64"))
    lengths = paddle.to_tensor(rng.integers(1, 11, (size,)).astype("int64"))
    return images, labels, lengths


@pytest.fixture(scope="module", params=METHODS)
def trained_pair(request):
    """Plain and accelerated models from the same init after the same 3 steps (width 100)."""
    plain_model, plain_step = make_step(None)
    fast_model, fast_step = make_step(request.param)
    assert fast_step.accelerated == request.param and plain_step.accelerated is None
    losses = []
    for seed in range(3):
        images, labels, lengths = batch(100, seed=seed)
        plain, fast = plain_step(images, labels, lengths), fast_step(images, labels, lengths)
        losses.append((plain.loss, fast.loss))
        assert fast.logits.shape == plain.logits.shape == [4, 25, 37]
        assert fast.infeasible == plain.infeasible == 0
    return request.param, plain_model, fast_model, losses


def test_losses_match_dygraph(trained_pair):
    *_, losses = trained_pair
    for plain, fast in losses:
        assert np.isfinite(plain) and abs(fast - plain) <= 1e-4 * abs(plain)
    # The steps really trained: with identical data the loss would repeat.
    assert len({round(plain, 3) for plain, _ in losses}) == 3


@pytest.mark.parametrize("method", METHODS)
def test_gradients_and_statistics_match_dygraph(method):
    """Every trainable parameter's gradient, and the batch-norm running statistics, after one
    training forward and backward from the same init and batch."""
    grads, statistics = [], []
    for chosen in (None, method):
        model, step = make_step(chosen)
        images, labels, lengths = batch(100, seed=5)
        step.loss_fn(model(images), [images, labels, lengths])["loss"].backward()
        grads.append({name: p.grad.numpy() for name, p in model.named_parameters() if p.trainable})
        statistics.append({name: p.numpy() for name, p in model.named_parameters()
                           if name.endswith(("_mean", "_variance"))})
    for name, expected in statistics[0].items():
        np.testing.assert_allclose(statistics[1][name], expected, rtol=1e-4, atol=1e-6, err_msg=name)
    assert any(np.abs(value).max() > 0 for name, value in statistics[0].items() if name.endswith("_mean"))
    plain, fast = grads
    assert set(plain) == set(fast)
    # Some gradients are zero up to rounding (a bias followed by conv + batch norm), so the
    # tolerance is relative to the largest gradient of the model.
    scale = max(float(np.abs(g).max()) for g in plain.values())
    for name, expected in plain.items():
        np.testing.assert_allclose(fast[name], expected, rtol=1e-3, atol=1e-5 * scale, err_msg=name)


@pytest.mark.parametrize("width", [48, 160])
def test_dynamic_width_eval_matches_dygraph(trained_pair, width):
    method, plain_model, fast_model, _ = trained_pair
    plain_model.eval()
    fast_model.eval()
    try:
        images = batch(width, size=3, seed=9)[0]
        expected = plain_model(images).numpy()
        got = fast_model(images).numpy()
    finally:
        plain_model.train()
        fast_model.train()
    assert got.shape == (3, width // 4, 37)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    if method == "onednn":  # one program serves every width (built for [None, 3, 32, None])
        assert list(fast_model.backbone.forward.programs) == [(3, 32)]


@pytest.mark.parametrize("method", METHODS)
def test_restore_and_export_trace(method):
    """accelerate -> same outputs; an export trace (paddle.jit.to_static) runs the plain layers;
    a second accelerate is refused; restore_model puts everything back."""
    paddle.seed(3)
    model = build_model(ARCH)
    model.eval()
    images = batch(64, size=2)[0]
    expected = model(images).numpy()
    assert accelerate_model(model, method) == method
    assert accelerate_model(model, method) is None
    np.testing.assert_allclose(model(images).numpy(), expected, rtol=1e-4, atol=1e-5)
    spec = [paddle.static.InputSpec([None, 3, 32, None], "float32", "x")]
    traced = paddle.jit.to_static(model, input_spec=spec, full_graph=True)
    np.testing.assert_allclose(traced(images).numpy(), expected, rtol=1e-5, atol=1e-6)
    restore_model(model)
    assert not any(isinstance(layer.forward, SWITCHED_FORWARDS) for layer in model.sublayers())
    np.testing.assert_allclose(model(images).numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(onednn_unavailable_reason() is not None, reason="oneDNN unavailable")
def test_onednn_marks_only_depthwise_ops():
    model, step = make_step("onednn")
    step(*batch(100))
    program = model.backbone.forward.program_for(batch(100)[0])
    ops = program.global_block().ops
    marked = [op.type for op in ops if op.has_attr("use_mkldnn") and op.attr("use_mkldnn")]
    assert marked and set(marked) <= set(ONEDNN_OP_TYPES)
    assert len(marked) == sum(op.type == "depthwise_conv2d" for op in ops) == 15


needs_operators = pytest.mark.skipif(build.load_operators()[0] is None, reason="C++ operators unavailable")


@needs_operators
def test_custom_op_switches_every_depthwise_conv_and_hardswish():
    model, _ = make_step("custom_op")
    switched = [type(layer.forward).__name__ for layer in model.sublayers()
                if isinstance(layer.forward, SWITCHED_FORWARDS)]
    assert switched.count("FastDepthwiseForward") == 15  # one per residual block
    assert switched.count("FastHardswishForward") == 20  # conv1, conv2, expand + depthwise of blocks 6-14


@needs_operators
def test_custom_hardswish_matches_paddle():
    values = np.array([-5, -3.0001, -3, -2.5, -1, 0, 0.5, 2.9999, 3, 3.0001, 7], dtype="float32")
    upstream = np.linspace(-2, 2, values.size).astype("float32")
    results = []
    for custom in (False, True):
        x = paddle.to_tensor(values, stop_gradient=False)
        y = getattr(build.load_operators()[0], "ppcrnn_hardswish")(x) if custom else F.hardswish(x)
        (y * paddle.to_tensor(upstream)).sum().backward()
        results.append((y.numpy(), x.grad.numpy()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-6, atol=1e-7)


@needs_operators
@pytest.mark.parametrize("shape,kernel,stride,padding", [
    ((2, 3, 7, 9), (3, 3), (2, 2), (1, 1)),
    ((1, 4, 5, 6), (3, 5), (1, 2), (0, 2)),
    ((2, 2, 2, 3), (5, 5), (1, 1), (2, 2)),   # kernel larger than the input: all padding
    ((3, 5, 8, 11), (5, 5), (2, 1), (2, 2)),
])
def test_custom_operator_matches_paddle_conv(shape, kernel, stride, padding):
    rng = np.random.default_rng(sum(shape))
    channels = shape[1]
    x_value = rng.standard_normal(shape).astype("float32")
    w_value = rng.standard_normal((channels, 1) + kernel).astype("float32")
    results, upstream = [], None
    for custom in (False, True):
        x = paddle.to_tensor(x_value, stop_gradient=False)
        w = paddle.to_tensor(w_value, stop_gradient=False)
        if custom:
            operator = build.load_operators()[0]
            y = getattr(operator, depthwise_conv.OP_NAME)(x, w, *stride, *padding)
        else:
            y = F.conv2d(x, w, stride=stride, padding=padding, groups=channels)
        if upstream is None:
            upstream = paddle.to_tensor(rng.standard_normal(y.shape).astype("float32"))
        (y * upstream).sum().backward()
        results.append((y.numpy(), x.grad.numpy(), w.grad.numpy()))
    for expected, got, name in zip(results[0], results[1], ("out", "grad x", "grad weight")):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5, err_msg=name)


def test_models_without_depthwise_convs_are_left_alone():
    assert accelerate_model(paddle.nn.Linear(4, 4)) is None
    small = paddle.nn.Layer()
    small.backbone = paddle.nn.Conv2D(3, 8, 3)
    assert accelerate_model(small) is None
    assert not isinstance(small.backbone.forward, SWITCHED_FORWARDS)
    with pytest.raises(ValueError, match="method"):
        accelerate_model(small, "fastest")


def test_keep_freed_memory_on_glibc():
    import platform
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt is glibc-only")
    assert keep_freed_memory()
