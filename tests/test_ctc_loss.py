"""CTCLoss: PaddleOCR's semantics, and infeasible labels are counted and logged, never silent."""
import logging

import numpy as np
import paddle
import pytest

from _ctc_reference import ctc_probability, labelling_probabilities
from ppcrnn.losses import CTCLoss, count_infeasible, ctc_min_length, infeasible_mask
from ppcrnn.registry import LOSSES


def _softmax(logits):
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _reference_nll(logits, labels, lengths):
    """Per-sample -log P(label) from our own forward algorithm (0 where infeasible, like Paddle)."""
    probs = _softmax(logits.astype(np.float64))
    out = []
    for sample, label, length in zip(probs, labels, lengths):
        p = ctc_probability(sample, list(label[:length]))
        out.append(-np.log(p) if p > 0 else 0.0)
    return np.array(out)


@pytest.fixture
def captured_warnings():
    records = []
    handler = logging.Handler(level=logging.WARNING)
    handler.emit = records.append
    logger = logging.getLogger("ppcrnn")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


# T = 4 frames. "aaa" needs a-a-a = 5 frames; "aab" needs a-ab = 4; "ab" padded with 0s must not
# count the padding's repeats; "abcd" needs exactly 4.
LABELS = np.array([[1, 1, 1, 0], [1, 1, 2, 0], [1, 2, 0, 0], [1, 2, 3, 4]], dtype=np.int64)
LENGTHS = np.array([3, 3, 2, 4], dtype=np.int64)


def test_ctc_min_length_counts_adjacent_repeats():
    assert ctc_min_length([1, 1, 2]) == 4
    assert ctc_min_length([1, 2, 1]) == 3
    assert ctc_min_length([1, 1, 1]) == 5
    assert ctc_min_length([]) == 0


def test_min_length_agrees_with_brute_force_feasibility():
    # A label is feasible in T frames iff some path of T frames collapses to it.
    reachable = set(labelling_probabilities(np.full((4, 4), 0.25)))
    rng = np.random.RandomState(3)
    for _ in range(50):
        label = list(rng.randint(1, 4, size=rng.randint(0, 6)))
        assert (ctc_min_length(label) <= 4) == (tuple(label) in reachable), label


def test_padding_repeats_are_not_counted():
    assert infeasible_mask(LABELS, LENGTHS, 4).tolist() == [True, False, False, False]
    assert count_infeasible(np.array([[1, 2, 0, 0]]), np.array([2]), 2) == 0
    assert count_infeasible(np.array([[1, 1, 0, 0]]), np.array([2]), 2) == 1


def test_infeasible_label_is_reported_and_feasible_losses_match(captured_warnings):
    rng = np.random.RandomState(0)
    logits = rng.randn(4, 4, 5).astype(np.float32)
    result = CTCLoss()(paddle.to_tensor(logits), [None, paddle.to_tensor(LABELS), paddle.to_tensor(LENGTHS)])
    assert result["infeasible"] == 1
    assert len(captured_warnings) == 1 and "1/4" in captured_warnings[0].getMessage()
    expected = _reference_nll(logits, LABELS, LENGTHS)
    assert expected[0] == 0.0 and (expected[1:] > 0).all()
    np.testing.assert_allclose(float(result["loss"]), expected.mean(), rtol=1e-5)


def test_feasible_batch_reports_zero_and_logs_nothing(captured_warnings):
    logits = np.random.RandomState(1).randn(3, 6, 5).astype(np.float32)
    labels, lengths = LABELS[:3], LENGTHS[:3]  # all fit in 6 frames
    result = CTCLoss()([paddle.zeros([1]), paddle.to_tensor(logits)], [None, labels, lengths])
    assert result["infeasible"] == 0 and not captured_warnings
    expected = _reference_nll(logits, labels, lengths).mean()
    np.testing.assert_allclose(float(result["loss"]), expected, rtol=1e-5)


def test_focal_loss_weights_each_sample():
    logits = np.random.RandomState(2).randn(3, 6, 5).astype(np.float32)
    nll = _reference_nll(logits, LABELS[1:], LENGTHS[1:])
    loss = LOSSES.build({"name": "CTCLoss", "use_focal_loss": True}, "Loss")
    result = loss(paddle.to_tensor(logits), [None, LABELS[1:], LENGTHS[1:]])
    np.testing.assert_allclose(float(result["loss"]), np.mean(nll * (1 - np.exp(-nll)) ** 2), rtol=1e-5)


def test_loss_has_gradients_towards_the_label():
    logits = paddle.to_tensor(np.zeros((1, 5, 4), dtype=np.float32), stop_gradient=False)
    CTCLoss()(logits, [None, np.array([[2, 3]]), np.array([2])])["loss"].backward()
    grad = logits.grad.numpy()[0]
    # Raising the logits of the label's classes lowers the loss; unused class 1 goes the other way.
    assert grad[:, 2].sum() < 0 and grad[:, 3].sum() < 0 and (grad[:, 1] > 0).all()
