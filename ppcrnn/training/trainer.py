"""The training program behind `tools/train.py`, following PaddleOCR's `program.train`.

`Trainer(config).train()` builds everything from a validated config, optionally resumes
(`Global.checkpoints`) or fine-tunes (`Global.pretrained_model`), then loops over epochs: forward,
CTC loss, backward, optimizer and LR step every iteration; a smoothed log line every
`print_batch_step` steps; evaluation every `eval_batch_step` steps (`best_accuracy` when the main
metric ties or improves); `latest` after every epoch and `iter_epoch_N` every `save_epoch_step`.
Returns a `TrainResult` with the per-step losses."""
from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import paddle
import paddle.distributed as dist

from ..config import dump_config
from ..data import build_dataloader, set_epoch
from ..errors import ConfigError
from ..registry import LOSSES, METRICS
from ..utils.logging import get_logger
from ..weights import load_pretrained
from .checkpoint import (capture_rng, checkpoint_prefix, load_checkpoint, read_states, restore_rng,
                         save_best_model, save_checkpoint)
from .components import build_post_process, build_recognizer
from .environment import set_seed, setup_environment
from .evaluator import evaluate
from .fast_step import accelerate_model
from .nan_guard import NanGuard
from .optimizer import build_optimizer
from .stats import SmoothedStats, Stopwatch, Throughput


@dataclass
class TrainResult:
    """What a run ends with: the best eval metrics, the last global step, the loss of every step
    that was not skipped (global step, loss), and how many steps a non-finite loss skipped."""

    best_model_dict: Dict[str, float]
    global_step: int
    step_losses: List[Tuple[int, float]] = field(default_factory=list)
    nan_steps: int = 0


def eval_schedule(global_config: dict, steps_per_epoch: int) -> Tuple[int, int]:
    """(start_step, every_steps) from `eval_batch_step` (int N or [start, N]) / `eval_batch_epoch`."""
    if global_config.get("eval_batch_epoch"):
        return 0, max(1, round(steps_per_epoch * global_config["eval_batch_epoch"]))
    value = global_config.get("eval_batch_step", [0, 2000])
    if isinstance(value, int):
        return 0, max(1, value)
    if len(value) != 2:
        raise ConfigError(f"Global.eval_batch_step: expected N or [start, N], got {value!r}")
    return int(value[0]), max(1, int(value[1]))


