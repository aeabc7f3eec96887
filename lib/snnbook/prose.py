"""Numbers that the prose of a chapter quotes, handed over from its code.

Every number in the book's text is computed by the notebook that shows it.
The code cell measures it and calls :func:`glue`; the text refers to it as
``{glue:text}`name:.1%```. This wraps :func:`myst_nb.glue` and first turns
NumPy and PyTorch scalars into plain Python numbers: since NumPy 2 their
``repr`` reads ``np.float64(0.87)``, which myst-nb cannot format. A number
that is NaN or infinite is refused: the text would read "nan %".
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import torch

__all__ = ["glue", "plain"]


def plain(value: Any) -> Any:
    """``value`` as a plain Python ``int``/``float``/``bool`` if it is a scalar; else unchanged.

    Tensors may live on any device and require gradients; a tensor or array of
    more than one element is refused (only single numbers are quoted).
    """
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(
                f"only a single number can be quoted, got a tensor of shape {tuple(value.shape)}"
            )
        if value.device.type == "meta":
            raise ValueError("a tensor on the meta device holds no value to quote")
        return value.detach().item()
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise ValueError(
                f"only a single number can be quoted, got an array of shape {value.shape}"
            )
        return value.item()
    if isinstance(value, np.generic):
        return value.item()
    return value


#: A glue name: what ``{glue:text}`name:format``` can refer to.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def glue(name: str, value: Any, display: bool = False) -> None:
    """Record ``value`` under ``name`` for ``{glue:text}`` in the notebook's text."""
    from myst_nb import glue as myst_glue

    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(
            f"glue name must be a word of letters, digits, '_', '.' or '-' (no spaces or "
            f"colons: the text refers to it as {{glue:text}}`name:.2f`), got {name!r}"
        )
    if not isinstance(display, bool):
        raise TypeError(f"display must be True or False, got {display!r}")
    value = plain(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(
            f"glue value {name!r} is {value}: the text would quote it; check the computation"
        )
    myst_glue(name, value, display=display)
