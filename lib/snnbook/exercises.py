"""Coding exercises that check themselves.

Every chapter asks the reader to write its own mechanism in a few lines (the
error-diffusing quantizer step, a LIF step with subtractive reset, the
annealing update, the Legendre matrices, the first-spike selection, ...) and
to run it through :func:`check`::

    from snnbook.exercises import check

    def quantizer_step(v, rate, dt):
        raise NotImplementedError  # your code here

    check("ch1-quantizer-step", quantizer_step)

:func:`check` calls the reader's function on several inputs, edge cases
included, and compares every result with the reference solution, which calls
the book's own library wherever the library has the mechanism (so a check
compares against the code the chapter uses). It returns a :class:`CheckResult`
whose message a notebook displays: on success how many inputs passed; on
failure which input, what was expected, what came back, where the first
difference is and a hint. A function that still raises ``NotImplementedError``
gets "not implemented yet", and an exception raised by the reader's code is
reported with the input that caused it, never as a traceback.

* :func:`labels` lists the exercises, named ``chN-short-name``;
* :func:`reference` returns the reference solution, with the signature the
  reader writes;
* :func:`stub` returns the source of the stub cell a notebook starts from.

The heavy modules (snnTorch, SciPy, the chapter modules) are imported only
when a check runs, so importing this module is cheap.
"""

from __future__ import annotations

import copy
import html
import inspect
import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from . import checks

__all__ = ["CheckResult", "check", "labels", "reference", "stub", "function_name"]


# ============================================================ the result
@dataclass(frozen=True)
class CheckResult:
    """What :func:`check` found: ``passed`` (bool) and a ``message`` for the reader.

    ``status`` is ``"passed"``, ``"failed"``, ``"error"`` (the reader's code
    raised) or ``"not implemented"``. In a notebook the result shows its
    message (``_repr_html_``); ``str(result)`` is the same message as text, and
    ``bool(result)`` is ``passed``.
    """

    label: str
    passed: bool
    message: str
    status: str

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"CheckResult(label={self.label!r}, passed={self.passed}, status={self.status!r})"

    def _repr_markdown_(self) -> str:
        return "```text\n" + self.message + "\n```"

    def _repr_html_(self) -> str:
        color = {
            "passed": "#2e7d32",
            "not implemented": "#9e7c0c",
        }.get(self.status, "#c62828")
        return (
            f'<div class="snnbook-check snnbook-check-{self.status.replace(" ", "-")}" '
            f'role="status" style="border-left:4px solid {color};padding:0.3em 0.8em;'
            'margin:0.3em 0;color:inherit;background:transparent">'
            '<pre style="white-space:pre-wrap;margin:0;color:inherit;background:transparent;'
            f'border:none">{html.escape(self.message)}</pre></div>'
        )


# ============================================================ describing and comparing values
def _fmt_scalar(x: float) -> str:
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int | np.integer):
        return str(int(x))
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return str(x)
    if x == int(x) and abs(x) < 1e15:
        return f"{x:.1f}"
    return f"{x:.6g}"


def _show(value: Any, limit: int = 12) -> str:
    """A short readable rendering of an input or a result."""
    if isinstance(value, torch.Tensor):
        flat = value.detach().cpu().reshape(-1)
        body = ", ".join(_fmt_scalar(v) for v in flat[:limit].tolist())
        more = f", ... ({flat.numel()} values)" if flat.numel() > limit else ""
        shape = f" shape {tuple(value.shape)}" if value.dim() != 1 or flat.numel() > limit else ""
        return f"tensor([{body}{more}]){shape}"
    if isinstance(value, np.ndarray):
        flat = value.reshape(-1)
        body = ", ".join(_fmt_scalar(v) for v in flat[:limit].tolist())
        more = f", ... ({flat.size} values)" if flat.size > limit else ""
        return f"array([{body}{more}]) shape {value.shape}"
    if isinstance(value, tuple):
        return (
            "(" + ", ".join(_show(v, limit) for v in value) + ("," if len(value) == 1 else "") + ")"
        )
    if isinstance(value, list):
        body = ", ".join(_show(v, limit) for v in value[:limit])
        return "[" + body + (f", ... ({len(value)} items)" if len(value) > limit else "") + "]"
    if isinstance(value, float | int | np.floating | np.integer) and not isinstance(value, bool):
        return _fmt_scalar(value)
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _as_array(value: Any) -> np.ndarray | None:
    """``value`` as a float64 NumPy array, or None if it is not numeric data."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().to(torch.float64).numpy()
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value.astype(np.float64)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | np.floating | np.integer):
        return np.asarray(float(value))
    return None


def _kind(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return "a tensor"
    if isinstance(value, np.ndarray):
        return "a NumPy array"
    if isinstance(value, int | float | np.floating | np.integer) and not isinstance(value, bool):
        return "a number"
    return f"{type(value).__name__} {_show(value)}"


def _difference(expected: Any, got: Any, *, rtol: float, atol: float) -> str | None:
    """None if ``got`` matches ``expected``; else where and how they differ."""
    want = _as_array(expected)
    have = _as_array(got)
    if want is None:  # a message such as "no gradient"
        return None if got == expected else f"expected {_show(expected)}, got {_show(got)}"
    if have is None:
        return f"expected {_kind(expected)}, got {_kind(got)}"
    if isinstance(expected, torch.Tensor | np.ndarray) and want.shape != have.shape:
        return f"expected shape {want.shape}, got shape {have.shape}"
    if not isinstance(expected, torch.Tensor | np.ndarray) and have.size != 1:
        return f"expected a single number, got shape {have.shape}"
    have = have.reshape(want.shape)
    nan_w, nan_h = np.isnan(want), np.isnan(have)
    close = np.isclose(have, want, rtol=rtol, atol=atol) | (nan_w & nan_h)
    if close.all():
        return None
    wrong = [tuple(int(i) for i in idx) for idx in np.argwhere(~close)]
    if not wrong[0]:  # a single number
        return f"expected {want.item():.8g}, got {have.item():.8g}"
    places = "; ".join(
        f"at [{', '.join(map(str, i))}] expected {want[i]:.8g}, got {have[i]:.8g}"
        for i in wrong[:3]
    )
    more = "; ..." if len(wrong) > 3 else ""
    return f"{places}{more} ({len(wrong)} of {close.size} values differ)"


# ============================================================ one exercise
@dataclass(frozen=True)
class Case:
    """One input of a check: positional arguments and what the case tests."""

    args: tuple
    note: str


@dataclass(frozen=True)
class _Exercise:
    label: str
    title: str
    reference: Callable[..., Any]
    cases: Callable[[], list[Case]]
    outputs: tuple[str, ...]
    hint: str
    run: Callable[[Callable[..., Any], tuple], Any] | None = None
    reference_run: Callable[[Callable[..., Any], tuple], Any] | None = None
    rtol: float = 1e-6
    atol: float = 1e-9
    #: names of a case's values, when the check does not pass them straight to the function
    inputs: tuple[str, ...] = ()
    #: how the function is called on them, when it is not called with them directly
    setup: str = ""
    arg_names: tuple[str, ...] = field(default=())

    @property
    def function(self) -> str:
        return self.reference.__name__


_REGISTRY: dict[str, _Exercise] = {}


def _register(**kwargs: Any) -> None:
    ex = _Exercise(**kwargs)
    names = ex.inputs or tuple(inspect.signature(ex.reference).parameters)
    _REGISTRY[ex.label] = _Exercise(**{**kwargs, "arg_names": names})


def _clone(value: Any) -> Any:
    """A deep copy of an input, so that a function that modifies its arguments harms nothing."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    return copy.deepcopy(value)


