"""Seeds and noise: how sure a measured accuracy is, and when two are a tie.

Two sources of noise sit under every accuracy the book reports:

* **the seed**: another initialisation and another batch order give another
  network. With :math:`k` seeds :math:`a_1, \\dots, a_k` we report the mean
  :math:`\\bar a`, the sample standard deviation :math:`s` (the *spread*) and
  the standard error of the mean :math:`s / \\sqrt{k}`;
* **the test set**: :math:`n` test images estimate the accuracy :math:`p` of
  a fixed network with the binomial standard error
  :math:`\\sqrt{p (1 - p) / n}` (about 0.36 points at :math:`p = 0.85`,
  :math:`n = 10\\,000`; 1.1 points on 1 000 images).

:func:`compare` calls two results a **tie** unless their means differ by more
than ``z`` (default 2) combined standard errors,
:math:`|\\bar a - \\bar b| > z \\sqrt{s_a^2 / k_a + s_b^2 / k_b + se_a^2 + se_b^2}`,
where :math:`se` is the test-set standard error of each mean. This is
deliberately conservative (it treats the two test-set errors as independent,
although both results use the same images); the book's text ranks two methods
only when this says they differ.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from snnbook import checks

__all__ = ["Comparison", "Summary", "compare", "summarize", "test_se"]


def test_se(accuracy: float, n_test: int) -> float:
    """Binomial standard error :math:`\\sqrt{p(1-p)/n}` of an accuracy measured on ``n_test`` images."""
    p = checks.unit_interval("accuracy", accuracy, hint=_PERCENT_HINT)
    n = checks.positive_int("n_test", n_test)
    return math.sqrt(p * (1.0 - p) / n)


_PERCENT_HINT = "pass accuracies as fractions (0.853), not percentages (85.3)"


def _accuracies(values: object) -> tuple[float, ...]:
    """One accuracy per seed, from a list, tuple, 1-D NumPy array or 1-D tensor."""
    if isinstance(values, torch.Tensor | np.ndarray):
        if values.ndim != 1:
            raise ValueError(
                f"values must be one accuracy per seed (1-D), got shape {tuple(values.shape)}"
            )
        values = values.tolist()
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise TypeError(
            f"values must be a sequence of accuracies (one per seed), got {type(values).__name__}"
        )
    if len(values) == 0:
        raise ValueError("values is empty; pass one accuracy per seed")
    return tuple(
        checks.unit_interval(f"values[{i}]", v, hint=_PERCENT_HINT) for i, v in enumerate(values)
    )


@dataclass(frozen=True)
class Summary:
    """Accuracy over seeds: mean, spread and both standard errors.

    Made by :func:`summarize`; constructing one directly checks the same things.
    """

    values: tuple[float, ...]
    n_test: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", _accuracies(self.values))
        object.__setattr__(self, "n_test", checks.positive_int("n_test", self.n_test))

    @property
    def k(self) -> int:
        """Number of seeds."""
        return len(self.values)

    @property
    def mean(self) -> float:
        return sum(self.values) / self.k

    @property
    def std(self) -> float:
        """Sample standard deviation over seeds (0 for a single seed)."""
        if self.k < 2:
            return 0.0
        m = self.mean
        return math.sqrt(sum((v - m) ** 2 for v in self.values) / (self.k - 1))

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    @property
    def sem(self) -> float:
        """Standard error of the mean over seeds, :math:`s / \\sqrt{k}`."""
        return self.std / math.sqrt(self.k)

    @property
    def test_se(self) -> float:
        """Test-set standard error of the mean accuracy."""
        return test_se(self.mean, self.n_test)

    def __str__(self) -> str:
        spread = f" ± {self.std:.1%}" if self.k > 1 else ""
        return f"{self.mean:.1%}{spread} ({self.k} seed{'s' if self.k > 1 else ''})"


def summarize(values: Sequence[float], n_test: int) -> Summary:
    """A :class:`Summary` of accuracies (fractions in [0, 1]), one per seed, on ``n_test`` images.

    ``values`` is a list, tuple, 1-D NumPy array or 1-D tensor.
    """
    return Summary(_accuracies(values), checks.positive_int("n_test", n_test))


@dataclass(frozen=True)
class Comparison:
    """The difference of two summaries and whether it stands out of the noise."""

    difference: float
    noise: float
    z: float

    @property
    def tie(self) -> bool:
        """True when ``|difference| <= z * noise``: the text must call it a tie."""
        return abs(self.difference) <= self.z * self.noise

    def __str__(self) -> str:
        verdict = "a tie" if self.tie else "resolved"
        return (
            f"{self.difference * 100:+.2f} points ({verdict}: noise {self.noise * 100:.2f} points)"
        )


def compare(a: Summary, b: Summary, *, z: float = 2.0) -> Comparison:
    """``a.mean - b.mean`` with its combined standard error (seeds and test sets)."""
    for name, s in (("a", a), ("b", b)):
        if not isinstance(s, Summary):
            raise TypeError(f"{name} must be a Summary (from summarize), got {type(s).__name__}")
    z = checks.positive("z", z)
    noise = math.sqrt(a.sem**2 + b.sem**2 + a.test_se**2 + b.test_se**2)
    return Comparison(a.mean - b.mean, noise, z)
