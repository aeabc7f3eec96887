"""The self-checking coding exercises (snnbook.exercises) can pass, and can fail.

Every check must pass on its reference solution, must not pass on the stub
(which raises NotImplementedError: "not implemented yet"), and must not pass
on any of the plausible wrong answers below, each named for its mistake.
Then the solutions written in the chapters' ``{solution}`` dropdowns are
executed and run through the same checks.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch
from conftest import assert_refuses, refuse

from snnbook import exercises
from snnbook.exercises import check, labels, reference

ROOT = Path(__file__).resolve().parents[1]


# ==================================================================== wrong answers
# chapter 1 ------------------------------------------------------------------------
def quantizer_rounds_each_step(v, rate, dt):  # no error diffusion
    return torch.floor(dt * rate + 0.5), torch.zeros_like(v)


def quantizer_resets_to_zero(v, rate, dt):
    v = v + dt * rate
    n = torch.floor(v)
    return n, torch.where(n > 0, torch.zeros_like(v), v)


def quantizer_forgets_dt(v, rate, dt):
    v = v + rate
    n = torch.floor(v)
    return n, v - n


def quantizer_keeps_the_spikes(v, rate, dt):  # forgets to subtract n
    v = v + dt * rate
    return torch.floor(v), v


def quantizer_rounds_instead_of_floor(v, rate, dt):
    v = v + dt * rate
    n = torch.round(v)
    return n, v - n


def bits_without_level_zero(counts):  # levels from the smallest to the largest count seen
    levels = counts.amax(0) - counts.amin(0) + 1
    return torch.log2(levels).mean().item()


def bits_rounded_up(counts):
    levels = counts.amax(0).clamp(min=0) - counts.amin(0).clamp(max=0) + 1
    return torch.ceil(torch.log2(levels)).mean().item()


def bits_of_largest_count(counts):  # log2(max + 1), ignores negative counts
    return torch.log2(counts.amax(0).clamp(min=0) + 1).mean().item()


# chapter 2 ------------------------------------------------------------------------
def dt_linear(step, total_steps, dt_start, dt_end, anneal_fraction):
    p = min(step / (anneal_fraction * total_steps), 1.0)
    return dt_start + (dt_end - dt_start) * p


def dt_never_stops(step, total_steps, dt_start, dt_end, anneal_fraction):
    p = step / (anneal_fraction * total_steps)
    return dt_start * (dt_end / dt_start) ** p


def dt_off_by_one_step(step, total_steps, dt_start, dt_end, anneal_fraction):
    p = min((step + 1) / (anneal_fraction * total_steps), 1.0)
    return dt_start * (dt_end / dt_start) ** p


def ste_without_gradient(rates, quantized):
    return quantized


def ste_not_quantized(rates, quantized):
    return rates


def ste_wrong_sign(rates, quantized):
    return rates - (quantized - rates).detach()


def ste_gradient_doubled(rates, quantized):
    return quantized + 2 * (rates - rates.detach())


# chapter 3 ------------------------------------------------------------------------
def lif_reset_to_zero(current, mem, beta, threshold=1.0):
    reset = (mem > threshold).float()
    mem = beta * mem * (1 - reset) + current
    return (mem > threshold).float(), mem


def lif_reset_in_the_same_step(current, mem, beta, threshold=1.0):
    mem = beta * mem + current
    spk = (mem > threshold).float()
    return spk, mem - spk * threshold


def lif_without_leak(current, mem, beta, threshold=1.0):
    reset = (mem > threshold).float()
    mem = mem + current - reset * threshold
    return (mem > threshold).float(), mem


def lif_without_reset(current, mem, beta, threshold=1.0):
    mem = beta * mem + current
    return (mem > threshold).float(), mem


def lif_fires_at_threshold(current, mem, beta, threshold=1.0):  # >= instead of >
    reset = (mem >= threshold).float()
    mem = beta * mem + current - reset * threshold
    return (mem >= threshold).float(), mem


def lif_ignores_threshold(current, mem, beta, threshold=1.0):
    reset = (mem > 1.0).float()
    mem = beta * mem + current - reset
    return (mem > 1.0).float(), mem


def fast_sigmoid_not_squared(u, slope):
    return 1 / (1 + slope * u.abs())


def fast_sigmoid_without_abs(u, slope):
    return 1 / (1 + slope * u) ** 2


def fast_sigmoid_slope_divides(u, slope):
    return 1 / (1 + u.abs() / slope) ** 2


def decay_euler(dt, tau):
    return 1 - dt / tau


def decay_inverted(dt, tau):
    return math.exp(-tau / dt)


def decay_wrong_sign(dt, tau):
    return math.exp(dt / tau)


# chapter 4 ------------------------------------------------------------------------
def anneal_wrong_sign(theta, target, alpha):
    return theta + alpha * (theta - target)


def anneal_target_as_offset(theta, target, alpha):
    return theta + alpha * target


def anneal_alpha_swapped(theta, target, alpha):  # keeps alpha of the gap instead of closing it
    return theta + (1 - alpha) * (target - theta)


def binarize_torch_sign(w):  # sign(0) = 0
    return w + (torch.sign(w) - w).detach()


def binarize_without_ste(w):
    return torch.where(w >= 0, torch.ones_like(w), -torch.ones_like(w))


def binarize_clipped_ste(w):  # gradient only where |w| <= 1 (hardtanh)
    clipped = w.clamp(-1, 1)
    return clipped + (torch.where(w >= 0, 1.0, -1.0) - clipped).detach()


def binarize_zero_negative(w):  # sign(0) = -1
    return w + (torch.where(w > 0, 1.0, -1.0) - w).detach()


# chapter 5 ------------------------------------------------------------------------
def _legendre(order, theta, *, transpose=False, divide=True, alternate=True, by_row=True):
    q = np.arange(order)
    i, j = np.meshgrid(q, q, indexing="ij")
    if transpose:
        i, j = j, i
    scale = (2 * q + 1)[:, None] if by_row else (2 * q + 1)[None, :]
    a = np.where(i < j, -1.0, (-1.0) ** (i - j + 1)) * scale
    b = ((-1.0) ** q if alternate else np.ones(order))[:, None] * (2 * q + 1)[:, None]
    if divide:
        a, b = a / theta, b / theta
    return a, b


def legendre_transposed(order, theta):
    return _legendre(order, theta, transpose=True)


def legendre_forgets_theta(order, theta):
    return _legendre(order, theta, divide=False)


def legendre_b_without_sign(order, theta):
    return _legendre(order, theta, alternate=False)


def legendre_scales_columns(order, theta):
    return _legendre(order, theta, by_row=False)


def zoh_euler(a, b, dt):
    return np.eye(len(a)) + a * dt, b * dt


def zoh_b_times_dt(a, b, dt):
    return scipy.linalg.expm(a * dt), b * dt


def zoh_ignores_dt(a, b, dt):
    abar = scipy.linalg.expm(a)
    return abar, np.linalg.solve(a, (abar - np.eye(len(a))) @ b)


# chapter 6 ------------------------------------------------------------------------
def window_rounds(rate, dt, steps, v0):
    return torch.round(steps * dt * rate)


def window_ignores_v0(rate, dt, steps, v0):
    return torch.floor(steps * dt * rate)


def window_rounds_each_step(rate, dt, steps, v0):  # no error diffusion
    return steps * torch.floor(v0 + dt * rate)


def bits_counts_trailing_zeros(counts):
    m = counts.abs().long().flatten()
    m = m[m > 0]
    return float(np.mean([int(x).bit_length() for x in m])) if len(m) else math.nan


def bits_average_over_zeros(counts):
    def odd_bits(x):
        if x == 0:
            return 0
        while x % 2 == 0:
            x //= 2
        return x.bit_length()

    m = counts.abs().long().flatten().tolist()
    return float(np.mean([odd_bits(x) for x in m]))


def bits_counts_ones(counts):  # popcount instead of the span from leading to trailing one
    m = counts.abs().long().flatten()
    m = m[m > 0]
    return float(np.mean([bin(int(x)).count("1") for x in m])) if len(m) else math.nan


# chapter 7 ------------------------------------------------------------------------
def first_spike_counts_itself(candidates):  # off by one: the current step counts as earlier
    return candidates * (torch.cumsum(candidates, 0) == 0)


def first_spike_keeps_all(candidates):
    return candidates


def first_spike_argmax_for_everyone(candidates):  # silent neurons get a spike at t = 0
    t = candidates.argmax(0)
    steps = torch.arange(candidates.shape[0]).reshape(-1, *([1] * (candidates.dim() - 1)))
    return (steps == t).float()


def first_spike_keeps_the_last(candidates):
    flipped = candidates.flip(0)
    return (flipped * (torch.cumsum(flipped, 0) - flipped == 0)).flip(0)


def membrane_plain_cumsum(currents, beta):  # no decay
    return torch.cumsum(currents, 0)


def membrane_decays_the_new_current(currents, beta):  # off by one: beta * (v + I)
    v, out = torch.zeros_like(currents[0]), []
    for i_t in currents:
        v = beta * (v + i_t)
        out.append(v)
    return torch.stack(out)


def membrane_low_pass_normalised(currents, beta):  # wrong normalisation: (1 - beta) I
    v, out = torch.zeros_like(currents[0]), []
    for i_t in currents:
        v = beta * v + (1 - beta) * i_t
        out.append(v)
    return torch.stack(out)


# chapter 8 ------------------------------------------------------------------------
def threshold_mean(currents, percentile=100.0):
    return currents.mean().item()


def threshold_largest_magnitude(currents, percentile=100.0):
    flat = currents.flatten().abs()
    k = max(1, math.ceil(flat.numel() * (100 - percentile) / 100))
    return torch.topk(flat, k).values[-1].item()


def threshold_interpolated_quantile(currents, percentile=100.0):
    return torch.quantile(currents.flatten().double(), percentile / 100).item()


def threshold_k_floor(currents, percentile=100.0):  # off by one: floor, and k may be 0 -> +1
    flat = currents.flatten()
    k = math.floor(flat.numel() * (100 - percentile) / 100) + 1
    return torch.topk(flat, k).values[-1].item()


def stdb_wrong_sign(dt, alpha=0.3, beta=0.01):
    return alpha * torch.exp(beta * dt)


def stdb_without_alpha(dt, alpha=0.3, beta=0.01):
    return torch.exp(-beta * dt)


def stdb_beta_as_time_constant(dt, alpha=0.3, beta=0.01):
    return alpha * torch.exp(-dt / beta)


# chapter 9 ------------------------------------------------------------------------
def acs_dense_count(spikes, out_features):  # what a dense layer would do
    return spikes.numel() * out_features


def acs_counts_the_zeros(spikes, out_features):
    return (spikes == 0).sum().item() * out_features


def acs_forgets_time(spikes, out_features):  # one step only
    return (spikes[0] != 0).sum().item() * out_features


def acs_times_in_features(spikes, out_features):
    return (spikes != 0).sum().item() * spikes.shape[-1]


def break_even_forgets_time(T, e_ac, e_mac):
    return e_mac / e_ac


def break_even_inverted(T, e_ac, e_mac):
    return T * e_ac / e_mac


def break_even_time_squared(T, e_ac, e_mac):
    return e_mac / (T**2 * e_ac)


WRONG_ANSWERS = {
    "ch1-quantizer-step": [
        quantizer_rounds_each_step,
        quantizer_resets_to_zero,
        quantizer_forgets_dt,
        quantizer_keeps_the_spikes,
        quantizer_rounds_instead_of_floor,
    ],
    "ch1-bits-per-activity": [bits_without_level_zero, bits_rounded_up, bits_of_largest_count],
    "ch2-dt-schedule": [dt_linear, dt_never_stops, dt_off_by_one_step],
    "ch2-straight-through": [
        ste_without_gradient,
        ste_not_quantized,
        ste_wrong_sign,
        ste_gradient_doubled,
    ],
    "ch3-lif-step": [
        lif_reset_to_zero,
        lif_reset_in_the_same_step,
        lif_without_leak,
        lif_without_reset,
        lif_fires_at_threshold,
        lif_ignores_threshold,
    ],
    "ch3-fast-sigmoid": [
        fast_sigmoid_not_squared,
        fast_sigmoid_without_abs,
        fast_sigmoid_slope_divides,
    ],
    "ch3-decay-factor": [decay_euler, decay_inverted, decay_wrong_sign],
    "ch4-anneal-step": [anneal_wrong_sign, anneal_target_as_offset, anneal_alpha_swapped],
    "ch4-binarize": [
        binarize_torch_sign,
        binarize_without_ste,
        binarize_clipped_ste,
        binarize_zero_negative,
    ],
    "ch5-legendre-matrices": [
        legendre_transposed,
        legendre_forgets_theta,
        legendre_b_without_sign,
        legendre_scales_columns,
    ],
    "ch5-zoh": [zoh_euler, zoh_b_times_dt, zoh_ignores_dt],
    "ch6-window-spikes": [window_rounds, window_ignores_v0, window_rounds_each_step],
    "ch6-multiply-bits": [bits_counts_trailing_zeros, bits_average_over_zeros, bits_counts_ones],
    "ch7-first-spike": [
        first_spike_counts_itself,
        first_spike_keeps_all,
        first_spike_argmax_for_everyone,
        first_spike_keeps_the_last,
    ],
    "ch7-no-reset-membrane": [
        membrane_plain_cumsum,
        membrane_decays_the_new_current,
        membrane_low_pass_normalised,
    ],
    "ch8-balance-threshold": [
        threshold_mean,
        threshold_largest_magnitude,
        threshold_interpolated_quantile,
        threshold_k_floor,
    ],
    "ch8-stdb-surrogate": [stdb_wrong_sign, stdb_without_alpha, stdb_beta_as_time_constant],
    "ch9-count-acs": [
        acs_dense_count,
        acs_counts_the_zeros,
        acs_forgets_time,
        acs_times_in_features,
    ],
    "ch9-break-even-rate": [
        break_even_forgets_time,
        break_even_inverted,
        break_even_time_squared,
    ],
}

WRONG_CASES = [
    pytest.param(label, fn, id=f"{label}:{fn.__name__}")
    for label, fns in WRONG_ANSWERS.items()
    for fn in fns
]


# ==================================================================== the checks
def test_every_chapter_has_at_least_two_exercises():
    per_chapter = {n: [lab for lab in labels() if lab.startswith(f"ch{n}-")] for n in range(1, 10)}
    thin = {n: labs for n, labs in per_chapter.items() if len(labs) < 2}
    assert not thin, f"chapters with fewer than 2 coding exercises: {thin}"
    assert all(re.fullmatch(r"ch[1-9]-[a-z0-9]+(-[a-z0-9]+)*", lab) for lab in labels())
    assert len(set(labels())) == len(labels())


def test_every_exercise_has_wrong_answers():
    assert set(WRONG_ANSWERS) == set(labels())
    assert all(WRONG_ANSWERS.values())


@pytest.mark.parametrize("label", labels())
def test_reference_passes(label):
    result = check(label, reference(label))
    assert result.passed, result.message
    assert result.status == "passed" and bool(result)
    assert result.message.startswith(f"✓ {label}")


@pytest.mark.parametrize("label", labels())
def test_stub_is_not_implemented(label):
    namespace: dict = {}
    exec(exercises.stub(label), namespace)  # noqa: S102 - the generated stub cell
    fn = namespace[exercises.function_name(label)]
    result = check(label, fn)
    assert not result.passed
    assert result.status == "not implemented"
    assert "not implemented yet" in result.message
    assert "Traceback" not in result.message


@pytest.mark.parametrize("label, fn", WRONG_CASES)
def test_wrong_answer_is_rejected(label, fn):
    result = check(label, fn)
    assert not result.passed, f"{fn.__name__} passed the check of {label}"
    assert result.status in ("failed", "error"), result.message
    assert "input" in result.message and "hint:" in result.message


@pytest.mark.parametrize("label", labels())
def test_reference_has_the_readers_signature_and_an_equation(label):
    fn = reference(label)
    assert fn.__name__ == exercises.function_name(label)
    doc = fn.__doc__ or ""
    assert "=" in doc or "<-" in doc, f"{label}: the docstring should state the equation"
    assert "Returns" in doc or "Return" in doc


# ==================================================================== messages
def test_failure_names_the_input_the_expected_and_the_result():
    message = check("ch1-quantizer-step", quantizer_resets_to_zero).message
    assert "input 2 of 5" in message
    assert "quantizer_step(v=tensor([0.5, 0.75, 0.875, 0.25]), rate=" in message
    assert "expected v = tensor([0.0, 0.25, 0.125, 0.5])" in message
    assert "got      v = tensor([0.0, 0.0, 0.0, 0.5])" in message
    assert "at [1] expected 0.25, got 0" in message
    assert "hint:" in message


def test_wrong_kind_of_result_is_reported_not_raised():
    result = check("ch1-quantizer-step", lambda v, rate, dt: torch.floor(v + dt * rate))
    assert not result.passed
    assert "expected a tuple of 2 values, got a tensor" in result.message


def test_exception_in_readers_code_is_reported_with_the_input():
    def broken(v, rate, dt):
        return v[10], v

    result = check("ch1-quantizer-step", broken)
    assert result.status == "error"
    assert "raised IndexError" in result.message
    assert "input 1 of 5" in result.message and "quantizer_step(v=" in result.message


def test_shape_mismatch_is_reported():
    result = check("ch7-first-spike", lambda c: c[0])
    assert "expected shape" in result.message


def test_missing_gradient_is_reported():
    result = check("ch2-straight-through", ste_without_gradient)
    assert "no gradient" in result.message


def test_readers_function_cannot_change_the_reference_inputs():
    def vandal(v, rate, dt):
        v.fill_(0.99)
        rate.fill_(100.0)
        return reference("ch1-quantizer-step")(v, rate, dt)

    assert not check("ch1-quantizer-step", vandal).passed
    assert check("ch1-quantizer-step", reference("ch1-quantizer-step")).passed


def test_result_displays_its_message():
    result = check("ch3-decay-factor", decay_euler)
    assert str(result) == result.message
    html = result._repr_html_()
    assert "snnbook-check-failed" in html and 'role="status"' in html
    assert "&lt;" not in result.message or "&lt;" in html
    assert result._repr_markdown_().startswith("```text\n✗ ch3-decay-factor")
    assert "passed=False" in repr(result)
    nan_result = check("ch6-multiply-bits", bits_average_over_zeros)
    assert "nan" in nan_result.message or "expected" in nan_result.message


def test_importing_exercises_does_not_import_heavy_modules():
    import subprocess
    import sys

    code = (
        "import sys, snnbook.exercises; "
        "print(sorted(m for m in ('snntorch', 'scipy', 'matplotlib', 'snnbook.lmu') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ==================================================================== the library link
def test_balance_threshold_reference_is_the_library_rule():
    """The k-th largest current, computed independently, equals the library's balancing."""
    gen = torch.Generator().manual_seed(0)
    currents = torch.randn(3, 5, 7, generator=gen) + 2.0  # some negative, median positive
    flat = currents.flatten()
    for percentile in (100.0, 99.0, 90.0, 75.0, 50.0):
        k = max(1, math.ceil(flat.numel() * (100 - percentile) / 100))
        independent = torch.sort(flat, descending=True).values[k - 1].item()
        assert reference("ch8-balance-threshold")(currents, percentile) == pytest.approx(
            independent
        )


