"""CTC decoding cost (ms per batch of 64): CTCLabelDecode's vectorised greedy, prefix beam search
and lexicon decoding (also with an oov_penalty), against a per-sample Python loop (the baseline,
written here), for T = 25 and 80 frames and C = 37 and 6625 classes.

Inputs look like a trained model's: each sample is a word (from the lexicon four times in five,
otherwise a random string) laid out on the frames with blanks and repeats, plus noise, through a
softmax. Lexicons of 1k / 10k / 100k words: English words from ppcrnn/resources topped up with
random letter strings (C = 37), random CJK strings (C = 6625). Methods are interleaved for
--rounds rounds, one call each per round; medians (keep --rounds >= 3: a method's first call pays
for fresh memory). glibc is told to keep freed memory (fast_step.keep_freed_memory), otherwise a
method that follows a smaller one pays page faults for its float64 copies of [64, T, 6625]
probabilities and the order of the methods shows in their times. Notes on the lexicon rows: the
one-off build time (normalising and encoding the words) and how many (sample, word) candidates the
batch scores; samples whose greedy text is far from every word widen the search radius, and those
dominate the cost.

    python bench/decode_speed.py                 # ~5 min on 2 cores
    python bench/decode_speed.py --frames 25 --classes 37 --rounds 3
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np

from common import (REPO, Timing, format_number, interleave, print_machine_info, print_table, ratio_text,
                    time_calls)

from ppcrnn.postprocess import CTCLabelDecode
from ppcrnn.training.fast_step import keep_freed_memory

BATCH = 64
LEXICON_SIZES = (1000, 10000, 100000)
CJK_FIRST = 0x4E00


def loop_greedy(preds: np.ndarray, characters: Sequence[str]) -> List[Tuple[str, float]]:
    """The baseline: PaddleOCR's greedy rule one sample and one frame at a time in Python."""
    results = []
    for sample in preds:
        text, scores, previous = [], [], -1
        for frame in sample:
            index = int(frame.argmax())
            if index != 0 and index != previous:
                text.append(characters[index])
                scores.append(float(frame[index]))
            previous = index
        results.append(("".join(text), sum(scores) / len(scores) if scores else 0.0))
    return results


def english_words(count: int, rng: np.random.Generator) -> List[str]:
    """`count` distinct lower-case words: the bundled word lists, then random letter strings."""
    words: Dict[str, None] = {}
    for name in ("words_common.txt", "words_web2_sample.txt"):
        with open(os.path.join(REPO, "ppcrnn", "resources", name), encoding="utf-8") as handle:
            for line in handle:
                word = line.strip().lower()
                if word.isalnum() and word.isascii() and len(word) <= 12:
                    words.setdefault(word)
    while len(words) < count:
        words.setdefault(random_word(37, rng))
    chosen = list(words)
    rng.shuffle(chosen)
    return chosen[:count]


def random_word(classes: int, rng: np.random.Generator) -> str:
    """3-10 random letters (C = 37) or 2-8 random characters of the C - 1 CJK dictionary."""
    if classes == 37:
        return "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), rng.integers(3, 11)))
    return "".join(map(chr, rng.integers(0, classes - 1, rng.integers(2, 9)) + CJK_FIRST))


def cjk_words(count: int, num_chars: int, rng: np.random.Generator) -> List[str]:
    words: Dict[str, None] = {}
    while len(words) < count:
        words.setdefault(random_word(num_chars + 1, rng))
    return list(words)


