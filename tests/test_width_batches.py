"""Width-sorted batches: the evaluator's predictor-style chunks and the training loader's
regrouping (Train.loader.regroup_by_width) cut padding without losing or mixing up samples."""
import numpy as np
import pytest

import ppcrnn  # noqa: F401
from ppcrnn.config import validate_config
from ppcrnn.data import build_dataloader
from ppcrnn.data.width_batches import WidthRegroupedLoader, content_widths, width_sorted_chunks
from fixtures_model import tiny_config


def padded(widths, rng, total=None):
    """Right-padded images [N, 3, 32, W] with content of the given widths (no exact zeros in it)."""
    batch = np.zeros((len(widths), 3, 32, total or max(widths)), dtype=np.float32)
    for row, width in zip(batch, widths):
        row[..., :width] = rng.uniform(0.01, 1.0, (3, 32, width))
    return batch


def test_chunks_sort_by_content_width_and_cut_the_padding():
    rng = np.random.default_rng(0)
    widths = rng.permutation([12, 100, 130, 90, 250, 40, 180, 100, 60, 300, 75, 20, 150, 220])
    batch = padded(widths, rng)
    np.testing.assert_array_equal(content_widths(batch), widths)
    seen = []
    for index, chunk in width_sorted_chunks(batch, min_width=100, size=6):
        assert len(index) <= 6
        assert chunk.shape[-1] == max(100, widths[index].max())
        np.testing.assert_array_equal(chunk, batch[index][..., :chunk.shape[-1]])
        seen.extend(index.tolist())
    assert sorted(seen) == list(range(len(widths)))
    assert list(widths[seen]) == sorted(widths)


class FakeLoader(list):
    dataset, batch_sampler = "dataset", "sampler"


def test_regrouped_batches_hold_the_same_samples_with_less_padding():
    rng = np.random.default_rng(1)
    batches, originals = [], {}
    for b in range(5):  # 5 batches of 4, pool 2: the last pool is a single batch
        widths = rng.integers(20, 161, 4)
        images = padded(widths, rng, total=max(100, widths.max()))
        ids = np.arange(b * 4, b * 4 + 4)
        for i, width, image in zip(ids, widths, images):
            originals[int(i)] = (int(width), image[..., :width])
        batches.append([images, ids.reshape(4, 1), ids * 10])
    regrouped = list(WidthRegroupedLoader(FakeLoader(batches), pool=2, min_width=100))
    assert len(regrouped) == 5
    seen = []
    for images, ids, tens in regrouped:
        images, ids, tens = images.numpy(), ids.numpy()[:, 0], tens.numpy()
        widths = [originals[int(i)][0] for i in ids]
        assert images.shape[-1] == max(100, max(widths))  # padded to its own widest only
        np.testing.assert_array_equal(tens, ids * 10)     # the other fields follow their image
        for i, image in zip(ids, images):
            width, content = originals[int(i)]
            np.testing.assert_array_equal(image[..., :width], content)
            assert not image[..., width:].any()
        seen.extend(ids.tolist())
    assert sorted(seen) == list(range(20))
    assert sum(b[0].shape[-1] for b in regrouped) < sum(b[0].shape[-1] for b in batches)


@pytest.mark.parametrize("eval_mode", [True, False])
def test_loader_regroups_only_varying_width_training_sets(tmp_path, eval_mode):
    config = tiny_config(str(tmp_path))
    transforms = config["Train"]["dataset"]["transforms"]
    config["Train"]["dataset"] = {"name": "SyntheticDataSet", "num_samples": 32, "transforms": transforms}
    config["Train"]["loader"]["regroup_by_width"] = 2
    config = validate_config(config)
    for op in transforms:
        if "RecResizeImg" in op:
            op["RecResizeImg"]["eval_mode"] = eval_mode
    loader = build_dataloader(config, "Train")
    assert isinstance(loader, WidthRegroupedLoader) == eval_mode
    assert len(loader) == 2 and len(list(loader)) == 2


def pool_of_batches(rng, count=6, size=4):
    """`count` right-padded batches [images, ids] of `size` crops 20-160 px wide."""
    batches = []
    for b in range(count):
        widths = rng.integers(20, 161, size)
        batches.append([padded(widths, rng, total=max(100, widths.max())), np.arange(b * size, (b + 1) * size)])
    return batches


def widths_of(loader):
    return [images.shape[-1] for images, _ in loader]


def test_random_padding_widens_batches_within_the_pool_and_keeps_every_sample():
    rng = np.random.default_rng(2)
    batches = pool_of_batches(rng)
    tight = list(WidthRegroupedLoader(FakeLoader(batches), pool=3, min_width=100))
    loose = list(WidthRegroupedLoader(FakeLoader(batches), pool=3, min_width=100, pad_prob=1.0, seed=5))
    pool_widths = [max(b[0].shape[-1] for b in batches[:3])] * 4 + [max(b[0].shape[-1] for b in batches[3:])] * 4
    assert len(loose) == len(tight)
    for (tight_images, tight_ids), (images, ids), pool_width in zip(tight, loose, pool_widths):
        np.testing.assert_array_equal(ids.numpy(), tight_ids.numpy())
        width = tight_images.shape[-1]
        assert width <= images.shape[-1] <= pool_width
        np.testing.assert_array_equal(images.numpy()[..., :width], tight_images.numpy())
        assert not images.numpy()[..., width:].any()  # the extra width is padding only
    assert sum(widths_of(loose)) > sum(widths_of(tight))


def test_random_padding_repeats_for_an_epoch_and_changes_across_epochs():
    batches = pool_of_batches(np.random.default_rng(3), count=16)
    loader = WidthRegroupedLoader(FakeLoader(batches), pool=4, min_width=100, pad_prob=0.5, seed=7)
    runs = {}
    for epoch in (1, 2, 1):
        loader.set_epoch(epoch)
        runs.setdefault(epoch, []).append(widths_of(loader))
    assert runs[1][0] == runs[1][1]          # a resumed epoch pads exactly as before
    assert runs[1][0] != runs[2][0]
    tight = widths_of(WidthRegroupedLoader(FakeLoader(batches), pool=4, min_width=100))
    widened = sum(w > t for w, t in zip(runs[1][0], tight))
    assert 0 < widened < len(tight)          # about half the batches, not all or none


def test_training_loader_takes_random_pad_prob_and_rejects_it_where_nothing_is_regrouped(tmp_path):
    from ppcrnn.data import set_epoch
    from ppcrnn.errors import ConfigError
    config = tiny_config(str(tmp_path))
    transforms = config["Train"]["dataset"]["transforms"]
    for op in transforms:
        if "RecResizeImg" in op:
            op["RecResizeImg"]["eval_mode"] = True
    config["Train"]["dataset"] = {"name": "SyntheticDataSet", "num_samples": 32, "transforms": transforms}
    config["Train"]["loader"].update(regroup_by_width=2, random_pad_prob=0.5)
    config = validate_config(config)
    loader = build_dataloader(config, "Train")
    assert loader.pad_prob == 0.5 and loader.seed == config["Global"]["seed"]
    set_epoch(loader, 4)
    assert loader.epoch == 4
    for bad in ({"random_pad_prob": 1.5}, {"random_pad_prob": 0.5, "regroup_by_width": 0}):
        config["Train"]["loader"].update({"regroup_by_width": 2, **bad})
        with pytest.raises(ConfigError, match="Train.loader.random_pad_prob"):
            build_dataloader(config, "Train")
