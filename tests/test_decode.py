"""CTCLabelDecode: PaddleOCR's greedy rules, prefix beam search and lexicon-constrained decoding."""
import math
import random
import string

import numpy as np
import paddle
import pytest

from _ctc_reference import ctc_probability, labelling_probabilities, paddleocr_greedy
from ppcrnn.errors import ConfigError
from ppcrnn.postprocess import CTCLabelDecode
from ppcrnn.postprocess.beam_search import best_classes, prefix_beam_search
from ppcrnn.postprocess.ctc_forward import ctc_log_likelihoods
from ppcrnn.registry import POSTPROCESSES


def path_probs(paths, num_classes, rng, peak_range=(0.5, 0.95)):
    """[N, T, C] probabilities whose frame-wise best class follows each path, with random peaks."""
    probs = rng.dirichlet(np.ones(num_classes), size=(len(paths), len(paths[0])))
    for n, path in enumerate(paths):
        for t, index in enumerate(path):
            peak = rng.uniform(*peak_range)
            rest = np.delete(probs[n, t], index)
            probs[n, t] = np.insert(rest / rest.sum() * (1 - peak), index, peak)
    return probs.astype(np.float32)


def assert_same_results(result, expected):
    assert [text for text, _ in result] == [text for text, _ in expected]
    assert np.allclose([score for _, score in result], [score for _, score in expected], atol=1e-6)


def test_greedy_follows_paddleocr_rules_on_hand_made_paths():
    decoder = CTCLabelDecode()
    assert decoder.character[0] == "blank" and len(decoder.character) == 37
    a, b, c = (decoder.character.index(ch) for ch in "abc")
    paths = [
        [a, a, 0, b, b, 0],   # repeats merge -> "ab"
        [a, 0, a, 0, 0, 0],   # a blank between repeats keeps both -> "aa"
        [0, 0, 0, 0, 0, 0],   # all blank -> ("", 0.0)
        [c, c, c, c, c, c],   # one long run -> "c"
        [0, a, b, a, b, c],   # no blanks needed between different characters
    ]
    probs = path_probs(paths, 37, np.random.RandomState(0))
    result = decoder(probs)
    assert [text for text, _ in result] == ["ab", "aa", "", "c", "ababc"]
    assert result[2] == ("", 0.0)
    assert_same_results(result, paddleocr_greedy(probs, decoder.character))
    # The score of "ab" is the mean of the peaks of frames 0 and 3 only.
    assert result[0][1] == pytest.approx((probs[0, 0, a] + probs[0, 3, b]) / 2, abs=1e-6)


def test_greedy_matches_reference_on_random_batches_and_input_types():
    decoder = CTCLabelDecode()
    rng = np.random.RandomState(1)
    # Peaked random frames: many blanks, repeats and empty results.
    logits = rng.randn(16, 25, 37) * 3
    logits[:, :, 0] += 2.0
    probs = (np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)).astype(np.float32)
    expected = paddleocr_greedy(probs, decoder.character)
    for given in (probs, paddle.to_tensor(probs), [None, paddle.to_tensor(probs)]):
        assert_same_results(decoder(given), expected)
    # Logits (training-time metric) give the same texts as their probabilities.
    assert [t for t, _ in decoder(logits.astype(np.float32))] == [t for t, _ in expected]


def test_space_class_from_dictionary_file(tmp_path):
    dict_file = tmp_path / "dict.txt"
    dict_file.write_text("a\nB\nc\n", encoding="utf-8")
    decoder = POSTPROCESSES.build(
        {"name": "CTCLabelDecode", "character_dict_path": str(dict_file), "use_space_char": True,
         "max_text_length": 25, "infer_mode": False}, "PostProcess", passthrough=True)
    assert decoder.character == ["blank", "a", "B", "c", " "]
    probs = path_probs([[1, 4, 4, 2, 0, 4, 3], [4, 0, 0, 0, 0, 0, 0]], 5, np.random.RandomState(2))
    result = decoder(probs)
    assert [text for text, _ in result] == ["a B c", " "]
    assert_same_results(result, paddleocr_greedy(probs, decoder.character))


