"""Chapter 4: fixed against annealed output thresholds of a binarized convolutional SNN, three seeds.

Every arm trains :class:`snnbook.binary.BinaryConvSNN` with the same protocol
(:class:`snnbook.fine_line.ConvSetup`: 300 Adam steps, batch 64, on 6 400 Fashion-MNIST
training images; T = 6 steps, beta 0.9, fast-sigmoid slope 1; learning rate 3e-3 on a
cosine schedule to 0, stepped per batch; cross-entropy on the output spike counts) and is
tested on all 10 000 test images. The two batch-normalised layers keep threshold 1 in
every arm (behind batch normalisation their threshold only sets the units of the BN
parameters); the arms differ in the output layer, the only true binarized integrator:

* the "fine line" sweep: output threshold fixed at each value of ``SWEEP``
  (1 and ``HIGH`` are the controls of the annealed arms);
* annealed: output threshold from 1 toward ``HIGH`` with ``alpha = 3 / steps`` (95% of the
  way at the end of the run) and with the authors' Fashion-MNIST output-layer rate 0.105;
* a full-precision reference at threshold 1.

The seed fixes the initialisation and the batch order; all arms of a seed share them.

Sized to the 12-minute budget (331 s measured on 2 shared cores): three seeds per arm
(0, 1, 2), four sweep points (1, 8, 64, 256) and no loss-check arm with the authors'
``mse_count_loss``. An earlier plan (five seeds, seven sweep points, the mse_count arms)
needed about 25 minutes.

Run from the repository root on a quiet machine::

    /work/bin/heavy .venv/bin/python scripts/fine_line.py

It writes ``results/fine_line.json``, which chapter 4 loads (and re-runs the slow annealed
arm of seed 0). ``tests/test_fine_line.py`` re-runs the first optimizer steps of seed 0 of
two arms and compares them with ``first_losses`` here.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import snnbook
from snnbook import records
from snnbook.data import load_fashion_mnist
from snnbook.fine_line import ConvArm, ConvSetup, train_conv

N_TRAIN = 6400
SETUP = ConvSetup()
HIGH = 64.0
SWEEP = (1.0, 8.0, 64.0, 256.0)
SLOW = 3.0 / SETUP.steps
PAPER_ALPHA = 0.1048  # fmnist/conf.py, alpha_thr3
SEEDS = (0, 1, 2)


def arms() -> dict[str, tuple[ConvArm, tuple[int, ...], str]]:
    """Every arm: its thresholds, its seeds and its loss."""

    def annealed(alpha: float) -> ConvArm:
        return ConvArm(
            thresholds=(1.0, 1.0, 1.0), targets=(None, None, HIGH), alphas=(None, None, alpha)
        )

    out = {
        f"annealed 1 → {HIGH:g} (α = {SLOW:g})": (annealed(SLOW), SEEDS, "ce_count"),
        f"annealed 1 → {HIGH:g} (α = {PAPER_ALPHA:g})": (annealed(PAPER_ALPHA), SEEDS, "ce_count"),
    }
    for theta in SWEEP:
        out[f"fixed θ = {theta:g}"] = (ConvArm(thresholds=(1.0, 1.0, theta)), SEEDS, "ce_count")
    out["full precision, θ = 1"] = (ConvArm(binary=False), SEEDS, "ce_count")
    return out


def data() -> tuple[tuple, tuple]:
    """The training subset and the full test set shared by every arm."""
    return load_fashion_mnist("train", n=N_TRAIN), load_fashion_mnist("test")


def trial(
    arm: ConvArm,
    seed: int,
    train: tuple,
    test: tuple | None,
    loss: str = "ce_count",
    desc: str = "",
    setup: ConvSetup = SETUP,
) -> dict:
    """One arm from one seed (the net itself is dropped)."""
    snnbook.seed_everything(seed)
    setup = dataclasses.replace(setup, loss=loss)
    result = train_conv(arm, seed, train, test, setup=setup, desc=desc)
    result.pop("net")
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=records.RESULTS / "fine_line.json")
    args = parser.parse_args(argv)
    plan = arms()
    run = records.start(sorted({s for _, seeds, _ in plan.values() for s in seeds}))
    train, test = data()
    results = {}
    for name, (arm, seeds, loss) in plan.items():
        per_seed = {}
        for seed in seeds:
            r = trial(arm, seed, train, test, loss=loss, desc=f"{name}, seed {seed}")
            if seed != seeds[0]:
                r.pop("activity")
            per_seed[str(seed)] = r
            print(name, seed, round(r["test_acc"], 4), round(r["ties"], 3), flush=True)
        results[name] = {"arm": dataclasses.asdict(arm), "loss": loss, "seeds": per_seed}
    record = {
        "protocol": dataclasses.asdict(SETUP) | {"n_train": N_TRAIN, "high": HIGH, "sweep": SWEEP},
        "n_test": len(test[1]),
        "arms": results,
    }
    records.write(args.out, record, run)


if __name__ == "__main__":
    main()
