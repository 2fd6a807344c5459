"""The command-line programs: tools/train.py, tools/eval.py, tools/infer_rec.py, and data-parallel
training on CPU processes (Global.cpu_processes, which runs `paddle.distributed.launch`)."""
import os
import subprocess
import sys

import numpy as np
import pytest
import yaml
from rapidfuzz.distance import Levenshtein

import ppcrnn  # noqa: F401
from ppcrnn.config import validate_config
from ppcrnn.errors import ConfigError
from ppcrnn.training.components import build_post_process, build_recognizer
from ppcrnn.training.cpu_processes import wanted_processes
from ppcrnn.training.evaluation_run import run_evaluation
from ppcrnn.training.trainer import Trainer
from ppcrnn.weights import save_weights
from train_helpers import render_word_set, tiny_config

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
import eval as eval_tool  # noqa: E402


def run_tool(*args, timeout=300):
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def word_sets(tmp_path_factory):
    root = tmp_path_factory.mktemp("words")
    render_word_set(root / "train", 16, seed=1)
    render_word_set(root / "eval", 8, seed=2)
    return root


def write_config(word_sets, folder, **global_overrides):
    config = tiny_config(word_sets / "train", word_sets / "eval", folder / "out", epochs=1)
    config["Global"].update(global_overrides)
    path = folder / "tiny.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def test_train_rejects_a_bad_option_naming_it(word_sets, tmp_path):
    config = write_config(word_sets, tmp_path)
    result = run_tool("tools/train.py", "-c", str(config), "-o", "Optimizer.betaa1=0.9")
    assert result.returncode == 1
    assert "Optimizer.betaa1" in result.stderr and "beta1" in result.stderr


@pytest.mark.slow
def test_train_eval_infer_from_the_command_line(word_sets, tmp_path):
    config = write_config(word_sets, tmp_path, eval_batch_step=[0, 2])
    result = run_tool("tools/train.py", "-c", str(config))
    assert result.returncode == 0, result.stderr[-2000:]
    out = tmp_path / "out"
    assert {"latest.pdparams", "best_accuracy.pdparams", "iter_epoch_1.states"} <= set(os.listdir(out))
    assert "global_step: 2," in (out / "train.log").read_text()

    result = run_tool("tools/eval.py", "-c", str(config), "-o", f"Global.checkpoints={out / 'best_accuracy'}",
                      "--protocol", "benchmark", "--data_dirs", str(word_sets / "train"), str(word_sets / "eval"))
    assert result.returncode == 0, result.stderr[-2000:]
    table = result.stdout[result.stdout.index("evaluation (benchmark protocol)"):]
    assert [line.split("|")[0].strip() for line in table.splitlines()[2:5]] == ["train", "eval", "mean"]

    result = run_tool("tools/infer_rec.py", "-c", str(config), "-o", f"Global.pretrained_model={out / 'latest'}",
                      f"Global.infer_img={word_sets / 'eval' / 'images' / '3.png'}")
    assert result.returncode == 0, result.stderr[-2000:]
    line = (out / "predicts.txt").read_text(encoding="utf-8").rstrip("\n")
    path, text, score = line.split("\t")
    assert path.endswith("3.png") and 0.0 <= float(score) <= 1.0


@pytest.fixture
def cased_set(tmp_path):
    """Labels that differ only by case and punctuation, and a model that always reads 'a'."""
    folder = tmp_path / "cased"
    render_word_set(folder, 6, seed=3)
    labels = ["a", "A", "a!", "A.", "b", "ab"]
    (folder / "labels.txt").write_text("".join(f"images/{i}.png\t{t}\n" for i, t in enumerate(labels)))
    dict_path = tmp_path / "dict.txt"
    dict_path.write_text("\n".join("abAB!.") + "\n", encoding="utf-8")
    config = validate_config(tiny_config(folder, folder, tmp_path / "out"))
    config["Global"]["character_dict_path"] = str(dict_path)
    post_process = build_post_process(config)
    model = build_recognizer(config, len(post_process.character))
    bias = np.zeros(len(post_process.character), dtype="float32")
    bias[post_process.character.index("a")] = 50.0  # every frame 'a' -> greedy text "a"
    model.head.fc.bias.set_value(bias)
    save_weights(model, str(tmp_path / "reads_a"))
    config["Global"]["pretrained_model"] = str(tmp_path / "reads_a")
    return config, labels


