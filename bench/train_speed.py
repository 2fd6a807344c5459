"""Training-step throughput (img/s) of every CPU path, as ratios to plain dygraph (or --baseline).

A step is forward, CTC loss, backward, Adam step and clear_grad on a batch of 3x32x100 images
(MobileNetV3 large x0.5 + BiLSTM 96 + CTC, or -c CONFIG's Architecture; 37 classes, random
feasible labels). Each variant runs in its own child process (flags, threads, the allocator and
MKL's code path are process-wide), and the variants are interleaved A B C A B C ... for --rounds
rounds so that load from other processes hits all alike; figures are medians over all timed
steps. Two throughputs are printed: wall-clock, and per CPU second of this process (what an
otherwise idle core would give; meaningless for 2-thread rows).
"Loss" is the loss after the last step: variants with the same batch start from the same weights
and see the same batches, so a different loss means different numerics.

    python bench/train_speed.py                      # all variants, 2 rounds (~15 min on 2 cores)
    python bench/train_speed.py --variants dygraph "custom op+malloc" --rounds 4
    python bench/train_speed.py -c configs/rec_en.yml --baseline "custom op+malloc, MKL default" \
        --variants "custom op+malloc" "dygraph, MKL default" dygraph --rounds 3   # MKL on AMD CPUs
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, Optional

from common import REPO, Timing, format_number, print_machine_info, print_table, ratio_text

BASELINE = "dygraph"
# Every op type of the backbone program that has a oneDNN kernel (hard_sigmoid has none).
EVERY_OP = ("depthwise_conv2d", "conv2d", "batch_norm", "hard_swish", "relu", "pool2d", "elementwise_add",
            "elementwise_mul")


@dataclass
class Variant:
    description: str
    mode: str = "dygraph"        # dygraph | custom_op | onednn | pir | sot | onednn-every-op
    malloc: bool = False         # ppcrnn.training.fast_step.keep_freed_memory()
    threads: int = 1             # paddle.base.core.set_num_threads
    batch: int = 64
    env: Dict[str, str] = field(default_factory=dict)
    loader: bool = False         # end to end: batches from the synthetic Train loader


VARIANTS = {
    "dygraph": Variant("plain dygraph (baseline)"),
    "dygraph+FLAGS_use_mkldnn": Variant("dygraph, FLAGS_use_mkldnn=1", env={"FLAGS_use_mkldnn": "1"}),
    "dygraph+malloc": Variant("dygraph, glibc keeps freed memory", malloc=True),
    "to_static PIR": Variant("paddle.jit.to_static(model, full_graph=True)", mode="pir"),
    "to_static SOT": Variant("paddle.jit.to_static(model, full_graph=False)", mode="sot"),
    "to_static PIR+oneDNN": Variant("PIR to_static with FLAGS_use_mkldnn=1", mode="pir",
                                    env={"FLAGS_use_mkldnn": "1"}),
    "oneDNN every op": Variant("legacy-IR backbone, oneDNN on all its ops", mode="onednn-every-op"),
    "oneDNN depthwise": Variant("fast_step method=onednn", mode="onednn"),
    "oneDNN depthwise+malloc": Variant("fast_step method=onednn + keep_freed_memory", mode="onednn", malloc=True),
    "custom op": Variant("fast_step method=custom_op (C++ depthwise conv + hardswish)", mode="custom_op"),
    "custom op+malloc": Variant("custom_op + keep_freed_memory (recommended)", mode="custom_op", malloc=True),
    "dygraph 2 threads": Variant("dygraph, set_num_threads(2)", threads=2),
    "custom op+malloc 2 threads": Variant("recommended, set_num_threads(2)", mode="custom_op", malloc=True,
                                          threads=2),
    "dygraph b32": Variant("dygraph, batch 32", batch=32),
    "custom op+malloc b32": Variant("recommended, batch 32", mode="custom_op", malloc=True, batch=32),
    "dygraph b128": Variant("dygraph, batch 128", batch=128),
    "custom op+malloc b128": Variant("recommended, batch 128", mode="custom_op", malloc=True, batch=128),
    "e2e dygraph": Variant("dygraph fed by the synthetic loader (2 workers)", loader=True),
    "e2e custom op+malloc": Variant("recommended, fed by the synthetic loader (2 workers)", mode="custom_op",
                                    malloc=True, loader=True),
    # MKL's own code-path choice: its SSE path on AMD CPUs (ppcrnn/utils/mkl_dispatch.py).
    "dygraph, MKL default": Variant("dygraph, MKL_DEBUG_CPU_TYPE empty", env={"MKL_DEBUG_CPU_TYPE": ""}),
    "custom op+malloc, MKL default": Variant("recommended, MKL_DEBUG_CPU_TYPE empty", mode="custom_op",
                                             malloc=True, env={"MKL_DEBUG_CPU_TYPE": ""}),
}

ARCHITECTURE = {"model_type": "rec", "algorithm": "CRNN",
                "Backbone": {"name": "MobileNetV3", "scale": 0.5, "model_name": "large"},
                "Neck": {"name": "SequenceEncoder", "encoder_type": "rnn", "hidden_size": 96},
                "Head": {"name": "CTCHead", "fc_decay": 0.0, "out_channels": 37}}


def random_batches(batch: int, count: int = 4):
    """`count` batches of images in [-1, 1] and labels of 1-10 classes (feasible for 25 frames)."""
    import numpy as np
    import paddle
    rng = np.random.default_rng(0)
    return [(paddle.to_tensor(rng.uniform(-1, 1, (batch, 3, 32, 100)).astype("float32")),
             paddle.to_tensor(rng.integers(1, 37, (batch, 25)).astype("int64")),
             paddle.to_tensor(rng.integers(1, 11, (batch,)).astype("int64")))
            for _ in range(count)]


def loader_batches(batch: int):
    """Endless batches from configs/rec.yml's synthetic Train loader (2 workers)."""
    from ppcrnn.config import load_config
    from ppcrnn.data import build_dataloader
    config = load_config(os.path.join(REPO, "configs", "rec.yml"),
                         [f"Train.loader.batch_size_per_card={batch}", "Train.dataset.num_samples=100000"])
    while True:
        for images, labels, lengths in build_dataloader(config, "Train"):
            yield images, labels, lengths


