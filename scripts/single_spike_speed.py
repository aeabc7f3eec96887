"""Speed of the single-spike layer: parallel (chunked scan) vs loops, forward + backward.

Times the neuron dynamics of one layer (currents given, shape (T, batch, neurons)) for
three exact simulations:

* ``parallel``: :func:`snnbook.single_spike.first_spike_lif` (no loop over time);
* ``loop``: :func:`snnbook.single_spike.first_spike_lif_loop` (the step-by-step reference);
* ``leaky``: :func:`snnbook.single_spike.multi_spike_lif_loop`, a multi-spike
  :class:`snntorch.Leaky` looped over time (the usual baseline).

Each entry is the best of ``--repeats`` runs of forward + backward. Before timing, the
parallel and loop spikes are checked to be identical. Results, with provenance (command,
seed, versions, date, wall time, CPU load), go to ``results/single_spike_speed.json``.

Run from the repository root::

    python scripts/single_spike_speed.py            # the full sweep (a few minutes)
    python scripts/single_spike_speed.py --steps 25 100 --widths 16x100 --repeats 1

On a busy machine pass ``--threads 1``: with two threads the large operations of the
parallel layer stall whenever another process takes a core, which distorts the comparison
(the committed results were taken that way, on a shared machine; see ``load_average``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import snntorch
import torch

import snnbook
from snnbook.single_spike import speed_sweep

DEFAULT_STEPS = (25, 50, 100, 200, 400, 1024)
DEFAULT_WIDTHS = ("16x100", "64x200", "128x200")
OUT = Path(__file__).resolve().parents[1] / "results" / "single_spike_speed.json"


def parse_width(text):
    batch, neurons = (int(v) for v in text.lower().split("x"))
    return batch, neurons


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=list(DEFAULT_STEPS))
    parser.add_argument("--widths", nargs="+", default=list(DEFAULT_WIDTHS), help="BATCHxNEURONS")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    snnbook.seed_everything(args.seed, threads=args.threads)
    start = time.perf_counter()
    load_before = os.getloadavg()
    rows = speed_sweep(
        args.steps, [parse_width(w) for w in args.widths], repeats=args.repeats, seed=args.seed
    )
    for row in rows:
        print(
            f"{row['batch']:4d} x {row['neurons']:4d}  T={row['T']:5d}  "
            f"parallel {row['parallel_ms']:8.1f} ms  loop {row['loop_ms']:8.1f} ms  "
            f"leaky {row['leaky_ms']:8.1f} ms  speedup {row['speedup_vs_loop']:5.2f}x (loop) "
            f"{row['speedup_vs_leaky']:5.2f}x (leaky)"
        )
    record = {
        "command": " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv]),
        "seed": args.seed,
        "threads": args.threads,
        "repeats": args.repeats,
        "date_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "wall_seconds": round(time.perf_counter() - start, 2),
        "load_average_before_after": [load_before, os.getloadavg()],
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "snntorch": snntorch.__version__,
            "numpy": np.__version__,
            "snnbook": snnbook.__version__,
        },
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count()},
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.out} ({record['wall_seconds']} s)")
    return record


if __name__ == "__main__":
    main()