def _split(result: Any, n: int) -> tuple:
    if n == 1:
        return (result,)
    if not isinstance(result, tuple | list) or len(result) != n:
        raise _Mismatch(f"expected a tuple of {n} values, got {_kind(result)}")
    return tuple(result)


class _Mismatch(Exception):
    """The reader's result has the wrong form (reported, not raised)."""


# ============================================================ public API
def labels() -> list[str]:
    """The labels of every coding exercise, in chapter order (``chN-short-name``)."""
    return sorted(_REGISTRY, key=lambda s: (int(s[2 : s.index("-")]), list(_REGISTRY).index(s)))


def _get(label: object) -> _Exercise:
    if not isinstance(label, str):
        raise TypeError(
            f"label must be a string such as 'ch1-quantizer-step', got {label!r} "
            f"({type(label).__name__}); see snnbook.exercises.labels()"
        )
    return _REGISTRY[checks.one_of("label", label, labels())]


def reference(label: str) -> Callable[..., Any]:
    """The reference solution of exercise ``label``: same signature as the reader's function."""
    return _get(label).reference


def function_name(label: str) -> str:
    """The name of the function the reader writes for exercise ``label``."""
    return _get(label).function


def stub(label: str) -> str:
    """Source code of the stub the reader starts from: signature, docstring, NotImplementedError."""
    ex = _get(label)
    sig = inspect.signature(ex.reference)
    plain = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
    sig = sig.replace(parameters=plain, return_annotation=inspect.Signature.empty)
    doc = textwrap.indent(inspect.cleandoc(ex.reference.__doc__ or ""), "    ")
    return (
        f"def {ex.function}{sig}:\n"
        f'    """{doc.strip()}\n    """\n'
        "    raise NotImplementedError  # your code here\n"
    )


def check(label: str, fn: Callable[..., Any]) -> CheckResult:
    """Run the reader's ``fn`` for exercise ``label`` against the reference on every input.

    Returns a :class:`CheckResult`; never raises because of ``fn`` (its
    exceptions are reported with the input). Raises ``ValueError`` for an
    unknown label and ``TypeError`` if ``fn`` is not callable.
    """
    ex = _get(label)
    checks.callable_(
        "fn", fn, hint=f"pass your function itself, e.g. check({label!r}, {ex.function})"
    )
    cases = ex.cases()
    name = getattr(fn, "__name__", "your function")
    for k, case in enumerate(cases, start=1):
        shown = ", ".join(
            f"{arg}={_show(value)}" for arg, value in zip(ex.arg_names, case.args, strict=False)
        )
        call = f"{ex.setup}, with {shown}" if ex.setup else f"{ex.function}({shown})"
        where = f"input {k} of {len(cases)} ({case.note}):\n    {call}"
        expected = _split(_expected(ex, case.args), len(ex.outputs))
        try:
            got = _call(ex, fn, case.args)
        except NotImplementedError:
            return CheckResult(
                label,
                False,
                f"… {label}: not implemented yet. Replace `raise NotImplementedError` in "
                f"{name} with your code, then run this cell again.",
                "not implemented",
            )
        except _Mismatch as err:
            return _fail(ex, where, f"{name} returned the wrong kind of result: {err}")
        except Exception as err:  # noqa: BLE001 - the reader's code: report, don't raise
            return CheckResult(
                label,
                False,
                f"✗ {label}: {name} raised {type(err).__name__}: {err}\n  on {where}\n"
                f"  hint: {ex.hint}",
                "error",
            )
        try:
            got = _split(got, len(ex.outputs))
        except _Mismatch as err:
            return _fail(ex, where, f"{name} returned the wrong kind of result: {err}")
        for out, want, have in zip(ex.outputs, expected, got, strict=True):
            diff = _difference(want, have, rtol=ex.rtol, atol=ex.atol)
            if diff is not None:
                return _fail(
                    ex,
                    where,
                    f"{out} is wrong: {diff}\n  expected {out} = {_show(want)}\n"
                    f"  got      {out} = {_show(have)}",
                )
    return CheckResult(
        label,
        True,
        f"✓ {label}: {name} matches the reference on all {len(cases)} inputs "
        f"({'; '.join(c.note for c in cases)}).",
        "passed",
    )


def _expected(ex: _Exercise, args: tuple) -> Any:
    """The reference result: through the library's own code where it has the mechanism."""
    if ex.reference_run is not None:
        return ex.reference_run(ex.reference, tuple(_clone(a) for a in args))
    return _call(ex, ex.reference, args)


def _call(ex: _Exercise, fn: Callable[..., Any], args: tuple) -> Any:
    args = tuple(_clone(a) for a in args)
    if ex.run is not None:
        return ex.run(fn, args)
    return fn(*args)


