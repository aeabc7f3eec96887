"""Chapter 9's committed run: every method of the book, priced with one stick.

For each seed, every Fashion-MNIST method of chapters 2-8 is trained at its chapter's *live*
setting (the one its notebook re-runs; the committed runs of chapters 4, 7 and 8 train longer,
on more images, and would not fit this run's 12-minute budget for three seeds of every row), then
run once over the same 10 000 test images with :func:`snnbook.comparison.measure`, which gives its
accuracy, its operations per image (dense connections, ACs, MACs) and the spikes its neurons
emit. The rows:

* ``ann_mlp``: chapter 2's :class:`~snnbook.regimes.QuantizedMLP` at ``dt = inf`` (784-256-256-10
  ReLU MLP), 10 epochs on 15 000 images (:func:`snnbook.regimes.pretrain`);
* ``quant_dt4`` / ``quant_dt025``: that ANN fine-tuned with spikes while ``dt`` anneals 16 -> 0.25
  (chapter 2's ``"anneal"`` arm, 2 epochs), then run at ``dt = 4`` (multi-bit) and ``dt = 0.25``
  (binary spikes), T = 8; the hidden inputs are counted with ``spike_value = 1 / dt``;
* ``lif_rate``: chapter 3's :class:`~snnbook.lif.RateLIFNet` (784-256-10, T = 25, beta 0.9,
  snnTorch's default arctan surrogate), 2 epochs on 20 000 images, lr 2e-3;
* ``binary``: chapter 4's binarized :class:`~snnbook.binary.BinaryConvSNN` (T = 6) with the output
  threshold annealed 1 -> 64 (alpha = 0.01), 300 Adam steps on 6 400 images
  (:func:`snnbook.fine_line.train_conv`);
* ``single_spike``: chapter 7's single-spike network (784-400-10, latency code, T = 100), 2 epochs
  on 6 000 images (:func:`snnbook.single_spike_runs.train_arm`);
* ``ann_conv`` / ``converted`` / ``hybrid``: chapter 8's VGG-like ANN (its committed setting: 10
  epochs on 20 000 images), converted at T = 6 with Poisson input and the threshold factor tuned
  on held-out training images, and that conversion fine-tuned for 1 epoch with the piecewise-linear
  surrogate (chapter 8's hybrid at T = 6; STDB fails there, as chapter 8 shows);
* ``lmu_*``: chapter 6's hybrid-spiking LMU on psFashion-MNIST (another task), *not re-run*:
  :func:`snnbook.comparison.lmu_rows` loads its accuracies and spikes from
  ``results/hybrid_lmu.json`` and counts its operations by hand on chapter 6's task (the 14 x 14
  pooled test images, 196 steps). The copy stored in the committed file was counted at 784 steps
  (28 x 28) before that was fixed, and goes stale when chapter 6's run is re-recorded, so chapter 9
  rebuilds these rows when it runs (:func:`snnbook.comparison.with_live_lmu`).

Three sweeps on the first 2 000 test images show one knob per method: the LIF network's ``T``,
the hybrid's ``T`` and the quantized network's ``dt``. A ``prefix`` (five optimizer steps of the
ANN, seed 0, measured on 200 test images) is what ``tests/test_method_costs.py`` re-runs.

Run once from the repository root, on an otherwise idle machine::

    /work/bin/heavy .venv/bin/python scripts/method_costs.py
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import time
from pathlib import Path
from typing import Any

import torch

import snnbook
from snnbook import comparison, conversion, fine_line, hybrid, lif, records, regimes
from snnbook.data import load_fashion_mnist
from snnbook.quantizers import recorded_counts, set_dt
from snnbook.single_spike_runs import train_arm
from snnbook.training import fit

OUT = records.RESULTS / "method_costs.json"
SWEEP_IMAGES = 2_000
#: chapter 4's live arm (its notebook's "annealed" network)
BINARY_ARM = fine_line.ConvArm(
    thresholds=(1.0, 1.0, 1.0), targets=(None, None, 64.0), alphas=(None, None, 3 / 300)
)
ROWS: dict[str, dict[str, Any]] = {
    "ann_mlp": {
        "label": "ANN (MLP)",
        "chapter": 2,
        "steps": 1,
        "input": "pixels",
        "recipe": "784-256-256-10 ReLU, 10 epochs on 15 000 images",
    },
    "quant_dt4": {
        "label": "quantized, dt = 4",
        "chapter": 2,
        "steps": 8,
        "input": "current",
        "recipe": "the ANN + 2 epochs spiking, dt annealed 16 -> 0.25; run at dt = 4",
    },
    "quant_dt025": {
        "label": "quantized, dt = 0.25",
        "chapter": 2,
        "steps": 8,
        "input": "current",
        "recipe": "the same network run at dt = 0.25 (binary spikes)",
    },
    "lif_rate": {
        "label": "rate-coded LIF",
        "chapter": 3,
        "steps": 25,
        "input": "rate code",
        "recipe": "784-256-10 LIF, arctan surrogate, 2 epochs on 20 000 images",
    },
    "binary": {
        "label": "binarized + annealed",
        "chapter": 4,
        "steps": 6,
        "input": "current",
        "recipe": "binary-weight conv SNN, output threshold 1 -> 64, 300 steps on 6 400",
    },
    "single_spike": {
        "label": "single-spike",
        "chapter": 7,
        "steps": 100,
        "input": "latency code",
        "recipe": "784-400-10, at most one spike per neuron, 2 epochs on 6 000",
    },
    "ann_conv": {
        "label": "ANN (convnet)",
        "chapter": 8,
        "steps": 1,
        "input": "pixels",
        "recipe": "VGG-like, 6 conv/pool + 2 linear, 10 epochs on 20 000 images",
    },
    "converted": {
        "label": "converted",
        "chapter": 8,
        "steps": 6,
        "input": "Poisson",
        "recipe": "the convnet's IF copy, thresholds balanced, factor tuned",
    },
    "hybrid": {
        "label": "hybrid fine-tuned",
        "chapter": 8,
        "steps": 6,
        "input": "Poisson",
        "recipe": "the conversion + 1 epoch, piecewise-linear surrogate",
    },
}


# ------------------------------------------------------------------ how each row is run
def run_quantized(model: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    scores = model(x)
    return scores, sum(c.sum() for c in recorded_counts(model))


def run_lif(model: lif.RateLIFNet, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    rec = model.run(x)
    return rec["spk2"].sum(0), rec["spk1"].sum() + rec["spk2"].sum()


def run_binary(model: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    rec = model.run(x)
    return rec["spk3"].sum(0), rec["spk1"].sum() + rec["spk2"].sum() + rec["spk3"].sum()


def run_single(model: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    scores = model(x)
    return scores, model.last_hidden_spikes.sum()


def run_snn(model: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    scores = model(x)
    return scores, model.spikes_per_image * len(x)


def dense_single_spike(model: torch.nn.Module) -> torch.nn.Module:
    """A copy that multiplies densely, so that the hooks see its input layer (same numbers)."""
    model = copy.deepcopy(model)
    model.encoder.sparse = False
    model.hidden.sparse_input = False
    return model


def _seconds(start: float) -> float:
    return time.perf_counter() - start


# ------------------------------------------------------------------ one seed
def mlp_rows(seed: int, data: regimes.Data, test: tuple, sweep: tuple) -> tuple[dict, dict]:
    setup = regimes.Setup()
    snnbook.seed_everything(seed)
    start = time.perf_counter()
    ann = regimes.pretrain(data, seed, setup)
    ann_seconds = _seconds(start)
    rows = {"ann_mlp": comparison.measure(ann, *test, seed=seed) | {"train_seconds": ann_seconds}}
    start = time.perf_counter()
    tuned = regimes.fine_tune(ann, "anneal", data, seed, setup)
    tune_seconds = _seconds(start)
    for key, dt in (("quant_dt4", 4.0), ("quant_dt025", 0.25)):
        set_dt(tuned, dt)
        rows[key] = comparison.measure(tuned, *test, run=run_quantized, seed=seed,
                                       spike_value=1 / dt)  # fmt: skip
        rows[key]["train_seconds"] = ann_seconds + tune_seconds
    sweep_out = _sweep(tuned, sweep, [16.0, 4.0, 1.0, 0.25, 0.0625], seed, knob="dt")
    return rows, sweep_out


def lif_row(seed: int, train: tuple, test: tuple, sweep: tuple) -> tuple[dict, dict]:
    snnbook.seed_everything(seed)
    torch.manual_seed(seed)
    model = lif.RateLIFNet(256, num_steps=25, beta=0.9)
    history = fit(model, *train, epochs=2, batch_size=128, lr=2e-3, seed=seed, desc="LIF")
    row = comparison.measure(model, *test, run=run_lif, seed=seed)
    row["train_seconds"] = sum(history.seconds)
    return row, _sweep(model, sweep, [5, 10, 25, 50, 100], seed, knob="T", run=run_lif)


def binary_row(seed: int, train: tuple, test: tuple) -> dict:
    snnbook.seed_everything(seed)
    start = time.perf_counter()
    net = fine_line.train_conv(BINARY_ARM, seed, train, desc="binary")["net"]
    seconds = _seconds(start)
    return comparison.measure(net, *test, run=run_binary, seed=seed) | {"train_seconds": seconds}


def single_spike_row(seed: int, train: tuple, test: tuple) -> dict:
    snnbook.seed_everything(seed)
    out = train_arm("single-spike", seed, (*train, *test))
    model = dense_single_spike(out["model"])
    row = comparison.measure(model, *test, run=run_single, seed=seed)
    row["train_seconds"] = sum(out["epoch_seconds"])
    row["accuracy_train_arm"] = out["test_accuracy"]
    return row


def conv_rows(seed: int, setup: hybrid.Setup, data: dict, sweep: tuple) -> tuple[dict, dict]:
    x, y = data["x_train"], data["y_train"]
    test = (data["x_test"], data["y_test"])
    snnbook.seed_everything(seed)
    ann = hybrid.make_ann(setup, seed)
    log = hybrid.train(ann, x, y, lr=setup.ann_lr, batch_size=setup.batch_size,
                       epochs=setup.ann_epochs, seed=seed, desc="ANN (convnet)")  # fmt: skip
    rows = {"ann_conv": comparison.measure(ann, *test, seed=seed) | {"train_seconds": log.seconds}}
    converted, conv_seconds = hybrid.convert_seeded(ann, x[: setup.calibration_images], setup, seed)
    start = time.perf_counter()
    factor, _ = hybrid.tune_scale(converted, x[-setup.tune_images :], y[-setup.tune_images :],
                                  setup.scales, seed=seed)  # fmt: skip
    conv_seconds += _seconds(start)
    tuned = conversion.rescaled(converted, factor)
    rows["converted"] = comparison.measure(tuned, *test, run=run_snn, seed=seed)
    rows["converted"] |= {"train_seconds": log.seconds + conv_seconds, "factor": factor}
    snn = copy.deepcopy(tuned)
    snn.set_surrogate("linear")
    fine = hybrid.train(snn, x, y, lr=setup.finetune_lr, batch_size=setup.batch_size,
                        epochs=setup.finetune_epochs, seed=seed, desc="hybrid")  # fmt: skip
    rows["hybrid"] = comparison.measure(snn, *test, run=run_snn, seed=seed)
    rows["hybrid"]["train_seconds"] = log.seconds + conv_seconds + fine.seconds
    return rows, _sweep(snn, sweep, [2, 4, 6, 12, 24], seed, knob="T", run=run_snn)


def _sweep(model, sweep: tuple, values: list, seed: int, *, knob: str, run=None) -> dict:
    """Accuracy, ACs and MACs per image at each value of the model's time knob."""
    out: dict[str, list[float]] = {"accuracy": [], "acs": [], "macs": []}
    own = model.num_steps if knob == "T" else model.act1.dt
    for value in values:
        spike_value = 1.0
        if knob == "T":
            model.num_steps = value
        else:
            set_dt(model, value)
            spike_value = 1 / value
        m = comparison.measure(model, *sweep, run=run or run_quantized, seed=seed,
                               spike_value=spike_value)  # fmt: skip
        for key in out:
            out[key].append(m[key])
    if knob == "T":
        model.num_steps = own
    else:
        set_dt(model, own)
    return out


