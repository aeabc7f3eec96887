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

from snnbook import checks

__all__ = ["seed_everything", "__version__"]
__version__ = "0.1.0"


def seed_everything(
    seed: int = 0, *, threads: int | None = 2, device: torch.device | str = "cpu"
) -> torch.Generator:
    """Seed Python, NumPy and PyTorch, and fix the number of CPU threads.

    :func:`torch.manual_seed` seeds PyTorch's generators on every device (CPU,
    CUDA, MPS), so this is the one call a chapter makes first. The book is
    written for a 2-core laptop: ``threads=2`` keeps timings comparable from
    run to run (``None`` leaves PyTorch's choice alone). Returns a
    :class:`torch.Generator` on ``device`` seeded with ``seed``, for code that
    wants its own random stream.
    """
    seed = checks.integer(
        "seed", seed, low=0, high=2**32 - 1, hint="NumPy accepts seeds below 2**32"
    )
    if threads is not None:
        threads = checks.positive_int("threads", threads, hint="or None for PyTorch's choice")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if threads is not None:
        torch.set_num_threads(threads)
    return torch.Generator(device=device).manual_seed(seed)
