"""Hybrid-spiking LMU: does interpolating dt during training beat the simpler alternatives?

Chapter 6. The model is ``snnbook.hybrid_lmu.HybridLMU``: memory order 64, theta = 196 steps,
96 recurrent hidden ReLU neurons that spike at every one of the 196 steps when ``dt`` is finite,
readout from the mean activity of the last ``WINDOW`` steps (16 523 parameters, like the ~16 000 of
the chapter-5 baselines). Data: the task and split of ``scripts/lmu_baselines.py`` (14 x 14
permuted Fashion-MNIST, 5 000 validation / 10 000 test), training on the first ``N_TRAIN`` (10 000) of its
55 000 training images (to fit 3 seeds into a 12-minute run: the hidden layer runs step by step).

For every seed:

1. **pretrain** the non-spiking network (``dt = inf``) for ``PRETRAIN`` epochs (Adam, learning
   rate ``LR``, cosine decay);
2. from those weights, ``FINETUNE`` more epochs (Adam ``FT_LR``, cosine decay) in five arms:

   * ``non-spiking``: the same extra epochs without spikes; its spikes are then *switched on*
     at test time without training (the control for every other arm);
   * ``target dt``: spiking-aware training (spikes forward, straight-through backward) at
     ``DT_TARGET`` from the first step;
   * ``interpolated dt``: the same, with ``dt`` falling geometrically from ``DT_START`` to
     ``DT_TARGET`` over the first 70% of the steps, then constant (the paper's interpolation from
     the non-spiking to the spiking regime);
   * ``target dt 3`` and ``interpolated dt 3``: the same two at the second target ``DT_TARGET_2``
     (about 4 bits per activity, the paper's budget), interpolated from ``DT_START_2`` (the same
     ratio of start to target, about 33);

3. evaluate every arm with spikes at each ``dt`` of ``EVAL_DTS`` on the 10 000 test images: accuracy,
   hidden spikes per image, bits per activity, significant bits per multiply. With a ReLU, ``dt``
   is a weight scale, so the arms are compared at matched spikes per image (interpolated along
   these curves, in chapter 6), and at the dt they were trained for.

Every training step clips the gradient norm to ``CLIP`` (the recurrent ReLU was unstable without
it in one seed of an earlier run).

Run from the repository root on an idle machine::

    /work/bin/heavy .venv/bin/python scripts/hybrid_lmu.py

It writes ``results/hybrid_lmu.json`` (:mod:`snnbook.records` provenance) and the trained weights
of the first seed's arms to ``results/hybrid_lmu_weights.pt`` (chapter 6 evaluates them
live). ``tests/test_hybrid_lmu.py`` re-runs the first optimizer steps of seed 0 (non-spiking and spiking) against ``check_losses``.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import math
import time
from pathlib import Path

import torch
from torch import nn

import snnbook
from snnbook import hybrid_lmu, lmu, records, training

HIDDEN, ORDER, THETA, WINDOW = 96, 64, 196.0, 4
BATCH, N_TRAIN = 100, 10_000  # 20 000 in the pilot; halved for 3 seeds in 12 minutes
PRETRAIN, LR = 6, 3e-3
FINETUNE, FT_LR = 3, 3e-4
CLIP = 1.0  # gradient norm, as in scripts/lmu_baselines.py
DT_TARGET, DT_START = 0.3, 10.0
DT_TARGET_2, DT_START_2 = 3.0, 100.0  # ~4 bits per activity, near the paper's 3.74
EVAL_DTS = [0.1, 0.3, 1.0, 3.0, 10.0]
ARMS = ("non-spiking", "target dt", "interpolated dt", "target dt 3", "interpolated dt 3")


def _baselines():
    """The data split of scripts/lmu_baselines.py (one definition of the task)."""
    path = Path(__file__).with_name("lmu_baselines.py")
    spec = importlib.util.spec_from_file_location("lmu_baselines", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(seed: int) -> hybrid_lmu.HybridLMU:
    snnbook.seed_everything(seed)
    perm = lmu.fixed_permutation(int(THETA), 0)
    return hybrid_lmu.HybridLMU(HIDDEN, ORDER, THETA, permutation=perm, window=WINDOW, seed=seed)


def train(
    model: hybrid_lmu.HybridLMU,
    x: torch.Tensor,
    y: torch.Tensor,
    epochs: int,
    lr: float,
    seed: int,
    *,
    dt_schedule=None,
    max_steps: int | None = None,
) -> dict:
    """Adam with a cosine decay; ``dt_schedule(step)`` sets ``model.dt`` before each step."""
    steps = epochs * math.ceil(len(y) / BATCH)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    generator = torch.Generator().manual_seed(seed)
    out = {"losses": [], "train_loss": [], "seconds": []}
    step = 0
    for _ in range(epochs):
        start, total = time.perf_counter(), 0.0
        for xb, yb in training.batches(x, y, BATCH, shuffle=True, generator=generator):
            if dt_schedule is not None:
                model.dt = dt_schedule(step)
            loss = nn.functional.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), CLIP)
            optimizer.step()
            schedule.step()
            step += 1
            total += loss.item() * len(yb)
            if step <= 3:
                out["losses"].append(loss.item())
            if max_steps is not None and step >= max_steps:
                return out
        out["train_loss"].append(total / len(y))
        out["seconds"].append(time.perf_counter() - start)
    return out


def training_split(splits: dict) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = splits["train"]
    return x[:N_TRAIN], y[:N_TRAIN]


def check_losses(splits: dict, seed: int, steps: int = 3) -> dict:
    """The first optimizer steps from the seed's initial weights, non-spiking and spiking."""
    out = {}
    for name, dt in (("non-spiking", math.inf), ("spiking", DT_TARGET)):
        model = build(seed)
        model.dt = dt
        out[name] = train(model, *training_split(splits), 1, LR, seed, max_steps=steps)["losses"]
    return out