def test_labels_are_decoded_without_merging_repeats():
    decoder = CTCLabelDecode()
    probs = path_probs([[11, 0, 12]] * 2, 37, np.random.RandomState(3))
    labels = paddle.to_tensor(np.array([[11, 11, 12, 0, 0], [0, 0, 0, 0, 0]], dtype=np.int64))
    preds, decoded = decoder(probs, labels)
    assert [t for t, _ in preds] == ["ab", "ab"]
    assert decoded == [("aab", 1.0), ("", 1.0)]


def test_invalid_options_name_their_key():
    with pytest.raises(ConfigError, match="PostProcess.mode"):
        CTCLabelDecode(mode="viterbi")
    with pytest.raises(ConfigError, match="PostProcess.lexicon_path"):
        CTCLabelDecode(mode="lexicon")


# ----------------------------------------------------------------------------- beam search

def test_beam_beats_greedy_when_the_best_path_is_not_the_best_labelling(tmp_path):
    # Frame 0 is surely "b"; frames 1-2 are blank 0.6 / "a" 0.4. Greedy follows "b--" -> "b",
    # P = 0.9*0.6*0.6 = 0.324; "ba" sums "ba-", "b-a", "baa": 0.9*0.64 = 0.576.
    probs = np.array([[[0.05, 0.05, 0.9], [0.6, 0.4, 0.0], [0.6, 0.4, 0.0]]], dtype=np.float32)
    dict_file = tmp_path / "ab.txt"
    dict_file.write_text("a\nb\n", encoding="utf-8")
    decoder = CTCLabelDecode(character_dict_path=str(dict_file), mode="beam", beam_width=5)
    greedy_text = decoder.decode_greedy(probs)[0][0]
    (beam_text, beam_score), = decoder(probs)
    assert (greedy_text, beam_text) == ("b", "ba")
    p_greedy, p_beam = ctc_probability(probs[0], [2]), ctc_probability(probs[0], [2, 1])
    assert p_beam > p_greedy
    assert p_beam == pytest.approx(max(labelling_probabilities(probs[0]).values()))
    assert beam_score == pytest.approx(p_beam ** (1 / 3), rel=1e-5)


@pytest.mark.parametrize("seed", range(6))
def test_beam_is_exact_when_the_beam_holds_every_prefix(seed):
    rng = np.random.RandomState(seed)
    probs = rng.dirichlet(np.ones(4) * 0.7, size=(1, 5))
    truth = labelling_probabilities(probs[0])
    best = max(truth, key=truth.get)
    decoder = CTCLabelDecode(mode="beam", beam_width=400)  # more than the 364 possible prefixes
    indices, log_prob = prefix_beam_search(np.log(probs[0]), decoder.beam_width)
    assert tuple(indices) == best
    assert math.exp(log_prob) == pytest.approx(truth[best], rel=1e-9)
    greedy_indices = tuple(decoder.character.index(ch) for ch in decoder.decode_greedy(probs)[0][0])
    assert truth[best] >= truth.get(greedy_indices, 0.0)


@pytest.mark.parametrize("num_classes", [37, 300, 6625])
def test_best_classes_is_the_head_of_a_stable_descending_sort(num_classes):
    # Rounded values make ties, also at the cut; beam search extends prefixes in this order.
    rng = np.random.RandomState(num_classes)
    for count in (1, 6, 11, num_classes):
        for scale in (1, 3, 30):
            row = np.round(rng.randn(num_classes) * scale)
            expected = np.argsort(-row, kind="stable")[:count]
            assert best_classes(row, count).tolist() == expected.tolist()


def test_beam_accepts_logits():
    rng = np.random.RandomState(7)
    logits = (rng.randn(3, 12, 37) * 2).astype(np.float32)
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    decoder = CTCLabelDecode(mode="beam", beam_width=8)
    from_logits, from_probs = decoder(paddle.to_tensor(logits)), decoder(probs)
    assert [t for t, _ in from_logits] == [t for t, _ in from_probs]
    assert np.allclose([s for _, s in from_logits], [s for _, s in from_probs], rtol=1e-4)


# ----------------------------------------------------------------------------- lexicon