# ------------------------------------------------------------------ the prefix a test re-runs
def prefix(data: regimes.Data, test: tuple) -> dict[str, float]:
    """Five optimizer steps of the ANN row (seed 0, 640 training images), on 200 test images."""
    small = regimes.Data(data.x_train[:640], data.y_train[:640], test[0][:200], test[1][:200])
    snnbook.seed_everything(0)
    ann = regimes.pretrain(small, 0, regimes.Setup(), epochs=1)
    m = comparison.measure(ann, small.x_test, small.y_test, seed=0)
    return {"accuracy": m["accuracy"], "macs": m["macs"], "dense": m["dense"]}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--trial", action="store_true", help="no load check; write only to --out")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    run = records.start(args.seeds, max_load=None if args.trial else 2.0)
    snnbook.seed_everything(0)
    x_test, y_test = load_fashion_mnist("test")
    test, sweep = (x_test, y_test), (x_test[:SWEEP_IMAGES], y_test[:SWEEP_IMAGES])
    mlp_data = regimes.load_data(regimes.Setup())
    lif_train = load_fashion_mnist("train", n=20_000)
    binary_train = load_fashion_mnist("train", n=6_400)
    single_train = load_fashion_mnist("train", n=6_000, seed=0)
    conv_setup = dataclasses.replace(
        hybrid.setup_from(records.load("conversion_hybrid")), n_test=len(y_test)
    )
    conv_data = hybrid.load_data(conv_setup)
    seeds: dict[str, dict[str, dict]] = {key: {} for key in ROWS}
    sweeps: dict[str, dict[str, dict]] = {"quantized": {}, "lif": {}, "hybrid": {}}
    for seed in args.seeds:
        start = time.perf_counter()
        rows, sweeps["quantized"][str(seed)] = mlp_rows(seed, mlp_data, test, sweep)
        rows["lif_rate"], sweeps["lif"][str(seed)] = lif_row(seed, lif_train, test, sweep)
        rows["binary"] = binary_row(seed, binary_train, test)
        rows["single_spike"] = single_spike_row(seed, single_train, test)
        conv, sweeps["hybrid"][str(seed)] = conv_rows(seed, conv_setup, conv_data, sweep)
        rows |= conv
        for key, row in rows.items():
            seeds[key][str(seed)] = row
        summary = ", ".join(f"{k} {r['accuracy']:.3f}" for k, r in rows.items())
        print(f"seed {seed} ({_seconds(start):.0f} s): {summary}", flush=True)
    lmu = comparison.lmu_rows(x_test)  # chapter 6's task: the 14 x 14 pooled images, 196 steps
    results = {
        "n_test": len(y_test),
        "rows": {
            key: {
                **meta,
                "task": "Fashion-MNIST",
                "n_test": len(y_test),
                "seeds": seeds[key],
            }
            for key, meta in ROWS.items()
        }
        | lmu["rows"],  # fmt: skip
        "sweeps": {
            "quantized": {
                "label": "quantized (ch. 2)",
                "knob": "dt",
                "trained": 0.25,
                "values": [16.0, 4.0, 1.0, 0.25, 0.0625],
                "seeds": sweeps["quantized"],
            },
            "lif": {
                "label": "rate-coded LIF (ch. 3)",
                "knob": "T",
                "trained": 25,
                "values": [5, 10, 25, 50, 100],
                "seeds": sweeps["lif"],
            },
            "hybrid": {
                "label": "hybrid fine-tuned (ch. 8)",
                "knob": "T",
                "trained": 6,
                "values": [2, 4, 6, 12, 24],
                "seeds": sweeps["hybrid"],
            },
        },  # fmt: skip
        "sweep_images": SWEEP_IMAGES,
        "lmu": {k: v for k, v in lmu.items() if k != "rows"},
        "conv_setup": hybrid.setup_dict(conv_setup),
        "prefix": prefix(mlp_data, test),
    }
    out = args.out if args.trial else (args.out or OUT)
    if out is not None:
        records.write(out, results, run)
    return results


if __name__ == "__main__":
    main()
