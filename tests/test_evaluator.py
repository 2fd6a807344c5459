"""The evaluation loop reads predictor-resized sets in the predictor's batches, so padding added by
the loader's collate does not change what a crop reads; fixed-width sets are read as they are."""
import numpy as np
import paddle
import pytest

from fixtures_model import build, tiny_config
from ppcrnn.character import CharacterSet
from ppcrnn.data.transforms.rec_resize_img import RecResizeImg
from ppcrnn.metrics import RecMetric
from ppcrnn.postprocess import CTCLabelDecode
from ppcrnn.training.evaluator import evaluate

WORDS = ["a", "to", "cat", "word", "tiger", "planet", "kitchens", "noteworthy", "hippopotamus", "ok",
         "interchangeable", "b"]


class FakeDataset:
    def __init__(self, resize: RecResizeImg):
        self.ops = [resize]


class FakeLoader(list):
    """Batches [images, labels, lengths] padded right to the widest image, like PadCollate."""

    def __init__(self, batches, resize):
        super().__init__(batches)
        self.dataset = FakeDataset(resize)


def crops(rng):
    """Six crops narrower than 100 px (the predictor pads each to 100) and six of 200 px: the
    predictor's batches of six then hold equal widths, so each reads as it would alone."""
    widths = [20, 35, 50, 64, 80, 96] + [200] * 6
    return [rng.integers(0, 256, (32, width, 3), dtype=np.uint8) for width in widths]


def padded_batch(images, charset):
    width = max(image.shape[-1] for image in images)
    batch = np.zeros((len(images), 3, 32, width), dtype=np.float32)
    for row, image in zip(batch, images):
        row[..., :image.shape[-1]] = image
    labels = np.zeros((len(images), 25), dtype=np.int64)
    for row, word in zip(labels, WORDS):
        indices = charset.encode(word)[0]
        row[:len(indices)] = indices
    return [batch, labels, np.array([len(w) for w in WORDS])]


class RecordingDecoder(CTCLabelDecode):
    """CTCLabelDecode that keeps the probabilities [T, C] of every sample it decodes, in order."""

    def __init__(self):
        super().__init__()
        self.read = []

    def __call__(self, preds, label=None):
        self.read += list(np.asarray(preds))
        return super().__call__(preds, label)


@pytest.mark.parametrize("dynamic", [True, False])
def test_padding_from_the_loader_does_not_change_what_a_crop_reads(tmp_path, dynamic):
    config = tiny_config(str(tmp_path), hidden_size=16)
    model = build(config, seed=3)
    model.eval()
    charset = CharacterSet.from_config(config["Global"])
    resize = RecResizeImg([3, 32, 100], eval_mode=dynamic)
    images = [resize({"image": image})["image"] for image in crops(np.random.default_rng(1))]
    batch = padded_batch(images, charset)
    evaluated = RecordingDecoder()

    result = evaluate(model, FakeLoader([batch], resize), evaluated, RecMetric(), progress=False)

    # dynamic: each crop as the predictor reads it alone (at its own width, at least 100 px);
    # fixed width: the batch as it is.
    alone, whole = RecordingDecoder(), RecordingDecoder()
    with paddle.no_grad():
        for image in images:
            alone(model(paddle.to_tensor(image[None])))
        whole(model(paddle.to_tensor(batch[0])))
    assert result["samples"] == len(WORDS)
    # crops() is in width order, which is also the order the predictor's batches read them in
    reference = alone.read if dynamic else whole.read
    for got, want in zip(evaluated.read, reference, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)
    if dynamic:  # the test has teeth: the narrow crops read differently inside the padded batch
        assert max(np.abs(w[:a.shape[0]] - a).max() for w, a in zip(whole.read[:6], alone.read[:6])) > 1e-4