def test_lif_step_reference_equals_a_loop_written_from_the_equation():
    currents = torch.tensor([0.5, 0.75, 0.5, 1.5, 0.0, 0.25])
    mem, got = torch.zeros(()), []
    ref = reference("ch3-lif-step")
    for c in currents:
        spk, mem = ref(c, mem, 0.5, 1.0)
        got.append(float(spk))
    u, spikes = 0.0, []
    for c in currents.tolist():
        reset = 1.0 if u > 1.0 else 0.0
        u = 0.5 * u + c - reset
        spikes.append(1.0 if u > 1.0 else 0.0)
    assert got == spikes


def test_count_acs_reference_is_the_energy_count_and_the_formula():
    """The reference (snnbook.energy on an nn.Linear) equals nonzero inputs x out_features."""
    gen = torch.Generator().manual_seed(1)
    spikes = (torch.rand(7, 3, 11, generator=gen) < 0.3).float()
    expected = int((spikes != 0).sum()) * 13
    assert reference("ch9-count-acs")(spikes, 13) == expected


def test_break_even_rate_reference_equals_the_bills():
    """At r*, T steps of accumulates cost what one multiply-accumulate costs."""
    for T, e_ac, e_mac in ((5, 0.9e-12, 4.6e-12), (40, 0.03e-12, 0.23e-12)):
        r = reference("ch9-break-even-rate")(T, e_ac, e_mac)
        assert r * T * e_ac == pytest.approx(e_mac, rel=1e-12)
    assert reference("ch9-break-even-rate")(5, 0.9e-12, 4.6e-12) > 1  # Horowitz: any rate at T=5


