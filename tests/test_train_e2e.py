"""End to end on a tiny rendered word set: train, checkpoints, exact resume, eval, infer, NaN
handling, fine-tuning with head growth. Each training run takes a few seconds on a CPU."""
import copy
import os
import pickle

import numpy as np
import paddle
import pytest

import ppcrnn  # noqa: F401
from ppcrnn.config import validate_config
from ppcrnn.errors import ConfigError
from ppcrnn.training.evaluation_run import run_evaluation
from ppcrnn.training.infer_run import infer_images
from ppcrnn.training.nan_guard import TrainingDiverged
from ppcrnn.training.trainer import Trainer
from train_helpers import render_word_set, tiny_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def word_sets(tmp_path_factory):
    root = tmp_path_factory.mktemp("words")
    render_word_set(root / "train", 32, seed=1)
    render_word_set(root / "eval", 12, seed=2)
    return root


def config_for(word_sets, save_dir, **global_overrides):
    config = tiny_config(word_sets / "train", word_sets / "eval", save_dir)
    config["Global"].update(global_overrides)
    return validate_config(config)


@pytest.fixture(scope="module")
def full_run(word_sets, tmp_path_factory):
    """Two uninterrupted epochs (4 steps each)."""
    save_dir = tmp_path_factory.mktemp("full")
    result = Trainer(config_for(word_sets, save_dir)).train()
    return save_dir, result


def test_writes_paddleocr_checkpoints_config_and_log(full_run):
    save_dir, result = full_run
    files = set(os.listdir(save_dir))
    for prefix in ("latest", "best_accuracy", "iter_epoch_1", "iter_epoch_2"):
        assert {prefix + ".pdparams", prefix + ".pdopt", prefix + ".states"} <= files, prefix
    assert {"config.yml", "train.log"} <= files
    assert os.path.isfile(save_dir / "best_model" / "model.pdparams")
    with open(save_dir / "latest.states", "rb") as handle:
        states = pickle.load(handle)
    assert states["epoch"] == 2 and states["global_step"] == 8
    assert states["characters"][0] == "blank" and len(states["characters"]) == 37
    assert states["best_model_dict"]["acc"] == result.best_model_dict["acc"]
    log = (save_dir / "train.log").read_text()
    progress = [line for line in log.splitlines() if "global_step: 2," in line][0]
    for field in ("epoch: [1/2]", "lr:", "loss:", "acc:", "norm_edit_dis:", "avg_reader_cost:",
                  "avg_batch_cost:", "ips:", "eta:"):
        assert field in progress, field
    assert "cur metric, acc:" in log and "best metric, acc:" in log


def test_interrupted_then_resumed_matches_uninterrupted(full_run, word_sets, tmp_path, monkeypatch):
    _, full = full_run
    interrupted = Trainer(config_for(word_sets, tmp_path))
    prepare = interrupted._prepare_epoch

    def crash_at_epoch_2(epoch):
        if epoch == 2:
            raise KeyboardInterrupt("simulated crash")
        prepare(epoch)
    interrupted._prepare_epoch = crash_at_epoch_2
    with pytest.raises(KeyboardInterrupt):
        interrupted.train()
    resumed = Trainer(config_for(word_sets, tmp_path, checkpoints=str(tmp_path / "latest"))).train()
    assert [step for step, _ in resumed.step_losses] == [5, 6, 7, 8]
    expected = [loss for step, loss in full.step_losses if step > 4]
    np.testing.assert_allclose([loss for _, loss in resumed.step_losses], expected, rtol=1e-6, atol=1e-6)
    assert resumed.best_model_dict["acc"] == full.best_model_dict["acc"]


def test_eval_reproduces_the_best_metric(full_run, word_sets):
    save_dir, result = full_run
    config = config_for(word_sets, save_dir, checkpoints=str(save_dir / "best_accuracy"))
    rows = run_evaluation(config, [("eval", config)])
    assert rows[0]["words"] == 12
    assert rows[0]["acc"] == pytest.approx(result.best_model_dict["acc"])
    assert rows[0]["norm_edit_dis"] == pytest.approx(result.best_model_dict["norm_edit_dis"])


