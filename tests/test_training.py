"""snnbook.training: batching, fit and evaluate against hand-computed answers."""

from __future__ import annotations

import pytest
import torch
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


def test_accuracy_and_evaluate_match_a_manual_count():
    x, y = toy_problem(50)
    model = nn.Linear(2, 2)
    manual = (model(x).argmax(1) == y).float().mean().item()
    assert training.accuracy(model(x), y) == pytest.approx(manual)
    assert training.evaluate(model, x, y, batch_size=7) == pytest.approx(manual)


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


def test_fit_is_deterministic_for_a_seed():
    x, y = toy_problem()
    runs = []
    for _ in range(2):
        torch.manual_seed(1)
        model = nn.Linear(2, 2)
        runs.append(training.fit(model, x, y, epochs=1, batch_size=32, seed=5).loss)
    assert runs[0] == runs[1]


def test_bad_inputs_are_refused():
    x, y = toy_problem(10)
    with pytest.raises(ValueError, match="disagree on the number of samples"):
        training.fit(nn.Linear(2, 2), x, y[:5])
    with pytest.raises(ValueError, match="epochs must be"):
        training.fit(nn.Linear(2, 2), x, y, epochs=0)
    with pytest.raises(ValueError, match="batch_size"):
        next(training.batches(x, y, 0))
    with pytest.raises(ValueError, match="seed"):
        snnbook.seed_everything(-1)
