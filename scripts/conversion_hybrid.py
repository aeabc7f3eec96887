"""Chapter 8's committed run: conversion, hybrid STDB / piecewise-linear, and from scratch.

For each seed, :func:`snnbook.hybrid.run_seed` trains the VGG-like ANN, converts it (maximum,
maximum x 0.7 and 99.9th-percentile thresholds, Poisson input), fine-tunes the x 0.7 conversion
with STDB and with the piecewise-linear surrogate at the short ``T`` of ``SETUP``, and trains the
same architecture from scratch for the whole wall-clock time the hybrid cost (ANN training,
threshold balancing, fine-tuning), on the same images. Then :func:`snnbook.hybrid.run_long`
compares STDB and the piecewise-linear surrogate at ``T = 100`` (``LONG``), where STDB's factor
``exp(-beta * dt)`` actually varies, starting from the same ANN. Everything goes to
``results/conversion_hybrid.json`` with its provenance; chapter 8 reads it.

Run once from the repository root, on an otherwise idle machine::

    /work/bin/heavy .venv/bin/python scripts/conversion_hybrid.py

``--trial`` runs without the load check and writes nowhere unless ``--out`` is given (for sizing
the experiment). ``tests/test_hybrid.py::test_committed_run_prefix_reproduces`` re-runs the first optimizer steps of seed 0
(ANN and from-scratch network) and compares the losses stored here.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import snnbook
from snnbook import hybrid, records

#: The short-T experiment: Poisson input, T = 6, six spiking layers. Sized to fit the
#: 12-minute budget of a committed run on a 2-core CPU (three seeds): against the library's
#: defaults, the ANN trains 10 epochs (not 15), fine-tuning runs 1 epoch (not 2), accuracy is
#: read on the first 5,000 test images (not 10,000) and the accuracy-vs-T sweeps use 500 test
#: images up to T = 32 (not 2,000 up to 64).
SETUP = hybrid.Setup(
    ann_epochs=10, finetune_epochs=1, n_test=5_000, sweep_images=500, sweep_steps=32,
)  # fmt: skip
#: The long-T check of STDB's timing dependence: T = 100, one epoch on 1,000 training images,
#: scored on 1,000 test images (all the budget allows: a small check, not a full experiment).
LONG = dataclasses.replace(
    SETUP, num_steps=100, n_train=1_000, n_test=1_000, finetune_epochs=1, calibration_steps=100,
    tune_images=500, arms=("stdb", "linear"),
)  # fmt: skip
SEEDS = (0, 1, 2)
OUT = records.RESULTS / "conversion_hybrid.json"


def run(seeds: tuple[int, ...], setup: hybrid.Setup, long: hybrid.Setup | None) -> dict:
    """All seeds of both experiments; returns the results (without provenance)."""
    data = hybrid.load_data(setup)
    runs = []
    for seed in seeds:
        start = time.perf_counter()
        snnbook.seed_everything(seed)
        result = hybrid.run_seed(setup, seed, data)
        ann = result.pop("networks")["ann"]
        if long is not None:
            result["long"] = hybrid.run_long(ann, long, seed, data)
        result["wall_seconds"] = time.perf_counter() - start
        print(f"seed {seed} done in {result['wall_seconds']:.0f} s", flush=True)
        runs.append(result)
    return {
        "setup": hybrid.setup_dict(setup),
        "long_setup": None if long is None else hybrid.setup_dict(long),
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--trial", action="store_true", help="no load check; write only to --out")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--no-long", action="store_true", help="skip the T = 100 experiment")
    parser.add_argument("--set", nargs="*", default=[], help="trial overrides, e.g. n_train=5000")
    args = parser.parse_args(argv)
    overrides = {}
    for item in args.set:
        key, value = item.split("=", 1)
        overrides[key] = type(getattr(SETUP, key))(value)
    if overrides and not args.trial:
        parser.error("--set is for trial runs only; committed runs use SETUP")
    setup = dataclasses.replace(SETUP, **overrides)
    run_record = records.start(args.seeds, max_load=None if args.trial else 2.0)
    snnbook.seed_everything(args.seeds[0])
    results = run(tuple(args.seeds), setup, None if args.no_long else LONG)
    out = args.out if args.trial else (args.out or OUT)
    if out is not None:
        records.write(out, results, run_record)


if __name__ == "__main__":
    main()
