"""Straightforward reference implementations used by the CTC tests (independent of ppcrnn)."""
import itertools

import numpy as np


def collapse(path):
    """CTC's many-to-one map: merge repeats, then drop blanks (0)."""
    out, previous = [], None
    for index in path:
        if index != previous and index != 0:
            out.append(int(index))
        previous = index
    return tuple(out)


def ctc_probability(probs, label):
    """P(label | probs) by the forward algorithm in probability space, plain loops, float64."""
    probs = np.asarray(probs, dtype=np.float64)
    states = [0]
    for char in label:
        states += [char, 0]
    alpha = np.zeros((len(probs), len(states)))
    alpha[0, 0] = probs[0, 0]
    if len(states) > 1:
        alpha[0, 1] = probs[0, states[1]]
    for t in range(1, len(probs)):
        for s, char in enumerate(states):
            total = alpha[t - 1, s]
            if s >= 1:
                total += alpha[t - 1, s - 1]
            if s >= 2 and char != 0 and char != states[s - 2]:
                total += alpha[t - 1, s - 2]
            alpha[t, s] = total * probs[t, char]
    return alpha[-1, -1] + (alpha[-1, -2] if len(states) > 1 else 0.0)


def labelling_probabilities(probs):
    """{labelling: probability} by summing over every one of the C^T paths (tiny inputs only)."""
    probs = np.asarray(probs, dtype=np.float64)
    totals = {}
    for path in itertools.product(range(probs.shape[1]), repeat=len(probs)):
        p = np.prod(probs[np.arange(len(probs)), path])
        key = collapse(path)
        totals[key] = totals.get(key, 0.0) + p
    return totals


def paddleocr_greedy(probs, characters):
    """PaddleOCR's greedy rule, one sample and one frame at a time."""
    results = []
    for sample in probs:
        chars, confidences, previous = [], [], None
        for row in sample:
            index = int(np.argmax(row))
            if index != previous and index != 0:
                chars.append(characters[index])
                confidences.append(float(row[index]))
            previous = index
        results.append(("".join(chars), float(np.mean(confidences)) if confidences else 0.0))
    return results
