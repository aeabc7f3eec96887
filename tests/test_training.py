"""snnbook.training: batching, fit and evaluate against hand-computed answers."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import assert_refuses, refuse
from torch import nn

import snnbook
from snnbook import training


def toy_problem(n=600):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 2, generator=g)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    return x, y


def test_batches_visit_every_sample_once():
    x, y = torch.arange(10).float(), torch.arange(10)
    seen = [yb for _, yb in training.batches(x, y, 3, shuffle=True)]
    assert [len(b) for b in seen] == [3, 3, 3, 1]
    assert sorted(torch.cat(seen).tolist()) == list(range(10))
    assert torch.cat([xb for xb, _ in training.batches(x, y, 4)]).tolist() == x.tolist()


def test_batches_keep_pairs_together_when_shuffled():
    x = torch.arange(20).float()[:, None] * 10
    y = torch.arange(20)
    for xb, yb in training.batches(
        x, y, 6, shuffle=True, generator=torch.Generator().manual_seed(3)
    ):
        assert torch.equal(xb[:, 0], yb.float() * 10)


def test_accuracy_and_evaluate_match_a_manual_count():
    x, y = toy_problem(50)
    model = nn.Linear(2, 2)
    manual = sum(int(model(x[i]).argmax() == y[i]) for i in range(50)) / 50
    assert training.accuracy(model(x), y) == pytest.approx(manual)
    assert training.evaluate(model, x, y, batch_size=7) == pytest.approx(manual)


def test_evaluate_restores_training_mode_even_on_error():
    model = nn.Sequential(nn.Linear(2, 3))
    model.train()
    x, y = toy_problem(10)
    with pytest.raises(ValueError, match="class scores"):
        training.evaluate(nn.Sequential(nn.Linear(2, 3), nn.Flatten(0)), x, y)
    assert training.evaluate(model, x, y) <= 1.0
    assert model.training


def test_fit_learns_and_calls_hooks(capsys):
    snnbook.seed_everything(0)
    x, y = toy_problem()
    model = nn.Linear(2, 2)
    steps, epochs = [], []
    history = training.fit(
        model, x, y, epochs=3, batch_size=50, lr=0.05, test=(x, y),
        after_step=steps.append, after_epoch=lambda e, h: epochs.append(e),
    )  # fmt: skip
    assert steps == list(range(1, 3 * 12 + 1))
    assert epochs == [0, 1, 2]
    assert len(history.loss) == len(history.test_acc) == len(history.seconds) == 3
    assert history.loss[-1] < history.loss[0]
    assert history.test_acc[-1] > 0.95
    assert "test accuracy" in capsys.readouterr().out


def test_fit_equals_a_hand_written_sgd_loop():
    """One epoch of fit with plain SGD is the textbook loop over the same batch order."""
    x, y = toy_problem(100)
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    reference = nn.Linear(2, 2)
    reference.load_state_dict(model.state_dict())
    history = training.fit(
        model, x, y, epochs=1, batch_size=16, seed=4,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
    )  # fmt: skip
    order = torch.randperm(100, generator=torch.Generator().manual_seed(4))
    total, correct = 0.0, 0
    for start in range(0, 100, 16):
        idx = order[start : start + 16]
        logits = reference(x[idx])
        loss = nn.functional.cross_entropy(logits, y[idx])
        total += loss.item() * len(idx)
        correct += int((logits.argmax(1) == y[idx]).sum())
        reference.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in reference.parameters():
                p -= 0.1 * p.grad
    for a, b in zip(model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    assert history.loss[0] == pytest.approx(total / 100, rel=1e-6)
    assert history.train_acc[0] == pytest.approx(correct / 100)


def test_fit_is_deterministic_for_a_seed():
    x, y = toy_problem()
    runs = []
    for _ in range(2):
        torch.manual_seed(1)
        model = nn.Linear(2, 2)
        runs.append(training.fit(model, x, y, epochs=1, batch_size=32, seed=5).loss)
    assert runs[0] == runs[1]


def test_runs_on_meta_device():
    """fit and evaluate create nothing off the input's device and read no values back.

    The meta device has shapes but no values: any CPU-pinned tensor meeting a meta
    tensor, or a ``.item()`` on one, raises. The recorded numbers are NaN there.
    """
    meta = torch.device("meta")
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).to(meta)
    x = torch.empty(20, 4, device=meta)
    y = torch.empty(20, dtype=torch.long, device=meta)
    history = training.fit(
        model, x, y, epochs=2, batch_size=6, test=(x, y), after_step=lambda s: None
    )
    assert len(history.loss) == 2 and math.isnan(history.loss[0])
    assert all(p.device == meta for p in model.parameters())
    assert math.isnan(training.evaluate(model, x, y, batch_size=7))
    assert math.isnan(training.accuracy(model(x), y))
    batches = list(training.batches(x, y, 8, shuffle=True))
    assert [xb.device for xb, _ in batches] == [meta] * 3


# ---------------------------------------------------------------- bad inputs
X, Y = toy_problem(10)
MODEL = nn.Linear(2, 2)


def _nan_x():
    x = X.clone()
    x[3, 1] = float("nan")
    return x


class TupleModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return x, x


BAD_INPUTS = [
    # batches
    refuse(lambda: next(training.batches(X, Y, 0)), ValueError, "batch_size", id="batches-size-0"),
    refuse(lambda: next(training.batches(X, Y, 2.5)), TypeError, "batch_size", id="batches-size-float"),
    refuse(lambda: next(training.batches(X, Y[:5], 2)), ValueError, "same length", id="batches-length"),
    refuse(lambda: next(training.batches(X.numpy(), Y, 2)), TypeError, "x", "torch.Tensor", id="batches-numpy"),
    refuse(lambda: next(training.batches(X[:0], Y[:0], 2)), ValueError, "x", "empty", id="batches-empty"),
    refuse(lambda: next(training.batches(torch.tensor(1.0), Y, 2)), ValueError, "x", "sample", id="batches-0d"),
    refuse(lambda: next(training.batches(X, Y, 2, shuffle=1)), TypeError, "shuffle", id="batches-shuffle-int"),
    refuse(lambda: next(training.batches(X, Y, 2, shuffle=True, generator=3)), TypeError, "generator", id="batches-generator"),
    # accuracy
    refuse(lambda: training.accuracy(MODEL(X), Y[:, None]), ValueError, "y", "dimensions", id="accuracy-y-2d"),
    refuse(lambda: training.accuracy(MODEL(X), Y.float()), TypeError, "y", "integer", id="accuracy-y-float"),
    refuse(lambda: training.accuracy(MODEL(X)[:, 0], Y), ValueError, "logits", "dimensions", id="accuracy-logits-1d"),
    refuse(lambda: training.accuracy(MODEL(X), Y[:4]), ValueError, "same length", id="accuracy-length"),
    refuse(lambda: training.accuracy(MODEL(X), Y + 5), ValueError, "y", "class indices", id="accuracy-label-range"),
    refuse(lambda: training.accuracy(MODEL(X), -Y - 1), ValueError, "y", "class indices", id="accuracy-label-negative"),
    # evaluate
    refuse(lambda: training.evaluate(MODEL, X, Y[:, None]), ValueError, "y", "dimensions", id="evaluate-y-2d"),
    refuse(lambda: training.evaluate(MODEL, X, Y.float()), TypeError, "y", "integer", id="evaluate-y-float"),
    refuse(lambda: training.evaluate(MODEL, X, Y + 2), ValueError, "y", "class indices", id="evaluate-label-range"),
    refuse(lambda: training.evaluate(MODEL, X, Y[:5]), ValueError, "same length", id="evaluate-length"),
    refuse(lambda: training.evaluate(MODEL, X, Y, batch_size=0), ValueError, "batch_size", id="evaluate-batch-0"),
    refuse(lambda: training.evaluate(MODEL, X, Y, batch_size=True), TypeError, "batch_size", id="evaluate-batch-bool"),
    refuse(lambda: training.evaluate(lambda x: x, X, Y), TypeError, "model", "nn.Module", id="evaluate-model-lambda"),
    refuse(lambda: training.evaluate(TupleModel(), X, Y), TypeError, "model(x)", "tuple", id="evaluate-model-tuple"),
    refuse(lambda: training.evaluate(nn.Flatten(0), X, Y), ValueError, "model(x)", "shape", id="evaluate-model-1d"),
    refuse(lambda: training.evaluate(MODEL, X[:0], Y[:0]), ValueError, "empty", id="evaluate-empty"),
    # fit
    refuse(lambda: training.fit(MODEL, X, Y, batch_size=0), ValueError, "batch_size", id="fit-batch-0"),
    refuse(lambda: training.fit(MODEL, X, Y, batch_size=-3), ValueError, "batch_size", id="fit-batch-negative"),
    refuse(lambda: training.fit(MODEL, X, Y, batch_size=12.0), TypeError, "batch_size", id="fit-batch-float"),
    refuse(lambda: training.fit(MODEL, X, Y, epochs=0), ValueError, "epochs", id="fit-epochs-0"),
    refuse(lambda: training.fit(MODEL, X, Y, epochs=1.5), TypeError, "epochs", id="fit-epochs-float"),
    refuse(lambda: training.fit(MODEL, X, Y, epochs="3"), TypeError, "epochs", id="fit-epochs-str"),
    refuse(lambda: training.fit(MODEL, X, Y, lr=0), ValueError, "lr", id="fit-lr-0"),
    refuse(lambda: training.fit(MODEL, X, Y, lr=-1e-3), ValueError, "lr", id="fit-lr-negative"),
    refuse(lambda: training.fit(MODEL, X, Y, lr=float("nan")), ValueError, "lr", id="fit-lr-nan"),
    refuse(lambda: training.fit(MODEL, X, Y, lr=float("inf")), ValueError, "lr", id="fit-lr-inf"),
    refuse(lambda: training.fit(MODEL, X, Y, lr="0.1"), TypeError, "lr", id="fit-lr-str"),
    refuse(lambda: training.fit(MODEL, X, Y[:, None]), ValueError, "y", "dimensions", id="fit-y-2d"),
    refuse(lambda: training.fit(MODEL, X, Y.float()), TypeError, "y", "integer", id="fit-y-float"),
    refuse(lambda: training.fit(MODEL, X, Y + 2), ValueError, "y", "class indices", id="fit-label-range"),
    refuse(lambda: training.fit(MODEL, X, Y.int()), TypeError, "y", "int64", "y.long()", id="fit-y-int32"),
    refuse(lambda: training.fit(MODEL, X, Y[:5]), ValueError, "same length", id="fit-length"),
    refuse(lambda: training.fit(MODEL, _nan_x(), Y), ValueError, "x", "NaN", id="fit-x-nan"),
    refuse(lambda: training.fit(MODEL, X[:0], Y[:0]), ValueError, "empty", id="fit-empty"),
    refuse(lambda: training.fit(lambda x: x, X, Y), TypeError, "model", id="fit-model-lambda"),
    refuse(lambda: training.fit(TupleModel(), X, Y), TypeError, "model(x)", id="fit-model-tuple"),
    refuse(lambda: training.fit(MODEL, X, Y, optimizer="adam"), TypeError, "optimizer", id="fit-optimizer-str"),
    refuse(lambda: training.fit(MODEL, X, Y, loss_fn="mse"), TypeError, "loss_fn", id="fit-loss-str"),
    refuse(lambda: training.fit(MODEL, X, Y, loss_fn=lambda a, b: a), ValueError, "loss_fn", "one-number", id="fit-loss-not-scalar"),
    refuse(lambda: training.fit(MODEL, X, Y, test=X), TypeError, "test", "pair", id="fit-test-tensor"),
    refuse(lambda: training.fit(MODEL, X, Y, test=(X, Y[:3])), ValueError, "test", id="fit-test-length"),
    refuse(lambda: training.fit(MODEL, X, Y, test=(X, Y.float())), TypeError, "y_test", id="fit-test-float"),
    refuse(lambda: training.fit(MODEL, X, Y, after_step=1), TypeError, "after_step", id="fit-after-step"),
    refuse(lambda: training.fit(MODEL, X, Y, after_epoch=[]), TypeError, "after_epoch", id="fit-after-epoch"),
    refuse(lambda: training.fit(MODEL, X, Y, seed=-1), ValueError, "seed", id="fit-seed-negative"),
    refuse(lambda: training.fit(MODEL, X, Y, seed=1.0), TypeError, "seed", id="fit-seed-float"),
    refuse(lambda: training.fit(MODEL, X, Y, desc=3), TypeError, "desc", id="fit-desc"),
    # seed_everything
    refuse(lambda: snnbook.seed_everything(-1), ValueError, "seed", id="seed-negative"),
    refuse(lambda: snnbook.seed_everything(0.5), TypeError, "seed", id="seed-float"),
    refuse(lambda: snnbook.seed_everything(True), TypeError, "seed", id="seed-bool"),
    refuse(lambda: snnbook.seed_everything(2**32), ValueError, "seed", id="seed-too-large"),
    refuse(lambda: snnbook.seed_everything(0, threads=0), ValueError, "threads", id="threads-0"),
    refuse(lambda: snnbook.seed_everything(0, threads=1.5), TypeError, "threads", id="threads-float"),
    refuse(lambda: snnbook.seed_everything(0, threads="2"), TypeError, "threads", id="threads-str"),
]  # fmt: skip


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)


def test_refused_fit_leaves_the_model_untouched():
    model = nn.Linear(2, 2)
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(ValueError):
        training.fit(model, X, Y + 2)
    for a, b in zip(model.parameters(), before, strict=True):
        assert torch.equal(a, b)


def test_seed_everything_repeats_every_generator():
    import random

    import numpy as np

    draws = []
    for _ in range(2):
        g = snnbook.seed_everything(7, threads=None)
        draws.append(
            (
                random.random(),
                np.random.rand(),
                torch.rand(1).item(),
                torch.rand(1, generator=g).item(),
            )
        )
    assert draws[0] == draws[1]