def test_infer_writes_one_line_per_image(full_run, word_sets):
    save_dir, _ = full_run
    config = config_for(word_sets, save_dir, pretrained_model=str(save_dir / "best_accuracy"),
                        infer_img=str(word_sets / "eval" / "images"))
    rows = infer_images(config)
    lines = (save_dir / "predicts.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(rows) == 12
    for line, (path, text, score) in zip(lines, rows):
        assert line.split("\t") == [path, text, str(score)]
        assert 0.0 <= score <= 1.0


class NanLoss:
    """Wraps the CTC loss, making it NaN at the given global steps."""

    def __init__(self, trainer, steps):
        self.trainer, self.loss_fn, self.steps = trainer, trainer.loss_fn, steps

    def __call__(self, preds, batch):
        losses = self.loss_fn(preds, batch)
        if self.trainer.global_step in self.steps:
            losses["loss"] = losses["loss"] * float("nan")
        return losses


def test_nan_step_is_skipped_counted_and_logged(word_sets, tmp_path):
    trainer = Trainer(config_for(word_sets, tmp_path))
    trainer.loss_fn = NanLoss(trainer, {3, 6})
    result = trainer.train()
    assert result.nan_steps == 2
    assert [step for step, _ in result.step_losses] == [1, 2, 4, 5, 7, 8]
    # a NaN loss that reached backward() would have turned every weight into NaN
    assert all(np.isfinite(p.numpy()).all() for p in trainer.model.parameters())
    assert np.isfinite([loss for _, loss in result.step_losses]).all()
    assert "global_step 3: loss is nan; step skipped" in (tmp_path / "train.log").read_text()


def test_too_many_nan_steps_in_a_row_stop_with_advice(word_sets, tmp_path):
    trainer = Trainer(config_for(word_sets, tmp_path, max_nan_steps=3))
    trainer.loss_fn = NanLoss(trainer, set(range(2, 100)))
    with pytest.raises(TrainingDiverged, match="global_step 4") as info:
        trainer.train()
    message = str(info.value)
    assert "learning_rate" in message and "warm" in message


def test_fine_tune_grows_the_head_for_appended_characters(full_run, word_sets, tmp_path):
    save_dir, _ = full_run
    dict_path = tmp_path / "dict.txt"
    dict_path.write_text("\n".join("0123456789abcdefghijklmnopqrstuvwxyz") + "\n-\n+\n", encoding="utf-8")
    config = config_for(word_sets, tmp_path, pretrained_model=str(save_dir / "best_accuracy"),
                        character_dict_path=str(dict_path))
    trainer = Trainer(config)
    old = paddle.load(str(save_dir / "best_accuracy.pdparams"))
    new_weight = trainer.model.head.fc.weight.numpy()
    assert new_weight.shape[1] == 39
    np.testing.assert_array_equal(new_weight[:, :37], old["head.fc.weight"].numpy())
    np.testing.assert_array_equal(trainer.model.backbone.conv1.conv.weight.numpy(),
                                  old["backbone.conv1.conv.weight"].numpy())
    assert "grew the head" in (tmp_path / "train.log").read_text()


def test_resume_refuses_another_character_list(full_run, word_sets, tmp_path):
    save_dir, _ = full_run
    dict_path = tmp_path / "dict.txt"
    dict_path.write_text("\n".join("0123456789abcdefghijklmnopqrstuvwxyz") + "\n", encoding="utf-8")
    config = config_for(word_sets, tmp_path, checkpoints=str(save_dir / "latest"),
                        character_dict_path=str(dict_path), use_space_char=True)
    with pytest.raises(ConfigError, match="pretrained_model"):
        Trainer(config)


def test_visualdl_scalars(word_sets, tmp_path):
    pytest.importorskip("visualdl")
    config = config_for(word_sets, tmp_path, use_visualdl=True, epoch_num=1)
    Trainer(copy.deepcopy(config)).train()
    assert os.listdir(tmp_path / "vdl"), "no VisualDL log written"


class InfeasibleLoss:
    """Wraps the CTC loss, reporting two infeasible labels in every batch."""

    def __init__(self, loss_fn):
        self.loss_fn = loss_fn

    def __call__(self, preds, batch):
        return {**self.loss_fn(preds, batch), "infeasible": 2}


def test_infeasible_labels_are_totalled_per_epoch(word_sets, tmp_path):
    trainer = Trainer(config_for(word_sets, tmp_path, epoch_num=1))
    trainer.loss_fn = InfeasibleLoss(trainer.loss_fn)
    trainer.train()
    assert "epoch 1: 8 training labels were infeasible for CTC" in (tmp_path / "train.log").read_text()


@pytest.mark.parametrize("global_config, evals", [
    ({"eval_batch_step": [0, 4]}, [4, 8]),
    ({"eval_batch_step": [5, 2]}, [7]),
    ({"eval_batch_step": 3}, [3, 6]),
    ({"eval_batch_step": [0, 100], "eval_batch_epoch": 1}, [4, 8]),
])
def test_eval_schedule(word_sets, tmp_path, global_config, evals):
    trainer = Trainer(config_for(word_sets, tmp_path, **global_config))
    seen = []
    trainer._evaluate_and_keep_best = lambda epoch, done: seen.append(trainer.global_step)
    trainer.train()
    assert seen == evals


def test_bad_label_file_trains_and_reports_each_problem(word_sets, tmp_path):
    """A corrupt image, a missing image, a 30-character label and an OOV-only label: training runs
    to the end and train.log names each problem."""
    train_dir = tmp_path / "bad"
    label_file = render_word_set(train_dir, 16, seed=3)
    (train_dir / "images" / "corrupt.png").write_bytes(b"\x89PNG not really")
    with open(label_file, "a", encoding="utf-8") as handle:
        handle.write("images/corrupt.png\tcorrupt\n")
        handle.write("images/missing.png\tmissing\n")
        handle.write("images/0.png\t" + "abcdefghij" * 3 + "\n")
        handle.write("images/1.png\t!!??\n")
    config = tiny_config(train_dir, word_sets / "eval", tmp_path / "out", epochs=2, batch_size=4)
    result = Trainer(validate_config(config)).train()
    assert result.global_step > 0
    log = (tmp_path / "out" / "train.log").read_text()
    for needle in ("corrupt.png", "missing.png", "labels.txt:19", "labels.txt:20"):
        assert needle in log, needle


def test_fast_step_trains_with_the_same_losses(word_sets, tmp_path):
    plain = Trainer(config_for(word_sets, tmp_path / "plain", epoch_num=1)).train()
    fast = Trainer(config_for(word_sets, tmp_path / "fast", epoch_num=1, fast_step=True)).train()
    assert "use ppcrnn's C++ operators" in (tmp_path / "fast" / "train.log").read_text()
    np.testing.assert_allclose(fast.step_losses, plain.step_losses, rtol=1e-4, atol=1e-4)