def _random_words(count, seed):
    rng, words = random.Random(seed), set()
    while len(words) < count:
        words.add("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(4, 10))))
    return sorted(words)


def test_forward_algorithm_matches_reference():
    probs = np.random.RandomState(4).dirichlet(np.ones(6), size=9)
    labels = [[], [1], [1, 1], [2, 3, 2], [5, 5, 5, 5], [1, 2, 3, 4, 5], [1, 1, 1, 1, 1]]
    got = ctc_log_likelihoods(np.log(probs), labels)
    for label, value in zip(labels, got):
        assert math.exp(value) == pytest.approx(ctc_probability(probs, label), rel=1e-9, abs=1e-300)


def test_lexicon_finds_the_target_among_10k_words():
    words = _random_words(10_000, seed=5)
    target = next(w for w in words if len(w) == 8)
    # Two characters of the target are slightly out-voted by wrong ones, so greedy misreads it.
    shown = list(target)
    for position, wrong in ((2, "q"), (5, "z")):
        shown[position] = wrong if target[position] != wrong else "x"
    greedy_word = "".join(shown)
    assert greedy_word not in words
    # A distractor one edit from the greedy text (the edit-distance favourite) whose other
    # characters are improbable: the CTC probability must prefer the target.
    distractor = greedy_word[:-1] + ("a" if greedy_word[-1] != "a" else "b")
    decoder = CTCLabelDecode(mode="lexicon", lexicon=words + [distractor], max_edit_distance=2)
    index = {ch: i for i, ch in enumerate(decoder.character)}

    rng = np.random.RandomState(6)
    frames = []
    for position, char in enumerate(target):
        row = rng.dirichlet(np.ones(37)) * 0.1
        row[index[char]] += 0.45 if shown[position] != char else 0.85
        if shown[position] != char:
            row[index[shown[position]]] += 0.45
        frames += [row / row.sum(), np.eye(37)[0] * 0.9 + 0.1 / 37]
    probs = np.array([frames], dtype=np.float32)
    greedy = CTCLabelDecode()(probs)[0][0]
    assert greedy == greedy_word
    candidates = decoder.lexicon.candidates(greedy)
    assert len(candidates) < 100 and distractor in [decoder.lexicon.words[i] for i in candidates]
    (word, score), = decoder(probs)
    assert word == target
    expected = ctc_probability(probs[0].astype(np.float64), [index[ch] for ch in target])
    assert score == pytest.approx(expected ** (1 / len(frames)), rel=1e-5)


def test_lexicon_widens_the_search_and_scans_small_lists(tmp_path):
    words = _random_words(500, seed=8)
    decoder = CTCLabelDecode(mode="lexicon", lexicon=words, max_edit_distance=0)
    # Greedy "" is within radius 0 of no word: the radius doubles 1, 2, 4 and stops at the
    # shortest words (length 4).
    candidates = decoder.lexicon.candidates("")
    assert candidates and {len(decoder.lexicon.words[i]) for i in candidates} == {4}
    (word, _), = decoder(np.full((1, 6, 37), 1 / 37, dtype=np.float32))
    assert word in words and len(word) == 4
    lexicon_file = tmp_path / "words.txt"
    lexicon_file.write_text("Cat\n\ndog\nzebra\nnaïve\n", encoding="utf-8")
    small = CTCLabelDecode(mode="lexicon", lexicon_path=str(lexicon_file))
    assert small.lexicon.words == ["cat", "dog", "zebra"]  # lower-cased, blank line and ï skipped
    index = {ch: i for i, ch in enumerate(small.character)}
    probs = path_probs([[index["d"], 0, index["q"], 0, index["g"]]], 37, np.random.RandomState(9),
                       peak_range=(0.4, 0.5))
    probs[0, 2, index["o"]] += 0.3  # "o" is second choice under "q"
    (word, _), = small(probs / probs.sum(-1, keepdims=True))
    assert word == "dog"


def test_lexicon_file_errors_name_the_file(tmp_path):
    missing = tmp_path / "missing.txt"
    with pytest.raises(ConfigError, match="missing.txt"):
        CTCLabelDecode(mode="lexicon", lexicon_path=str(missing))
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="empty.txt"):
        CTCLabelDecode(mode="lexicon", lexicon_path=str(empty))
