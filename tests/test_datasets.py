"""Datasets and loaders: PaddleOCR's label-file semantics, and bad data that is skipped, counted
and reported - never a crash, never silent."""
import os
import random
import shutil

import cv2
import numpy as np
import pytest

import ppcrnn  # noqa: F401  (registers components)
from ppcrnn.data import build_dataloader, build_dataset
from ppcrnn.data.datasets import SimpleDataSet
from ppcrnn.errors import ConfigError, DataError

TRANSFORMS = [{"DecodeImage": {"img_mode": "BGR", "channel_first": False}}, {"CTCLabelEncode": None},
              {"RecResizeImg": {"image_shape": [3, 32, 100]}},
              {"KeepKeys": {"keep_keys": ["image", "label", "length"]}}]
GLOBAL = {"max_text_length": 25, "character_dict_path": None, "use_space_char": False, "seed": 7}


@pytest.fixture(scope="module")
def crops(benchmarks_dir, tmp_path_factory):
    """A folder with 12 real crops (copied to a temporary folder), their labels, and a corrupt file."""
    root = tmp_path_factory.mktemp("crops")
    os.makedirs(root / "images")
    source = os.path.join(benchmarks_dir, "ic13_857")
    with open(os.path.join(source, "labels.txt"), encoding="utf-8") as handle:
        lines = [line.rstrip("\n").split("\t") for line in handle][:12]
    for path, _ in lines:
        shutil.copy(os.path.join(source, path), root / path)
    (root / "images" / "corrupt.jpg").write_bytes(b"\xff\xd8 this is not a JPEG")
    return root, lines


def write_labels(folder, name, rows):
    path = folder / name
    path.write_bytes("".join(rows).encode("utf-8"))
    return str(path)


def config_for(label_file, data_dir, split="Eval", batch=4, workers=0, transforms=None, **loader):
    section = {"dataset": {"name": "SimpleDataSet", "data_dir": str(data_dir), "label_file_list": [label_file],
                           "transforms": transforms or TRANSFORMS},
               "loader": dict({"shuffle": False, "drop_last": False, "batch_size_per_card": batch,
                               "num_workers": workers}, **loader)}
    return {"Global": dict(GLOBAL), split: section}


def bad_label_file(root, lines):
    good = [f"{path}\t{label}\n" for path, label in lines[:8]]
    bad = ["images/corrupt.jpg\tcorrupt\n",                 # line 9
           "images/missing.jpg\tmissing\n",                 # 10
           f"{lines[8][0]}\t{'a' * 30}\n",                  # 11: over-long
           f"{lines[9][0]}\t!!!\n",                         # 12: no dictionary character
           f"{lines[10][0]}\t\n",                           # 13: empty
           "no delimiter on this line\n",                   # 14: malformed
           f"{lines[11][0]}\t{'aabbccddeeffgghhiijj'}\n",   # 15: 20 chars + 10 repeats > 25 frames
           f"{lines[0][0]}\tab-c\n"]                        # 16: partly outside the dictionary, kept
    return write_labels(root, "bad.txt", good + bad)


def test_bad_data_is_skipped_counted_and_reported(crops):
    root, lines = crops
    label_file = bad_label_file(root, lines)
    loader = build_dataloader(config_for(label_file, root), "Eval")
    dataset = loader.dataset
    assert len(dataset) == 11  # 8 good + corrupt + missing + partly-OOV survive the label scan
    assert dataset.scan_counts == {"too_long": 1, "oov_only": 1, "empty_label": 1, "malformed_line": 1,
                                   "infeasible": 1}
    assert dataset.partial_oov == 1
    report = dataset.scan_report()
    for line in (11, 12, 13, 14, 15, 16):
        assert f"bad.txt:{line}" in report
    batches = list(loader)
    assert sum(b[0].shape[0] for b in batches) == 11
    assert batches[0][0].shape == [4, 3, 32, 100] and batches[0][1].shape == [4, 25]
    assert dataset.skip_counts() == {"corrupt_image": 1, "missing_image": 1}
    epoch_report = dataset.skip_report()
    assert "bad.txt:9" in epoch_report and "bad.txt:10" in epoch_report and "missing.jpg" in epoch_report
    assert dataset.skip_counts() == {} and dataset.skip_report() == ""  # reset for the next epoch


def test_skips_are_counted_across_worker_processes(crops):
    root, lines = crops
    label_file = bad_label_file(root, lines)
    loader = build_dataloader(config_for(label_file, root, split="Train", batch=2, workers=2,
                                         shuffle=True, drop_last=False), "Train")
    for epoch in range(2):  # every index is visited once per epoch, the bad ones included
        images = sum(batch[0].shape[0] for batch in loader)
        assert images == 11
        counts = loader.dataset.skip_counts()
        assert counts.get("corrupt_image", 0) >= 1 and counts.get("missing_image", 0) >= 1
        assert set(counts) <= {"corrupt_image", "missing_image"}
        assert "corrupt.jpg" in loader.dataset.skip_report()


