"""snnbook.prose: quoted numbers become plain Python numbers that myst-nb can format."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import assert_refuses, refuse

from snnbook import prose
from snnbook.prose import plain


@pytest.mark.parametrize(
    "value, expected",
    [
        (np.float64(0.25), 0.25),
        (np.int64(7), 7),
        (np.array(1.5), 1.5),
        (torch.tensor(3), 3),
        (torch.tensor([2.5]), 2.5),
        (0.5, 0.5),
        ("none", "none"),
    ],
)
def test_plain_scalars(value, expected):
    out = plain(value)
    assert out == expected and type(out) is type(expected)
    assert "np." not in repr(out), "myst-nb formats the repr; it must be a plain number"


def test_non_scalars_are_refused():
    with pytest.raises(ValueError, match="single number"):
        plain(torch.zeros(3))
    with pytest.raises(ValueError, match="single number"):
        plain(np.zeros((2, 2)))


def test_plain_detaches_tensors_that_require_grad():
    w = torch.tensor(2.0, requires_grad=True)
    assert plain(w * 3) == 6.0


def test_glue_hands_plain_numbers_to_myst_nb(monkeypatch):
    import myst_nb

    seen = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: seen.update({name: value}))
    prose.glue("acc_ann", np.float32(0.5))
    prose.glue("ch8_sweep_stdb_16", torch.tensor([0.25]))
    assert seen == {"acc_ann": 0.5, "ch8_sweep_stdb_16": 0.25}
    assert type(seen["acc_ann"]) is float


BAD_INPUTS = [
    refuse(lambda: plain(torch.zeros(3)), ValueError, "single number", id="plain-tensor"),
    refuse(lambda: plain(np.zeros((2, 2))), ValueError, "single number", id="plain-array"),
    refuse(lambda: plain(torch.empty(1, device="meta")), ValueError, "meta", id="plain-meta"),
    refuse(lambda: prose.glue("", 1.0), ValueError, "glue name", id="glue-name-empty"),
    refuse(lambda: prose.glue("two words", 1.0), ValueError, "glue name", id="glue-name-space"),
    refuse(lambda: prose.glue("acc:1", 1.0), ValueError, "glue name", id="glue-name-colon"),
    refuse(lambda: prose.glue(3, 1.0), ValueError, "glue name", id="glue-name-int"),
    refuse(lambda: prose.glue("acc", float("nan")), ValueError, "'acc'", "nan", id="glue-nan"),
    refuse(lambda: prose.glue("acc", np.float64("inf")), ValueError, "'acc'", "inf", id="glue-inf"),
    refuse(lambda: prose.glue("acc", torch.tensor(float("nan"))), ValueError, "'acc'", id="glue-nan-tensor"),
    refuse(lambda: prose.glue("acc", 0.5, display=1), TypeError, "display", id="glue-display-int"),
]  # fmt: skip


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)
