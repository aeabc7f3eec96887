"""snnbook: the small library behind the book *Spiking Networks, Trained*.

Each module holds one idea of the book and is meant to be read:

* :mod:`snnbook.data` -- Fashion-MNIST (verified by SHA-256), synthetic tasks and
  spike encoders.
* :mod:`snnbook.training` -- a small ``fit`` / ``evaluate`` loop with a progress bar.
* :mod:`snnbook.plotting` -- raster and membrane plots in one style.
* :mod:`snnbook.widgets` -- interactive figures that also work in the static book.

Chapter modules (quantizers, LIF helpers, LMU, single-spike layers, conversion)
are added next to these, one module per idea.
"""

from __future__ import annotations

import random

import numpy as np
import torch

__all__ = ["seed_everything", "__version__"]
__version__ = "0.1.0"


def seed_everything(seed: int = 0, *, threads: int | None = 2) -> torch.Generator:
    """Seed Python, NumPy and PyTorch, and fix the number of CPU threads.

    The book is written for a 2-core laptop: ``threads=2`` keeps timings
    comparable from run to run (``None`` leaves PyTorch's choice alone).
    Returns a :class:`torch.Generator` seeded with ``seed`` for code that
    wants its own random stream.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads must be >= 1 or None, got {threads!r}")
        torch.set_num_threads(threads)
    return torch.Generator().manual_seed(seed)