def expected_scores(labels, normalise):
    targets = [normalise(label) for label in labels]
    acc = sum(target == "a" for target in targets) / len(targets)
    ned = 1 - sum(Levenshtein.normalized_distance("a", target) for target in targets) / len(targets)
    return acc, ned


def test_eval_protocols(cased_set):
    config, labels = cased_set
    as_is = run_evaluation(config, eval_tool.eval_sets(config, []), "paddleocr")[0]
    benchmark = run_evaluation(config, eval_tool.eval_sets(config, []), "benchmark")[0]
    acc, ned = expected_scores(labels, lambda t: t)
    assert as_is["acc"] == pytest.approx(acc, abs=1e-4) and as_is["norm_edit_dis"] == pytest.approx(ned, abs=1e-4)
    acc, ned = expected_scores(labels, lambda t: "".join(c for c in t.lower() if c.isalnum()))
    assert benchmark["acc"] == pytest.approx(acc, abs=1e-4)
    assert benchmark["norm_edit_dis"] == pytest.approx(ned, abs=1e-4)
    assert benchmark["words"] == as_is["words"] == len(labels)


def test_eval_gives_one_row_per_label_file(word_sets, tmp_path):
    config = validate_config(tiny_config(word_sets / "train", word_sets / "eval", tmp_path))
    dataset = config["Eval"]["dataset"]
    dataset["data_dir"] = str(word_sets)
    dataset["label_file_list"] = [str(word_sets / "train" / "labels.txt"), str(word_sets / "eval" / "labels.txt")]
    names = [name for name, _ in eval_tool.eval_sets(config, [])]
    assert names == [os.path.join("train", "labels.txt"), os.path.join("eval", "labels.txt")]


def test_gpu_and_amp_fall_back_to_cpu_with_warnings(word_sets, tmp_path):
    config = validate_config(tiny_config(word_sets / "train", word_sets / "eval", tmp_path))
    config["Global"].update(use_gpu=True, use_amp=True)
    trainer = Trainer(config)
    log = (tmp_path / "train.log").read_text()
    assert trainer.env.device == "cpu" and trainer.env.amp is None
    assert "no usable GPU; running on CPU" in log and "use_amp needs a GPU" in log


@pytest.mark.slow
def test_data_parallel_on_two_cpu_processes(word_sets, tmp_path):
    """Global.cpu_processes: 2 makes a plain `train.py` call run paddle.distributed.launch itself."""
    config = write_config(word_sets, tmp_path, epoch_num=1, cpu_processes=2)
    result = run_tool("tools/train.py", "-c", str(config))
    logs = tmp_path / "out" / "launch_logs"
    assert result.returncode == 0, (logs / "workerlog.0").read_text()[-3000:]
    assert "training data-parallel on 2 CPU processes" in result.stdout
    rank0, rank1 = (logs / "workerlog.0").read_text(), (logs / "workerlog.1").read_text()
    assert "(2 process(es))" in rank0
    # 16 images / 2 ranks / batch 8 = 1 step per epoch on each rank
    assert "epoch: [1/1], global_step: 1," in rank0
    assert "saved" not in rank1 and "saved latest" in rank0
    assert (tmp_path / "out" / "latest.pdparams").is_file()


def test_cpu_processes_start_only_where_they_help(monkeypatch):
    monkeypatch.delenv("PADDLE_TRAINER_ID", raising=False)
    monkeypatch.delenv("PADDLE_TRAINERS_NUM", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert wanted_processes({"cpu_processes": 4}) == 2        # no more than the cores
    assert wanted_processes({}) == 1
    monkeypatch.setenv("PADDLE_TRAINER_ID", "0")             # already launched: no second launch
    assert wanted_processes({"cpu_processes": 2}) == 1
    with pytest.raises(ConfigError, match="Global.cpu_processes"):
        wanted_processes({"cpu_processes": 0})
