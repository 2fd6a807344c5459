"""Lexicon decoding against a brute-force reference: every word's edit distance by a plain dynamic
programme, every candidate scored by a plain-loop CTC forward pass, the first best word kept."""
import logging
import math
import os
import random

import numpy as np
import pytest

import ppcrnn.postprocess.ctc_forward as ctc_forward
from _ctc_reference import ctc_probability
from ppcrnn.character import CharacterSet
from ppcrnn.errors import ConfigError
from ppcrnn.postprocess import CTCLabelDecode
import ppcrnn.postprocess.lexicon as lexicon_module
from ppcrnn.postprocess.lexicon import FULL_SCAN_LIMIT, Lexicon, read_lexicon
from ppcrnn.utils.resources import RESOURCES


def levenshtein(a, b):
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def log_ctc_reference(log_probs, label):
    """log P(label) by the forward algorithm over the 2L+1 states, plain loops, math.log/exp."""
    states = [0]
    for char in label:
        states += [char, 0]

    def log_add(*values):
        top = max(values)
        return top if top == -math.inf else top + math.log(sum(math.exp(v - top) for v in values))

    alpha = [-math.inf] * len(states)
    alpha[0] = log_probs[0][0]
    if label:
        alpha[1] = log_probs[0][states[1]]
    for row in log_probs[1:]:
        previous = alpha
        alpha = []
        for s, char in enumerate(states):
            sources = [previous[s]] + ([previous[s - 1]] if s >= 1 else [])
            if s >= 2 and char != 0 and char != states[s - 2]:
                sources.append(previous[s - 2])
            alpha.append(log_add(*sources) + row[char])
    return log_add(alpha[-1], alpha[-2]) if label else alpha[-1]


def reference_decode(probs, words, charset, max_edit_distance, greedy_text, log_priors=None):
    """The lexicon rule written out: candidates by distance (all words for small lists, the radius
    doubling from max_edit_distance until a word is in reach), then the first most probable one
    (with `log_priors`, word -> nats, the first best by log P + prior); returns it and its log P."""
    if len(words) <= FULL_SCAN_LIMIT:
        candidates = list(words)
    else:
        distance = {word: levenshtein(greedy_text, word) for word in words}
        radius = max_edit_distance
        while min(distance.values()) > radius:
            radius = max(1, 2 * radius)
        candidates = [word for word in words if distance[word] <= radius]
    log_probs = np.log(np.maximum(probs.astype(np.float64), 1e-300)).tolist()
    scores = [log_ctc_reference(log_probs, charset.encode(word)[0]) for word in candidates]
    ranks = [score + (log_priors or {}).get(word, 0.0) for word, score in zip(candidates, scores)]
    best = int(np.argmax(ranks))
    return candidates[best], scores[best]


