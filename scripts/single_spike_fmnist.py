"""Fashion-MNIST, 3 seeds: single-spike against multi-spike, and the selection ablation.

Three arms of chapter 7's network (:data:`snnbook.single_spike_runs.FMNIST`: 784
latency-coded inputs over 100 steps, 400 LIF neurons, 10 non-leaky integrating outputs scored
by their time-averaged membrane), trained on all 60 000 training images and tested on all
10 000 test images, for every seed in ``--seeds``:

* ``single-spike``: :class:`snnbook.single_spike.SingleSpikeLinear`, parallel, with the
  detached-mask selection gradient (equal to the loop's);
* ``multi-spike``: :class:`snnbook.single_spike.MultiSpikeLinear` (snnTorch ``Leaky``, reset by
  subtraction), the same network otherwise;
* ``single-spike, straight-through``: the single-spike network with Block's straight-through
  selection gradient (Taylor et al.'s second code): the ablation of the gradient.

Every arm follows the same recipe (:func:`snnbook.single_spike_runs.train_arm`): Adam, learning
rate decayed to zero by a cosine over the recipe's epochs (2: the runs must fit the book's
12-minute budget for a committed run on a shared 2-core machine, so this is not a plateau), batch
128, the same initial weights and batch order for a given seed. The test accuracy is recorded
after every epoch; at the end also the hidden spikes per test image, the never-firing hidden
neurons and the seconds per training epoch. Results go to ``results/single_spike_fmnist.json``
with provenance. Run on an idle machine, from the repository root::

    /work/bin/heavy .venv/bin/python scripts/single_spike_fmnist.py

The run to a plateau (``results/single_spike_plateau.json``) is the same script with a longer
cosine schedule, for the two arms the chapter ranks (the ablation keeps its 2-epoch run)::

    /work/bin/heavy .venv/bin/python scripts/single_spike_fmnist.py --epochs 5 \
        --arms single-spike multi-spike --out results/single_spike_plateau.json

``tests/test_single_spike_scripts.py`` re-runs the first optimizer steps of the first seed of
every arm and compares the losses with the ``first_losses`` stored here.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import snnbook
from snnbook import records
from snnbook.data import load_fashion_mnist
from snnbook.single_spike_runs import ARMS, FMNIST, train_arm

OUT = records.RESULTS / "single_spike_fmnist.json"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    parser.add_argument("--n-train", type=int, default=None, help="subset (default: all 60 000)")
    parser.add_argument(
        "--epochs", type=int, default=None, help="epochs of the cosine schedule (default: recipe's)"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--max-load", type=float, default=2.0, help="refuse a busier machine (0: a trial run)"
    )
    args = parser.parse_args(argv)
    run = records.start(args.seeds, max_load=args.max_load if args.max_load > 0 else None)
    x, y = load_fashion_mnist("train", n=args.n_train)
    x_test, y_test = load_fashion_mnist("test")
    recipe = dict(FMNIST) if args.epochs is None else {**FMNIST, "epochs": args.epochs}
    results: dict = {
        "recipe": recipe,
        "n_train": len(y),
        "n_test": len(y_test),
        "arms": {arm: {} for arm in args.arms},
    }
    for seed in args.seeds:
        for arm in args.arms:
            snnbook.seed_everything(seed, threads=args.threads)
            data = (x, y, x_test, y_test)
            out = train_arm(arm, seed, data, recipe=recipe, desc=f"{arm}, seed {seed}")
            out.pop("model")
            results["arms"][arm][str(seed)] = out
    records.write(args.out, results, run)
    return results


if __name__ == "__main__":
    main()