def _fail(ex: _Exercise, where: str, what: str) -> CheckResult:
    return CheckResult(
        ex.label,
        False,
        f"✗ {ex.label}: not yet right, on {where}\n  {what}\n  hint: {ex.hint}",
        "failed",
    )


# ============================================================ helpers for the cases
def _t(values: Sequence[Any], dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.tensor(values, dtype=dtype)


def _grid(shape: Sequence[int], seed: int, *, scale: int = 64, high: int = 96) -> torch.Tensor:
    """Random multiples of ``1/scale`` in ``[0, high/scale]``: sums of them are exact in float."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, high + 1, tuple(shape), generator=gen).double() / scale


# ============================================================ chapter 1
def quantizer_step(
    v: torch.Tensor, rate: torch.Tensor, dt: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of the error-diffusing quantizer (Voelker et al. 2020).

    v <- v + dt * rate,   n = floor(v),   v <- v - n

    v: the carried error of each neuron, a tensor with values in [0, 1);
    rate: the rate f(x_t) of each neuron this step (same shape); dt: step length > 0.
    Returns (n, v): the whole number of spikes emitted and the new carried error.
    """
    from .quantizers import quantize, spike_counts

    activity, v_new = quantize(rate.unsqueeze(0), dt, v0=v, return_state=True)
    return spike_counts(activity, dt)[0], v_new


def _cases_quantizer_step() -> list[Case]:
    return [
        Case((_t([0.0, 0.0, 0.0, 0.0]), _t([0.0, 0.25, 0.5, 0.75]), 1.0), "starting empty"),
        Case(
            (_t([0.5, 0.75, 0.875, 0.25]), _t([0.5, 0.5, 0.25, 0.25]), 1.0),
            "carried error: v + dt*rate lands exactly on 1.0 for the first neuron",
        ),
        Case(
            (_t([0.5, 0.0, 0.25]), _t([1.0, 0.875, 0.0625]), 4.0),
            "dt = 4: several spikes in one step",
        ),
        Case((_t([0.875, 0.5]), _t([0.5, 1.0]), 0.25), "dt = 0.25"),
        Case((_t([0.9375]), _t([1.0]), 8.0), "dt = 8, one neuron close to the next spike"),
    ]


_register(
    label="ch1-quantizer-step",
    title="The error-diffusing quantizer, one step",
    reference=quantizer_step,
    cases=_cases_quantizer_step,
    outputs=("n", "v"),
    hint="add dt * rate to the carried error, emit its whole part (torch.floor) and keep "
    "the rest; do not round the step's input on its own, and subtract the spikes rather "
    "than resetting v to zero.",
)


def bits_per_activity(counts: torch.Tensor) -> float:
    """Mean number of bits a neuron needs to send one step's spike count.

    counts: integer spike counts of shape (T, neurons), time first.
    Neuron i uses the levels from min(0, min_t n_ti) to max(0, max_t n_ti), L_i levels:

        b_i = log2(max(0, max_t n_ti) - min(0, min_t n_ti) + 1)

    Return the mean of b_i over the neurons, as a float (not rounded up to whole bits).
    """
    from .quantizers import bits_per_activity as library

    return library(counts, sample_dims=1)


def _cases_bits() -> list[Case]:
    return [
        Case((_t([[0, 1], [1, 0], [1, 1]]),), "binary spikes: 1 bit"),
        Case((_t([[0, 1], [0, 0]]),), "a silent neuron costs 0 bits"),
        Case((_t([[0, 2], [8, 2], [3, 2]]),), "counts up to 8: log2(9) bits"),
        Case((_t([[3, 5], [3, 7], [3, 6]]),), "a neuron that never sends 0 still needs level 0"),
        Case((_t([[-1, 0], [2, 0]]),), "negative counts widen the range below zero"),
        Case((_t([[4, 1, 0, 2]]),), "a single step, four neurons"),
    ]


_register(
    label="ch1-bits-per-activity",
    title="Bits per activity",
    reference=bits_per_activity,
    cases=_cases_bits,
    outputs=("bits",),
    hint="per neuron (a column), count the levels from min(0, smallest count) to "
    "max(0, largest count), both included; take log2 of that, then average over neurons. "
    "Level 0 always counts, and do not round up.",
)


# ============================================================ chapter 2
def dt_schedule(
    step: int, total_steps: int, dt_start: float, dt_end: float, anneal_fraction: float
) -> float:
    """The dt of a geometric schedule from dt_start to dt_end (Voelker et al. 2020).

    progress p = min(step / (anneal_fraction * total_steps), 1)
    dt = dt_start * (dt_end / dt_start) ** p

    so dt falls by the same factor every optimizer step, reaches dt_end after
    anneal_fraction of the total_steps, and stays there. Returns a float.
    """
    progress = min(step / (anneal_fraction * total_steps), 1.0)
    return dt_start * (dt_end / dt_start) ** progress


def _cases_dt() -> list[Case]:
    return [
        Case((0, 300, 16.0, 0.25, 2 / 3), "the first step: dt_start"),
        Case((100, 300, 16.0, 0.25, 2 / 3), "halfway through the annealing: the geometric mean"),
        Case((37, 300, 16.0, 0.25, 2 / 3), "an arbitrary step"),
        Case((200, 300, 16.0, 0.25, 2 / 3), "the end of the annealing: dt_end"),
        Case((299, 300, 16.0, 0.25, 2 / 3), "after the annealing: dt stays at dt_end"),
        Case((50, 100, 30.0, 0.1, 0.7), "another schedule (30 -> 0.1 over 70%)"),
    ]


_register(
    label="ch2-dt-schedule",
    title="The dt schedule",
    reference=dt_schedule,
    cases=_cases_dt,
    outputs=("dt",),
    rtol=1e-9,
    hint="interpolate log(dt) linearly, not dt itself: dt_start * (dt_end / dt_start) ** p; "
    "p is step / (anneal_fraction * total_steps), capped at 1.",
)


def straight_through(rates: torch.Tensor, quantized: torch.Tensor) -> torch.Tensor:
    """The straight-through estimator: quantized forward, identity backward.

    Return a tensor whose value is `quantized` and whose gradient with respect to
    `rates` is the identity, d out / d rates := 1 (so the gradient reaching x is f'(x)).
    `quantized` carries no gradient; `rates` does.
    """
    return rates + (quantized - rates).detach()


def _run_straight_through(fn: Callable[..., Any], args: tuple) -> tuple:
    """Forward value and gradient of the reader's estimator inside a ReLU quantizer."""
    from .quantizers import quantize

    x, dt, weights = args
    x = x.clone().requires_grad_(True)
    rates = torch.relu(x)
    quantized = quantize(rates.detach(), dt)
    out = fn(rates, quantized)
    if not isinstance(out, torch.Tensor):
        raise _Mismatch(f"expected a tensor, got {_kind(out)}")
    if not out.requires_grad:
        return out.detach(), "no gradient (the output is not connected to rates)"
    (weights * out).sum().backward()
    grad = x.grad if x.grad is not None else torch.zeros_like(x)
    return out.detach(), grad


def _reference_straight_through(fn: Callable[..., Any], args: tuple) -> tuple:
    """The library's SpikingActivation: the same forward value and gradient."""
    from .quantizers import SpikingActivation

    del fn
    x, dt, weights = args
    x = x.clone().requires_grad_(True)
    out = SpikingActivation(torch.relu, dt, initial_state="zeros")(x)
    (weights * out).sum().backward()
    return out.detach(), x.grad


def _cases_straight_through() -> list[Case]:
    x = torch.linspace(-0.5, 1.5, 9, dtype=torch.float64).reshape(3, 3)  # (T=3, 3 neurons)
    w = _t([[1.0, -2.0, 0.5], [3.0, 1.0, -1.0], [0.25, 2.0, 1.5]])
    return [
        Case((x, 1.0, w), "dt = 1, some inputs negative (ReLU' = 0 there)"),
        Case((x, 4.0, w), "dt = 4"),
        Case((x.flip(0), 0.5, -w), "dt = 0.5, other weights"),
    ]


_register(
    label="ch2-straight-through",
    title="The straight-through estimator",
    reference=straight_through,
    cases=_cases_straight_through,
    outputs=("value", "gradient"),
    run=_run_straight_through,
    reference_run=_reference_straight_through,
    inputs=("x", "dt", "weights"),
    setup="out = straight_through(rates, quantized) with rates = relu(x) and quantized = "
    "quantize(rates, dt) (v0 = 0); gradient of sum(weights * out) with respect to x",
    hint="the forward value must be the quantized activity, and the gradient must reach "
    "`rates` unchanged: rates + (quantized - rates).detach() does both.",
)


# ============================================================ chapter 3
def lif_step(
    current: torch.Tensor, mem: torch.Tensor, beta: float, threshold: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of snnTorch's Leaky neuron with subtractive reset (reset_delay=True).

    reset = H(mem - threshold)                        (from the previous membrane)
    mem   = beta * mem + current - reset * threshold
    spk   = H(mem - threshold)

    with H(x) = 1 where x > 0 and 0 elsewhere (strictly above the threshold fires).
    Returns (spk, mem) as float tensors of the shape of `current`.
    """
    import snntorch as snn

    lif = snn.Leaky(beta=beta, threshold=threshold, reset_mechanism="subtract")
    with torch.no_grad():
        return lif(current, mem)


def _run_lif(fn: Callable[..., Any], args: tuple) -> tuple:
    """Run a step function over time from mem = 0; stack spikes and membranes."""
    currents, beta, threshold = args
    mem = torch.zeros_like(currents[0])
    spikes, mems = [], []
    for current in currents.unbind(0):
        out = fn(current, mem, beta, threshold)
        if not isinstance(out, tuple | list) or len(out) != 2:
            raise _Mismatch(f"expected a tuple (spk, mem), got {_kind(out)}")
        spk, mem = out
        if not isinstance(mem, torch.Tensor) or not isinstance(spk, torch.Tensor):
            raise _Mismatch(f"expected tensors (spk, mem), got ({_kind(spk)}, {_kind(mem)})")
        spikes.append(spk.detach().to(torch.float64))
        mems.append(mem.detach().to(torch.float64))
        mem = mem.detach()
    return torch.stack(spikes), torch.stack(mems)


def _reference_lif(fn: Callable[..., Any], args: tuple) -> tuple:
    """The library's lif_response (snn.Leaky over a time-major current)."""
    from .lif import lif_response

    del fn
    currents, beta, threshold = args
    mem, spk = lif_response(currents, beta=beta, threshold=threshold)
    return spk.double(), mem.double()


def _cases_lif() -> list[Case]:
    f = torch.float32
    return [
        Case((torch.full((12,), 0.375, dtype=f), 1.0, 1.0), "no leak: the quantizer of chapter 1"),
        Case(
            (torch.tensor([0, 0, 0, 0.75, 0.75, 1.5, 1.5, 1.5, 0, 0, 0], dtype=f), 0.875, 1.0),
            "a current that steps up twice, then stops",
        ),
        Case(
            (torch.full((6,), 0.5, dtype=f), 1.0, 1.0),
            "the membrane lands exactly on the threshold: no spike yet",
        ),
        Case((torch.tensor([0.5, 1.5, 2.0, 0.25, 0], dtype=f), 0.0, 1.0), "beta = 0: no memory"),
        Case((_grid((10, 4), seed=3).float(), 0.5, 0.75), "four neurons, threshold 0.75"),
    ]


_register(
    label="ch3-lif-step",
    title="A LIF step with subtractive reset",
    reference=lif_step,
    cases=_cases_lif,
    outputs=("spikes", "membrane"),
    run=_run_lif,
    reference_run=_reference_lif,
    inputs=("currents", "beta", "threshold"),
    setup="spk, mem = lif_step(currents[t], mem, beta, threshold) for t = 0, 1, ..., from mem = 0",
    hint="compute the reset from the membrane you are given (the previous step's), subtract "
    "threshold * reset (do not set the membrane to zero), decay with beta before adding the "
    "current, and fire only strictly above the threshold.",
)


def fast_sigmoid_grad(u: torch.Tensor, slope: float) -> torch.Tensor:
    """The fast-sigmoid surrogate derivative of a spike (snnTorch's surrogate.fast_sigmoid).

    dS/dU = 1 / (1 + slope * |u|) ** 2,    u = U - threshold.

    Returns a tensor of the shape of u.
    """
    from snntorch import surrogate

    from .lif import surrogate_derivative

    return surrogate_derivative(surrogate.fast_sigmoid(slope=slope), u)


def _cases_fast_sigmoid() -> list[Case]:
    u = torch.linspace(-2.0, 2.0, 9)
    return [
        Case((u, 25.0), "snnTorch's default slope 25"),
        Case((u, 0.5), "a flat surrogate, slope 0.5"),
        Case((torch.tensor([0.0, -0.5, 0.5, -50.0]), 5.0), "at the threshold and far below it"),
    ]


_register(
    label="ch3-fast-sigmoid",
    title="The fast-sigmoid surrogate",
    reference=fast_sigmoid_grad,
    cases=_cases_fast_sigmoid,
    outputs=("dS/dU",),
    rtol=1e-5,
    atol=1e-7,
    hint="1 / (1 + slope * |u|) ** 2: the absolute value makes it symmetric around the "
    "threshold, and the square makes it fall like 1/u^2 far from it.",
)


def decay_factor(dt: float, tau: float) -> float:
    """The decay per step of a leaky membrane with time constant tau, sampled every dt.

    tau dU/dt = -U  gives, over one step,  U[t] = beta U[t-1]  with  beta = exp(-dt / tau).

    Returns beta as a float in (0, 1].
    """
    return math.exp(-dt / tau)


def _cases_decay() -> list[Case]:
    return [
        Case((1.0, 10.0), "dt much smaller than tau"),
        Case((1.0, 1.0), "dt = tau"),
        Case((5.0, 2.0), "dt larger than tau"),
        Case((0.001, 0.02), "milliseconds: dt = 1 ms, tau = 20 ms"),
    ]


_register(
    label="ch3-decay-factor",
    title="The decay factor beta",
    reference=decay_factor,
    cases=_cases_decay,
    outputs=("beta",),
    rtol=1e-9,
    hint="solve tau dU/dt = -U exactly over one step: the membrane is multiplied by "
    "exp(-dt / tau). 1 - dt / tau is only its first-order (Euler) approximation.",
)


# ============================================================ chapter 4
def anneal_step(theta: float, target: float, alpha: float) -> float:
    """One step of threshold annealing (Eshraghian & Lu 2022), run after every optimizer step.

    theta <- theta + alpha * (target - theta)

    target is the absolute final threshold, alpha in (0, 1] the fraction of the gap
    closed per step. Returns the new threshold as a float.
    """
    from .annealing import annealed_threshold

    return annealed_threshold(theta, target, alpha, 1)


def _run_anneal(fn: Callable[..., Any], args: tuple) -> list:
    theta, target, alpha, steps = args
    path = []
    for step in range(1, steps + 1):
        theta = fn(theta, target, alpha)
        if isinstance(theta, torch.Tensor) and theta.numel() == 1:
            theta = float(theta)
        elif isinstance(theta, np.ndarray) and theta.size == 1:
            theta = float(theta)
        if isinstance(theta, bool) or not isinstance(theta, int | float | np.floating | np.integer):
            raise _Mismatch(f"at step {step} it returned {_kind(theta)}; return the new threshold")
        path.append(float(theta))
    return np.asarray(path, dtype=np.float64)


def _reference_anneal(fn: Callable[..., Any], args: tuple) -> np.ndarray:
    """The library's closed form theta[n] = target + (theta0 - target) (1 - alpha)^n."""
    from .annealing import annealed_threshold

    del fn
    theta, target, alpha, steps = args
    return np.array([annealed_threshold(theta, target, alpha, n) for n in range(1, steps + 1)])


def _cases_anneal() -> list[Case]:
    return [
        Case((5.0, 50.0, 0.005, 300), "the spike-timing toy: 5 -> 50, alpha = 0.005, 300 steps"),
        Case((1.0, 50.0, 0.03, 100), "a faster rate"),
        Case((10.0, 2.0, 0.1, 30), "annealing downward"),
        Case((3.0, 7.0, 1.0, 3), "alpha = 1 jumps to the target at once"),
    ]


_register(
    label="ch4-anneal-step",
    title="The annealing update",
    reference=anneal_step,
    cases=_cases_anneal,
    outputs=("thresholds after each step",),
    run=_run_anneal,
    reference_run=_reference_anneal,
    inputs=("theta", "target", "alpha", "steps"),
    setup="theta = anneal_step(theta, target, alpha), repeated `steps` times",
    hint="move a fraction alpha of the remaining gap toward the target: "
    "theta + alpha * (target - theta). The target is absolute, not an offset.",
)


def binarize(w: torch.Tensor) -> torch.Tensor:
    """Binarized weights: sign forward, straight-through (identity) backward.

    forward:  w_b = +1 where w >= 0, -1 where w < 0   (so sign(0) = +1)
    backward: dL/dw := dL/dw_b                         (for every w, however large)

    Returns a tensor of the shape of w.
    """
    from .binary import binarize as library

    return library(w)


def _run_binarize(fn: Callable[..., Any], args: tuple) -> tuple:
    w, upstream = args
    w = w.clone().requires_grad_(True)
    out = fn(w)
    if not isinstance(out, torch.Tensor):
        raise _Mismatch(f"expected a tensor, got {_kind(out)}")
    if not out.requires_grad:
        return out.detach(), "no gradient (the output is not connected to w)"
    (upstream * out).sum().backward()
    grad = w.grad if w.grad is not None else torch.zeros_like(w)
    return out.detach(), grad


def _cases_binarize() -> list[Case]:
    w = torch.tensor([[0.3, -0.2, 0.0, 1.7], [-2.5, 0.01, -0.0, 0.9], [5.0, -1.2, 0.4, -0.05]])
    g = torch.tensor([[1.0, -2.0, 0.5, 3.0], [-1.0, 0.25, 2.0, -0.5], [1.5, 1.0, -3.0, 0.75]])
    return [
        Case((w, g), "zeros and weights beyond +-1"),
        Case((torch.tensor([0.0, 1.0, -1.0]), torch.tensor([2.0, -1.0, 0.5])), "sign(0) = +1"),
    ]


_register(
    label="ch4-binarize",
    title="Binarized weights with a straight-through gradient",
    reference=binarize,
    cases=_cases_binarize,
    outputs=("value", "gradient"),
    run=_run_binarize,
    inputs=("w", "upstream"),
    setup="out = binarize(w); gradient of sum(upstream * out) with respect to w",
    hint="forward: torch.where(w >= 0, 1, -1) (torch.sign gives 0 at 0); backward: the "
    "identity, e.g. w + (sign - w).detach(), with no clipping of large weights.",
)


# ============================================================ chapter 5
def legendre_matrices(order: int, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """The Legendre delay system theta dm/dt = A m + B u (Voelker et al. 2019), divided by theta.

    A_ij = (2i + 1) / theta * (-1 if i < j else (-1) ** (i - j + 1))
    B_i  = (2i + 1) * (-1) ** i / theta,        i, j = 0 .. order - 1

    Returns (A, B) as float NumPy arrays of shapes (order, order) and (order, 1).
    """
    from .lmu import legendre_delay

    return legendre_delay(order, theta)


def _cases_legendre() -> list[Case]:
    return [
        Case((1, 1.0), "order 1"),
        Case((2, 1.0), "order 2"),
        Case((4, 1.0), "order 4"),
        Case((6, 784.0), "order 6, theta = 784"),
        Case((3, 0.5), "theta below 1"),
    ]


_register(
    label="ch5-legendre-matrices",
    title="The Legendre A and B matrices",
    reference=legendre_matrices,
    cases=_cases_legendre,
    outputs=("A", "B"),
    rtol=1e-12,
    hint="row i is scaled by (2i + 1) / theta; above the diagonal (i < j) the entries are -1, "
    "on and below it (-1) ** (i - j + 1); B alternates in sign, starting at +1; B has shape "
    "(order, 1).",
)


def zoh(a: np.ndarray, b: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Zero-order-hold discretization of dm/dt = A m + B u with step dt.

    Abar = exp(A dt)                   (the matrix exponential, scipy.linalg.expm)
    Bbar = A^{-1} (Abar - I) B

    a: (d, d) invertible; b: (d, 1). Returns (Abar, Bbar) as NumPy arrays of the same shapes.
    """
    from .lmu import discretize

    return discretize(a, b, dt)


def _cases_zoh() -> list[Case]:
    from .lmu import legendre_delay

    a4, b4 = legendre_delay(4, 10.0)
    a1, b1 = legendre_delay(1, 2.0)
    a6, b6 = legendre_delay(6, 50.0)
    return [
        Case((a1, b1, 1.0), "order 1: a scalar system"),
        Case((a4, b4, 1.0), "order 4, theta = 10, dt = 1"),
        Case((a4, b4, 0.5), "the same system, dt = 0.5"),
        Case((a6, b6, 3.0), "order 6, theta = 50, dt = 3"),
        Case((np.array([[-1.0, 2.0], [0.0, -3.0]]), np.array([[1.0], [2.0]]), 0.2), "any matrix"),
    ]


_register(
    label="ch5-zoh",
    title="The zero-order hold",
    reference=zoh,
    cases=_cases_zoh,
    outputs=("Abar", "Bbar"),
    rtol=1e-8,
    atol=1e-12,
    hint="Abar = scipy.linalg.expm(a * dt); Bbar = np.linalg.solve(a, (Abar - I) @ b). "
    "The Euler step I + A dt is not the exact hold.",
)


# ============================================================ chapter 6
def spikes_in_window(rate: torch.Tensor, dt: float, steps: int, v0: torch.Tensor) -> torch.Tensor:
    """Spikes an error-diffusing quantizer emits in a window of `steps` steps at a constant rate.

    Starting from the carried error v0 in [0, 1), after K steps it has received
    v0 + K dt r and keeps less than one spike of it, so it has emitted

        N = floor(v0 + K * dt * rate)

    spikes. rate and v0: tensors of one value per neuron. Returns N (a tensor, same shape).
    """
    from .quantizers import quantize, spike_counts

    activity = quantize(rate.expand(steps, *rate.shape), dt, v0=v0)
    return spike_counts(activity, dt).sum(0)


def _cases_window() -> list[Case]:
    return [
        Case((_t([0.0, 0.25, 0.5, 1.0]), 1.0, 10, _t([0.0, 0.0, 0.0, 0.0])), "dt = 1, from zero"),
        Case(
            (_t([0.0, 0.25, 0.5, 1.0]), 0.25, 10, _t([0.5, 0.5, 0.75, 0.875])),
            "dt = 0.25: fewer spikes than steps, the phase matters",
        ),
        Case(
            (_t([0.0625, 0.03125]), 0.5, 10, _t([0.6875, 0.875])),
            "a slow neuron whose sum lands exactly on one spike",
        ),
        Case((_t([1.5, 0.75]), 4.0, 3, _t([0.25, 0.5])), "dt = 4: several spikes per step"),
    ]


_register(
    label="ch6-window-spikes",
    title="Spikes in the readout window",
    reference=spikes_in_window,
    cases=_cases_window,
    outputs=("spikes",),
    hint="nothing is lost with error diffusion: the spikes are the whole part of everything "
    "received, the initial carry v0 included: floor(v0 + steps * dt * rate). Rounding each "
    "step, or the window, on its own loses it.",
)


def significant_bits_per_multiply(counts: torch.Tensor) -> float:
    """Mean number of significant bits of the nonzero spike counts (the multipliers of a weight).

    Write |n| = m * 2**k with m odd: the significant bits of n are the bits of m,
    m.bit_length() (1, 2, 4, 8 -> 1; 3, 6 -> 2; 5, 7 -> 3). Zero counts need no multiply
    and are skipped. Return the mean over the nonzero counts (float), nan if all are zero.
    counts: a tensor of integer spike counts, any shape.
    """
    from .quantizers import significant_bits_per_multiply as library

    return library(counts)


def _cases_significant() -> list[Case]:
    return [
        Case((_t([1, 1, 0, 1]),), "binary spikes: 1 bit, zeros skipped"),
        Case((_t([2, 4, 8]),), "powers of two are shifts: 1 bit"),
        Case((_t([[3, 6], [5, 7]]),), "3 and 6 have 2 bits, 5 and 7 have 3"),
        Case((_t([-3, 12, 0, 1]),), "signs are free"),
        Case((_t([1, 2, 3, 4, 5, 6, 7]),), "counts 1 to 7"),
        Case((_t([0, 0, 0]),), "no spikes at all: nan"),
    ]


_register(
    label="ch6-multiply-bits",
    title="Significant bits per weight multiply",
    reference=significant_bits_per_multiply,
    cases=_cases_significant,
    outputs=("bits",),
    hint="drop the zeros, take |n|, divide out the factors of two (while m % 2 == 0: m //= 2), "
    "count the bits of what is left (int(m).bit_length()), and average; return float('nan') "
    "when there is nothing to average.",
)


# ============================================================ chapter 7
def first_spike(candidates: torch.Tensor) -> torch.Tensor:
    """Keep only the first spike of each neuron along time (Taylor et al. 2022).

    c[t] = sum_{k < t} candidates[k]          (earlier crossings, a cumulative sum)
    S[t] = candidates[t] * 1[c[t] == 0]

    candidates: 0/1 tensor, time first, (T, ...). Returns S of the same shape: at most one
    1 per neuron, at its first candidate; a neuron without candidates stays silent.
    """
    from .single_spike import first_spike_times

    times = first_spike_times(candidates)  # T where a neuron never fires
    steps = torch.arange(candidates.shape[0]).reshape(-1, *([1] * (candidates.dim() - 1)))
    return (steps == times.unsqueeze(0)).to(candidates.dtype)


def _cases_first_spike() -> list[Case]:
    gen = torch.Generator().manual_seed(7)
    random = (torch.rand(6, 2, 5, generator=gen) < 0.4).float()
    random[:, 0, 0] = 0  # one silent neuron
    return [
        Case((random,), "random candidates (T=6, batch 2, 5 neurons), one neuron silent"),
        Case((torch.ones(4, 3),), "every step is a candidate"),
        Case((torch.zeros(5, 2),), "no candidates at all"),
        Case((torch.tensor([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]]),), "first spike at the last step"),
        Case((torch.tensor([[1.0, 0.0, 1.0]]),), "a single step"),
    ]


_register(
    label="ch7-first-spike",
    title="Keep the first spike",
    reference=first_spike,
    cases=_cases_first_spike,
    outputs=("spikes",),
    hint="count the candidates *before* t: torch.cumsum(candidates, 0) - candidates; keep a "
    "candidate where that count is 0. A neuron with no candidate must get no spike.",
)


def no_reset_membrane(currents: torch.Tensor, beta: float) -> torch.Tensor:
    """The membrane of a LIF neuron that never resets: a causal filter of its input.

    V[t] = beta * V[t-1] + I[t],   V[-1] = 0,   i.e.   V[t] = sum_{k<=t} beta**(t-k) I[k]

    currents: time-major (T, batch, neurons); beta: a float in [0, 1].
    Returns V of the same shape.
    """
    from .single_spike import leaky_filter

    return leaky_filter(currents, beta)


def _cases_membrane() -> list[Case]:
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(7, 2, 3, generator=gen, dtype=torch.float64)
    long = torch.randn(70, 1, 2, generator=gen, dtype=torch.float64)
    return [
        Case((x, 0.9), "beta = 0.9"),
        Case((x, 0.0), "beta = 0: no memory"),
        Case((x, 1.0), "beta = 1: a cumulative sum"),
        Case((x[:1], 0.5), "a single step"),
        Case((long, 0.5), "70 steps"),
    ]


_register(
    label="ch7-no-reset-membrane",
    title="The no-reset membrane",
    reference=no_reset_membrane,
    cases=_cases_membrane,
    outputs=("membrane",),
    rtol=1e-9,
    atol=1e-9,
    hint="decay the previous membrane, then add this step's current (beta * v + currents[t]), "
    "starting from zeros; the current of step t is not decayed at step t, and it is not "
    "scaled by (1 - beta).",
)


# ============================================================ chapter 8
def balance_threshold(currents: torch.Tensor, percentile: float = 100.0) -> float:
    """A layer's threshold from the input currents it received (Rathi et al. 2020).

    Of the n currents (over steps, images and neurons: every entry of `currents`) take the
    k-th largest, with

        k = max(1, ceil(n * (100 - percentile) / 100))

    percentile = 100 gives k = 1: the maximum, the paper's rule; 99.9 ignores the
    largest 0.1%. Returns a float.
    """
    # The library balances a whole network; feed it a one-layer network whose
    # spiking layer receives exactly these currents (an identity layer, one step).
    from torch import nn

    from .conversion import balance_thresholds, to_spiking

    flat = currents.detach().reshape(1, -1).float()
    identity = nn.Linear(flat.shape[1], flat.shape[1], bias=False)
    readout = nn.Linear(flat.shape[1], 1, bias=False)
    with torch.no_grad():
        identity.weight.copy_(torch.eye(flat.shape[1]))
    snn = to_spiking(nn.Sequential(identity, nn.ReLU(), readout), num_steps=1)
    method = "max" if percentile == 100 else "percentile"
    return balance_thresholds(snn, flat, num_steps=1, method=method, percentile=percentile)[0]


def _cases_balance() -> list[Case]:
    f = torch.float32
    steps_images_neurons = torch.arange(1, 25, dtype=f).reshape(2, 3, 4) / 8
    return [
        Case((torch.tensor([0.5, 3.0, -1.0, 2.0], dtype=f), 100.0), "the maximum"),
        Case(
            (torch.tensor([0.5, 3.0, -5.0, 2.0], dtype=f), 100.0),
            "the largest current, not the largest magnitude",
        ),
        Case((steps_images_neurons, 100.0), "currents over (steps, images, neurons)"),
        Case((steps_images_neurons, 90.0), "90th percentile of 24 currents: k = 3"),
        Case((torch.arange(1, 101, dtype=f), 99.0), "99th percentile of 100 currents: k = 1"),
        Case((torch.arange(1, 201, dtype=f) / 4, 97.5), "97.5th percentile of 200: k = 5"),
    ]


_register(
    label="ch8-balance-threshold",
    title="Threshold balancing",
    reference=balance_threshold,
    cases=_cases_balance,
    outputs=("threshold",),
    rtol=1e-6,
    hint="flatten all currents, k = max(1, math.ceil(n * (100 - percentile) / 100)), return "
    "the k-th largest: torch.topk(currents.flatten(), k).values[-1]. The maximum is of the "
    "currents, not of their magnitudes, and torch.quantile interpolates (a different rule).",
)


def stdb_derivative(dt: torch.Tensor, alpha: float = 0.3, beta: float = 0.01) -> torch.Tensor:
    """The spike-timing-dependent surrogate gradient of STDB (Rathi et al. 2020).

    d o_t / d v_t = alpha * exp(-beta * dt),    dt = t - t_last,

    the number of steps since the neuron last fired (t_last = -1000 if it never fired).
    dt: a tensor of step counts. Returns a tensor of the same shape.
    """
    from .conversion import stdb_spike

    v = torch.zeros_like(dt, dtype=torch.float64).requires_grad_(True)
    stdb_spike(v, dt, alpha=alpha, beta=beta).sum().backward()
    return v.grad


def _cases_stdb() -> list[Case]:
    return [
        Case((_t([0.0, 1.0, 16.0]), 0.3, 0.01), "the paper's alpha and beta"),
        Case((_t([10.0 + 1000.0]), 0.3, 0.01), "a neuron that never fired (t_last = -1000)"),
        Case((_t([[1.0, 2.0], [5.0, 15.0]]), 1.0, 0.5), "alpha = 1, beta = 0.5"),
    ]


_register(
    label="ch8-stdb-surrogate",
    title="The STDB surrogate gradient",
    reference=stdb_derivative,
    cases=_cases_stdb,
    outputs=("d o / d v",),
    rtol=1e-9,
    hint="alpha * torch.exp(-beta * dt): the gradient decays with the time since the last "
    "spike, so the exponent is negative, and alpha scales it.",
)


# ============================================================ chapter 9
def count_acs(spikes: torch.Tensor, out_features: int) -> float:
    """Accumulates (ACs) a linear layer does on binary input spikes (NeuroBench's convention).

    Each nonzero input element reaches the out_features weights of its column, and a
    spike multiplies each by 1, so every such connection is one add:

        ACs = (number of nonzero entries of spikes) * out_features

    summed over every time step and every sample. spikes: a 0/1 tensor of shape
    (T, batch, in_features). Zeros cost nothing; biases are not counted.
    Returns the count as a number.
    """
    from torch import nn

    from .energy import count_operations

    layer = nn.Linear(spikes.shape[-1], out_features, bias=False)
    return count_operations(layer, spikes.to(layer.weight.dtype)).acs


def _cases_count_acs() -> list[Case]:
    gen = torch.Generator().manual_seed(9)
    sparse = (torch.rand(6, 4, 20, generator=gen) < 0.1).double()
    dense = (torch.rand(3, 2, 7, generator=gen) < 0.8).double()
    ramp = torch.zeros(5, 1, 10, dtype=torch.float64)
    for t in range(5):
        ramp[t, 0, : 2 * t] = 1.0  # 0, 2, 4, 6, 8 spikes: the steps differ
    return [
        Case((sparse, 32), "T = 6, batch 4, 20 inputs, about 10% spikes, 32 outputs"),
        Case((dense, 3), "mostly spikes (80%), fewer outputs than inputs"),
        Case((ramp, 5), "a different number of spikes at every step"),
        Case((torch.zeros(4, 2, 8, dtype=torch.float64), 16), "silence: no spikes, no work"),
        Case((torch.ones(2, 3, 4, dtype=torch.float64), 6), "every input spikes: the dense count"),
    ]


_register(
    label="ch9-count-acs",
    title="Count the accumulates",
    reference=count_acs,
    cases=_cases_count_acs,
    outputs=("ACs",),
    hint="count the spikes, not the inputs: (spikes != 0).sum() over all of T, batch and "
    "inputs, times out_features (the weights each spike touches). in_features does not "
    "enter, and the zeros cost nothing.",
)


def break_even_rate(T: int, e_ac: float, e_mac: float) -> float:
    """The spike rate below which a spiking layer costs less than the same dense layer.

    A dense layer does one multiply-accumulate per connection: N * e_mac per input.
    The spiking layer runs T steps; at spike rate r (spikes per input per step) it
    does r * T * N accumulates, costing r * T * N * e_ac. They cost the same at

        r* = e_mac / (T * e_ac)

    T: number of time steps; e_ac, e_mac: energy of one accumulate and of one
    multiply-accumulate. Returns r* as a float (it may exceed 1).
    """
    from .energy import Operations, dense_energy, energy

    # one connection: the dense layer multiplies it once, a neuron firing at every step adds T times
    always = Operations(dense=1.0, acs=float(T), macs=0.0, spikes=float(T), layers=())
    return dense_energy(always, e_mac=e_mac) / energy(always, e_ac=e_ac, e_mac=e_mac)


def _cases_break_even() -> list[Case]:
    return [
        Case((5, 0.9e-12, 4.6e-12), "T = 5, 32-bit float at 45 nm (Horowitz): above 1"),
        Case((25, 0.9e-12, 4.6e-12), "T = 25, the same energies"),
        Case((100, 0.9e-12, 4.6e-12), "T = 100: a few percent"),
        Case((10, 0.03e-12, 0.23e-12), "T = 10, 8-bit integers at 45 nm"),
        Case((1, 1.0, 1.0), "one step, an add as costly as a multiply-add"),
    ]


_register(
    label="ch9-break-even-rate",
    title="The break-even spike rate",
    reference=break_even_rate,
    cases=_cases_break_even,
    outputs=("r*",),
    rtol=1e-9,
    hint="set the two bills equal per connection: r * T * e_ac = e_mac, so r* = e_mac / "
    "(T * e_ac). Each of the T steps can add the weight again, once (not T times T), "
    "and the cheaper operation, the add, is in the denominator.",
)