def architecture_of(config_path: Optional[str]) -> dict:
    """The config's Architecture with a 37-class head, or the default ARCHITECTURE."""
    if not config_path:
        return ARCHITECTURE
    from ppcrnn.config import load_config
    architecture = dict(load_config(config_path)["Architecture"])
    architecture["Head"] = {**architecture["Head"], "out_channels": 37}
    return architecture


def describe(architecture: dict) -> str:
    backbone, neck = architecture["Backbone"], architecture["Neck"]
    return (f"MobileNetV3 {backbone.get('model_name', 'large')} x{backbone.get('scale', 0.5)} + BiLSTM "
            f"{neck.get('hidden_size')} + CTC (37)")


def run_child(name: str, warmup: int, steps: int, config_path: Optional[str]) -> dict:
    """Measure one variant in this process; returns the JSON-able result."""
    variant = VARIANTS[name]
    import paddle
    from ppcrnn.losses.ctc_loss import CTCLoss
    from ppcrnn.modeling import build_model
    from ppcrnn.training import fast_step
    if variant.malloc:
        fast_step.keep_freed_memory()
    paddle.base.core.set_num_threads(variant.threads)
    paddle.seed(0)
    model = build_model(architecture_of(config_path))
    model.train()
    optimizer = paddle.optimizer.Adam(learning_rate=5e-4, parameters=model.parameters())
    if variant.mode in ("pir", "sot"):
        model = paddle.jit.to_static(model, full_graph=variant.mode == "pir")
    if variant.mode == "onednn-every-op":
        fast_step.ONEDNN_OP_TYPES = EVERY_OP
    accelerate = variant.mode in ("custom_op", "onednn", "onednn-every-op")
    step = fast_step.build_train_step(model, CTCLoss(), optimizer, to_static=accelerate,
                                      method="custom_op" if variant.mode == "custom_op" else "onednn")
    if accelerate and not step.accelerated:
        raise RuntimeError(f"{name}: fast_step could not install method {variant.mode}")
    if variant.loader:
        stream = loader_batches(variant.batch)
    else:
        fixed = random_batches(variant.batch)
        stream = (fixed[i % len(fixed)] for i in range(10 ** 9))
    started = time.perf_counter()
    for _ in range(warmup):
        result = step(*next(stream))
    warmup_seconds = time.perf_counter() - started
    timing = Timing()
    for _ in range(steps):
        wall, cpu = time.perf_counter(), time.process_time()
        result = step(*next(stream))
        timing.cpu.append(time.process_time() - cpu)
        timing.wall.append(time.perf_counter() - wall)
    return {"wall": timing.wall, "cpu": timing.cpu, "loss": result.loss, "batch": variant.batch,
            "warmup_seconds": warmup_seconds}


