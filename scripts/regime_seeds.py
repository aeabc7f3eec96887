"""Chapter 2's experiments over several seeds, written to ``results/``.

Two parts, each its own committed run (one file each, so that either can be
re-run alone):

* ``quantizer`` -> ``results/regime_seeds.json``: per seed, a network trained
  without spikes, its accuracy across ``dt``, and three fine-tuning arms from
  its weights (non-spiking control, annealed ``dt``, directly at the target
  ``dt``) plus training from scratch at the target ``dt`` for the same total
  budget;
* ``lif`` -> ``results/lif_controls.json``: the snnTorch LIF network with
  rate-coded or constant-current input and a spike-count or linear readout,
  each trained for the quantizer network's total budget.

Both also store a short ``prefix`` (a few optimizer steps of seed 0 on a slice
of the data) that ``tests/test_regimes.py`` re-runs and compares.

Run on a quiet machine (under ``/work/bin/heavy`` here)::

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python scripts/regime_seeds.py quantizer --seeds 0 1 2 3 4
    OMP_WAIT_POLICY=PASSIVE .venv/bin/python scripts/regime_seeds.py lif --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import torch
from torch import nn

import snnbook
from snnbook import records, regimes
from snnbook.training import evaluate

#: the LIF variants of the ``lif`` part: (input code, readout)
LIF_VARIANTS = (
    ("rate", "counts"),
    ("current", "counts"),
    ("rate", "linear"),
    ("current", "linear"),
)


def _by_dt(sweep: dict[float, dict[str, float]]) -> list[dict[str, float]]:
    return [{"dt": dt, **values} for dt, values in sweep.items()]


def quantizer_seed(data: regimes.Data, seed: int, setup: regimes.Setup) -> dict[str, Any]:
    """Every quantizer-network arm for one seed."""
    pre = regimes.pretrain(data, seed, setup)
    result: dict[str, Any] = {
        "pretrained": {
            "nonspiking": evaluate(pre, data.x_test, data.y_test),
            "by_dt": _by_dt(regimes.sweep(pre, data, setup.dts, n_stats=setup.n_stats)),
        }
    }
    for arm in regimes.ARMS:
        tuned = regimes.fine_tune(pre, arm, data, seed, setup)
        regimes.set_dt(tuned, math.inf)
        nonspiking = evaluate(tuned, data.x_test, data.y_test)
        result[arm] = {
            "nonspiking": nonspiking,
            "by_dt": _by_dt(regimes.sweep(tuned, data, setup.dts, n_stats=setup.n_stats)),
        }
    scratch = regimes.from_scratch(data, seed, setup)
    result["scratch"] = {
        "by_dt": _by_dt(regimes.sweep(scratch, data, setup.dts, n_stats=setup.n_stats))
    }
    return result


def lif_seed(data: regimes.Data, seed: int, setup: regimes.Setup) -> dict[str, Any]:
    """Every LIF variant for one seed."""
    out = {}
    for code, readout in LIF_VARIANTS:
        model = regimes.train_lif(data, seed, setup, input_code=code, readout=readout)
        out[f"{code}/{readout}"] = regimes.costs(model, data, n_stats=setup.n_stats, seed=seed)
    return out


def _loss(model: nn.Module, data: regimes.Data) -> float:
    model.eval()
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(0)
        return float(nn.functional.cross_entropy(model(data.x_test), data.y_test))


def prefix(part: str, data: regimes.Data, setup: regimes.Setup) -> dict[str, float]:
    """A few optimizer steps of seed 0 on a slice of the data: what the unit test re-runs.

    Five steps of each arm on the first 640 training images, then the loss on
    the first 500 test images.
    """
    small = regimes.Data(
        data.x_train[:640], data.y_train[:640], data.x_test[:500], data.y_test[:500]
    )
    if part == "quantizer":
        pre = regimes.pretrain(small, 0, setup, epochs=1)
        out = {"pretrain": _loss(pre, small)}
        for arm in regimes.ARMS:
            out[arm] = _loss(regimes.fine_tune(pre, arm, small, 0, setup, epochs=1), small)
        out["scratch"] = _loss(regimes.from_scratch(small, 0, setup, epochs=1), small)
        return out
    return {
        f"{code}/{readout}": _loss(
            regimes.train_lif(small, 0, setup, input_code=code, readout=readout, epochs=1), small
        )
        for code, readout in LIF_VARIANTS
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=("quantizer", "lif"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", default=None, help="result file (default results/<part>.json)")
    parser.add_argument(
        "--trial", action="store_true", help="allow a busy machine (not for commit)"
    )
    args = parser.parse_args(argv)
    run = records.start(args.seeds, max_load=None if args.trial else 2.0)
    snnbook.seed_everything(0, threads=2)
    setup = regimes.Setup()
    data = regimes.load_data(setup)
    one_seed = quantizer_seed if args.part == "quantizer" else lif_seed
    results = {
        "setup": setup.as_dict(),
        "n_test": len(data.y_test),
        "prefix": prefix(args.part, data, setup),
        "seeds": {str(seed): one_seed(data, seed, setup) for seed in args.seeds},
    }
    name = "regime_seeds" if args.part == "quantizer" else "lif_controls"
    records.write(args.out or records.RESULTS / f"{name}.json", results, run)


if __name__ == "__main__":
    main()
