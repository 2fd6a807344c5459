"""tools/render_synthetic.py freezes a config's synthetic samples as a PaddleOCR label-file set."""
import importlib.util
import os

import cv2
import numpy as np
import pytest
import yaml

from ppcrnn.config import load_config
from ppcrnn.data import build_synthetic_dataset
from ppcrnn.data.datasets import SimpleDataSet
from ppcrnn.errors import ConfigError
from train_helpers import TRANSFORMS, render_word_set, tiny_config

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def real_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("real")
    render_word_set(folder, 8, seed=3)
    return folder


def load_tool():
    spec = importlib.util.spec_from_file_location("render_synthetic_tool",
                                                  os.path.join(REPO, "tools", "render_synthetic.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_config(tmp_path, real_dir, mixed: bool = True):
    """Train: a MixedDataSet of real crops then SyntheticDataSet (the tool must find the second)."""
    config = tiny_config(real_dir, real_dir, tmp_path / "out")
    synthetic = {"name": "SyntheticDataSet", "num_samples": 40, "render_seed": 5, "transforms": TRANSFORMS}
    if mixed:
        config["Train"]["dataset"] = {"name": "MixedDataSet",
                                      "datasets": [config["Train"]["dataset"], synthetic]}
    path = tmp_path / "cfg.yml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_writes_the_rendered_samples_as_a_label_file_set(tmp_path, real_dir):
    config_path = write_config(tmp_path, real_dir)
    output = tmp_path / "frozen"
    assert load_tool().main(["-c", config_path, "-n", "12", "--output", str(output),
                             "--opt", "Train.dataset.datasets.1.render_seed=9"]) == 0

    lines = (output / "labels.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 12
    dataset = build_synthetic_dataset(load_config(config_path, ["Train.dataset.datasets.1.render_seed=9"]), "Train")
    other_seed = build_synthetic_dataset(load_config(config_path), "Train")
    for index, line in enumerate(lines):
        path, label = line.split("\t")
        expected = dataset.render(index)
        assert label == expected["label"]
        # PNG keeps every pixel: the files are exactly what training would have drawn
        assert np.array_equal(cv2.imread(str(output / path)), expected["image"])
    assert any(other_seed.render(i)["label"] != dataset.render(i)["label"] for i in range(12))

    # and any label-file reader takes the folder as it is
    readable = SimpleDataSet(str(output), [str(output / "labels.txt")], TRANSFORMS)
    assert len(readable) == 12


def test_asks_for_no_more_samples_than_an_epoch_holds(tmp_path, real_dir):
    config_path = write_config(tmp_path, real_dir)
    assert load_tool().main(["-c", config_path, "-n", "100", "--output", str(tmp_path / "all")]) == 0
    assert len((tmp_path / "all" / "labels.txt").read_text().splitlines()) == 40


def test_a_split_without_synthetic_data_is_an_error_naming_it(tmp_path, real_dir, capsys):
    config_path = write_config(tmp_path, real_dir, mixed=False)
    with pytest.raises(ConfigError, match="Train.dataset: holds no SyntheticDataSet"):
        build_synthetic_dataset(load_config(config_path), "Train")
    assert load_tool().main(["-c", config_path, "--output", str(tmp_path / "none")]) == 1
    assert "holds no SyntheticDataSet" in capsys.readouterr().err


def test_a_sample_the_renderer_cannot_draw_is_skipped_and_counted(tmp_path, real_dir, capsys):
    tool = load_tool()
    dataset = build_synthetic_dataset(load_config(write_config(tmp_path, real_dir)), "Train")
    draw = dataset.render

    def render(index):
        if index == 2:
            raise OSError("broken glyph")
        return draw(index)

    dataset.render = render
    assert tool.write_samples(dataset, 5, str(tmp_path / "some")) == (4, 1)
    names = [line.split("\t")[0] for line in (tmp_path / "some" / "labels.txt").read_text().splitlines()]
    assert names == [f"images/{i:06d}.png" for i in (0, 1, 3, 4)]
    assert "skipped synthetic #2: broken glyph" in capsys.readouterr().err
