"""LMU, LSTM and GRU trained to a plateau on permuted sequential Fashion-MNIST at 14 x 14.

The task (chapter 5): each Fashion-MNIST image is averaged over 2 x 2 blocks to 14 x 14 and read
one grey value per step, 196 steps, in the fixed order ``RandomState(0).permutation(196)``. The
60 000 training images are split into 55 000 for training and 5 000 for validation (the same split
for every model and seed); the 10 000 test images are used once, at the end.

Models (``MODELS``), about 16 000 parameters each:

* ``LMU``: the feedforward LMU of Chilkuri & Eliasmith (memory order 64, theta = 196 steps, 212 ReLU
  units, read out at the last step; the psMNIST ratio order / theta = 256 / 784 of Voelker et al.);
* ``LSTM`` with 61 units and ``GRU`` with 70 units (``torch.nn.LSTM`` / ``GRU``), read out from the
  last hidden state.

Protocol, the same for all: Adam, learning rate ``LR`` with a cosine decay to zero over all steps,
gradient norm clipped to ``CLIP``, batch ``BATCH``, ``--epochs`` epochs; validation accuracy after
every epoch (the learning curves of the chapter), test accuracy after the last epoch.

Run from the repository root on an otherwise idle 2-core machine::

    /work/bin/heavy .venv/bin/python scripts/lmu_baselines.py

It writes ``results/lmu_baselines.json`` with :mod:`snnbook.records` provenance (command, commit,
seeds, versions, wall time, threads, load before and after). ``tests/test_lmu.py`` re-runs the first
optimizer steps of the first seed of every model and compares them with ``first_losses`` here.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

import snnbook
from snnbook import data, lmu, records, training

SIDE = 14  # images are pooled to SIDE x SIDE
STEPS = SIDE * SIDE
N_VALIDATION = 5_000
BATCH = 128
LR = 3e-3
CLIP = 1.0

#: name -> constructor, given the fixed permutation (about 16 000 parameters each).
MODELS: dict[str, Callable[[torch.Tensor], nn.Module]] = {
    "LMU": lambda perm: lmu.LMUClassifier(
        hidden_size=212, order=64, theta=float(STEPS), permutation=perm
    ),
    "LSTM": lambda perm: lmu.RNNClassifier("lstm", 61, permutation=perm),
    "GRU": lambda perm: lmu.RNNClassifier("gru", 70, permutation=perm),
}


def pooled(images: torch.Tensor) -> torch.Tensor:
    """28 x 28 images -> 14 x 14 by averaging 2 x 2 blocks."""
    return nn.functional.avg_pool2d(images, 28 // SIDE)


def load_data() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Pooled train / validation / test splits (the validation split is fixed, seed 0)."""
    x, y = data.load_fashion_mnist("train")
    x_test, y_test = data.load_fashion_mnist("test")
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    val, train = order[:N_VALIDATION], order[N_VALIDATION:]
    x = pooled(x)
    return {
        "train": (x[train], y[train]),
        "validation": (x[val], y[val]),
        "test": (pooled(x_test), y_test),
    }


def train(
    name: str,
    seed: int,
    splits: dict[str, tuple[torch.Tensor, torch.Tensor]],
    epochs: int,
    *,
    max_steps: int | None = None,
) -> dict:
    """Train one model with one seed; ``max_steps`` stops early (for the re-run test)."""
    snnbook.seed_everything(seed)
    model = MODELS[name](lmu.fixed_permutation(STEPS, 0))
    return fit(model, seed, splits, epochs, max_steps=max_steps, label=name)


def fit(
    model: nn.Module,
    seed: int,
    splits: dict[str, tuple[torch.Tensor, torch.Tensor]],
    epochs: int,
    *,
    max_steps: int | None = None,
    label: str = "model",
) -> dict:
    """The protocol of the module docstring for a built ``model`` (Adam, cosine, clipping).

    ``splits`` maps ``train`` / ``validation`` / ``test`` to ``(x, y)``; ``x`` is whatever the
    model takes (images here; precomputed features in ``scripts/projection_control.py``).
    The batch order is drawn from ``seed``.
    """
    x, y = splits["train"]
    steps_per_epoch = math.ceil(len(y) / BATCH)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=LR)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs * steps_per_epoch)
    generator = torch.Generator().manual_seed(seed)
    result = {"parameters": lmu.count_parameters(model), "first_losses": []}
    curve = {"train_loss": [], "validation_accuracy": [], "seconds": []}
    step = 0
    for _ in range(epochs):
        start, total = time.perf_counter(), 0.0
        for xb, yb in training.batches(x, y, BATCH, shuffle=True, generator=generator):
            loss = nn.functional.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, CLIP)
            optimizer.step()
            schedule.step()
            step += 1
            total += loss.item() * len(yb)
            if step <= 3:
                result["first_losses"].append(loss.item())
            if max_steps is not None and step >= max_steps:
                return result
        curve["seconds"].append(time.perf_counter() - start)
        curve["train_loss"].append(total / len(y))
        curve["validation_accuracy"].append(
            training.evaluate(model, *splits["validation"], batch_size=1000)
        )
        print(
            f"{label} seed {seed} epoch {len(curve['seconds'])}: "
            f"loss {curve['train_loss'][-1]:.4f}, "
            f"validation {curve['validation_accuracy'][-1]:.4f}, {curve['seconds'][-1]:.0f} s",
            flush=True,
        )
    result.update(curve)
    result["test_accuracy"] = training.evaluate(model, *splits["test"], batch_size=1000)
    result["epoch_seconds"] = sum(curve["seconds"]) / epochs
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument(
        "--seeds", nargs="+", type=int, default=None, help="default: 0 1 2 (LMU), 0 1 (LSTM, GRU)"
    )
    parser.add_argument("--out", type=Path, default=records.RESULTS / "lmu_baselines.json")
    args = parser.parse_args(argv)
    seeds = {m: args.seeds or ([0, 1, 2] if m == "LMU" else [0, 1]) for m in args.models}
    run = records.start(sorted({s for v in seeds.values() for s in v}))
    splits = load_data()
    results = {name: {} for name in args.models}
    for name in args.models:
        for seed in seeds[name]:
            results[name][str(seed)] = train(name, seed, splits, args.epochs)
            print(f"{name} seed {seed}: test {results[name][str(seed)]['test_accuracy']:.4f}")
    protocol = {
        "task": f"permuted sequential Fashion-MNIST, {SIDE} x {SIDE} = {STEPS} steps, "
        "RandomState(0) permutation",
        "split": f"{60_000 - N_VALIDATION} train / {N_VALIDATION} validation (seed 0) / 10000 test",
        "optimizer": f"Adam lr {LR}, cosine decay to 0, gradient norm clipped to {CLIP}",
        "batch": BATCH,
        "epochs": args.epochs,
        "seeds": seeds,
    }
    records.write(args.out, {"protocol": protocol, "results": results}, run)


if __name__ == "__main__":
    main()
