"""A small training loop, shared by every chapter.

The loop is plain supervised learning: for each mini-batch ``(x, y)``,
compute ``logits = model(x)``, a loss (cross-entropy unless told otherwise),
back-propagate and take one optimizer step. Spiking models fit this mould by
doing their encoding and their loop over time inside ``forward`` and returning
one score per class (for example summed output spikes or membrane potential).

Two hooks cover what the chapters need beyond that: ``after_step`` runs after
every optimizer step (threshold annealing, dt schedules) and ``after_epoch``
after every epoch (logging firing rates). Progress is shown with tqdm.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm

__all__ = ["History", "batches", "accuracy", "evaluate", "fit"]


@dataclass
class History:
    """What :func:`fit` measured: one entry per epoch."""

    loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def seconds_per_epoch(self) -> float:
        """Mean wall time of one epoch (training only, evaluation excluded)."""
        return sum(self.seconds) / max(len(self.seconds), 1)


def _check_pair(x: torch.Tensor, y: torch.Tensor) -> None:
    if len(x) != len(y):
        raise ValueError(f"x and y disagree on the number of samples: {len(x)} vs {len(y)}")
    if len(y) == 0:
        raise ValueError("no samples: x and y are empty")


def batches(
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    *,
    shuffle: bool = False,
    generator: torch.Generator | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield mini-batches ``(x[i], y[i])`` of in-memory tensors (the last may be short).

    Cheaper than a ``DataLoader`` for data that already sits in memory.
    """
    _check_pair(x, y)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = torch.randperm(len(y), generator=generator) if shuffle else torch.arange(len(y))
    for start in range(0, len(y), batch_size):
        idx = order[start : start + batch_size]
        yield x[idx], y[idx]


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of rows whose largest score is at the true label."""
    return (logits.argmax(dim=-1) == y).float().mean().item()


@torch.no_grad()
def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, batch_size: int = 1000
) -> float:
    """Test accuracy of ``model`` on ``(x, y)``, in evaluation mode and without gradients."""
    was_training = model.training
    model.eval()
    correct = 0
    for xb, yb in batches(x, y, batch_size):
        correct += (model(xb).argmax(dim=-1) == yb).sum().item()
    model.train(was_training)
    return correct / len(y)


def fit(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int = 1,
    batch_size: int = 128,
    lr: float = 1e-3,
    optimizer: torch.optim.Optimizer | None = None,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    test: tuple[torch.Tensor, torch.Tensor] | None = None,
    after_step: Callable[[int], None] | None = None,
    after_epoch: Callable[[int, History], None] | None = None,
    seed: int = 0,
    desc: str = "training",
) -> History:
    """Train ``model`` on ``(x, y)`` and return its :class:`History`.

    Parameters
    ----------
    optimizer:
        defaults to Adam with learning rate ``lr``.
    loss_fn:
        ``loss_fn(logits, y)``; defaults to cross-entropy.
    test:
        optional ``(x_test, y_test)`` evaluated after every epoch.
    after_step:
        called as ``after_step(step)`` after every optimizer step (``step``
        counts from 1 over the whole run).
    after_epoch:
        called as ``after_epoch(epoch, history)`` after every epoch.
    seed:
        seeds the shuffling, so two runs see the batches in the same order.
    """
    _check_pair(x, y)
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = loss_fn or nn.functional.cross_entropy
    generator = torch.Generator().manual_seed(seed)
    history = History()
    steps_per_epoch = -(-len(y) // batch_size)
    step = 0
    bar = tqdm(total=epochs * steps_per_epoch, desc=desc, unit="batch", mininterval=1.0)
    for epoch in range(epochs):
        model.train()
        start = time.perf_counter()
        total_loss, correct = 0.0, 0
        for xb, yb in batches(x, y, batch_size, shuffle=True, generator=generator):
            logits = model(xb)
            loss = loss_fn(logits, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            if after_step is not None:
                after_step(step)
            total_loss += loss.item() * len(yb)
            correct += (logits.argmax(dim=-1) == yb).sum().item()
            bar.update()
            bar.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.3f}", refresh=False)
        history.seconds.append(time.perf_counter() - start)
        history.loss.append(total_loss / len(y))
        history.train_acc.append(correct / len(y))
        if test is not None:
            history.test_acc.append(evaluate(model, *test))
            bar.set_postfix(epoch=epoch + 1, test_acc=f"{history.test_acc[-1]:.3f}", refresh=False)
        if after_epoch is not None:
            after_epoch(epoch, history)
    bar.close()
    # One plain line that survives in the static book, where the bar does not.
    summary = (
        f"{desc}: {epochs} epoch(s), {sum(history.seconds):.1f} s, loss {history.loss[-1]:.3f}"
    )
    if history.test_acc:
        summary += f", test accuracy {history.test_acc[-1]:.3f}"
    print(summary)
    return history
