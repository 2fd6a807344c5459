"""bench/infer_speed.py, bench/accuracy.py and bench/ensemble_accuracy.py in their tiny modes, run
as a user runs them (a subprocess from the repository root), on small random-weight models; and the
FLOP / peak arithmetic of bench/flops.py against hand-computed figures."""
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import paddle
import pytest

from fixtures_model import random_weights, render_word, tiny_config, write_config
from ppcrnn.inference import Recognizer, export_model

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(REPO, "bench")
TEST_SETS = ["iiit5k_test_3000", "svt_647", "ic13_857", "ic15_test_2077"]


def bench_module(name: str):
    if BENCH not in sys.path:
        sys.path.insert(0, BENCH)  # the bench scripts import their sibling `common`
    spec = importlib.util.spec_from_file_location(f"bench_{name}", os.path.join(BENCH, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def run_script(*args: str, timeout: int = 120) -> str:
    done = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def table_rows(output: str, first_cell: str) -> list:
    """Cells of every Markdown table row of `output` whose first cell is `first_cell`."""
    rows = []
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_cell:
            rows.append(cells)
    return rows


def protocol(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """(config path, weights prefix, export dir) of a small random-weight CRNN."""
    folder = tmp_path_factory.mktemp("bench")
    config = tiny_config(str(folder))
    weights = random_weights(config, str(folder / "model"), seed=1)
    export_model(config, str(folder / "inference"), weights)
    return write_config(config, str(folder / "config.yml")), str(folder / "model"), str(folder / "inference")


@pytest.fixture(scope="module")
def word_sets(tiny_model, tmp_path_factory):
    """Two benchmark-layout folders of 32x100 crops (so the dygraph path's squeeze and the
    Recognizer's aspect-keeping resize give the same input) and each set's expected accuracy."""
    root = tmp_path_factory.mktemp("sets")
    rng = np.random.default_rng(0)
    crops = [cv2.resize(render_word(word, rng), (100, 32)) for word in ["paddle", "go", "text", "b2", "reads",
                                                                        "on", "ocr", "42", "model", "x"]]
    predictions = [text for text, _ in Recognizer(tiny_model[2])(crops)]
    assert all(predictions), "the fixture needs non-empty predictions to build matching labels"
    expected, folders = {}, []
    for name, chunk, matching in (("set_a", range(0, 6), 4), ("set_b", range(6, 10), 1)):
        folder = root / name
        (folder / "images").mkdir(parents=True)
        lines = []
        for position, i in enumerate(chunk):
            cv2.imwrite(str(folder / "images" / f"{i}.png"), crops[i])
            # Matching labels differ from the prediction in case and punctuation only.
            label = f"{predictions[i].upper()}!" if position < matching else f"{predictions[i]}zz"
            lines.append(f"images/{i}.png\t{label}")
        lines.append("images/0.png\t--")  # empty under the protocol: skipped and counted
        (folder / "labels.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        labels = [line.split("\t")[1] for line in lines[:-1]]
        correct = [protocol(predictions[i]) == protocol(label) for i, label in zip(chunk, labels)]
        expected[name] = (len(labels), sum(correct) / len(correct))
        folders.append(str(folder))
    return folders, expected


def check_accuracy_output(output: str, expected: dict) -> None:
    for name, (words, accuracy) in expected.items():
        [row] = table_rows(output, name)
        assert row[1:4] == [str(words), "1", f"{100 * accuracy:.2f}"]
    [mean] = table_rows(output, "mean of the sets")
    assert mean[3] == f"{100 * sum(a for _, a in expected.values()) / len(expected):.2f}"
    header = [row for row in table_rows(output, "model")][0]
    assert header[1:] == ["set_a", "set_b", "mean"]


def test_accuracy_of_an_export_matches_an_independent_count(tiny_model, word_sets):
    folders, expected = word_sets
    assert 0 < expected["set_a"][1] < 1 and expected["set_a"][1] != expected["set_b"][1]
    output = run_script("bench/accuracy.py", "--model_dir", tiny_model[2], "--data_dirs", *folders)
    check_accuracy_output(output, expected)



def test_accuracy_decodes_with_a_lexicon_and_its_oov_penalty(tiny_model, word_sets, tmp_path):
    # A lexicon of one word longer than the frames can spell (P = 0): with an oov_penalty every
    # greedy text stands, so the counts are greedy's; without one every crop would read that word.
    folders, expected = word_sets
    lexicon = tmp_path / "words.txt"
    lexicon.write_text("q" * 200 + "\t1.0\n", encoding="utf-8")
    output = run_script("bench/accuracy.py", "--model_dir", tiny_model[2], "--data_dirs", *folders,
                        "--decode", "lexicon", "--lexicon_path", str(lexicon), "--oov_penalty", "10")
    assert "lexicon words.txt, max_edit_distance 2, oov_penalty 10" in output
    check_accuracy_output(output, expected)
    done = subprocess.run([sys.executable, "bench/accuracy.py", "--model_dir", tiny_model[2], "--engine", "paddleocr",
                           "--decode", "lexicon", "--data_dirs", *folders], cwd=REPO, capture_output=True, text=True)
    assert done.returncode != 0 and "--engine paddleocr decodes greedily" in done.stderr

@pytest.mark.integration
def test_accuracy_through_paddleocr_text_recognition_matches_the_count(tiny_model, word_sets):
    pytest.importorskip("paddleocr")
    folders, expected = word_sets
    output = run_script("bench/accuracy.py", "--model_dir", tiny_model[2], "--engine", "paddleocr",
                        "--data_dirs", *folders)
    assert "paddleocr.TextRecognition" in output
    check_accuracy_output(output, expected)


def test_accuracy_of_a_checkpoint_through_run_evaluation(tiny_model, word_sets):
    folders, expected = word_sets
    output = run_script("bench/accuracy.py", "-c", tiny_model[0], "-o", f"Global.checkpoints={tiny_model[1]}",
                        "--data_dirs", *folders)
    check_accuracy_output(output, expected)


@pytest.fixture(scope="module")
def second_model(tmp_path_factory):
    """The export of the tiny network with other random weights."""
    folder = tmp_path_factory.mktemp("second")
    config = tiny_config(str(folder))
    export_model(config, str(folder / "inference"), random_weights(config, str(folder / "model"), seed=2))
    return str(folder / "inference")


def test_ensemble_accuracy_counts_each_model_their_mean_and_blank_offsets(tiny_model, second_model, word_sets,
                                                                          tmp_path):
    from ppcrnn.inference.preprocess import read_image, resize_norm, stack_batch
    models = [tiny_model[2], second_model]
    recognizers = [Recognizer(model_dir, batch_size=1) for model_dir in models]
    images = sorted((Path(word_sets[0][0]) / "images").glob("*.png"))
    (tmp_path / "images").mkdir()
    lines, mean_reads, own_reads = [], [], []
    for i, image in enumerate(images):
        batch = stack_batch([resize_norm(read_image(str(image)), (3, 32, 100))])
        probabilities = [recognizer.run(batch) for recognizer in recognizers]
        mean_reads.append(recognizers[0].decoder(sum(probabilities) / 2)[0][0])
        own_reads.append(recognizers[0].decoder(probabilities[0])[0][0])
        shutil.copy(image, tmp_path / "images" / image.name)
        # The first half is labelled with the mean's read, the rest with the first model's.
        lines.append(f"images/{image.name}\t{mean_reads[-1] if i < len(images) // 2 else own_reads[-1]}")
    (tmp_path / "labels.txt").write_text("\n".join(lines + ["images/0.png\t--"]) + "\n", encoding="utf-8")
    assert any(mean != own for mean, own in zip(mean_reads, own_reads)), "the models must disagree somewhere"
    labels = [line.split("\t")[1] for line in lines]

    output = run_script("bench/ensemble_accuracy.py", "--model_dirs", *models, "--data_dirs", str(tmp_path),
                        "--blank_scales", "1e9")
    for name, reads in ((tiny_model[2], own_reads), ("mean of the 2 models' probabilities", mean_reads)):
        [row] = table_rows(output, name)
        assert row[1] == f"{sum(protocol(r) == protocol(label) for r, label in zip(reads, labels))}/{len(labels)}"
    # A blank a billion times likelier wins every frame: nothing is read.
    assert table_rows(output, f"{tiny_model[2]}, blank x 1e+09")[0][1] == f"0/{len(labels)}"
    assert table_rows(output, "skipped")[0][1] == "1"


def test_ensemble_accuracy_refuses_exports_of_another_input_shape(tiny_model, word_sets, tmp_path):
    config = tiny_config(str(tmp_path), image_shape=(3, 32, 120))
    export_model(config, str(tmp_path / "inference"), random_weights(config, str(tmp_path / "model")))
    done = subprocess.run([sys.executable, "bench/ensemble_accuracy.py", "--model_dirs", tiny_model[2],
                           str(tmp_path / "inference"), "--data_dirs", word_sets[0][0]],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert f"{tmp_path / 'inference'}: its characters or image_shape differ" in done.stderr


def test_accuracy_defaults_to_every_test_set_and_honours_limit(tiny_model, benchmarks_dir):
    env_root = os.path.normpath(os.path.join(benchmarks_dir, "..", ".."))
    done = subprocess.run([sys.executable, "bench/accuracy.py", "--model_dir", tiny_model[2], "--limit", "3"],
                          cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PPCRNN_SHARED": env_root})
    assert done.returncode == 0, done.stderr[-3000:]
    for name in TEST_SETS:
        assert table_rows(done.stdout, name)[0][1] == "3"
    assert not table_rows(done.stdout, "ic15_train_4468")


def test_default_data_dirs_pick_test_sets_in_paper_order(tmp_path):
    for name in ["ic15_train_4468", "ic15_test_2077", "svt_647", "ic13_857", "iiit5k_test_3000", "cute_test_288"]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "labels.txt").write_text("a.png\ta\n")
    (tmp_path / "extra_test_no_labels").mkdir()
    (tmp_path / "other_123").mkdir()
    (tmp_path / "other_123" / "labels.txt").write_text("a.png\ta\n")
    folders = bench_module("accuracy").default_data_dirs(str(tmp_path))
    assert [os.path.basename(f) for f in folders] == TEST_SETS + ["cute_test_288"]


def test_infer_speed_quick_prints_every_engine_with_ratios(tiny_model):
    output = run_script("bench/infer_speed.py", "--quick", "--threads", "1", "-c", tiny_model[0], timeout=180)
    engines = ["onnxruntime", "paddle oneDNN", "paddle no oneDNN", "dygraph"]
    for engine in engines:
        rows = table_rows(output, engine)
        assert [(row[1], row[2], row[3]) for row in rows] == [("1", "1", "100"), ("1", "4", "100")]
        for row in rows:
            assert float(row[4]) > 0 and re.fullmatch(r"[0-9.e+-]+x", row[5]), row
            assert (row[5] == "1.00x") == (engine == "onnxruntime")
            if engine != "onnxruntime":
                assert float(row[12]) < 1e-4  # the same probabilities as ONNX Runtime
    assert re.search(r"goal \(Paddle Inference >= ONNX Runtime at batch 4\), width 100, 1 threads: "
                     r"[0-9.]+x wall", output)
    [flops] = table_rows(output, "100")
    assert float(flops[4]) > 0


def test_count_flops_by_hand():
    class Tiny(paddle.nn.Layer):
        def __init__(self):
            super().__init__()
            self.conv = paddle.nn.Conv2D(3, 4, 3, padding=1)                      # 4 x 8 x 10 out
            self.depthwise = paddle.nn.Conv2D(4, 4, 3, stride=(8, 1), padding=(0, 1), groups=4)  # 4 x 1 x 10
            self.lstm = paddle.nn.LSTM(4, 5, num_layers=2, direction="bidirect")  # T = 10
            self.fc = paddle.nn.Linear(10, 7)

        def forward(self, x):
            x = self.depthwise(self.conv(x)).squeeze(2).transpose([0, 2, 1])
            return self.fc(self.lstm(x)[0])

    counts = bench_module("flops").count_flops(Tiny(), 8, 10)
    assert counts["conv"] == 2 * (3 * 9 * 4 * 8 * 10) + 2 * (1 * 9 * 4 * 1 * 10)
    lstm_layer0 = 2 * 10 * 2 * (20 * 4 + 20 * 5)   # 2 directions x T x (W_ih [20, 4] + W_hh [20, 5])
    lstm_layer1 = 2 * 10 * 2 * (20 * 10 + 20 * 5)  # layer 1 reads both directions: W_ih [20, 10]
    assert counts["lstm"] == lstm_layer0 + lstm_layer1
    assert counts["linear"] == 2 * 10 * 7 * 10


def test_peak_flops_from_cpuinfo_flags():
    flops = bench_module("flops")
    text = "processor : 0\ncpu MHz : 2000.000\nflags : fpu sse2 {}\n\nprocessor : 1\ncpu MHz : 2000.000\n"
    assert flops.peak_flops(text.format("avx avx2 fma avx512f")).per_core == 2000e6 * 16 * 2 * 2
    assert flops.peak_flops(text.format("avx avx2 fma")).per_core == 2000e6 * 8 * 2 * 2
    assert flops.peak_flops(text.format("avx")).per_core == 2000e6 * 4 * 1 * 2
    assert flops.peak_flops("flags : avx2 fma\n") is None


@pytest.mark.slow
def test_quickstart_speed_prints_every_variant_against_its_baseline():
    quickstart = bench_module("quickstart_speed")
    output = run_script("bench/quickstart_speed.py", "--samples", "1280", timeout=600)
    rows = {name: table_rows(output, name) for name in quickstart.VARIANTS}
    assert all(len(found) == 1 for found in rows.values()), output
    assert rows[quickstart.BASELINE][0][2] == "1.00x"
    for name, found in rows.items():
        assert float(found[0][1]) > 0 and found[0][2].endswith("x")


def test_train_speed_times_the_configs_architecture_against_the_chosen_baseline(tiny_model):
    train_speed = bench_module("train_speed")
    config_path = tiny_model[0]
    baseline = "dygraph, MKL default"
    output = run_script("bench/train_speed.py", "-c", config_path, "--baseline", baseline, "--variants", "dygraph",
                        "--rounds", "1", "--warmup", "0", "--steps", "1", timeout=300)
    assert train_speed.describe(train_speed.architecture_of(config_path)) in output
    assert train_speed.describe(train_speed.architecture_of(None)) not in output
    base, other = table_rows(output, baseline), table_rows(output, "dygraph")
    assert len(base) == 1 and len(other) == 1, output
    assert base[0][4] == "1.00x" and other[0][4].endswith("x") and float(other[0][3]) > 0
    assert f"vs {baseline}" in output


def test_infer_speed_times_only_the_chosen_knobs_beside_the_knob_baseline(tiny_model):
    output = run_script("bench/infer_speed.py", "--quick", "--threads", "1", "--engines", "paddle oneDNN",
                        "--knobs", "MKL default", "-c", tiny_model[0], timeout=180)
    knob_table = output[output.index("## Paddle Inference knobs"):]
    named = [line.split("|")[1].strip() for line in knob_table.splitlines()[3:] if line.startswith("|")]
    assert named == ["onnxruntime", "paddle oneDNN", "MKL default"], knob_table
    [mkl_default] = table_rows(knob_table, "MKL default")
    assert float(mkl_default[2]) > 0 and mkl_default[3].endswith("x")
    assert float(mkl_default[6]) < 1e-4  # MKL's other code path computes the same probabilities
