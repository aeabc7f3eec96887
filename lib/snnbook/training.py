"""A small training loop, shared by every chapter.

The loop is plain supervised learning: for each mini-batch ``(x, y)``,
compute ``logits = model(x)``, a loss (cross-entropy unless told otherwise),
back-propagate and take one optimizer step. Spiking models fit this mould by
doing their encoding and their loop over time inside ``forward`` and returning
one score per class (for example summed output spikes or membrane potential).

Two hooks cover what the chapters need beyond that: ``after_step`` runs after
every optimizer step (threshold annealing, dt schedules) and ``after_epoch``
after every epoch (logging firing rates). Progress is shown with tqdm.

The loop runs unchanged on any device: it moves nothing, so put the model and the
data on the same device first (``model.to(device)``, ``x.to(device)``). Mini-batch
order is drawn on the CPU from ``seed``, so a run sees the same batches on every
device. Numbers are read back to the host once per epoch (and for the progress
bar about once a second), never per sample. On PyTorch's ``meta`` device, which
has shapes but no values, the loop runs and the numbers it records are NaN.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm

from snnbook import checks

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


def _read(value: torch.Tensor) -> float:
    """One number back to the host (NaN on the ``meta`` device, which has no values)."""
    if value.device.type == "meta":
        return math.nan
    return float(value.detach())


def _check_pair(x: object, y: object, *, names: tuple[str, str] = ("x", "y")) -> int:
    """``x`` a non-empty tensor of samples and ``y`` 1-D integer labels of the same length."""
    x = checks.tensor(names[0], x, hint="one sample per row, shape (n, ...)")
    if x.ndim == 0:
        raise ValueError(f"{names[0]} must have a first (sample) dimension, got a 0-d tensor")
    checks.labels(names[1], y)
    return checks.same_length(**{names[0]: x, names[1]: y})


def _check_model(model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"model must be a torch.nn.Module, got {type(model).__name__}; "
            "wrap a plain function in an nn.Module whose forward calls it"
        )
    return model


def _check_scores(scores: object, n: int) -> torch.Tensor:
    """The model's output must be one row of class scores per sample of the batch."""
    if not isinstance(scores, torch.Tensor):
        raise TypeError(
            f"model(x) must return a tensor of class scores of shape (batch, classes), "
            f"got {type(scores).__name__}"
        )
    if scores.ndim != 2 or scores.shape[0] != n:
        raise ValueError(
            f"model(x) must return class scores of shape ({n}, classes) for a batch of {n}, "
            f"got shape {tuple(scores.shape)}; reduce over time (or other axes) inside forward"
        )
    return scores