def run_seed(seed: int, splits: dict, weights: dict | None = None) -> dict:
    """Pretrain and fine-tune one seed; the final weights of every arm go into ``weights``."""
    weights = {} if weights is None else weights
    x, y = training_split(splits)
    model = build(seed)
    result = {"pretrain": train(model, x, y, PRETRAIN, LR, seed)}
    result["pretrain"]["validation_accuracy"] = training.evaluate(model, *splits["validation"])
    pretrained = copy.deepcopy(model.state_dict())
    steps = FINETUNE * math.ceil(len(y) / BATCH)
    schedules = {
        "non-spiking": lambda step: math.inf,
        "target dt": lambda step: DT_TARGET,
        "interpolated dt": hybrid_lmu.geometric_schedule(DT_START, DT_TARGET, steps),
        "target dt 3": lambda step: DT_TARGET_2,
        "interpolated dt 3": hybrid_lmu.geometric_schedule(DT_START_2, DT_TARGET_2, steps),
    }
    for arm in ARMS:
        model.load_state_dict(pretrained)
        log = train(model, x, y, FINETUNE, FT_LR, seed + 1000, dt_schedule=schedules[arm])
        model.dt = math.inf
        log["test_accuracy_non_spiking"] = training.evaluate(model, *splits["test"])
        log["reports"] = [
            hybrid_lmu.evaluate_spiking(model, *splits["test"], dt)._asdict() for dt in EVAL_DTS
        ]
        for r in log["reports"]:
            print(f"seed {seed} {arm}: dt {r['dt']:g} -> {r['accuracy']:.4f}, "
                  f"{r['spikes_per_image']:.0f} spikes/image", flush=True)  # fmt: skip
        result[arm] = log
        weights[arm] = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=records.RESULTS / "hybrid_lmu.json")
    args = parser.parse_args(argv)
    run = records.start(args.seeds)
    splits = _baselines().load_data()
    results = {"check_losses": check_losses(splits, args.seeds[0])}
    weights: dict[str, dict] = {}
    for seed in args.seeds:
        results[str(seed)] = run_seed(seed, splits, weights if seed == args.seeds[0] else None)
    settings = {
        "hidden": HIDDEN, "order": ORDER, "theta": THETA, "window": WINDOW, "batch": BATCH,
        "n_train": N_TRAIN, "pretrain_epochs": PRETRAIN, "lr": LR, "finetune_epochs": FINETUNE,
        "ft_lr": FT_LR, "clip": CLIP, "dt_target": DT_TARGET, "dt_start": DT_START,
        "dt_target_2": DT_TARGET_2, "dt_start_2": DT_START_2, "eval_dts": EVAL_DTS,
        "arms": list(ARMS), "parameters": lmu.count_parameters(build(0)),
    }  # fmt: skip
    records.write(args.out, {"settings": settings, "results": results}, run)
    # after the record: writing the tracked weights file first made the tree look edited
    torch.save(weights, args.out.with_name(args.out.stem + "_weights.pt"))


if __name__ == "__main__":
    main()
