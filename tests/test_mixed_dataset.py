"""MixedDataSet (several datasets in one epoch, `repeats` times each) and SimpleDataSet's
`holdout` (a stable, path-hashed validation slice of a train label file).

Images are tiny PNGs generated here; the IC15 train labels are read in place from ../shared
(no benchmark image is copied or read)."""
import os
import random

import cv2
import numpy as np
import pytest
import yaml

import ppcrnn  # noqa: F401  (registers components)
from ppcrnn.character import CharacterSet
from ppcrnn.config import load_config
from ppcrnn.data import build_dataloader, build_dataset
from ppcrnn.data.datasets import MixedDataSet, SimpleDataSet, SyntheticDataSet
from ppcrnn.errors import ConfigError


def transforms(image_shape=(3, 32, 100)):
    return [{"DecodeImage": {"img_mode": "BGR", "channel_first": False}}, {"CTCLabelEncode": None},
            {"RecResizeImg": {"image_shape": list(image_shape)}},
            {"KeepKeys": {"keep_keys": ["image", "label", "length"]}}]


GLOBAL = {"max_text_length": 25, "character_dict_path": None, "use_space_char": False, "seed": 5}
CHARSET = CharacterSet()
COUNT = 320  # images generated: a few hundred lines for the hold-out statistics


@pytest.fixture(scope="module")
def crops(tmp_path_factory):
    """COUNT small PNG crops under images/, and `all.txt` listing them with labels w000..w319."""
    root = tmp_path_factory.mktemp("mixed_crops")
    os.makedirs(root / "images")
    rng = np.random.default_rng(0)
    rows = []
    for i in range(COUNT):
        image = rng.integers(0, 256, size=(12, 30, 3), dtype=np.uint8)
        assert cv2.imwrite(str(root / "images" / f"img_{i:03d}.png"), image)
        rows.append((f"images/img_{i:03d}.png", f"w{i:03d}"))
    write_labels(root / "all.txt", rows)
    return root, rows


def write_labels(path, rows):
    path.write_text("".join(f"{image}\t{label}\n" for image, label in rows), encoding="utf-8")
    return str(path)


def simple(root, label_file, image_shape=(3, 32, 100), **options):
    return dict({"name": "SimpleDataSet", "data_dir": str(root), "label_file_list": [str(label_file)],
                 "transforms": transforms(image_shape)}, **options)


def synthetic(num_samples=4, **options):
    return dict({"name": "SyntheticDataSet", "num_samples": num_samples, "transforms": transforms(),
                 "use_system_fonts": False}, **options)


def config(dataset, split="Train", shuffle=False, **global_options):
    return {"Global": dict(GLOBAL, **global_options),
            split: {"dataset": dataset, "loader": {"batch_size_per_card": 4, "shuffle": shuffle,
                                                   "drop_last": False, "num_workers": 0}}}


def mixed(children, repeats=None, split="Train"):
    dataset = {"name": "MixedDataSet", "datasets": children}
    if repeats is not None:
        dataset["repeats"] = repeats
    return build_dataset(config(dataset, split), split)


def label_of(item) -> str:
    _, label, length = item
    return CHARSET.decode_indices(np.asarray(label)[:int(length)].tolist())


@pytest.fixture(scope="module")
def two_files(crops):
    """Label files a.txt (5 lines, labels a0..a4) and b.txt (3 lines, b0..b2) over the same crops."""
    root, rows = crops
    a = write_labels(root / "a.txt", [(rows[i][0], f"a{i}") for i in range(5)])
    b = write_labels(root / "b.txt", [(rows[10 + i][0], f"b{i}") for i in range(3)])
    return root, a, b


# ---- MixedDataSet ------------------------------------------------------------------------------

@pytest.mark.parametrize("repeats", [None, [1, 1], [2, 3], [4, 1]])
def test_length_and_items_follow_the_repeats(two_files, repeats):
    root, a, b = two_files
    dataset = mixed([simple(root, a), simple(root, b)], repeats)
    ra, rb = repeats or (1, 1)
    assert isinstance(dataset, MixedDataSet)
    assert len(dataset) == 5 * ra + 3 * rb
    labels = [label_of(dataset[i]) for i in range(len(dataset))]
    # every line of each child, exactly `repeat` times: the proportion is len x repeats
    assert sorted(labels) == sorted([f"a{i}" for i in range(5)] * ra + [f"b{i}" for i in range(3)] * rb)
    # the children's items are passed through unchanged (same image tensor as the child's own item)
    child_a, child_b = dataset.children
    for index in range(len(dataset)):
        item = dataset[index]
        own = next(child[j] for child in (child_a, child_b) for j in range(len(child))
                   if label_of(child[j]) == label_of(item))
        assert np.array_equal(item[0], own[0]) and np.array_equal(item[1], own[1])


