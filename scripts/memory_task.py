"""A task that needs a memory: recall a band-limited stream at four delays, at every step.

Chapter 5. The stream ``u_t`` is white noise band-limited to ``CUTOFF`` cycles per step (unit
variance); at every step a model must output ``u_{t-k}`` for the delays ``k`` in ``DELAYS``, up to
the window ``THETA``. Errors are normalised RMS errors on a 10 000-step test stream (steps after the
first ``THETA``), one per delay. Every model carries ``ORDER`` numbers from step to step, except the
larger recurrent networks, which carry more:

* ``LMU``: the Legendre memory (order ``ORDER``, window ``THETA``) and a least-squares readout;
* ``random``: a random linear memory of the same size (random orthogonal matrix times a radius,
  random input vector) and a least-squares readout; the radius is chosen among ``RADII`` on a
  validation stream, separately for every seed;
* ``RECURRENT``: GRUs and an LSTM trained by back-propagation through time on fresh streams
  (``snnbook.memory_task.train_recurrent``: Adam 3e-3 with cosine decay, clipping 1.0,
  ``STEPS`` steps of 32 streams of 400 steps).

Seeds change the streams, the random memory and the initial weights. Run from the repository root::

    /work/bin/heavy .venv/bin/python scripts/memory_task.py

It writes ``results/memory_task.json`` (:mod:`snnbook.records` provenance).
``tests/test_memory_task.py`` recomputes the fixed memories of the first seed and re-runs the first
three optimizer steps of every recurrent network against the stored numbers.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

import snnbook
from snnbook import lmu, records
from snnbook import memory_task as mt

THETA, ORDER, CUTOFF = 100, 12, 1 / 25
DELAYS = [25, 50, 75, 100]
RADII = [0.9, 0.95, 0.97, 0.99, 0.995]
TRAIN_STEPS, TEST_STEPS = 20_000, 10_000
STEPS = 1000  # 2000 in the pilot; halved to fit 3 seeds into the 12-minute budget of a run
#: name -> (kind, hidden units)
RECURRENT = {"GRU-12": ("gru", 12), "GRU-48": ("gru", 48), "LSTM-48": ("lstm", 48)}


def fixed_memories(seed: int) -> dict[str, list[float]]:
    """Test errors of the LMU memory and of the best random memory for one seed."""
    s = mt.streams(seed, CUTOFF, train=TRAIN_STEPS, test=TEST_STEPS)
    random = {r: mt.random_memory(ORDER, r, seed=seed) for r in RADII}
    best = min(
        RADII,
        key=lambda r: float(
            mt.readout_errors(random[r], s, DELAYS, THETA, split="validation").mean()
        ),
    )
    return {
        "LMU": mt.readout_errors(mt.legendre_memory(ORDER, THETA), s, DELAYS, THETA).tolist(),
        "random": mt.readout_errors(random[best], s, DELAYS, THETA).tolist(),
        "random_radius": [best],
    }


def train_model(name: str, seed: int, stop_after: int | None = None) -> dict:
    """Train one recurrent network for one seed; evaluate it on the seed's test stream.
    ``stop_after`` ends training early (for the re-run test)."""
    kind, hidden = RECURRENT[name]
    snnbook.seed_everything(seed)
    model = mt.RecurrentDelay(kind, hidden, len(DELAYS))
    start = time.perf_counter()
    log = mt.train_recurrent(
        model, DELAYS, CUTOFF, steps=STEPS, seed=seed, record_every=50, stop_after=stop_after
    )
    if stop_after is not None:
        return log
    log["seconds"] = time.perf_counter() - start
    test = mt.streams(seed, CUTOFF, train=TRAIN_STEPS, test=TEST_STEPS)["test"]  # as fixed_memories
    with torch.no_grad():
        log["errors"] = mt.nrmse(model(test)[THETA:], mt.delayed(test, DELAYS)[THETA:]).tolist()
    log["parameters"] = lmu.count_parameters(model)
    return log


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=records.RESULTS / "memory_task.json")
    args = parser.parse_args(argv)
    run = records.start(args.seeds)
    torch.set_num_threads(2)
    fixed: dict[str, dict[str, list[float]]] = {"LMU": {}, "random": {}, "random_radius": {}}
    recurrent: dict[str, dict[str, dict]] = {name: {} for name in RECURRENT}
    for seed in args.seeds:
        for key, value in fixed_memories(seed).items():
            fixed[key][str(seed)] = value
        for name in RECURRENT:
            recurrent[name][str(seed)] = log = train_model(name, seed)
            print(f"{name} seed {seed}: {[round(e, 3) for e in log['errors']]}, "
                  f"{log['seconds']:.0f} s", flush=True)  # fmt: skip
    settings = {
        "theta": THETA, "order": ORDER, "cutoff": CUTOFF, "delays": DELAYS, "radii": RADII,
        "train_steps": TRAIN_STEPS, "test_steps": TEST_STEPS, "steps": STEPS,
        "recurrent": {k: list(v) for k, v in RECURRENT.items()},
    }  # fmt: skip
    results = {"fixed": fixed, "recurrent": recurrent}
    records.write(args.out, {"settings": settings, "results": results}, run)


if __name__ == "__main__":
    main()
