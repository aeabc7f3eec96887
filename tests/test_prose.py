"""snnbook.prose: quoted numbers become plain Python numbers that myst-nb can format."""

from __future__ import annotations

import numpy as np
import pytest
import torch

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
