"""Numbers that the prose of a chapter quotes, handed over from its code.

Every number in the book's text is computed by the notebook that shows it.
The code cell measures it and calls :func:`glue`; the text refers to it as
``{glue:text}`name:.1%```. This wraps :func:`myst_nb.glue` and first turns
NumPy and PyTorch scalars into plain Python numbers: since NumPy 2 their
``repr`` reads ``np.float64(0.87)``, which myst-nb cannot format.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["glue", "plain"]


def plain(value: Any) -> Any:
    """``value`` as a plain Python ``int``/``float``/``bool`` if it is a scalar; else unchanged."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(
                f"only a single number can be quoted, got a tensor of shape {tuple(value.shape)}"
            )
        return value.item()
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise ValueError(
                f"only a single number can be quoted, got an array of shape {value.shape}"
            )
        return value.item()
    if isinstance(value, np.generic):
        return value.item()
    return value


def glue(name: str, value: Any, display: bool = False) -> None:
    """Record ``value`` under ``name`` for ``{glue:text}`` in the notebook's text."""
    from myst_nb import glue as myst_glue

    myst_glue(name, plain(value), display=display)