def spawn(name: str, warmup: int, steps: int, timeout: int, config_path: Optional[str]) -> dict:
    """Run `run_child` for `name` in a fresh process; {'error': ...} when it fails."""
    env = {**os.environ, **VARIANTS[name].env}
    command = [sys.executable, os.path.abspath(__file__), "--child", name, "--warmup", str(warmup),
               "--steps", str(steps)] + (["--config", config_path] if config_path else [])
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    if done.returncode < 0:
        reason = f"killed by {signal.Signals(-done.returncode).name}"
    else:
        reason = f"exit {done.returncode}"
    lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
    detail = next((line for key in ("Error:", "error", "") for line in reversed(lines) if key in line), "")
    return {"error": f"{reason}: {detail.split(' (at /')[0][:160]}"}


def report(results: Dict[str, Timing], extras: Dict[str, dict], errors: Dict[str, str], rounds: int,
           baseline: str) -> None:
    base, base_batch = results[baseline], VARIANTS[baseline].batch
    base_wall = base_batch / base.wall_median if base.wall else None
    base_cpu = base_batch / base.cpu_median if base.cpu else None
    rows = []
    for name, timing in results.items():
        variant = VARIANTS[name]
        if not timing.wall:
            rows.append([name, variant.description, variant.batch, "-", "-", "-", "-", "-",
                         f"fails: {errors.get(name, '?')}"])
            continue
        wall_rate = variant.batch / timing.wall_median
        cpu_rate = variant.batch / timing.cpu_median
        loss = "-" if variant.loader else format_number(extras[name]["loss"], 4)
        rows.append([name, variant.description, variant.batch, format_number(wall_rate),
                     ratio_text(wall_rate, base_wall), format_number(cpu_rate), ratio_text(cpu_rate, base_cpu),
                     loss, f"{len(timing.wall)} steps"])
    print_table(f"Training step throughput ({rounds} interleaved rounds; medians)",
                ["variant", "what", "batch", "img/s wall", f"vs {baseline}", "img/s per CPU s",
                 f"vs {baseline}", "loss", "note"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS), metavar="NAME",
                        help=f"subset of: {', '.join(VARIANTS)} (the baseline is always run)")
    parser.add_argument("--baseline", default=BASELINE, choices=list(VARIANTS), metavar="NAME",
                        help=f"the variant the ratios divide by (default '{BASELINE}')")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (default 2)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps per child (default 2)")
    parser.add_argument("--steps", type=int, default=4, help="timed steps per child and round (default 4)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per child (default 600)")
    parser.add_argument("-c", "--config", help="time this config's Architecture (default: the model above)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.warmup, args.steps, args.config)))
        return
    names = [args.baseline] + [name for name in args.variants if name != args.baseline]
    print_machine_info({"step": f"batch 64 x 3x32x100, {describe(architecture_of(args.config))}, Adam"})
    results = {name: Timing() for name in names}
    extras: Dict[str, dict] = {}
    errors: Dict[str, str] = {}
    for round_index in range(args.rounds):
        for name in names:
            if name in errors:
                continue  # a path that fails once fails every time; do not pay for it again
            outcome = spawn(name, args.warmup, args.steps, args.timeout, args.config)
            if "error" in outcome:
                errors[name] = outcome["error"]
            else:
                results[name].add(Timing(outcome["wall"], outcome["cpu"]))
                extras[name] = outcome
            status = errors.get(name) or f"{VARIANTS[name].batch / min(outcome['wall']):.1f} img/s best step"
            print(f"round {round_index + 1}/{args.rounds} {name}: {status}", flush=True)
    print()
    report(results, extras, errors, args.rounds, args.baseline)


if __name__ == "__main__":
    main()
