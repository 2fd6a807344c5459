"""RecMetric: PaddleOCR's acc and norm_edit_dis, with ignore_space and is_filter."""
import numpy as np
import pytest

from ppcrnn.metrics import RecMetric
from ppcrnn.postprocess import CTCLabelDecode
from ppcrnn.registry import METRICS

EPS = 1e-5


def pairs(texts):
    return [(text, 0.5) for text in texts]


PREDS = ["abc", "ab d", "xyz", ""]
LABELS = ["abc", "abd", "xyw", "a"]


def test_acc_and_edit_distance_ignoring_spaces():
    metric = RecMetric()
    batch = metric((pairs(PREDS), pairs(LABELS)))
    # Matches: "abc", and "ab d" once its space goes; distances 0, 0, 1/3, 1/1.
    assert batch["acc"] == pytest.approx(2 / (4 + EPS))
    assert batch["norm_edit_dis"] == pytest.approx(1 - (1 / 3 + 1) / (4 + EPS))


def test_spaces_count_when_not_ignored():
    metric = METRICS.build({"name": "RecMetric", "ignore_space": False}, "Metric")
    batch = metric((pairs(PREDS), pairs(LABELS)))
    assert batch["acc"] == pytest.approx(1 / (4 + EPS))
    # "ab d" vs "abd": one deletion over the longer length 4.
    assert batch["norm_edit_dis"] == pytest.approx(1 - (1 / 4 + 1 / 3 + 1) / (4 + EPS))


def test_filter_keeps_alphanumerics_lower_cased():
    preds, labels = pairs(["A-B c!", "Hello", "x1"]), pairs(["abc", "hello", "X1?"])
    assert RecMetric(is_filter=True)((preds, labels))["acc"] == pytest.approx(3 / (3 + EPS))
    assert RecMetric()((preds, labels))["acc"] == pytest.approx(0.0)


def test_get_metric_accumulates_batches_and_resets():
    metric = RecMetric(main_indicator="norm_edit_dis")
    assert metric.main_indicator == "norm_edit_dis"
    metric((pairs(["abc", "abd"]), pairs(["abc", "abc"])))  # 1 right, distance 1/3
    metric((pairs(["", "q"]), pairs(["xy", "q"])))          # 1 right, distance 1
    total = metric.get_metric()
    assert total["acc"] == pytest.approx(2 / (4 + EPS))
    assert total["norm_edit_dis"] == pytest.approx(1 - (1 / 3 + 1) / (4 + EPS))
    assert metric.get_metric() == {"acc": 0.0, "norm_edit_dis": 1.0}


def test_works_on_decoder_output_with_labels():
    decoder = CTCLabelDecode()
    a, b = decoder.character.index("a"), decoder.character.index("b")
    probs = np.zeros((2, 4, 37), dtype=np.float32)
    probs[0, [0, 1, 2, 3], [a, 0, a, b]] = 1.0  # "aab"
    probs[1, [0, 1, 2, 3], [b, b, 0, 0]] = 1.0  # "b"
    labels = np.array([[a, a, b, 0], [a, b, 0, 0]])
    result = RecMetric()(decoder(probs, labels))
    assert result["acc"] == pytest.approx(1 / (2 + EPS))
    assert result["norm_edit_dis"] == pytest.approx(1 - 0.5 / (2 + EPS))