def test_nothing_usable_fails_naming_the_label_file(crops):
    root, lines = crops
    label_file = write_labels(root, "hopeless.txt", [f"{lines[0][0]}\t???\n", f"{lines[1][0]}\t\n"])
    with pytest.raises(DataError, match=r"hopeless\.txt: no usable sample"):
        build_dataset(config_for(label_file, root), "Eval")
    with pytest.raises(DataError, match=r"nowhere\.txt: label file not found"):
        build_dataset(config_for(str(root / "nowhere.txt"), root), "Eval")


def test_too_few_samples_for_a_training_batch_is_a_clear_error(crops):
    root, lines = crops
    label_file = write_labels(root, "three.txt", [f"{p}\t{label}\n" for p, label in lines[:3]])
    with pytest.raises(DataError, match="batch_size_per_card=8"):
        build_dataloader(config_for(label_file, root, split="Train", batch=8, drop_last=True), "Train")


def test_ratio_sampling_and_shuffle_follow_paddleocr(crops):
    root, lines = crops
    rows = [f"{p}\t{label}\n" for p, label in lines]
    label_file = write_labels(root, "all.txt", rows)
    train = SimpleDataSet(str(root), [label_file], TRANSFORMS, ratio_list=0.5, mode="train", seed=3,
                          global_config=GLOBAL)
    random.seed(3)  # PaddleOCR: random.seed(seed); random.sample(lines, round(len * ratio))
    expected = random.sample([r.encode() for r in rows], round(len(rows) * 0.5))
    assert [f"{p}\t{label}\n".encode() for p, label, _ in train.entries] == expected
    assert train.need_reset
    shuffled = SimpleDataSet(str(root), [label_file], TRANSFORMS, mode="train", seed=3, shuffle=True,
                             global_config=GLOBAL)
    random.seed(3)
    order = random.sample(rows, len(rows))
    random.seed(3)
    random.shuffle(order)
    assert [f"{p}\t{label}\n" for p, label, _ in shuffled.entries] == order
    evaluation = SimpleDataSet(str(root), [label_file], TRANSFORMS, mode="eval", global_config=GLOBAL)
    assert [e[1] for e in evaluation.entries] == [label for _, label in lines]
    with pytest.raises(ConfigError, match="ratio_list"):
        SimpleDataSet(str(root), [label_file], TRANSFORMS, ratio_list=[0.5, 0.5], global_config=GLOBAL)


def test_crlf_lines_and_json_path_lists(crops):
    root, lines = crops
    (path_a, label_a), (path_b, _) = lines[0], lines[1]
    label_file = write_labels(root, "crlf.txt", [f'["{path_a}", "{path_a}"]\t{label_a}\r\n',
                                                 f"{path_b}\t{'ab' * 12 + 'a'}\r\n"])
    dataset = SimpleDataSet(str(root), [label_file], TRANSFORMS, mode="eval", global_config=GLOBAL)
    assert len(dataset) == 2 and not dataset.scan_counts  # '\r' is not part of the label
    image, label, length = dataset[0]
    expected = label_a.lower()
    assert int(length) == len(expected) and image.shape == (3, 32, 100)


def test_eval_mode_widths_batch_and_check_feasibility_per_image(crops, tmp_path):
    square = np.full((32, 32, 3), 200, np.uint8)
    wide = np.full((32, 160, 3), 200, np.uint8)
    cv2.imwrite(str(tmp_path / "square.png"), square)
    cv2.imwrite(str(tmp_path / "wide.png"), wide)
    label_file = write_labels(tmp_path, "w.txt", ["square.png\tabcdefghij\n", "wide.png\tabcdefghij\n",
                                                  "square.png\tabc\n"])
    transforms = [dict(t) for t in TRANSFORMS]
    transforms[2] = {"RecResizeImg": {"image_shape": [3, 32, 16], "eval_mode": True}}
    loader = build_dataloader(config_for(label_file, tmp_path, batch=3, transforms=transforms), "Eval")
    assert not loader.dataset.scan_counts  # widths vary, so feasibility is judged per image
    (images, labels, lengths), = list(loader)
    # 10 letters need 10 frames: the 32-px-wide square (8 frames) is infeasible and replaced
    assert loader.dataset.skip_counts() == {"infeasible": 1}
    assert images.shape == [3, 3, 32, 160] and sorted(lengths.tolist()) == [3, 10, 10]
    fixed = [dict(t) for t in TRANSFORMS]
    fixed[2] = {"RecResizeImg": {"image_shape": [3, 32, 16]}}
    dataset = build_dataset(config_for(label_file, tmp_path, transforms=fixed), "Eval")
    assert dataset.scan_counts == {"infeasible": 2}


def test_read_pairs_yields_every_line_and_names_a_bad_one(tmp_path):
    from ppcrnn.data.label_file import read_pairs
    path = tmp_path / "labels.txt"
    path.write_bytes("a.jpg\tcat\r\n\nb.jpg\tdog\textra\n".encode("utf-8"))
    assert list(read_pairs(str(path))) == [("a.jpg", "cat"), ("b.jpg", "dog")]
    path.write_bytes(b"a.jpg\tcat\nno delimiter here\n")
    with pytest.raises(DataError, match=r"labels.txt:2: no '\\t' delimiter"):
        list(read_pairs(str(path)))
