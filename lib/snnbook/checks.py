"""Input checks, written once and used by every module of the library.

A careless argument should fail at once, with a message that says which
argument is wrong, what it was, and what to pass instead; never deep inside
PyTorch with an unrelated message, and never by returning a meaningless
number. Every public function of :mod:`snnbook` calls these checks on its
arguments before it does any work (the idea of Nengo's ``NumberParam``: one
description of a valid value, reused everywhere).

Each check returns the value it accepted (converted to a plain ``int``,
``float`` or ``bool`` where that is what the caller needs), so a function can
write ``steps = checks.positive_int("steps", steps)``.

Two kinds of error are raised:

* :class:`TypeError` when the *kind* of value is wrong (a string for a number,
  a float for a count, a NumPy array for a tensor);
* :class:`ValueError` when the kind is right but the value is not (a negative
  count, ``beta = 1.5``, a NaN, a tensor of the wrong shape).

Value checks on tensors (finite entries, ranges) read the tensor back to the
host. They belong in entry points that run once per call (encoders, training
loops, analyses), not in a module's ``forward``, which should check only
shapes and dtypes so that it never waits for the GPU. They are skipped on
PyTorch's ``meta`` device, which has shapes but no values.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import numpy as np
import torch

__all__ = [
    "boolean",
    "callable_",
    "finite_values",
    "integer",
    "labels",
    "nonnegative_int",
    "number",
    "one_of",
    "positive",
    "positive_int",
    "probability",
    "same_length",
    "tensor",
    "unit_interval",
]

T = TypeVar("T")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is None and high is None:
        return "a finite number"
    if high is None:
        return f"a number {'>' if low_open else '>='} {low:g}"
    if low is None:
        return f"a number {'<' if high_open else '<='} {high:g}"
    left, right = ("(" if low_open else "["), (")" if high_open else "]")
    return f"a number in {left}{low:g}, {high:g}{right}"


def _fail_type(name: str, wanted: str, value: object, hint: str) -> TypeError:
    message = f"{name} must be {wanted}, got {_show(value)} ({type(value).__name__})"
    return TypeError(message + (f"; {hint}" if hint else ""))


def _fail_value(name: str, wanted: str, value: object, hint: str) -> ValueError:
    message = f"{name} must be {wanted}, got {_show(value)}"
    return ValueError(message + (f"; {hint}" if hint else ""))


def _scalar(value: object) -> object:
    """A one-element tensor or NumPy scalar as a plain Python number (else unchanged).

    A tensor on the ``meta`` device has no value to read and stays a tensor (so
    the check that receives it refuses it as the wrong kind).
    """
    if isinstance(value, torch.Tensor):
        if value.numel() == 1 and value.device.type != "meta":
            return value.detach().item()
        return value
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        return value.item()
    return value


def number(
    name: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    hint: str = "",
) -> float:
    """``value`` as a finite ``float``, optionally inside ``[low, high]`` (ends open if asked).

    Booleans are refused (``True`` is not a number of neurons or a rate), and so
    are NaN and infinities.
    """
    value = _scalar(value)
    wanted = _interval(low, high, low_open, high_open)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _fail_type(name, wanted, value, hint)
    result = float(value)
    if not math.isfinite(result):
        raise _fail_value(name, wanted, value, hint)
    if low is not None and (result < low or (low_open and result == low)):
        raise _fail_value(name, wanted, value, hint)
    if high is not None and (result > high or (high_open and result == high)):
        raise _fail_value(name, wanted, value, hint)
    return result


def positive(name: str, value: object, *, hint: str = "") -> float:
    """``value`` as a finite ``float`` > 0 (thresholds, time constants, step sizes)."""
    return number(name, value, low=0.0, low_open=True, hint=hint)


def unit_interval(name: str, value: object, *, hint: str = "") -> float:
    """``value`` as a ``float`` in [0, 1] (decay factors such as beta, fractions)."""
    return number(name, value, low=0.0, high=1.0, hint=hint)


probability = unit_interval


def integer(
    name: str,
    value: object,
    *,
    low: int | None = None,
    high: int | None = None,
    hint: str = "",
) -> int:
    """``value`` as an ``int`` in ``[low, high]``; floats (even ``3.0``) and booleans are refused."""
    value = _scalar(value)
    if low is not None and high is not None:
        wanted = f"an integer in [{low}, {high}]"
    elif low is not None:
        wanted = f"an integer >= {low}"
    elif high is not None:
        wanted = f"an integer <= {high}"
    else:
        wanted = "an integer"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise _fail_type(name, wanted, value, hint)
    result = int(value)
    if (low is not None and result < low) or (high is not None and result > high):
        raise _fail_value(name, wanted, value, hint)
    return result


def positive_int(name: str, value: object, *, hint: str = "") -> int:
    """``value`` as an ``int`` >= 1 (counts: steps, neurons, epochs, batch sizes)."""
    return integer(name, value, low=1, hint=hint)


def nonnegative_int(name: str, value: object, *, hint: str = "") -> int:
    """``value`` as an ``int`` >= 0 (seeds, indices)."""
    return integer(name, value, low=0, hint=hint)


def boolean(name: str, value: object, *, hint: str = "") -> bool:
    """``value`` if it is a ``bool`` (``0``, ``1`` and strings are refused: say True or False)."""
    value = _scalar(value)
    if not isinstance(value, bool):
        raise _fail_type(name, "True or False", value, hint)
    return value


def one_of(name: str, value: T, options: Iterable[T], *, hint: str = "") -> T:
    """``value`` if it is one of ``options``."""
    options = list(options)
    if not any(_same(value, o) for o in options):
        listed = ", ".join(repr(o) for o in options)
        raise _fail_value(name, f"one of {listed}", value, hint)
    return value


def _same(value: object, option: object) -> bool:
    """``value == option`` without arrays' element-wise ``==`` and without ``True == 1``."""
    if isinstance(value, bool) != isinstance(option, bool):
        return False
    if isinstance(value, torch.Tensor | np.ndarray) or isinstance(
        option, torch.Tensor | np.ndarray
    ):
        return value is option
    try:
        return bool(value == option)
    except (TypeError, ValueError):
        return False