def peaked_frames(texts, charset, frames, rng, peak_range=(0.3, 0.9)):
    """[N, frames, C] probabilities whose frame-wise best classes spell each text (truncated to
    fit), on Dirichlet noise; an empty text gives blank-peaked frames."""
    probs = rng.dirichlet(np.ones(charset.num_classes) * 0.5, size=(len(texts), frames))
    for n, text in enumerate(texts):
        path = []
        for char in charset.encode(text)[0][: frames // 2]:
            path += [char, 0]
        path = (path + [0] * frames)[:frames]
        for t, index in enumerate(path):
            peak = rng.uniform(*peak_range)
            probs[n, t] *= (1 - peak)
            probs[n, t, index] += peak
    return probs.astype(np.float32)


def mutate(word, rng, alphabet):
    position = rng.randrange(len(word))
    return word[:position] + rng.choice(alphabet) + word[position + 1:]


@pytest.mark.parametrize("seed, max_edit_distance", [(0, 2), (1, 1), (2, 0), (3, 3)])
def test_lexicon_decoding_matches_brute_force(seed, max_edit_distance, monkeypatch):
    monkeypatch.setattr(lexicon_module, "DISTANCES_PER_CALL", 500)  # a few texts per rapidfuzz call
    rng = random.Random(seed)
    charset = CharacterSet()
    # Dense words over five letters, so that the radius holds many candidates.
    words = sorted({"".join(rng.choice("abcde") for _ in range(rng.randint(1, 7))) for _ in range(150)})
    rng.shuffle(words)
    texts = ([rng.choice(words) for _ in range(4)] + [mutate(rng.choice(words), rng, "abcdez") for _ in range(4)]
             + ["", "fghijk", "zzzz", rng.choice(words) + "qq"])  # far from every word: the radius widens
    probs = peaked_frames(texts, charset, 14, np.random.default_rng(seed))
    decoder = CTCLabelDecode(mode="lexicon", lexicon=words, max_edit_distance=max_edit_distance)
    greedy = [text for text, _ in CTCLabelDecode()(probs)]
    for sample, (word, score) in enumerate(decoder(probs)):
        expected_word, expected_log_prob = reference_decode(probs[sample], words, charset, max_edit_distance,
                                                            greedy[sample])
        assert word == expected_word, (sample, greedy[sample])
        assert score == pytest.approx(math.exp(expected_log_prob / 14), rel=1e-9)


def test_large_alphabet_small_lexicon_and_certain_frames(tmp_path):
    # 300 classes of which the candidates use a few (the log is then taken of those columns only);
    # 40 words: every word is scored. Frames sharpened to exact float32 zeros.
    dict_file = tmp_path / "dict.txt"
    dict_file.write_text("".join(chr(0x4E00 + i) + "\n" for i in range(299)), encoding="utf-8")
    charset = CharacterSet(str(dict_file))
    rng = random.Random(7)
    words = list(dict.fromkeys("".join(chr(0x4E00 + rng.randrange(40)) for _ in range(rng.randint(2, 5)))
                               for _ in range(40)))
    texts = [words[0], mutate(words[1], rng, [chr(0x4E00 + i) for i in range(299)]), ""]
    probs = peaked_frames(texts, charset, 10, np.random.default_rng(7)).astype(np.float64)
    probs = probs ** 40
    probs = (probs / probs.sum(-1, keepdims=True)).astype(np.float32)
    assert (probs == 0).any()
    decoder = CTCLabelDecode(str(dict_file), mode="lexicon", lexicon=words)
    for sample, (word, score) in enumerate(decoder(probs)):
        expected_word, expected_log_prob = reference_decode(probs[sample], words, charset, 2, "")
        assert word == expected_word
        assert score == pytest.approx(math.exp(expected_log_prob / 10), rel=1e-9, abs=1e-300)


def test_exact_ties_go_to_the_earlier_word_and_impossible_words_score_zero():
    # Uniform frames: greedy reads "", the radius widens 2 -> 4, and every 3-letter word without a
    # repeat has the same probability; "aab" (a blank is needed between the a's) has less.
    filler = [w for w in ("".join(random.Random(i).choices("abcdefgh", k=9)) for i in range(80))]
    words = filler[:30] + ["aab", "bca", "xyz", "cab"] + filler[30:]
    decoder = CTCLabelDecode(mode="lexicon", lexicon=words)
    probs = np.full((1, 8, 37), 1 / 37, dtype=np.float32)
    log_probs = np.log(probs[0].astype(np.float64)).tolist()
    charset = decoder.charset
    scores = {w: log_ctc_reference(log_probs, charset.encode(w)[0]) for w in ("aab", "bca", "xyz", "cab")}
    assert scores["bca"] == scores["xyz"] == scores["cab"] > scores["aab"]
    (word, score), = decoder(probs)
    assert word == "bca" and word == reference_decode(probs[0], words, charset, 2, "")[0]
    assert score == pytest.approx(math.exp(scores["bca"] / 8), rel=1e-9)
    # Two frames cannot spell any 3-letter word: every candidate has log P = -inf, the first wins.
    (word, score), = decoder(probs[:, :2])
    assert (word, score) == ("aab", 0.0)


@pytest.mark.parametrize("max_edit_distance", [0, 1, 2, 3])
def test_candidates_are_the_words_within_the_widened_radius(max_edit_distance):
    rng = random.Random(max_edit_distance)
    words = list(dict.fromkeys("".join(rng.choice("abcdef") for _ in range(rng.randint(2, 9))) for _ in range(200)))
    lexicon = Lexicon(words, CharacterSet(), max_edit_distance)
    for text in ["", "abc", "zzzzzzzzzzzz", words[5], mutate(words[9], rng, "xyz"), "abcdefabcdef"]:
        distances = [levenshtein(text, word) for word in words]
        radius = max_edit_distance
        while min(distances) > radius:
            radius = max(1, 2 * radius)
        assert lexicon.candidates(text) == [i for i, d in enumerate(distances) if d <= radius], text
    small = Lexicon(words[:FULL_SCAN_LIMIT], CharacterSet(), max_edit_distance)
    assert small.candidates("zzzzzzzz") == list(range(FULL_SCAN_LIMIT))


def test_lexicon_words_are_encoded_like_labels(tmp_path, caplog):
    dict_file = tmp_path / "dict.txt"
    dict_file.write_text("a\nB\n中\nc\nB\n", encoding="utf-8")  # the later "B" wins, as in encode
    charset = CharacterSet(str(dict_file), use_space_char=True)
    words = ["aB", "a B", "中c", "ab", "aB", "x", "ab", "😀", "c中a", "B"]
    logger = logging.getLogger("ppcrnn")  # does not propagate to caplog's root handler
    logger.addHandler(caplog.handler)
    try:
        lexicon = Lexicon(words, charset, source="test lexicon")
    finally:
        logger.removeHandler(caplog.handler)
    assert lexicon.words == ["aB", "a B", "中c", "c中a", "B"]  # case kept, duplicates once, order kept
    for i, word in enumerate(lexicon.words):
        start, length = lexicon.starts[i], lexicon.lengths[i]
        assert lexicon.flat_labels[start:start + length].tolist() == charset.encode(word)[0]
    assert "test lexicon: 4 words have characters outside the dictionary" in caplog.text
    lower = Lexicon(["Cat", "cat", "CAT!", "dog"], CharacterSet())
    assert lower.words == ["cat", "dog"]


def test_logits_give_the_words_of_their_probabilities():
    rng = np.random.default_rng(11)
    logits = rng.normal(0, 3, (6, 12, 37)).astype(np.float32)
    probs = np.exp(logits.astype(np.float64) - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    words = ["".join(random.Random(i).choices("abcdefghij", k=random.Random(-i).randint(2, 6))) for i in range(90)]
    decoder = CTCLabelDecode(mode="lexicon", lexicon=words)
    from_logits, from_probs = decoder(logits), decoder(probs)
    assert [w for w, _ in from_logits] == [w for w, _ in from_probs]
    assert np.allclose([s for _, s in from_logits], [s for _, s in from_probs], rtol=1e-9)


def test_batched_forward_matches_reference_across_chunks(monkeypatch):
    # Tiny chunks: labels of different lengths (empty, repeats, longer than the frames allow)
    # share chunks and are padded; each must still get its own probability.
    monkeypatch.setattr(ctc_forward, "CHUNK_POSITIONS", 7)
    rng = np.random.default_rng(12)
    log_probs = np.log(rng.dirichlet(np.ones(5), size=(3, 6)))
    labels = [[], [1], [2, 2], [1, 2, 3], [4, 4, 4], [1, 2, 1, 2], [3, 3, 3, 3], [1, 2, 3, 4, 1, 2, 3]]
    pairs = [(sample, label) for sample in range(3) for label in labels]
    rng.shuffle(pairs)
    # Sample n's class c at frame t is log_probs.flat[30 n + 5 t + c].
    got = ctc_forward.batch_ctc_log_likelihoods(
        log_probs.reshape(-1), 6, [5] * len(pairs), [30 * sample for sample, _ in pairs],
        [30 * sample + char for sample, label in pairs for char in label], [len(label) for _, label in pairs])
    for value, (sample, label) in zip(got, pairs):
        expected = log_ctc_reference(log_probs[sample].tolist(), label)
        if expected == -math.inf:
            assert value == -math.inf
        else:
            assert value == pytest.approx(expected, rel=1e-12)
            assert math.exp(value) == pytest.approx(ctc_probability(np.exp(log_probs[sample]), label), rel=1e-9)



def test_labels_that_are_all_empty_score_the_blank_path():
    # A call whose pairs are all empty has no character columns at all (a greedy text of "").
    log_probs = np.log(np.random.default_rng(14).dirichlet(np.ones(5), size=7))
    got = ctc_forward.ctc_log_likelihoods(log_probs, [[], []])
    assert got == pytest.approx([log_probs[:, 0].sum()] * 2, rel=1e-12)
    assert got[0] == pytest.approx(log_ctc_reference(log_probs.tolist(), []), rel=1e-12)


@pytest.mark.parametrize("seed, frequency_weight", [(0, 0.0), (1, 0.0), (2, 0.0), (3, 0.5), (4, 2.0)])
def test_word_prior_keeps_the_greedy_text_by_the_rule(seed, frequency_weight, tmp_path):
    # The rule written out: the word of the highest log P + b ln(10) zipf among the candidates;
    # the greedy text unless log P(that word) + penalty >= log P(greedy).
    rng = random.Random(seed)
    charset = CharacterSet()
    words = sorted({"".join(rng.choice("abcde") for _ in range(rng.randint(2, 6))) for _ in range(120)})
    zipf = {word: round(rng.uniform(1.0, 7.0), 2) for word in words}
    lexicon_file = tmp_path / "words.txt"
    lexicon_file.write_text("".join(f"{word}\t{zipf[word]}\n" for word in words), encoding="utf-8")
    log_priors = {word: frequency_weight * math.log(10) * zipf[word] for word in words}
    texts = ([rng.choice(words) for _ in range(3)] + [mutate(rng.choice(words), rng, "abcdez") for _ in range(5)]
             + ["", "fghij", "zz" + rng.choice(words)])
    probs = peaked_frames(texts, charset, 14, np.random.default_rng(seed), peak_range=(0.2, 0.8))
    log_probs = np.log(np.maximum(probs.astype(np.float64), 1e-300))
    greedy = [text for text, _ in CTCLabelDecode()(probs)]
    chosen = set()
    for penalty in (0.0, 1.5, 4.0, 1e6):
        decoder = CTCLabelDecode(mode="lexicon", lexicon_path=str(lexicon_file), oov_penalty=penalty,
                                 frequency_weight=frequency_weight)
        for sample, (text, score) in enumerate(decoder(probs)):
            word, word_log_prob = reference_decode(probs[sample], words, charset, 2, greedy[sample], log_priors)
            greedy_log_prob = log_ctc_reference(log_probs[sample].tolist(), charset.encode(greedy[sample])[0])
            keeps_greedy = greedy_log_prob - penalty > word_log_prob
            expected, expected_log_prob = (greedy[sample], greedy_log_prob) if keeps_greedy else (word, word_log_prob)
            assert text == expected, (penalty, sample, greedy[sample])
            assert score == (pytest.approx(math.exp(expected_log_prob / 14), rel=1e-9) if expected else 0.0)
            chosen.add((keeps_greedy, greedy[sample] in words))
    assert (True, False) in chosen and (False, False) in chosen  # both sides of the rule are taken


def test_oov_penalty_switches_exactly_at_the_log_probability_gap():
    charset = CharacterSet()
    probs = peaked_frames(["cqt"], charset, 10, np.random.default_rng(15), peak_range=(0.5, 0.6))
    log_probs = np.log(probs[0].astype(np.float64)).tolist()
    log_prob = {word: log_ctc_reference(log_probs, charset.encode(word)[0]) for word in ("cqt", "cat")}
    gap = log_prob["cqt"] - log_prob["cat"]
    assert gap > 0
    read = {penalty: CTCLabelDecode(mode="lexicon", lexicon=["cat", "dog"], oov_penalty=penalty)(probs)[0][0]
            for penalty in (gap - 1e-6, gap + 1e-6)}
    assert read == {gap - 1e-6: "cqt", gap + 1e-6: "cat"}
    assert CTCLabelDecode(mode="lexicon", lexicon=["cat", "dog"])(probs)[0][0] == "cat"  # no penalty: a word


def test_frequency_makes_a_common_word_beat_a_slightly_more_probable_rare_one(tmp_path):
    charset = CharacterSet()
    probs = peaked_frames(["cot"], charset, 10, np.random.default_rng(16), peak_range=(0.5, 0.6))
    index = {char: i for i, char in enumerate(CTCLabelDecode().character)}
    probs[0, 2, index["a"]] += 0.3  # "a" second under "o": "cat" is less probable than "cot", not by much
    probs /= probs.sum(-1, keepdims=True)
    log_probs = np.log(probs[0].astype(np.float64)).tolist()
    log_prob = {word: log_ctc_reference(log_probs, charset.encode(word)[0]) for word in ("cot", "cat")}
    gap = log_prob["cot"] - log_prob["cat"]
    assert 0 < gap < 2 * math.log(10)
    lexicon_file = tmp_path / "words.txt"
    lexicon_file.write_text("cat\t5.0\ncot\t3.0\n", encoding="utf-8")  # cat 100x as frequent
    read = {weight: CTCLabelDecode(mode="lexicon", lexicon_path=str(lexicon_file), frequency_weight=weight)(probs)[0][0]
            for weight in (0.0, gap / (2 * math.log(10)) - 1e-6, gap / (2 * math.log(10)) + 1e-6, 1.0)}
    assert list(read.values()) == ["cot", "cot", "cat", "cat"]


def test_word_prior_options_are_checked():
    for bad in (-1, "5", math.inf, True):
        with pytest.raises(ConfigError, match="PostProcess.oov_penalty"):
            CTCLabelDecode(mode="lexicon", lexicon=["cat"], oov_penalty=bad)
        with pytest.raises(ConfigError, match="PostProcess.frequency_weight"):
            CTCLabelDecode(mode="lexicon", lexicon=["cat"], frequency_weight=bad)
    # A frequency prior needs every word's frequency; the word without one is named.
    with pytest.raises(ConfigError, match="'dog' has none"):
        CTCLabelDecode(mode="lexicon", lexicon=["dog"], lexicon_path="words_en_wordfreq.txt", frequency_weight=0.5)


def test_frequency_lists_and_bundled_names_are_lexicons(tmp_path):
    listed = tmp_path / "freq.txt"
    listed.write_text("the\t7.73\nCat\t5.1\n\ndog\ncat\t9\n", encoding="utf-8")
    assert read_lexicon(str(listed)) == (["the", "Cat", "dog", "cat"], [7.73, 5.1, None, 9.0])
    for bad_line in ("cat\tmany\n", "cat\tnan\n"):  # the reader the synthetic word lists use too
        (tmp_path / "bad.txt").write_text("dog\t2\n" + bad_line, encoding="utf-8")
        with pytest.raises(ConfigError, match=r"PostProcess.lexicon_path: .*bad\.txt:2: expected word<TAB>zipf"):
            read_lexicon(str(tmp_path / "bad.txt"))
    assert CTCLabelDecode(mode="lexicon", lexicon_path=str(listed)).lexicon.words == ["the", "cat", "dog"]
    bundled = CTCLabelDecode(mode="lexicon", lexicon_path="words_en_wordfreq.txt").lexicon.words
    with open(os.path.join(RESOURCES, "words_en_wordfreq.txt"), encoding="utf-8") as handle:
        first = [line.split("\t")[0] for line in handle]
    assert bundled[:3] == first[:3] == ["the", "to", "and"] and len(bundled) == len(set(first))

def test_log_add_is_logaddexp_to_rounding():
    rng = np.random.default_rng(13)
    a = np.concatenate([rng.normal(-50, 40, 1000), [0.0, -3.0, -800.0, ctc_forward.LOG_ZERO]])
    b = np.concatenate([rng.normal(-50, 40, 1000), [-1e-3, -3.0, -1.0, -5.0]])
    a[:100] = b[:100] - rng.uniform(20, 60, 100)  # gaps where log1p(exp(-gap)) is tiny but counts
    got = ctc_forward._log_add(a, b)
    assert np.allclose(got, np.logaddexp(a, b), rtol=1e-15, atol=0)
    assert ctc_forward._log_add(np.array([ctc_forward.LOG_ZERO]), np.array([ctc_forward.LOG_ZERO]))[0] < -1e299