def test_a_synthetic_child_keeps_its_own_samples_and_epochs(two_files):
    root, a, _ = two_files
    dataset = mixed([simple(root, a), synthetic(num_samples=3)], [1, 2])
    assert len(dataset) == 5 + 3 * 2
    real, generated = dataset.children
    assert isinstance(real, SimpleDataSet) and isinstance(generated, SyntheticDataSet)
    assert sorted(label_of(dataset[i]) for i in range(5)) == [f"a{i}" for i in range(5)]
    for k in range(6):  # indices after the real crops walk the synthetic child twice
        item, own = dataset[5 + k], generated[k % 3]
        assert np.array_equal(item[0], own[0]) and label_of(item) == label_of(own)
    before = [dataset[5 + k][0] for k in range(3)]
    dataset.set_epoch(1)  # reaches the children: a train-split synthetic set renders anew
    assert generated.epoch == 1
    after = [dataset[5 + k][0] for k in range(3)]
    assert any(not np.array_equal(x, y) for x, y in zip(before, after))


def test_a_loader_batches_every_mixed_sample(two_files):
    root, a, b = two_files
    dataset = {"name": "MixedDataSet", "datasets": [simple(root, a), simple(root, b)], "repeats": [1, 2]}
    loader = build_dataloader(config(dataset, shuffle=True), "Train")
    batches = list(loader)
    assert sum(batch[0].shape[0] for batch in batches) == 5 + 3 * 2
    assert batches[0][0].shape[1:] == [3, 32, 100]
    assert "SimpleDataSet(" in loader.dataset.describe() and "x2" in loader.dataset.describe()


@pytest.mark.parametrize("repeats, match", [
    ([1], r"Train\.dataset\.repeats: expected 2 whole numbers"),
    ([1, 2, 3], r"Train\.dataset\.repeats: expected 2 whole numbers"),
    ([1, 0], r"Train\.dataset\.repeats"),
    ([1, 1.5], r"Train\.dataset\.repeats"),
    ([True, 1], r"Train\.dataset\.repeats"),
])
def test_bad_repeats_name_the_key(two_files, repeats, match):
    root, a, b = two_files
    with pytest.raises(ConfigError, match=match):
        mixed([simple(root, a), simple(root, b)], repeats)


def test_bad_children_name_their_place(two_files):
    root, a, b = two_files
    with pytest.raises(ConfigError, match=r"Train\.dataset\.datasets\[1\]\.name: unknown dataset 'Nope'"):
        mixed([simple(root, a), {"name": "Nope", "transforms": transforms()}])
    with pytest.raises(ConfigError, match=r"Train\.dataset\.datasets: expected a list"):
        mixed([])
    nested = {"name": "MixedDataSet", "datasets": [simple(root, a)]}
    with pytest.raises(ConfigError, match=r"Train\.dataset\.datasets\[1\]: a MixedDataSet inside"):
        mixed([simple(root, b), nested])
    with pytest.raises(ConfigError, match=r"Train\.dataset\.datasets\[0\]\.holdout"):
        mixed([simple(root, a, holdout={"fraction": 0.2, "use": "train"}), simple(root, b)])
    other_keys = simple(root, b)
    other_keys["transforms"] = transforms()[:-1] + [{"KeepKeys": {"keep_keys": ["image", "label"]}}]
    with pytest.raises(ConfigError, match=r"Train\.dataset\.datasets\[1\]: its KeepKeys"):
        mixed([simple(root, a), other_keys])
    predictor = simple(root, b)
    predictor["transforms"][2] = {"RecResizeImg": {"image_shape": [3, 32, 100], "eval_mode": True}}
    with pytest.raises(ConfigError, match=r"Train\.dataset\.datasets\[1\]: its KeepKeys / RecResizeImg"):
        mixed([simple(root, a), predictor])


