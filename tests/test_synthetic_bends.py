"""The bends of SyntheticDataSet's renderer: `curve` shifts columns (glyphs stay upright), `arc` lays
the text on a circle (glyphs turn along it); either way the returned line box holds the bent text."""
import cv2
import numpy as np
import pytest

from ppcrnn.data.datasets.synthetic.renderer import Renderer, Variation
from ppcrnn.errors import ConfigError
from test_synthetic_realism import QUIET, font  # every draw but the one under test off; the font

STROKE = "______________"  # one continuous stroke: its centre row is the baseline's path
BARS = "l    l    l"  # three upright bars: how each leans shows how its glyph was turned


def renderer(**options):
    return Renderer(Variation(**dict(QUIET, **options)))


def _ink_rows(mask, x0, x1):
    """(row of the ink's centre, first row, last row, column) per inked column in [x0, x1)."""
    found = []
    for x in range(int(x0), int(x1)):
        rows = np.nonzero(mask[:, x] > 64)[0]
        if rows.size:
            found.append(((rows[0] + rows[-1]) / 2, rows[0], rows[-1], x))
    return np.array(found)


def _assert_box_holds_the_ink(mask, box):
    ys, xs = np.nonzero(mask > 64)
    x0, y0, x1, y1 = box
    assert xs.min() >= x0 - 1.5 and xs.max() <= x1 + 1.5 and ys.min() >= y0 - 1.5 and ys.max() <= y1 + 1.5, \
        ((xs.min(), ys.min(), xs.max(), ys.max()), box)


def _bars(mask):
    """(centre y, lean dx/dy) of each bar, left to right."""
    count, labels = cv2.connectedComponents((mask > 64).astype(np.uint8))
    bars = []
    for index in range(1, count):
        ys, xs = np.nonzero(labels == index)
        if ys.size > 20:
            bars.append((xs.mean(), ys.mean(), np.polyfit(ys, xs, 1)[0]))
    return [(y, lean) for _, y, lean in sorted(bars)]


def test_curve_bends_the_baseline_and_the_box_follows_it():
    mask, box = renderer()._mask(STROKE, font(), np.random.default_rng(0))
    assert np.ptp(_ink_rows(mask, box[0] + 2, box[2] - 2)[:, 0]) <= 1
    curved = renderer(curve_prob=1.0, max_curve=1.0)
    bends = []
    for seed in range(8):
        mask, box = curved._mask(STROKE, font(), np.random.default_rng(seed))
        bends.append(np.ptp(_ink_rows(mask, box[0] + 2, box[2] - 2)[:, 0]))
        _assert_box_holds_the_ink(mask, box)
    assert min(bends) >= 2 and max(bends) >= 8, bends
    # a larger max_curve bends further, on the same draws
    gentle = renderer(curve_prob=1.0, max_curve=0.2)
    for seed in range(4):
        strong_mask, strong_box = curved._mask(STROKE, font(), np.random.default_rng(seed))
        gentle_mask, gentle_box = gentle._mask(STROKE, font(), np.random.default_rng(seed))
        assert np.ptp(_ink_rows(gentle_mask, gentle_box[0] + 2, gentle_box[2] - 2)[:, 0]) < \
            np.ptp(_ink_rows(strong_mask, strong_box[0] + 2, strong_box[2] - 2)[:, 0])
    # glyphs stay upright: a column shift does not turn the bars
    for seed in range(4):
        leans = [lean for _, lean in _bars(curved._mask(BARS, font(40), np.random.default_rng(seed))[0])]
        assert len(leans) == 3 and max(abs(lean) for lean in leans) < 0.08, leans


def test_arc_lays_the_line_on_a_circle_of_the_drawn_radius():
    line_h = sum(font().getmetrics())
    sides = set()
    stroke = STROKE[:7]  # short enough for every radius here to be used as drawn
    for radius in (1.5, 2.5, 4.0):
        arc = renderer(arc_prob=1.0, arc_radius=[radius, radius])
        for seed in range(6):
            mask, box = arc._mask(stroke, font(), np.random.default_rng(seed))
            _assert_box_holds_the_ink(mask, box)
            rows = _ink_rows(mask, box[0] + 2, box[2] - 2)
            # the stroke's path is a circle: fit x² + y² + a x + b y + c = 0
            xs, ys = rows[:, 3], rows[:, 0]
            a, b, c = np.linalg.lstsq(np.column_stack([xs, ys, np.ones_like(xs)]), -(xs ** 2 + ys ** 2),
                                      rcond=None)[0]
            fitted = np.sqrt(a * a / 4 + b * b / 4 - c)
            # the stroke sits near the baseline, a fraction of a line height from the line's middle
            assert abs(fitted - radius * line_h) < 0.6 * line_h, (radius, seed, fitted / line_h)
            ends, middle = (ys[0] + ys[-1]) / 2, ys[len(ys) // 2]
            assert abs(ends - middle) > 2
            sides.add("over" if ends > middle else "under")
    assert sides == {"over", "under"}


def test_arc_turns_each_glyph_to_the_tangent():
    arc = renderer(arc_prob=1.0, arc_radius=[2.0, 2.0])
    for seed in range(6):
        (left_y, left), (middle_y, middle), (right_y, right) = \
            _bars(arc._mask(BARS, font(40), np.random.default_rng(seed))[0])
        assert abs(middle) < 0.08
        over = middle_y < (left_y + right_y) / 2  # the centre below the text: ends bend down
        # over the circle the left bar's top leans left (x grows down the bar), the right one's right
        sign = 1 if over else -1
        assert sign * left > 0.15 and sign * right < -0.15, (seed, over, left, right)


def test_a_long_word_on_a_small_circle_gets_a_larger_one():
    arc = renderer(arc_prob=1.0, arc_radius=[1.5, 1.5])
    long_word = "_" * 60
    mask, box = arc._mask(long_word, font(), np.random.default_rng(3))
    _assert_box_holds_the_ink(mask, box)
    # all of the word is there: nothing wrapped round the circle or fell off the mask
    straight, _ = renderer()._mask(long_word, font(), np.random.default_rng(3))
    assert abs(int((mask > 127).sum()) / int((straight > 127).sum()) - 1) < 0.15
    # it spans 150 degrees: sagitta / chord = (1 - cos 75°) / (2 sin 75°) = 0.38
    rows = _ink_rows(mask, box[0] + 2, box[2] - 2)
    assert 0.3 < np.ptp(rows[:, 0]) / np.ptp(rows[:, 3]) < 0.46


def test_arc_keeps_the_margins_where_neighbouring_words_are():
    arc = Renderer(Variation(**dict(QUIET, arc_prob=1.0, neighbours_prob=1.0)), filler=lambda rng: "word")
    outside = 0
    for seed in range(6):
        mask, (x0, y0, x1, y1) = arc._mask("Cottage", font(), np.random.default_rng(seed))
        ink = mask > 64
        inside = ink[max(0, int(y0) - 3):int(y1) + 4, max(0, int(x0) - 3):int(x1) + 4].sum()
        outside += int(ink.sum() - inside) > 50
        # the mask keeps the straight mask's padding (the font size or more) beyond the box on every side
        assert min(x0, y0, mask.shape[1] - x1, mask.shape[0] - y1) >= font().size - 1
    assert outside >= 3


def test_arc_radius_is_checked():
    assert Variation.from_config({"arc_radius": [2, 5]}).arc_radius == [2, 5]
    for bad in ([0, 2], [3, 2], [2], "wide"):
        with pytest.raises(ConfigError, match=r"variation\.arc_radius: expected"):
            Variation.from_config({"arc_radius": bad})