class Trainer:
    """Owns the model, optimizer, loaders and bookkeeping of one training run."""

    def __init__(self, config: dict):
        self.config = config
        self.global_config = g = config["Global"]
        self.logger = get_logger()
        self.save_dir = g["save_model_dir"]
        if dist.get_rank() == 0:  # the launcher's rank, known before the process group starts
            os.makedirs(self.save_dir, exist_ok=True)
            self._log_to(os.path.join(self.save_dir, "train.log"))
        else:
            self.logger.setLevel("ERROR")
        self.env = setup_environment(g, self.logger)
        if self.env.is_main:
            dump_config(config, os.path.join(self.save_dir, "config.yml"))
        set_seed(g["seed"])
        self.train_loader = build_dataloader(config, "Train", seed=g["seed"], distributed=self.env.distributed)
        self.eval_loader = build_dataloader(config, "Eval", seed=g["seed"]) if config.get("Eval") else None
        if self.eval_loader is not None and len(self.eval_loader) == 0:
            self.logger.warning("Eval: the loader is empty; evaluation is disabled")
            self.eval_loader = None
        self.post_process = build_post_process(config)
        self.model = build_recognizer(config, len(self.post_process.character))
        if g.get("fast_step") and not self.env.amp:
            # Faster CPU kernels for the depthwise convolutions; parameters and keys are unchanged.
            accelerate_model(self.model)
        self.loss_fn = LOSSES.build(config["Loss"], "Loss")
        self.optimizer, self.lr = build_optimizer(config.get("Optimizer"), self.model, g["epoch_num"],
                                                  len(self.train_loader))
        self.metric = METRICS.build(config["Metric"], "Metric")
        if self.env.amp:
            self.model, self.optimizer = self.env.amp.decorate(self.model, self.optimizer)
        self.start_epoch, self.global_step = 1, 0
        self.best: Dict[str, float] = {}
        self.nan_guard = NanGuard(int(g.get("max_nan_steps", 10)), self.logger)
        self._load_weights()
        self.net = paddle.DataParallel(self.model) if self.env.distributed else self.model
        self.vdl = None
        if g.get("use_visualdl") and self.env.is_main:
            from .visualdl_writer import VisualDLWriter
            self.vdl = VisualDLWriter(self.save_dir)

    def _log_to(self, log_file: str) -> None:
        """This run's train.log replaces the log file of an earlier run in the same process."""
        for handler in [h for h in self.logger.handlers if isinstance(h, logging.FileHandler)]:
            self.logger.removeHandler(handler)
            handler.close()
        self.logger = get_logger(log_file)

    def _load_weights(self) -> None:
        g = self.global_config
        if g.get("checkpoints"):
            saved_chars = read_states(checkpoint_prefix(g["checkpoints"])).get("characters")
            if saved_chars and list(saved_chars) != list(self.post_process.character):
                raise ConfigError(
                    f"Global.checkpoints: {g['checkpoints']} was trained with another character list "
                    f"({len(saved_chars)} classes, this config {len(self.post_process.character)}); "
                    f"use Global.pretrained_model to fine-tune instead of resuming")
            states = load_checkpoint(g["checkpoints"], self.model, self.optimizer, self.logger)
            self.start_epoch = int(states.get("epoch", 0)) + 1
            self.global_step = int(states.get("global_step", 0))
            self.best = dict(states.get("best_model_dict") or {})
            self.nan_guard.total = int(states.get("nan_steps", 0))
            if states.get("lr_scheduler") and isinstance(self.lr, paddle.optimizer.lr.LRScheduler):
                self.lr.set_state_dict(states["lr_scheduler"])
            if not (states.get("data_order") or {}).get("epoch_complete", True):
                self.logger.warning(f"{g['checkpoints']} was saved mid-epoch; as in PaddleOCR the rest of epoch "
                                    f"{states['epoch']} is skipped (resume from `latest` for an exact resume)")
            if states.get("amp_scaler") and self.env.amp:
                self.env.amp.scaler.load_state_dict(states["amp_scaler"])
            if "rng" in states:
                restore_rng(states["rng"], self.logger)  # last, after everything that draws numbers
        elif g.get("pretrained_model"):
            load_pretrained(self.model, g["pretrained_model"], characters=self.post_process.character,
                            logger=self.logger)

    def train(self) -> TrainResult:
        g = self.global_config
        epochs, steps_per_epoch = g["epoch_num"], len(self.train_loader)
        start_eval, eval_every = eval_schedule(g, steps_per_epoch)
        stats, throughput = SmoothedStats(g["log_smooth_window"]), Throughput()
        result = TrainResult(self.best, self.global_step)
        total_steps = epochs * steps_per_epoch
        self.logger.info(f"training {epochs} epochs x {steps_per_epoch} steps on {self.env.device} "
                         f"({self.env.world_size} process(es)), starting at epoch {self.start_epoch}")
        for epoch in range(self.start_epoch, epochs + 1):
            self._prepare_epoch(epoch)
            infeasible, watch = 0, Stopwatch()
            self.net.train()
            for step, batch in enumerate(self.train_loader):
                reader_seconds = watch.lap()
                self.global_step += 1
                loss_value, batch_metric, batch_infeasible = self._train_step(batch)
                infeasible += batch_infeasible
                if loss_value is not None:
                    result.step_losses.append((self.global_step, loss_value))
                    stats.update({"lr": self._current_lr(), "loss": loss_value, **batch_metric})
                throughput.add(reader_seconds, reader_seconds + watch.lap(), int(batch[0].shape[0]))
                if self.global_step % g["print_batch_step"] == 0 or step == steps_per_epoch - 1:
                    self._log_progress(epoch, epochs, stats, throughput, total_steps)
                if (self.eval_loader is not None and self.global_step > start_eval
                        and (self.global_step - start_eval) % eval_every == 0):
                    self._evaluate_and_keep_best(epoch, step == steps_per_epoch - 1)
                watch.lap()
            self._end_epoch(epoch, infeasible)
        result.best_model_dict, result.global_step = self.best, self.global_step
        result.nan_steps = self.nan_guard.total
        self.logger.info(f"training done: best metric {self._format(self.best)}; "
                         f"{self.nan_guard.total} step(s) skipped for non-finite loss")
        if self.vdl:
            self.vdl.close()
        return result

    def _prepare_epoch(self, epoch: int) -> None:
        """Make the epoch's data order depend only on (seed, epoch), so a resume reproduces it."""
        if getattr(self.train_loader.dataset, "need_reset", False):  # ratio_list < 1: a new subset
            self.train_loader = build_dataloader(self.config, "Train", seed=epoch,
                                                 distributed=self.env.distributed)
        set_epoch(self.train_loader, epoch)

    def _train_step(self, batch) -> Tuple[Optional[float], Dict[str, float], int]:
        """One optimisation step; returns (loss or None when skipped, batch metrics, infeasible)."""
        with self.env.autocast():
            preds = self.net(batch[0])
        if self.env.amp:
            preds = preds.astype("float32")
        losses = self.loss_fn(preds, batch)
        loss = losses["loss"]
        loss_value = float(loss)
        finite = math.isfinite(loss_value)
        if self.env.distributed:  # every rank must skip together or the gradient all-reduce hangs
            ranks_failing = self.env.all_reduce_sum([0.0 if finite else 1.0])[0]
            if finite and ranks_failing:
                loss_value = float("nan")  # this rank's loss was fine, another rank's was not
            finite = ranks_failing == 0
        step_ok = self.nan_guard.check(self.global_step, loss_value, finite)
        if step_ok:
            if self.env.amp:
                self.env.amp.backward_and_step(loss, self.optimizer)
            else:
                loss.backward()
                self.optimizer.step()
        self.optimizer.clear_grad()
        if isinstance(self.lr, paddle.optimizer.lr.LRScheduler):
            self.lr.step()
        batch_metric = {}
        if step_ok and self.global_config.get("cal_metric_during_train"):
            batch_metric = self.metric(self.post_process(preds.detach(), batch[1]))
        if self.env.distributed and step_ok:
            keys = ["loss", *batch_metric]
            reduced = self.env.all_reduce_sum([loss_value, *batch_metric.values()])
            loss_value, batch_metric = reduced[0] / self.env.world_size, {
                k: v / self.env.world_size for k, v in zip(keys[1:], reduced[1:])}
        return (loss_value if step_ok else None), batch_metric, int(losses.get("infeasible", 0))

    def _current_lr(self) -> float:
        return float(self.optimizer.get_lr())

    def _log_progress(self, epoch, epochs, stats, throughput, total_steps) -> None:
        line = (f"epoch: [{epoch}/{epochs}], global_step: {self.global_step}, {stats.log_text()}, "
                f"{throughput.log_text(total_steps - self.global_step)}")
        self.logger.info(line)
        if self.vdl:
            self.vdl.scalars(stats.get(), self.global_step, "TRAIN")
        throughput.reset()

    def _evaluate_and_keep_best(self, epoch: int, epoch_done: bool) -> None:
        if not self.env.is_main:
            return
        current = evaluate(self.model, self.eval_loader, self.post_process, self.metric,
                           autocast=self.env.amp.autocast if self.env.amp else None)
        current.pop("samples", None)
        self.logger.info(f"cur metric, {self._format(current)}")
        main = self.metric.main_indicator
        if current[main] >= self.best.get(main, -1.0):
            self.best = {**current, "best_epoch": epoch}
            self._save("best_accuracy", epoch, epoch_done)
            save_best_model(self.save_dir, self.model, self.optimizer)
        self.logger.info(f"best metric, {self._format(self.best)}")
        if self.vdl:
            self.vdl.scalars(current, self.global_step, "EVAL")

    def _end_epoch(self, epoch: int, infeasible: int) -> None:
        infeasible = int(self.env.all_reduce_sum([infeasible])[0])
        if infeasible:
            self.logger.warning(f"epoch {epoch}: {infeasible} training labels were infeasible for CTC "
                                f"(longer than the output sequence allows): loss 0, no gradient")
        report = getattr(self.train_loader.dataset, "skip_report", None)
        if callable(report):
            text = report()
            if text:
                self.logger.info(f"epoch {epoch}: {text}")
        if self.env.is_main:
            self._save("latest", epoch, True)
            if epoch % self.global_config["save_epoch_step"] == 0:
                self._save(f"iter_epoch_{epoch}", epoch, True)

    def _save(self, name: str, epoch: int, epoch_complete: bool) -> None:
        schedule = self.lr if isinstance(self.lr, paddle.optimizer.lr.LRScheduler) else None
        states = {"best_model_dict": self.best, "epoch": epoch, "global_step": self.global_step,
                  "characters": list(self.post_process.character), "rng": capture_rng(),
                  "lr_scheduler": schedule.state_dict() if schedule else None,
                  "data_order": {"epoch": epoch, "epoch_complete": epoch_complete},
                  "nan_steps": self.nan_guard.total,
                  "amp_scaler": self.env.amp.scaler.state_dict() if self.env.amp else None}
        save_checkpoint(os.path.join(self.save_dir, name), self.model, self.optimizer, states)
        self.logger.info(f"saved {name} to {os.path.join(self.save_dir, name)}")

    @staticmethod
    def _format(metrics: Dict[str, float]) -> str:
        return ", ".join(f"{k}: {v:.6f}" if isinstance(v, float) else f"{k}: {v}" for k, v in metrics.items())