def test_children_resized_to_other_heights_are_refused(two_files):
    root, a, b = two_files
    with pytest.raises(ConfigError, match=r"datasets\[1\]"):
        mixed([simple(root, a), simple(root, b, image_shape=(3, 48, 100))])


# ---- load-time validation recurses into the children --------------------------------------------

ARCH = {"model_type": "rec", "algorithm": "CRNN",
        "Backbone": {"name": "MobileNetV3", "scale": 0.5, "model_name": "large"},
        "Neck": {"name": "SequenceEncoder", "encoder_type": "rnn", "hidden_size": 48},
        "Head": {"name": "CTCHead", "fc_decay": 0}}


def load_with_train_dataset(tmp_path, dataset):
    body = {"Global": {"epoch_num": 1, "save_model_dir": str(tmp_path / "out")}, "Architecture": ARCH,
            "Loss": {"name": "CTCLoss"}, "PostProcess": {"name": "CTCLabelDecode"},
            "Metric": {"name": "RecMetric"},
            "Train": {"dataset": dataset, "loader": {"batch_size_per_card": 2, "shuffle": True}}}
    path = tmp_path / "mixed.yml"
    path.write_text(yaml.safe_dump(body))
    return load_config(str(path))


def test_a_valid_mixed_config_loads(tmp_path, two_files):
    root, a, b = two_files
    loaded = load_with_train_dataset(tmp_path, {"name": "MixedDataSet", "repeats": [1, 3],
                                                "datasets": [simple(root, a), synthetic()]})
    assert loaded["Train"]["dataset"]["repeats"] == [1, 3]


@pytest.mark.parametrize("child, match", [
    # an unknown option of the second child
    (lambda s: dict(s, label_file_lst=["x.txt"]), r"Train\.dataset\.datasets\[1\]\.label_file_lst: unknown option"),
    # a wrong type
    (lambda s: dict(s, ratio_list="half"), r"Train\.dataset\.datasets\[1\]\.ratio_list: expected"),
    # a child without transforms
    (lambda s: {k: v for k, v in s.items() if k != "transforms"}, r"Train\.dataset\.datasets\[1\]\.transforms"),
    # an unknown option of one of the child's transforms
    (lambda s: dict(s, transforms=[s["transforms"][0], {"CTCLabelEncode": {"max_len": 3}}] + s["transforms"][2:]),
     r"Train\.dataset\.datasets\[1\]\.transforms\.1\.CTCLabelEncode\.max_len"),
    # an unknown transform
    (lambda s: dict(s, transforms=[{"Sharpen": None}] + s["transforms"]),
     r"Train\.dataset\.datasets\[1\]\.transforms\.0"),
    # an unknown dataset name
    (lambda s: dict(s, name="LMDBDataSett"), r"Train\.dataset\.datasets\[1\]\.name: unknown dataset"),
])
def test_load_time_validation_reaches_into_children(tmp_path, two_files, child, match):
    root, a, b = two_files
    dataset = {"name": "MixedDataSet", "datasets": [synthetic(), child(simple(root, b))]}
    with pytest.raises(ConfigError, match=r"mixed\.yml: " + match):
        load_with_train_dataset(tmp_path, dataset)


def test_load_time_validation_of_the_mixed_options(tmp_path, two_files):
    root, a, b = two_files
    children = [simple(root, a), simple(root, b)]
    with pytest.raises(ConfigError, match=r"Train\.dataset\.repeat: unknown option"):
        load_with_train_dataset(tmp_path, {"name": "MixedDataSet", "datasets": children, "repeat": [1, 2]})
    with pytest.raises(ConfigError, match=r"Train\.dataset\.repeats: expected"):
        load_with_train_dataset(tmp_path, {"name": "MixedDataSet", "datasets": children, "repeats": 2})
    with pytest.raises(ConfigError, match=r"Train\.dataset\.datasets: expected a list"):
        load_with_train_dataset(tmp_path, {"name": "MixedDataSet", "datasets": []})
    with pytest.raises(ConfigError, match=r"Train\.dataset\.datasets\[0\]: expected a mapping"):
        load_with_train_dataset(tmp_path, {"name": "MixedDataSet", "datasets": ["a.txt"]})


# ---- SimpleDataSet holdout ----------------------------------------------------------------------