# ==================================================================== bad input
BAD_INPUTS = [
    refuse(lambda: check("ch9-nothing", print), ValueError, "label", "ch1-quantizer-step"),
    refuse(lambda: check(3, print), TypeError, "label", "labels()"),
    refuse(lambda: check("ch1-quantizer-step", 3), TypeError, "fn", "callable"),
    refuse(lambda: check("ch1-quantizer-step", "quantizer_step"), TypeError, "fn"),
    refuse(lambda: reference("ch1-quantiser-step"), ValueError, "label", "ch1-quantizer-step"),
    refuse(lambda: reference(None), TypeError, "label"),
    refuse(lambda: exercises.stub("nope"), ValueError, "label"),
    refuse(lambda: exercises.function_name(1.5), TypeError, "label"),
]


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)


# ==================================================================== solutions in the chapters
#: Chapters whose notebook already holds its coding exercises (filled in as the
#: exercises are inserted, chapter by chapter). For each, the test below finds
#: every exercise of snnbook.exercises with that chapter's prefix in the
#: notebook: a stub cell that calls check("label", fn), and a {solution}
#: dropdown whose Python code passes the check. Once all chapters are listed,
#: this list must equal [1, 2, ..., 8].
CHAPTERS_WITH_EXERCISES: list[int] = [1, 2, 3, 4, 5, 6, 7, 8, 9]

