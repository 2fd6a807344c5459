"""tools/show_dataset.py draws the samples as the model sees them into a PNG grid."""
import importlib.util
import math
import os

import cv2
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRANSFORMS = [{"DecodeImage": {"img_mode": "BGR", "channel_first": False}}, {"CTCLabelEncode": None},
              {"RecResizeImg": {"image_shape": [3, 32, 100]}},
              {"KeepKeys": {"keep_keys": ["image", "label", "length"]}}]


def load_tool():
    spec = importlib.util.spec_from_file_location("show_dataset_tool", os.path.join(REPO, "tools", "show_dataset.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_config(tmp_path, benchmarks_dir):
    eval_transforms = [dict(t) for t in TRANSFORMS]
    eval_transforms[2] = {"RecResizeImg": {"image_shape": [3, 32, 100], "eval_mode": True}}
    svt = os.path.join(benchmarks_dir, "svt_647")
    config = {
        "Global": {"epoch_num": 1, "save_model_dir": str(tmp_path / "out"), "max_text_length": 25},
        "Architecture": {"model_type": "rec", "algorithm": "CRNN",
                         "Backbone": {"name": "MobileNetV3", "scale": 0.5, "model_name": "large"},
                         "Neck": {"name": "SequenceEncoder", "encoder_type": "rnn", "hidden_size": 96},
                         "Head": {"name": "CTCHead", "fc_decay": 0}},
        "Train": {"dataset": {"name": "SyntheticDataSet", "num_samples": 100,
                              "transforms": TRANSFORMS[:1] + [{"RecAug": None}] + TRANSFORMS[1:]},
                  "loader": {"batch_size_per_card": 8, "shuffle": True, "drop_last": True, "num_workers": 0}},
        "Eval": {"dataset": {"name": "SimpleDataSet", "data_dir": svt,
                             "label_file_list": [os.path.join(svt, "labels.txt")], "transforms": eval_transforms},
                 "loader": {"batch_size_per_card": 8, "shuffle": False, "drop_last": False, "num_workers": 0}},
    }
    path = tmp_path / "show.yml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_show_dataset_writes_a_png_grid(tmp_path, benchmarks_dir, capsys):
    tool = load_tool()
    config = write_config(tmp_path, benchmarks_dir)
    out = tmp_path / "grid.png"
    assert tool.main(["-c", config, "--split", "Train", "-n", "10", "-o", str(out), "--columns", "4"]) == 0
    grid = cv2.imread(str(out))
    assert grid is not None
    rows = math.ceil(10 / 4)
    assert grid.shape[0] >= rows * 32 * tool.SCALE and grid.shape[1] >= 4 * 100 * tool.SCALE
    assert grid.std() > 10  # pictures were drawn, not a blank canvas
    eval_out = tmp_path / "eval.png"
    assert tool.main(["-c", config, "--split", "Eval", "-n", "6", "-o", str(eval_out), "--random"]) == 0
    assert cv2.imread(str(eval_out)) is not None
    assert "eval.png: 6 samples of Eval" in capsys.readouterr().out


def test_show_dataset_reports_config_errors(tmp_path, benchmarks_dir, capsys):
    config = write_config(tmp_path, benchmarks_dir)
    code = load_tool().main(["-c", config, "-o", str(tmp_path / "x.png"), "--opt", "Train.dataset.num_samplez=3"])
    assert code == 1
    assert "Train.dataset.num_samplez" in capsys.readouterr().err