def callable_(name: str, value: T, *, hint: str = "") -> T:
    """``value`` if it can be called."""
    if not callable(value):
        raise _fail_type(name, "callable", value, hint)
    return value


_KINDS: dict[str, Callable[[torch.dtype], bool]] = {
    "float": lambda d: d.is_floating_point,
    "integer": lambda d: not d.is_floating_point and not d.is_complex and d != torch.bool,
    "bool": lambda d: d == torch.bool,
    "real": lambda d: not d.is_complex,
}


def tensor(
    name: str,
    value: object,
    *,
    ndim: int | Sequence[int] | None = None,
    shape: Sequence[int | None] | None = None,
    kind: str | None = None,
    nonempty: bool = True,
    hint: str = "",
) -> torch.Tensor:
    """``value`` if it is a :class:`torch.Tensor` of the given rank, shape and dtype kind.

    ``ndim`` is one rank or a sequence of allowed ranks; ``shape`` may hold
    ``None`` for sizes that are free; ``kind`` is ``"float"``, ``"integer"``,
    ``"bool"`` or ``"real"`` (anything but complex). No values are read: see
    :func:`finite_values` for that.
    """
    if not isinstance(value, torch.Tensor):
        extra = hint or "convert it with torch.as_tensor(...)"
        raise _fail_type(name, "a torch.Tensor", value, extra)
    if ndim is not None:
        ranks = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if value.ndim not in ranks:
            listed = " or ".join(str(r) for r in ranks)
            raise ValueError(
                f"{name} must have {listed} dimensions, got shape {tuple(value.shape)}"
                + (f"; {hint}" if hint else "")
            )
    if shape is not None:
        ok = value.ndim == len(shape) and all(
            want is None or want == got for want, got in zip(shape, value.shape, strict=False)
        )
        if not ok:
            wanted = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
            raise ValueError(
                f"{name} must have shape {wanted}, got {tuple(value.shape)}"
                + (f"; {hint}" if hint else "")
            )
    if kind is not None:
        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {sorted(_KINDS)}, got {kind!r}")
        if not _KINDS[kind](value.dtype):
            raise TypeError(
                f"{name} must have a {kind} dtype, got {value.dtype}"
                + (f"; {hint}" if hint else "; convert it with .to(...) first")
            )
    if nonempty and value.numel() == 0:
        raise ValueError(
            f"{name} is empty (shape {tuple(value.shape)}); pass at least one element"
            + (f"; {hint}" if hint else "")
        )
    return value


def finite_values(
    name: str,
    value: torch.Tensor,
    *,
    low: float | None = None,
    high: float | None = None,
    hint: str = "",
) -> torch.Tensor:
    """``value`` if every entry is finite (and inside ``[low, high]`` if given).

    Reads the tensor back to the host (one synchronisation): use it in entry
    points, not in ``forward``. Skipped on the ``meta`` device.
    """
    if value.device.type == "meta" or value.numel() == 0:
        return value
    data = value.detach()
    if data.is_floating_point() and not bool(torch.isfinite(data).all()):
        bad = int((~torch.isfinite(data)).sum())
        raise ValueError(
            f"{name} holds {bad} NaN or infinite value(s); clean or clip the input first"
            + (f"; {hint}" if hint else "")
        )
    wanted = _interval(low, high, False, False).replace("a number", "every entry")
    if low is not None and bool((data < low).any()):
        raise ValueError(
            f"{name}: {wanted}, but its smallest entry is {float(data.min()):g}"
            + (f"; {hint}" if hint else "")
        )
    if high is not None and bool((data > high).any()):
        raise ValueError(
            f"{name}: {wanted}, but its largest entry is {float(data.max()):g}"
            + (f"; {hint}" if hint else "")
        )
    return value


def labels(
    name: str, value: object, *, num_classes: int | None = None, hint: str = ""
) -> torch.Tensor:
    """``value`` if it is a 1-D integer tensor of class indices (in ``[0, num_classes)``)."""
    value = tensor(
        name,
        value,
        ndim=1,
        kind="integer",
        hint=hint or "pass one integer class index per sample, shape (n,)",
    )
    if num_classes is not None and value.device.type != "meta":
        if bool((value < 0).any()) or bool((value >= num_classes).any()):
            raise ValueError(
                f"{name} must hold class indices in [0, {num_classes}), "
                f"got values from {int(value.min())} to {int(value.max())}"
                + (f"; {hint}" if hint else "")
            )
    return value


def same_length(**named: Any) -> int:
    """The common length of the named sequences or tensors; raises if they disagree."""
    lengths = {}
    for key, value in named.items():
        try:
            lengths[key] = len(value)
        except TypeError:
            shape = f" of shape {tuple(value.shape)}" if hasattr(value, "shape") else ""
            raise TypeError(
                f"{key} must be a sequence or a tensor with a first dimension, "
                f"got {type(value).__name__}{shape}"
            ) from None
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{key} has {n}" for key, n in lengths.items())
        raise ValueError(f"{' and '.join(lengths)} must have the same length: {listed}")
    return next(iter(lengths.values()), 0)
