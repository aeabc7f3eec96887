"""The random-projection control of chapter 5: is the LMU's psFashion-MNIST score due to its memory?

Read out at the last step, the feedforward LMU of ``scripts/lmu_baselines.py`` sees the 196 pixels
only through its final memory state, ``m = x K``: a *fixed* linear map ``K`` (196 x 64, the
impulse response of the Legendre system read backwards) of the permuted pixel vector ``x``, plus the
last pixel itself. Everything it learns sits in the head, ``h = ReLU(W_m m + W_x x_last + b)`` and
a linear readout. So the same head is trained here on three fixed feature maps of the same images:

* ``Legendre``: ``[x K, x_last]``, the LMU's own features (the LMU of ``lmu_baselines`` with its
  input scale ``e_x`` frozen at its initial value 1);
* ``random``: ``[x R, x_last]`` with ``R`` a fixed Gaussian 196 x 64 matrix, drawn once per seed
  and scaled to the Frobenius norm of ``K`` (the same total gain), never trained;
* ``pixels``: the 196 permuted pixels themselves (the head's first layer then has 196 inputs
  instead of 65: about 27 000 more parameters).

The head is :class:`snnbook.lmu.LMUClassifier`'s (212 ReLU units, linear readout) driven through
:class:`snnbook.lmu.FeatureModel`; the data, split and protocol are those of
``scripts/lmu_baselines.py`` (its ``fit``: Adam 3e-3, cosine decay, clipping 1, batch 128), at
``--epochs`` epochs for every arm and seed. Since the features are fixed, they are computed once
per seed and the head is trained on them.

Run from the repository root on an otherwise idle 2-core machine::

    /work/bin/heavy .venv/bin/python scripts/projection_control.py

It writes ``results/projection_control.json`` with :mod:`snnbook.records` provenance.
``tests/test_projection_control.py`` re-runs the first optimizer steps of seed 0 of every arm
and compares them with ``first_losses`` here.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path
from types import ModuleType

import torch

import snnbook
from snnbook import lmu, records

ARMS = ("Legendre", "random", "pixels")
ORDER = 64  # the LMU's memory order (scripts/lmu_baselines.py)
HIDDEN = 212


def baselines() -> ModuleType:
    """``scripts/lmu_baselines.py``, whose data, split and training protocol this control reuses."""
    path = Path(__file__).with_name("lmu_baselines.py")
    spec = importlib.util.spec_from_file_location("lmu_baselines", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def legendre_map(steps: int) -> torch.Tensor:
    """``K`` (steps x ORDER): the final memory state of the LMU is ``x @ K`` for a pixel row ``x``."""
    return lmu.memory(torch.eye(steps), ORDER, float(steps), last_only=True)


def random_map(steps: int, seed: int) -> torch.Tensor:
    """A fixed Gaussian ``steps x ORDER`` matrix with the Frobenius norm of :func:`legendre_map`."""
    g = torch.Generator().manual_seed(10_000 + seed)  # apart from the model's initial weights
    r = torch.randn(steps, ORDER, generator=g)
    return r * (legendre_map(steps).norm() / r.norm())


def features(arm: str, images: torch.Tensor, seed: int) -> torch.Tensor:
    """The fixed features of ``arm`` for ``images``, ``(N, 1, width + 1)`` as the head takes them."""
    if arm not in ARMS:
        raise ValueError(f"arm must be one of {ARMS}, got {arm!r}")
    steps = images[0].numel()
    x = lmu.pixel_sequence(images, lmu.fixed_permutation(steps, 0))[..., 0].T  # (N, steps)
    if arm == "pixels":
        return x[:, None]
    k = legendre_map(steps) if arm == "Legendre" else random_map(steps, seed)
    return torch.cat([x @ k, x[:, -1:]], dim=1)[:, None]


def head(arm: str, steps: int) -> lmu.FeatureModel:
    """The LMU's head for ``arm``'s features (its memory part is never evaluated)."""
    width = steps - 1 if arm == "pixels" else ORDER
    classifier = lmu.LMUClassifier(hidden_size=HIDDEN, order=width, theta=float(steps))
    return lmu.FeatureModel(classifier)


def run_arm(
    arm: str,
    seed: int,
    splits: dict[str, tuple[torch.Tensor, torch.Tensor]],
    epochs: int,
    *,
    max_steps: int | None = None,
) -> dict:
    """Train the head on ``arm``'s features with one seed (the protocol of ``lmu_baselines``)."""
    script = baselines()
    feats = {k: (features(arm, x, seed), y) for k, (x, y) in splits.items()}
    snnbook.seed_everything(seed)
    model = head(arm, script.STEPS)
    return script.fit(model, seed, feats, epochs, max_steps=max_steps, label=arm)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--out", type=Path, default=records.RESULTS / "projection_control.json")
    args = parser.parse_args(argv)
    run = records.start(args.seeds)
    script = baselines()
    splits = script.load_data()
    results = {arm: {} for arm in ARMS}
    for seed in args.seeds:
        for arm in ARMS:
            results[arm][str(seed)] = run_arm(arm, seed, splits, args.epochs)
            print(f"{arm} seed {seed}: test {results[arm][str(seed)]['test_accuracy']:.4f}")
    protocol = {
        "task": "as scripts/lmu_baselines.py: permuted sequential Fashion-MNIST, 14 x 14 = 196 "
        "steps, RandomState(0) permutation, 55000 train / 5000 validation / 10000 test",
        "head": f"LMUClassifier head: {HIDDEN} ReLU units on [features, last pixel], linear readout",
        "features": {
            "Legendre": f"final Legendre memory state, order {ORDER}, theta 196 (e_x = 1, frozen)",
            "random": f"fixed Gaussian 196 x {ORDER} projection, Frobenius norm of the Legendre "
            "map, drawn per seed (generator seed 10000 + seed)",
            "pixels": "the 196 permuted pixels",
        },
        "optimizer": f"Adam lr {script.LR}, cosine decay to 0, gradient norm clipped to "
        f"{script.CLIP}, batch {script.BATCH}",
        "epochs": args.epochs,
        "seeds": args.seeds,
    }
    records.write(args.out, {"protocol": protocol, "results": results}, run)


if __name__ == "__main__":
    main()