def ctc_probabilities(labels: Sequence[Sequence[int]], frames: int, classes: int,
                      rng: np.random.Generator) -> np.ndarray:
    """[N, frames, classes] softmax outputs whose best path spells each label (truncated to fit)."""
    preds = rng.normal(0.0, 1.0, (len(labels), frames, classes)).astype(np.float32)
    for n, label in enumerate(labels):
        label = list(label)[: frames // 2]
        # Segments blank, c1, blank, c2, ..., blank; a blank between equal characters is required.
        minimum = [1 if 0 < i < 2 * len(label) and label[i // 2 - 1] == label[i // 2] else 0
                   for i in range(0, 2 * len(label) + 1, 2)]
        lengths = np.zeros(2 * len(label) + 1, dtype=np.int64)
        lengths[1::2] = 1
        lengths[0::2] = minimum
        extra = rng.multinomial(frames - int(lengths.sum()), np.ones(len(lengths)) / len(lengths))
        path = np.repeat([0 if i % 2 == 0 else label[i // 2] for i in range(len(lengths))], lengths + extra)
        preds[n, np.arange(frames), path] += 9.0
    preds = np.exp(preds - preds.max(axis=2, keepdims=True))
    return preds / preds.sum(axis=2, keepdims=True)


def dictionary_file(num_chars: int, folder: str) -> str:
    path = os.path.join(folder, f"dict_{num_chars}.txt")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(chr(CJK_FIRST + i) for i in range(num_chars)) + "\n")
    return path


def measure(function: Callable[[], object], repeats: int) -> Callable[[], Timing]:
    return lambda: time_calls(function, repeats=repeats, warmup=0)


def run_case(frames: int, classes: int, rounds: int, folder: str) -> None:
    rng = np.random.default_rng(frames * 100003 + classes)
    dict_path = None if classes == 37 else dictionary_file(classes - 1, folder)
    greedy = CTCLabelDecode(dict_path)
    words = (english_words(max(LEXICON_SIZES), rng) if classes == 37
             else cjk_words(max(LEXICON_SIZES), classes - 1, rng))
    # Four in five from the smallest lexicon (so in every lexicon), the rest random strings.
    texts = [words[rng.integers(0, LEXICON_SIZES[0])] if rng.random() < 0.8 else random_word(classes, rng)
             for _ in range(BATCH)]
    labels = [greedy.charset.encode(text)[0] for text in texts]
    preds = ctc_probabilities(labels, frames, classes, rng)
    agree = loop_greedy(preds, greedy.character) == greedy(preds)

    heavy = 1 if frames * classes > 100000 else 2
    methods: Dict[str, Callable[[], Timing]] = {
        "per-sample loop (baseline)": measure(lambda: loop_greedy(preds, greedy.character), heavy),
        "greedy (vectorised)": measure(lambda: greedy(preds), 5)}
    notes = {"greedy (vectorised)": f"same output as the loop: {'yes' if agree else 'NO'}"}
    for width in (5, 10):
        beam = CTCLabelDecode(dict_path, mode="beam", beam_width=width)
        methods[f"beam {width}"] = measure(lambda beam=beam: beam(preds), 1)
    for size in LEXICON_SIZES:
        started = time.perf_counter()
        lexicon = CTCLabelDecode(dict_path, mode="lexicon", lexicon=words[:size])
        built = time.perf_counter() - started
        scored = sum(map(len, lexicon.lexicon.candidate_lists([text for text, _ in greedy(preds)])))
        notes[f"lexicon {size // 1000}k"] = f"build {built:.2f} s, {scored} candidates"
        methods[f"lexicon {size // 1000}k"] = measure(lambda lexicon=lexicon: lexicon(preds), 1)
    # The same search, each greedy text scored too (kept when no word comes within 5 nats of it).
    open_lexicon = CTCLabelDecode(dict_path, mode="lexicon", lexicon=words[:LEXICON_SIZES[-1]], oov_penalty=5.0)
    methods[f"lexicon {LEXICON_SIZES[-1] // 1000}k, oov_penalty 5"] = measure(lambda: open_lexicon(preds), 1)
    results = interleave(methods, rounds)
    base_wall = results["per-sample loop (baseline)"].wall_median
    rows = []
    for name, timing in results.items():
        wall_ms, cpu_ms = 1000 * timing.wall_median, 1000 * timing.cpu_median
        rows.append([name, format_number(wall_ms, 2), ratio_text(base_wall, timing.wall_median),
                     format_number(cpu_ms, 2), notes.get(name, "")])
    print_table(f"T={frames}, C={classes}: ms per batch of {BATCH} ({rounds} interleaved rounds; medians)",
                ["method", "ms wall", "speed vs loop", "ms CPU", "note"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, nargs="+", default=[25, 80], help="T values (default 25 80)")
    parser.add_argument("--classes", type=int, nargs="+", default=[37, 6625], help="C values (default 37 6625)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    args = parser.parse_args()
    print_machine_info({"batch": str(BATCH), "glibc keeps freed memory": str(keep_freed_memory())})
    with tempfile.TemporaryDirectory() as folder:
        for classes in args.classes:
            for frames in args.frames:
                run_case(frames, classes, args.rounds, folder)


if __name__ == "__main__":
    main()