def holdout_paths(root, label_file, use, fraction=0.25, split="Train", shuffle=False, seed=5):
    dataset = simple(root, label_file, holdout={"fraction": fraction, "use": use})
    built = build_dataset(config(dataset, split, shuffle=shuffle), split, seed=seed)
    paths = [path for path, _, _ in built.entries]
    assert len(paths) == len(set(paths))
    return built, set(paths)


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.5])
def test_holdout_splits_the_file_in_two_disjoint_parts_of_the_right_size(crops, fraction):
    root, rows = crops
    label_file = root / "all.txt"
    rest_set, rest = holdout_paths(root, label_file, "rest", fraction)
    held_set, held = holdout_paths(root, label_file, "held_out", fraction)
    everything = {path for path, _ in rows}
    assert not rest & held
    assert rest | held == everything
    expected, spread = COUNT * fraction, 4 * (COUNT * fraction * (1 - fraction)) ** 0.5
    assert abs(len(held) - expected) <= spread, (len(held), expected)
    assert len(rest_set) + len(held_set) == COUNT
    assert "held-out" in held_set.describe() and "rest" in rest_set.describe()
    # the items carry their own labels: a held-out item is read from its line
    label = label_of(held_set[0])
    assert (held_set.entries[0][0], label) in rows


def test_holdout_is_stable_and_independent_of_line_order_seed_and_split(crops):
    root, rows = crops
    _, first = holdout_paths(root, root / "all.txt", "held_out")
    _, again = holdout_paths(root, root / "all.txt", "held_out", shuffle=True, seed=99)
    assert first == again
    shuffled = list(rows)
    random.Random(3).shuffle(shuffled)
    reordered = write_labels(root / "shuffled.txt", shuffled)
    _, from_shuffled = holdout_paths(root, reordered, "held_out", split="Eval")
    assert from_shuffled == first
    # a subset of the lines holds out exactly the subset's share of the same slice
    half = write_labels(root / "half.txt", rows[::2])
    _, from_half = holdout_paths(root, half, "held_out")
    assert from_half == first & {path for path, _ in rows[::2]}
    # a larger fraction holds out a superset: the slice grows, it is not redrawn
    _, larger = holdout_paths(root, root / "all.txt", "held_out", fraction=0.5)
    assert first < larger


def test_holdout_on_the_ic15_train_labels_in_place(benchmarks_dir):
    """The use it is made for: a validation slice of IC15 train that training never sees. Labels are
    read where they lie; no image is opened."""
    folder = os.path.join(benchmarks_dir, "ic15_train_4468")
    label_file = os.path.join(folder, "labels.txt")
    full = build_dataset(config(simple(folder, label_file), "Eval"), "Eval")
    every = {path for path, _, _ in full.entries}
    _, rest = holdout_paths(folder, label_file, "rest", 0.1, shuffle=True)
    _, held = holdout_paths(folder, label_file, "held_out", 0.1, split="Eval")
    assert not rest & held and rest | held == every
    assert 0.07 * len(every) < len(held) < 0.13 * len(every)


@pytest.mark.parametrize("holdout", [
    {"fraction": 0.2, "use": "validation"},
    {"fraction": 0.2},
    {"fraction": 0, "use": "rest"},
    {"fraction": 1, "use": "held_out"},
    {"fraction": 1.5, "use": "rest"},
    {"fraction": -0.1, "use": "rest"},
    {"fraction": "0.2", "use": "rest"},
    {"fraction": 0.2, "use": "rest", "seed": 3},
])
def test_bad_holdout_is_a_config_error_naming_the_key(crops, holdout):
    root, _ = crops
    dataset = simple(root, root / "all.txt", holdout=holdout)
    with pytest.raises(ConfigError, match=r"Train\.dataset\.holdout: expected \{fraction: 0 < f < 1, "
                                          r"use: rest \| held_out\}"):
        build_dataset(config(dataset), "Train")


def test_holdout_that_is_not_a_mapping_is_a_config_error(crops):
    root, _ = crops
    with pytest.raises(ConfigError, match=r"Train\.dataset\.holdout: expected"):
        build_dataset(config(simple(root, root / "all.txt", holdout=0.2)), "Train")
    with pytest.raises(ConfigError, match=r"dataset\.holdout: expected .*got 0\.2"):  # built in Python, not from a config
        spec = simple(root, root / "all.txt")
        SimpleDataSet(data_dir=spec["data_dir"], label_file_list=spec["label_file_list"],
                      transforms=spec["transforms"], holdout=0.2)
