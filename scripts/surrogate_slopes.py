"""Chapter 3: what the fast sigmoid's slope does to training, over several seeds.

For each slope ``k`` and seed, :func:`snnbook.lif.slope_trial` builds a 784-128-10
:class:`~snnbook.lif.RateLIFNet` (25 steps, beta 0.9) whose surrogate is
``surrogate.fast_sigmoid(slope=k)``, measures the norm of the first layer's gradient
on 256 training images at initialisation, trains it for one epoch on 6 000 training
images (Adam, learning rate 2e-3, batch 128) and tests it on all 10 000 test images.
The seed fixes the initialisation, the input spikes and the batch order.

Run from the repository root on a quiet machine (about 3 minutes on 2 cores)::

    /work/bin/heavy .venv/bin/python scripts/surrogate_slopes.py

It writes ``results/surrogate_slopes.json``; chapter 3 loads it and re-runs seed 0.
``tests/test_lif.py`` re-runs the first optimizer steps of seed 0 and compares them
with ``first_losses`` here.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import snnbook
from snnbook import records
from snnbook.data import load_fashion_mnist
from snnbook.lif import slope_trial

SLOPES = (0.5, 2.0, 10.0, 50.0, 250.0)
SEEDS = (0, 1, 2)
N_TRAIN = 6000
PROTOCOL = {
    "model": "RateLIFNet(128, num_steps=25, beta=0.9), fast-sigmoid surrogate",
    "train": f"1 epoch on {N_TRAIN} training images (load_fashion_mnist('train', n={N_TRAIN})), "
    "Adam lr 2e-3, batch 128",
    "test": "all 10000 test images",
    "grad_norm": "norm of fc1.weight.grad on the first 256 training images, at initialisation",
}


def data() -> tuple[tuple, tuple]:
    """The training subset and the full test set used by every trial."""
    return load_fashion_mnist("train", n=N_TRAIN), load_fashion_mnist("test")


def trial(slope: float, seed: int, train: tuple, test: tuple) -> dict:
    """One (slope, seed) cell of the sweep."""
    snnbook.seed_everything(seed)
    return slope_trial(slope, seed, train, test)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=records.RESULTS / "surrogate_slopes.json")
    args = parser.parse_args(argv)
    run = records.start(SEEDS)
    train, test = data()
    runs = {}
    for slope in SLOPES:
        runs[f"{slope:g}"] = {str(seed): trial(slope, seed, train, test) for seed in SEEDS}
        print(
            slope, {s: round(r["test_acc"], 4) for s, r in runs[f"{slope:g}"].items()}, flush=True
        )
    results = {"protocol": PROTOCOL, "slopes": list(SLOPES), "n_test": len(test[1]), "runs": runs}
    records.write(args.out, results, run)


if __name__ == "__main__":
    main()