def batches(
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    *,
    shuffle: bool = False,
    generator: torch.Generator | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield mini-batches ``(x[i], y[i])`` of in-memory tensors (the last may be short).

    Cheaper than a ``DataLoader`` for data that already sits in memory. ``x``
    and ``y`` are any tensors with the same first dimension; the order is drawn
    on ``generator``'s device (the CPU by default) and the batches stay on the
    device of ``x`` and ``y``.
    """
    for name, value in (("x", x), ("y", y)):
        checks.tensor(name, value, hint="one sample per row, shape (n, ...)")
        if value.ndim == 0:
            raise ValueError(f"{name} must have a first (sample) dimension, got a 0-d tensor")
    n = checks.same_length(x=x, y=y)
    batch_size = checks.positive_int("batch_size", batch_size)
    shuffle = checks.boolean("shuffle", shuffle)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator or None, got {type(generator).__name__}"
        )
    if shuffle:
        device = generator.device if generator is not None else "cpu"
        order = torch.randperm(n, generator=generator, device=device)
    else:
        order = torch.arange(n)
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        yield x[idx.to(x.device)], y[idx.to(y.device)]


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of rows whose largest score is at the true label.

    ``logits`` has shape ``(n, classes)`` and ``y`` holds ``n`` class indices.
    """
    logits = checks.tensor("logits", logits, ndim=2, kind="real")
    checks.labels("y", y)
    checks.same_length(logits=logits, y=y)
    checks.labels("y", y, num_classes=logits.shape[1])
    return _read((logits.argmax(dim=-1) == y).float().mean())


@torch.no_grad()
def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, batch_size: int = 1000
) -> float:
    """Test accuracy of ``model`` on ``(x, y)``, in evaluation mode and without gradients.

    ``y`` holds one class index per sample (shape ``(n,)``); ``model(x)`` must
    return class scores of shape ``(n, classes)``. The model's training mode is
    restored afterwards, even if it raises.
    """
    model = _check_model(model)
    n = _check_pair(x, y)
    batch_size = checks.positive_int("batch_size", batch_size)
    was_training = model.training
    model.eval()
    try:
        correct = None
        for xb, yb in batches(x, y, batch_size):
            scores = _check_scores(model(xb), len(yb))
            if correct is None:  # once: the labels must index the model's classes
                checks.labels("y", y, num_classes=scores.shape[1])
            hits = (scores.argmax(dim=-1) == yb).sum()
            correct = hits if correct is None else correct + hits
    finally:
        model.train(was_training)
    return _read(correct) / n


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
    x, y:
        the training set: ``x`` has one sample per row, ``y`` one class index
        per sample (int64, shape ``(n,)``); ``model(x)`` returns class scores
        of shape ``(n, classes)``.
    epochs, batch_size:
        positive integers.
    lr:
        learning rate of the default optimizer (a positive number).
    optimizer:
        defaults to Adam with learning rate ``lr``.
    loss_fn:
        ``loss_fn(logits, y)`` returning a scalar tensor; defaults to cross-entropy.
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
    model = _check_model(model)
    n = _check_pair(x, y)
    checks.finite_values("x", x, hint="the training inputs must be finite numbers")
    epochs = checks.positive_int("epochs", epochs)
    batch_size = checks.positive_int("batch_size", batch_size)
    lr = checks.positive("lr", lr)
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"optimizer must be a torch.optim.Optimizer or None, got {type(optimizer).__name__}"
        )
    if loss_fn is not None:
        checks.callable_("loss_fn", loss_fn, hint="pass loss_fn(logits, y) -> scalar tensor")
    elif y.dtype != torch.long:
        raise TypeError(
            f"y must hold int64 class indices for the default cross-entropy loss, got {y.dtype}; "
            "convert it with y.long()"
        )
    if test is not None:
        if not isinstance(test, tuple | list) or len(test) != 2:
            raise TypeError(
                f"test must be a pair (x_test, y_test) or None, got {type(test).__name__}"
            )
        _check_pair(*test, names=("test[0] (x_test)", "test[1] (y_test)"))
    if after_step is not None:
        checks.callable_("after_step", after_step, hint="pass a function of the step number")
    if after_epoch is not None:
        checks.callable_("after_epoch", after_epoch, hint="pass after_epoch(epoch, history)")
    seed = checks.nonnegative_int("seed", seed)
    if not isinstance(desc, str):
        raise TypeError(f"desc must be a string, got {type(desc).__name__}")

    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = loss_fn or nn.functional.cross_entropy
    generator = torch.Generator().manual_seed(seed)
    history = History()
    steps_per_epoch = -(-n // batch_size)
    step = 0
    labels_checked = False
    bar = tqdm(total=epochs * steps_per_epoch, desc=desc, unit="batch", mininterval=1.0)
    shown = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        start = time.perf_counter()
        total_loss = correct = None  # running sums, kept on the model's device
        for xb, yb in batches(x, y, batch_size, shuffle=True, generator=generator):
            logits = _check_scores(model(xb), len(yb))
            if not labels_checked:  # once: the labels must index the model's classes
                checks.labels("y", y, num_classes=logits.shape[1])
                labels_checked = True
            loss = loss_fn(logits, yb)
            if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
                got = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
                raise ValueError(f"loss_fn(logits, y) must return a one-number tensor, got {got}")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            if after_step is not None:
                after_step(step)
            batch_loss = loss.detach() * len(yb)
            hits = (logits.detach().argmax(dim=-1) == yb).sum()
            total_loss = batch_loss if total_loss is None else total_loss + batch_loss
            correct = hits if correct is None else correct + hits
            bar.update()
            if time.perf_counter() - shown > 1.0:  # one host read a second, for the bar
                bar.set_postfix(epoch=epoch + 1, loss=f"{_read(loss):.3f}", refresh=False)
                shown = time.perf_counter()
        history.seconds.append(time.perf_counter() - start)
        history.loss.append(_read(total_loss) / n)
        history.train_acc.append(_read(correct) / n)
        bar.set_postfix(epoch=epoch + 1, loss=f"{history.loss[-1]:.3f}", refresh=False)
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
