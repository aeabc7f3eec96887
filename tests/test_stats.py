"""snnbook.stats against independent references: the binomial formula, scipy, constructed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conftest import assert_refuses, refuse
from scipy import stats as sps

from snnbook import stats


@pytest.mark.parametrize(
    "p, n", [(0.85, 10_000), (0.5, 1_000), (0.99, 2_000), (0.0, 50), (1.0, 50)]
)
def test_test_se_is_the_binomial_standard_error(p, n):
    # scipy's binomial: the count k ~ Binomial(n, p) has std sqrt(n p (1 - p)); the accuracy k / n
    assert stats.test_se(p, n) == pytest.approx(sps.binom(n, p).std() / n, abs=1e-15)


def test_test_se_matches_the_module_docstring():
    assert stats.test_se(0.85, 10_000) == pytest.approx(0.0036, abs=5e-5)  # "about 0.36 points"
    assert stats.test_se(0.85, 1_000) == pytest.approx(0.0113, abs=5e-5)  # "1.1 points"


def test_summary_matches_numpy_and_scipy():
    accs = [0.81, 0.84, 0.79, 0.86]
    s = stats.summarize(accs, 10_000)
    assert s.k == 4
    assert s.mean == pytest.approx(np.mean(accs))
    assert s.std == pytest.approx(np.std(accs, ddof=1))
    assert s.sem == pytest.approx(sps.sem(accs))
    assert (s.low, s.high) == (0.79, 0.86)
    assert s.test_se == pytest.approx(math.sqrt(s.mean * (1 - s.mean) / 10_000))
    assert str(s) == "82.5% ± 3.1% (4 seeds)"


def test_a_single_seed_has_no_spread():
    s = stats.summarize([0.9], 500)
    assert s.std == 0.0 and s.sem == 0.0
    assert str(s) == "90.0% (1 seed)"


@pytest.mark.parametrize("values", [np.array([0.8, 0.9]), torch.tensor([0.8, 0.9]), (0.8, 0.9)])
def test_summarize_takes_arrays_and_tensors(values):
    s = stats.summarize(values, 100)
    assert s.values == pytest.approx((0.8, 0.9)) and all(type(v) is float for v in s.values)


def test_compare_combines_seed_and_test_set_noise():
    a = stats.summarize([0.80, 0.82, 0.84], 1_000)
    b = stats.summarize([0.78, 0.79, 0.80], 1_000)
    c = stats.compare(a, b)
    expected_noise = math.sqrt(
        np.var([0.80, 0.82, 0.84], ddof=1) / 3 + np.var([0.78, 0.79, 0.80], ddof=1) / 3
        + 0.82 * 0.18 / 1_000 + 0.79 * 0.21 / 1_000
    )  # fmt: skip
    assert c.difference == pytest.approx(0.03)
    assert c.noise == pytest.approx(expected_noise)
    assert c.tie == (0.03 <= 2 * expected_noise)


def test_compare_on_constructed_cases():
    # identical results are a tie; so is a difference inside the noise
    same = stats.summarize([0.8, 0.8, 0.8], 10_000)
    assert stats.compare(same, same).tie
    near = stats.summarize([0.801, 0.802, 0.803], 10_000)
    assert stats.compare(near, same).tie
    # a difference of many standard errors is resolved, either way round
    far = stats.summarize([0.90, 0.905, 0.91], 10_000)
    assert not stats.compare(far, same).tie
    assert not stats.compare(same, far).tie
    assert stats.compare(same, far).difference < 0
    # the threshold sits exactly at z standard errors: just inside is a tie, just outside is not
    c = stats.compare(far, same)
    assert stats.compare(far, same, z=abs(c.difference) / c.noise * 1.0001).tie
    assert not stats.compare(far, same, z=abs(c.difference) / c.noise * 0.9999).tie


def test_compare_ties_a_small_test_set_that_a_large_one_resolves():
    """The same one-point gap is noise on 200 images and a result on 100 000."""
    small = stats.compare(stats.summarize([0.86], 200), stats.summarize([0.85], 200))
    large = stats.compare(stats.summarize([0.86], 100_000), stats.summarize([0.85], 100_000))
    assert small.tie and not large.tie


def test_comparison_text():
    c = stats.compare(stats.summarize([0.9], 100_000), stats.summarize([0.8], 100_000))
    assert str(c).startswith("+10.00 points (resolved: noise ")


BAD_INPUTS = [
    refuse(lambda: stats.test_se(85.0, 1000), ValueError, "accuracy", "fractions", id="test-se-percent"),
    refuse(lambda: stats.test_se(-0.1, 1000), ValueError, "accuracy", id="test-se-negative"),
    refuse(lambda: stats.test_se(float("nan"), 1000), ValueError, "accuracy", id="test-se-nan"),
    refuse(lambda: stats.test_se(0.5, 0), ValueError, "n_test", id="test-se-n-0"),
    refuse(lambda: stats.test_se(0.5, 100.0), TypeError, "n_test", id="test-se-n-float"),
    refuse(lambda: stats.summarize([], 100), ValueError, "values", "empty", id="summarize-empty"),
    refuse(lambda: stats.summarize(0.9, 100), TypeError, "values", id="summarize-scalar"),
    refuse(lambda: stats.summarize("0.9", 100), TypeError, "values", id="summarize-str"),
    refuse(lambda: stats.summarize({0.9, 0.8}, 100), TypeError, "values", id="summarize-set"),
    refuse(lambda: stats.summarize([85.2, 86.1], 100), ValueError, "values[0]", "percentages", id="summarize-percent"),
    refuse(lambda: stats.summarize([0.8, float("nan")], 100), ValueError, "values[1]", id="summarize-nan"),
    refuse(lambda: stats.summarize([0.8, None], 100), TypeError, "values[1]", id="summarize-none"),
    refuse(lambda: stats.summarize(np.zeros((2, 2)), 100), ValueError, "values", "1-D", id="summarize-2d"),
    refuse(lambda: stats.summarize([0.8], 0), ValueError, "n_test", id="summarize-n-0"),
    refuse(lambda: stats.summarize([0.8], -5), ValueError, "n_test", id="summarize-n-negative"),
    refuse(lambda: stats.Summary((), 100), ValueError, "values", "empty", id="summary-direct-empty"),
    refuse(lambda: stats.Summary((1.5,), 100), ValueError, "values[0]", id="summary-direct-range"),
    refuse(lambda: stats.compare([0.8], stats.summarize([0.8], 10)), TypeError, "a", "Summary", id="compare-list"),
    refuse(lambda: stats.compare(stats.summarize([0.8], 10), 0.8), TypeError, "b", "Summary", id="compare-float"),
    refuse(lambda: stats.compare(stats.summarize([0.8], 10), stats.summarize([0.8], 10), z=0), ValueError, "z", id="compare-z-0"),
    refuse(lambda: stats.compare(stats.summarize([0.8], 10), stats.summarize([0.8], 10), z=float("inf")), ValueError, "z", id="compare-z-inf"),
]  # fmt: skip


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)
