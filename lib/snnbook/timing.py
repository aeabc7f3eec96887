"""Wall-clock timing of forward and backward passes, the same way everywhere.

A timing on a shared laptop is noisy: the first call pays for allocating memory
and warming caches, and any other program can steal a core for a moment. The
book therefore reports the **best of several repeats after one warm-up call**
(the least disturbed run), measured with :func:`time.perf_counter`, on a fixed
number of threads. Benchmarks that the book quotes run from ``scripts/`` on a
quiet machine and record the load average (:mod:`snnbook.records`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

from snnbook import checks

__all__ = ["best_ms", "forward_backward_ms"]


def best_ms(fn: Callable[[], object], *, repeats: int = 3, warmup: int = 1) -> float:
    """Best wall time of ``fn()`` in milliseconds over ``repeats`` calls, after ``warmup`` calls."""
    checks.callable_("fn", fn)
    repeats = checks.positive_int("repeats", repeats)
    warmup = checks.nonnegative_int("warmup", warmup)
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return 1e3 * best


def forward_backward_ms(
    fn: Callable[[torch.Tensor], torch.Tensor],
    inputs: torch.Tensor,
    *,
    repeats: int = 3,
    warmup: int = 1,
    seed: int = 0,
) -> float:
    """Best time in ms of ``fn(x)`` plus the backward pass to ``x``, for a fixed random loss.

    The loss is ``sum(fn(x) * direction)`` with a seeded random ``direction``
    (made once, outside the timing), so the gradient that flows back is dense and
    the same for every method compared. Each call gets a fresh copy ``x`` of
    ``inputs`` that requires a gradient, made outside the timing.
    """
    checks.callable_("fn", fn)
    inputs = checks.tensor("inputs", inputs, kind="float")
    repeats = checks.positive_int("repeats", repeats)
    warmup = checks.nonnegative_int("warmup", warmup)
    gen = torch.Generator().manual_seed(checks.nonnegative_int("seed", seed))
    direction = None
    best = float("inf")
    for i in range(warmup + repeats):
        x = inputs.detach().clone().requires_grad_(True)
        start = time.perf_counter()
        out = fn(x)
        if direction is None:  # first call only: its time is never counted (see below)
            stop = time.perf_counter()
            direction = torch.rand(out.shape, generator=gen).to(out)
            start += time.perf_counter() - stop
        out.backward(direction)
        elapsed = time.perf_counter() - start
        if i >= warmup:
            best = min(best, elapsed)
    return 1e3 * best
