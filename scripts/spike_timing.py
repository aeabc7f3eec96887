"""Chapter 4: the spike-timing toy of Eshraghian & Lu, four settings, several seeds, 1000 iterations.

Each setting of :data:`snnbook.fine_line.TOY_ARMS` (the four of the authors'
``temporal/bounded_homeostasis.ipynb``: full precision at threshold 1 with beta 0.6;
binarized at threshold 1, at 50, and annealed 5 -> 50 with alpha 5e-3, beta 0.15;
trainable biases; loss on the raw membrane toward a ramp peaking at 1.05 or 55 at
step 75; SGD lr 1e-3, momentum 0.9) is trained for the paper's 1000 iterations from
each seed. The seed draws the input (per-step firing probabilities uniform in [0, 1])
and the initial weights; all settings of one seed share them.

Run from the repository root on a quiet machine (about 2.5 minutes on 2 cores)::

    /work/bin/heavy .venv/bin/python scripts/spike_timing.py

It writes ``results/spike_timing.json``: per setting and seed the relative loss
(mean of the last 50 losses over the mean squared target), the output spike times,
hidden activity and the loss curve every 10 iterations; the snapshots of seed 0.
Chapter 4 loads it and re-runs seed 0. ``tests/test_fine_line.py`` re-runs the first
iterations of seed 0 and compares the losses.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import snnbook
from snnbook import records
from snnbook.fine_line import TOY_ARMS, run_toy_arm

SEEDS = (0, 1, 2, 3, 4)
ITERATIONS = 1000
SNAPSHOTS = (0, 100, 400, 999)


def trial(name: str, seed: int, iterations: int = ITERATIONS) -> dict:
    """One setting from one seed."""
    snnbook.seed_everything(seed)
    return run_toy_arm(
        TOY_ARMS[name],
        seed,
        iterations=iterations,
        snapshots=tuple(s for s in SNAPSHOTS if s < iterations),
        desc=f"{name}, seed {seed}",
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=records.RESULTS / "spike_timing.json")
    args = parser.parse_args(argv)
    run = records.start(SEEDS)
    settings = {}
    for name in TOY_ARMS:
        per_seed = {}
        for seed in SEEDS:
            r = trial(name, seed)
            per_seed[str(seed)] = {
                "relative_loss": r["relative_loss"],
                "spikes": r["spikes"],
                "hidden_rate": r["hidden_rate"],
                "hidden_silent": r["hidden_silent"],
                "threshold": r["threshold"],
                "first_losses": r["losses"][:3],
                "losses_every_10": r["losses"][::10],
                "snapshots": r["snapshots"] if seed == SEEDS[0] else None,
            }
            print(name, seed, round(r["relative_loss"], 4), r["spikes"][:8], flush=True)
        settings[name] = {
            "arm": TOY_ARMS[name].__dict__,
            "target": r["target"],
            "seeds": per_seed,
        }
    results = {
        "protocol": {
            "iterations": ITERATIONS,
            "optimizer": "SGD lr 1e-3 momentum 0.9",
            "network": "100 -> 1000 LIF -> 1 LIF, fully connected, trainable biases, "
            "fast_sigmoid(slope=5)",
            "snapshots": list(SNAPSHOTS),
        },
        "settings": settings,
    }
    records.write(args.out, results, run)


if __name__ == "__main__":
    main()