FENCE = re.compile(r"(`{3,})\{solution\}\s+(?P<label>\S+)\n(?P<body>.*?)\n\1(?!`)", re.DOTALL)
CODE = re.compile(r"(`{3,})(?:python|\{code-cell\} ipython3)\n(?P<code>.*?)\n\1", re.DOTALL)


def notebook(chapter: int) -> Path:
    found = sorted((ROOT / "chapters").glob(f"{chapter:02d}_*.ipynb"))
    assert len(found) == 1, f"expected one notebook for chapter {chapter}, found {found}"
    return found[0]


def solution_code(path: Path) -> dict[str, str]:
    """{label: Python code} of every {solution} dropdown of a notebook that holds code."""
    cells = json.loads(path.read_text())["cells"]
    md = "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    found = {}
    for m in FENCE.finditer(md):
        code = [c.group("code") for c in CODE.finditer(m.group("body"))]
        if code:
            found[m.group("label")] = "\n".join(code)
    return found


def stub_calls(path: Path) -> set[str]:
    cells = json.loads(path.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return set(re.findall(r"check\(\s*[\"'](ch\d+-[a-z0-9-]+)[\"']", code))


def test_solution_extraction_finds_code_in_dropdowns(tmp_path):
    """The extractor itself, on a notebook written here (so it is tested before any chapter)."""
    solution = "````{solution} ch1-quantizer-step\n:class: dropdown\n```python\n" + (
        "import torch\n\n\ndef quantizer_step(v, rate, dt):\n    v = v + dt * rate\n"
        "    n = torch.floor(v)\n    return n, v - n\n```\n````"
    )
    nb = {
        "cells": [
            {"cell_type": "markdown", "source": ["```{exercise}\n:label: ch1-quantizer-step\n```"]},
            {"cell_type": "code", "source": ['check("ch1-quantizer-step", quantizer_step)']},
            {"cell_type": "markdown", "source": [solution]},
        ]
    }
    path = tmp_path / "01_test.ipynb"
    path.write_text(json.dumps(nb))
    code = solution_code(path)
    assert set(code) == {"ch1-quantizer-step"}
    namespace: dict = {}
    exec(code["ch1-quantizer-step"], namespace)  # noqa: S102
    assert check("ch1-quantizer-step", namespace["quantizer_step"]).passed
    assert stub_calls(path) == {"ch1-quantizer-step"}


def test_chapter_list_is_valid():
    assert CHAPTERS_WITH_EXERCISES == sorted(set(CHAPTERS_WITH_EXERCISES))
    assert set(CHAPTERS_WITH_EXERCISES) <= set(range(1, 10))


def test_chapter_solutions_pass_their_checks():
    for chapter in CHAPTERS_WITH_EXERCISES:
        check_chapter_solutions(notebook(chapter), chapter)


def check_chapter_solutions(path: Path, chapter: int) -> None:
    """Every exercise of the chapter: a stub cell calling check, and a solution that passes."""
    mine = [lab for lab in labels() if lab.startswith(f"ch{chapter}-")]
    code = solution_code(path)
    calls = stub_calls(path)
    assert len(mine) >= 2
    missing_solution = [lab for lab in mine if lab not in code]
    missing_stub = [lab for lab in mine if lab not in calls]
    assert not missing_solution, f"{path.name}: no {{solution}} with code for {missing_solution}"
    assert not missing_stub, f"{path.name}: no stub cell calling check() for {missing_stub}"
    for label in mine:
        namespace: dict = {}
        exec(code[label], namespace)  # noqa: S102 - the book's own solution
        name = exercises.function_name(label)
        assert name in namespace, f"the solution of {label} does not define {name}()"
        result = check(label, namespace[name])
        assert result.passed, f"{path.name}, solution of {label}:\n{result.message}"


# ==================================================================== every chapter
def test_every_chapter_carries_its_exercises():
    """All nine chapters hold their coding exercises (checked above, solution by solution)."""
    assert CHAPTERS_WITH_EXERCISES == list(range(1, 10))
    chapters = {lab.split("-")[0] for lab in labels()}
    assert chapters == {f"ch{n}" for n in range(1, 10)}, "every chapter has coding exercises"


# ==================================================================== the teachers' page
def test_teachers_page_sets_every_exercise_and_only_existing_ones():
    text = (ROOT / "teachers.md").read_text()
    named = set(re.findall(r"`(ch[1-9]-[a-z0-9-]+)`", text))
    pen_and_paper = set()
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        md = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])
        pen_and_paper |= set(re.findall(r"\{exercise\}[^\n]*\n:label: (\S+)", md))
    # the page sets the exercises of every chapter whose notebook holds them
    published = {lab for lab in labels() if int(lab[2 : lab.index("-")]) in CHAPTERS_WITH_EXERCISES}
    assert published <= named, f"not on the teachers' page: {published - named}"
    unknown = named - set(labels()) - pen_and_paper
    assert not unknown, f"the teachers' page names exercises that do not exist: {unknown}"


