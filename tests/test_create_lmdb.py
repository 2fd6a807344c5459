"""tools/create_lmdb.py -> LMDBDataSet round trip in the DTRB layout, bad lines skipped and listed."""
import importlib.util
import logging
import os
import shutil

import cv2
import lmdb
import numpy as np
import pytest

import ppcrnn  # noqa: F401  (registers components)
from ppcrnn.data import build_dataloader
from ppcrnn.data.datasets import LMDBDataSet
from ppcrnn.errors import DataError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GLOBAL = {"max_text_length": 25, "character_dict_path": None, "use_space_char": False}
DECODE_ONLY = [{"DecodeImage": {"img_mode": "BGR"}}, {"KeepKeys": {"keep_keys": ["image", "label"]}}]


def load_tool():
    spec = importlib.util.spec_from_file_location("create_lmdb_tool", os.path.join(REPO, "tools", "create_lmdb.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def labelled(benchmarks_dir, tmp_path):
    source = os.path.join(benchmarks_dir, "svt_647")
    with open(os.path.join(source, "labels.txt"), encoding="utf-8") as handle:
        rows = [line.rstrip("\n").split("\t") for line in handle][:10]
    os.makedirs(tmp_path / "images")
    for path, _ in rows:
        shutil.copy(os.path.join(source, path), tmp_path / path)
    (tmp_path / "images" / "broken.jpg").write_bytes(b"\x89PNG but not really")
    lines = [f"{p}\t{label}\n" for p, label in rows[:6]]
    lines += ["images/broken.jpg\tbroken\n", "images/gone.jpg\tgone\n", "just one field\n"]
    (tmp_path / "a.txt").write_text("".join(lines), encoding="utf-8")
    (tmp_path / "b.txt").write_text("".join(f"{p}\t{label}\n" for p, label in rows[6:]), encoding="utf-8")
    return tmp_path, rows


def test_round_trip_through_create_lmdb(labelled, capsys):
    root, rows = labelled
    out = root / "lmdb" / "train"
    code = load_tool().main(["--label_file_list", str(root / "a.txt"), str(root / "b.txt"),
                             "--data_dir", str(root), "--output", str(out)])
    assert code == 0
    printed = capsys.readouterr()
    assert "10 samples written, 3 skipped" in printed.out
    for expected in ("a.txt:7: corrupt image", "a.txt:8: missing image", "a.txt:9: malformed line"):
        assert expected in printed.err
    env = lmdb.open(str(out), readonly=True, lock=False)
    with env.begin() as txn:  # DTRB layout: 1-based keys
        assert txn.get(b"num-samples") == b"10"
        assert txn.get(b"label-000000001").decode() == rows[0][1]
        assert txn.get(b"image-000000001") == open(root / rows[0][0], "rb").read()
        assert txn.get(b"label-000000000") is None and txn.get(b"label-000000011") is None
    env.close()

    os.makedirs(root / "lmdb" / ".ipynb_checkpoints")  # PaddleOCR#3838: must not break loading
    warnings = []
    handler = logging.Handler()
    handler.emit = lambda record: warnings.append(record.getMessage())
    logging.getLogger("ppcrnn").addHandler(handler)
    try:
        dataset = LMDBDataSet(str(root / "lmdb"), DECODE_ONLY, mode="eval", global_config=GLOBAL)
    finally:
        logging.getLogger("ppcrnn").removeHandler(handler)
    assert any(".ipynb_checkpoints" in w and "skipped" in w for w in warnings)
    assert len(dataset) == 10
    for index in (0, 9):
        image, label = dataset[index]
        assert label == rows[index][1]
        assert np.array_equal(image, cv2.imread(str(root / rows[index][0]), cv2.IMREAD_COLOR))
    with pytest.raises(DataError, match="already holds an LMDB"):
        load_tool().create_lmdb([str(root / "b.txt")], str(root), str(out))


def test_lmdb_dataset_scans_labels_and_loads_batches(labelled, tmp_path):
    root, rows = labelled
    folder = tmp_path / "db"
    os.makedirs(folder)
    env = lmdb.open(str(folder), map_size=1 << 26)
    image = open(root / rows[0][0], "rb").read()
    labels = ["good", "x" * 30, "", "###", "fine"]
    with env.begin(write=True) as txn:
        for number, label in enumerate(labels, 1):
            txn.put(b"label-%09d" % number, label.encode())
            txn.put(b"image-%09d" % number, image)
        txn.put(b"image-%09d" % 6, image)  # sample 6 has no label
        txn.put(b"num-samples", b"6")
    env.close()
    transforms = [{"DecodeImage": {"img_mode": "BGR"}}, {"CTCLabelEncode": None},
                  {"RecResizeImg": {"image_shape": [3, 32, 100]}}, {"KeepKeys": {"keep_keys": ["image", "label", "length"]}}]
    config = {"Global": dict(GLOBAL, seed=1),
              "Train": {"dataset": {"name": "LMDBDataSet", "data_dir": str(tmp_path), "transforms": transforms},
                        "loader": {"batch_size_per_card": 2, "shuffle": True, "drop_last": True, "num_workers": 2}}}
    loader = build_dataloader(config, "Train")
    assert len(loader.dataset) == 2
    assert loader.dataset.scan_counts == {"too_long": 1, "empty_label": 1, "oov_only": 1, "missing_label": 1}
    (images, encoded, lengths), = list(loader)
    assert images.shape == [2, 3, 32, 100] and sorted(lengths.tolist()) == [4, 4]


def test_missing_lmdb_folder_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="nothing-here"):
        LMDBDataSet(str(tmp_path / "nothing-here"), DECODE_ONLY, global_config=GLOBAL)
    os.makedirs(tmp_path / "empty" / "sub")
    with pytest.raises(DataError, match="no usable sample"):
        LMDBDataSet(str(tmp_path / "empty"), DECODE_ONLY, global_config=GLOBAL)
