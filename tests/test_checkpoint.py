"""Checkpoint files: PaddleOCR layout, exact optimizer/LR/RNG restore, crash safety."""
import os
import pickle
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import paddle
import pytest

import ppcrnn  # noqa: F401
from ppcrnn.training import checkpoint as ckpt
from ppcrnn.training.optimizer import build_optimizer
from ppcrnn.utils.logging import get_logger

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPTIMIZER = {"name": "Adam", "lr": {"name": "Cosine", "learning_rate": 0.05, "warmup_epoch": 1}}


def make(seed=0):
    paddle.seed(seed)
    model = paddle.nn.Sequential(paddle.nn.Linear(6, 8), paddle.nn.ReLU(), paddle.nn.Linear(8, 3))
    optimizer, schedule = build_optimizer(OPTIMIZER, model, epochs=4, step_each_epoch=3)
    return model, optimizer, schedule


def train_steps(model, optimizer, schedule, steps, seed=7):
    rng = np.random.RandomState(seed)
    losses = []
    for _ in range(steps):
        x = paddle.to_tensor(rng.randn(5, 6).astype("float32"))
        loss = (model(x) ** 2).mean()
        loss.backward()
        optimizer.step()
        optimizer.clear_grad()
        schedule.step()
        losses.append(float(loss))
    return losses


def save(prefix, model, optimizer, epoch=1):
    ckpt.save_checkpoint(str(prefix), model, optimizer,
                         {"best_model_dict": {"acc": 0.5}, "epoch": epoch, "global_step": 3 * epoch,
                          "rng": ckpt.capture_rng()})


def test_files_and_states_follow_paddleocr(tmp_path):
    model, optimizer, schedule = make()
    train_steps(model, optimizer, schedule, 2)
    save(tmp_path / "latest", model, optimizer)
    assert sorted(os.listdir(tmp_path)) == ["latest.pdopt", "latest.pdparams", "latest.states"]
    raw = (tmp_path / "latest.states").read_bytes()
    assert raw[:2] == b"\x80\x02"  # pickle protocol 2
    states = pickle.loads(raw)
    assert states["epoch"] == 1 and states["global_step"] == 3 and states["best_model_dict"] == {"acc": 0.5}
    assert set(paddle.load(str(tmp_path / "latest.pdparams"))) == set(model.state_dict())


def test_resume_continues_exactly_even_with_other_parameter_names(tmp_path):
    model, optimizer, schedule = make()
    train_steps(model, optimizer, schedule, 4)
    save(tmp_path / "latest", model, optimizer)
    expected = train_steps(model, optimizer, schedule, 5)
    # a second model in the same process gets other generated names (linear_2 ...), as after a restart
    model2, optimizer2, schedule2 = make(seed=123)
    assert [p.name for p in model2.parameters()] != [p.name for p in model.parameters()]
    ckpt.load_checkpoint(str(tmp_path / "latest"), model2, optimizer2, get_logger())
    assert schedule2.last_epoch == 4
    np.testing.assert_allclose(train_steps(model2, optimizer2, schedule2, 5), expected, rtol=1e-6)


def test_rng_state_round_trip():
    random.seed(1), np.random.seed(1), paddle.seed(1)
    state = pickle.loads(pickle.dumps(ckpt.capture_rng(), protocol=2))
    first = (random.random(), np.random.rand(), float(paddle.rand([1])))
    ckpt.restore_rng(state, get_logger())
    assert (random.random(), np.random.rand(), float(paddle.rand([1]))) == first


def partial_then_fail(real_save):
    """A paddle.save that leaves half a file behind and raises, like a crash mid-write."""
    def save(obj, path, *args, **kwargs):
        real_save(obj, path, *args, **kwargs)
        with open(path, "r+b") as handle:
            handle.truncate(os.path.getsize(path) // 2)
        raise OSError("disk full (simulated)")
    return save


def test_failed_save_leaves_previous_checkpoint_loadable(tmp_path, monkeypatch):
    model, optimizer, schedule = make()
    train_steps(model, optimizer, schedule, 2)
    save(tmp_path / "latest", model, optimizer)
    saved = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    train_steps(model, optimizer, schedule, 2)
    for target in ("paddle.save", "pickle.dump"):
        with monkeypatch.context() as patch:
            if target == "paddle.save":
                patch.setattr(paddle, "save", partial_then_fail(paddle.save))
            else:  # .states is the last file written
                patch.setattr(ckpt.pickle, "dump", lambda *a, **k: (_ for _ in ()).throw(OSError("killed")))
            with pytest.raises(OSError):
                save(tmp_path / "latest", model, optimizer, epoch=2)
        assert sorted(os.listdir(tmp_path)) == ["latest.pdopt", "latest.pdparams", "latest.states"]
        fresh, fresh_optimizer, _ = make(seed=5)
        states = ckpt.load_checkpoint(str(tmp_path / "latest"), fresh, fresh_optimizer, get_logger())
        assert states["epoch"] == 1
        for key, value in fresh.state_dict().items():
            np.testing.assert_array_equal(value.numpy(), saved[key])


def test_kill_during_save_leaves_previous_checkpoint_loadable(tmp_path):
    """SIGKILL a process while it is inside the write of a new checkpoint."""
    marker = tmp_path / "mid-save"
    script = textwrap.dedent(f"""
        import os, sys, time, paddle
        sys.path.insert(0, {REPO!r})
        sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
        from test_checkpoint import make, save, train_steps
        model, optimizer, schedule = make()
        train_steps(model, optimizer, schedule, 2)
        save({str(tmp_path / 'latest')!r}, model, optimizer, epoch=1)
        train_steps(model, optimizer, schedule, 2)
        real_save = paddle.save
        def slow_save(obj, path, *args, **kwargs):
            real_save(obj, path, *args, **kwargs)
            with open(path, "r+b") as handle:
                handle.truncate(os.path.getsize(path) // 2)
            open({str(marker)!r}, "w").close()
            time.sleep(60)
        paddle.save = slow_save
        save({str(tmp_path / 'latest')!r}, model, optimizer, epoch=2)
    """)
    process = subprocess.Popen([sys.executable, "-c", script], cwd=str(tmp_path))
    try:
        deadline = time.time() + 120
        while not marker.exists():
            assert process.poll() is None, "the saving process ended early"
            assert time.time() < deadline, "the saving process never reached the save"
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    model, optimizer, _ = make(seed=9)
    states = ckpt.load_checkpoint(str(tmp_path / "latest"), model, optimizer, get_logger())
    assert states["epoch"] == 1


def test_interrupted_renames_are_detected(tmp_path, monkeypatch):
    model, optimizer, schedule = make()
    save(tmp_path / "latest", model, optimizer)
    train_steps(model, optimizer, schedule, 2)
    real_replace, calls = os.replace, []

    def replace_then_die(src, dst):
        calls.append(dst)
        if str(dst).endswith(".pdparams"):  # .pdopt is already new, .pdparams/.states are old
            raise KeyboardInterrupt
        real_replace(src, dst)
    monkeypatch.setattr(ckpt.os, "replace", replace_then_die)
    with pytest.raises(KeyboardInterrupt):
        save(tmp_path / "latest", model, optimizer, epoch=2)
    monkeypatch.undo()
    with pytest.raises(ckpt.CheckpointError, match="interrupted"):
        ckpt.load_checkpoint(str(tmp_path / "latest"), *make()[:2], get_logger())


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(ckpt.CheckpointError, match="nothing.pdparams not found"):
        ckpt.load_checkpoint(str(tmp_path / "nothing"), *make()[:2], get_logger())