def test_teachers_grading_snippet_grades_a_notebook(tmp_path):
    """The grading function printed on the teachers' page, run on a small submitted notebook."""
    text = (ROOT / "teachers.md").read_text()
    snippet = re.search(r"```python\n(import json\n.*?def grade\(.*?)\n```", text, re.DOTALL)
    assert snippet, "the grading snippet is missing from teachers.md"
    namespace: dict = {}
    exec(snippet.group(1), namespace)  # noqa: S102
    cells = [
        "def quantizer_step(v, rate, dt):\n    v = v + dt * rate\n    n = torch.floor(v)\n"
        "    return n, v - n\n\n\ncheck('ch1-quantizer-step', quantizer_step)",
        "def bits_per_activity(counts):\n    raise NotImplementedError\n\n\n"
        "check('ch1-bits-per-activity', bits_per_activity)",
        "def decay_factor(dt, tau):\n    return 1 - dt / tau\n\n\ncheck('ch3-decay-factor', decay_factor)",
        "raise RuntimeError('a training cell that must not run')",
    ]
    nb = {"cells": [{"cell_type": "code", "source": c} for c in cells]}
    path = tmp_path / "submitted.ipynb"
    path.write_text(json.dumps(nb))
    assert namespace["grade"](str(path)) == {
        "ch1-quantizer-step": "passed",
        "ch1-bits-per-activity": "not implemented",
        "ch3-decay-factor": "failed",
    }
