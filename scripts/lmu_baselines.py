"""Longer psFashion-MNIST runs of the chapter-5 LMU, LSTM and GRU at a matched wall-clock budget.

Each model (matched parameter counts, see ``MODELS``) trains with Adam (learning rate 1e-3, batch
100) on the 60 000 training images, pixels in the fixed order ``RandomState(0).permutation(784)``,
for the same number of seconds of wall-clock time (2 threads unless ``--threads`` says otherwise),
and is evaluated on all 10 000 test images. The results and their provenance (command, seed,
library versions, date, machine load, wall time) go to ``results/lmu_baselines.json``, which
chapters 5 and 6 read.

Run once from the repository root::

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python scripts/lmu_baselines.py --budget 140 --threads 2

on an otherwise idle 2-core machine (use ``--threads 1`` on a machine shared with other jobs:
two threads then stall, and the timings say more about the neighbours than about the models).

``tests/test_lmu.py`` re-runs the first optimizer steps of the LMU and the LSTM with the same seed
and checks that the losses recorded here (``first_losses``) come out again.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import scipy
import torch

import snnbook
from snnbook import data, lmu, training

#: name -> constructor of a model with about 56 800 parameters.
MODELS = {
    "LMU": lambda perm: lmu.LMUClassifier(
        hidden_size=212, order=256, theta=784.0, permutation=perm
    ),
    "LSTM": lambda perm: lmu.RNNClassifier("lstm", 116, permutation=perm),
    "GRU": lambda perm: lmu.RNNClassifier("gru", 134, permutation=perm),
}
SEED = 0
BATCH = 100
LR = 1e-3


def run(
    budget: float, n_train: int | None = None, n_test: int | None = None, threads: int = 2
) -> dict:
    """Train every model for ``budget`` seconds and evaluate it; returns the results."""
    x_train, y_train = data.load_fashion_mnist("train", n=n_train)
    x_test, y_test = data.load_fashion_mnist("test", n=n_test)
    results = {}
    for name, make in MODELS.items():
        snnbook.seed_everything(SEED, threads=threads)
        model = make(lmu.fixed_permutation(784, SEED))
        start = time.perf_counter()
        stats = lmu.train_with_budget(
            model, x_train, y_train, budget, batch_size=BATCH, lr=LR, seed=SEED, desc=name
        )
        start_eval = time.perf_counter()
        stats["accuracy"] = training.evaluate(model, x_test, y_test, batch_size=500)
        stats["eval_seconds"] = time.perf_counter() - start_eval
        stats["parameters"] = lmu.count_parameters(model)
        stats["epoch_seconds"] = stats["seconds_per_step"] * math.ceil(len(y_train) / BATCH)
        stats["wall_seconds"] = time.perf_counter() - start
        results[name] = stats
        print(f"{name}: {stats}", flush=True)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=140.0, help="training seconds per model")
    parser.add_argument(
        "--threads",
        type=int,
        default=2,
        help="CPU threads (use 1 on a machine shared with other jobs: 2 threads then stall)",
    )
    parser.add_argument("--out", type=Path, default=Path("results/lmu_baselines.json"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = run(args.budget, threads=args.threads)
    record = {
        "task": "psFashion-MNIST: 784 steps, one pixel per step, RandomState(0) permutation",
        "protocol": (
            f"Adam lr {LR}, batch {BATCH}, {args.budget:g} s of training per model on the 60000 "
            "training images, evaluation on all 10000 test images"
        ),
        "results": results,
        "provenance": {
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "seed": SEED,
            "budget_seconds": args.budget,
            "date_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "wall_seconds": time.perf_counter() - started,
            "threads": torch.get_num_threads(),
            "load_average_at_end": list(os.getloadavg()),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "snnbook": snnbook.__version__,
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {args.out} in {record['provenance']['wall_seconds']:.0f} s")


if __name__ == "__main__":
    main()
