"""snnbook.checks: each validator accepts what it should, returns it converted, refuses the rest."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
from conftest import assert_refuses, refuse

from snnbook import checks


# ------------------------------------------------------------------ accepted
@pytest.mark.parametrize(
    "value, expected",
    [(3, 3.0), (0.5, 0.5), (np.float32(0.25), 0.25), (np.int64(2), 2.0), (torch.tensor(1.5), 1.5),
     (torch.tensor([2.0]), 2.0), (Fraction(1, 4), 0.25)],
)  # fmt: skip
def test_number_returns_a_plain_float(value, expected):
    out = checks.number("x", value)
    assert out == expected and type(out) is float


def test_number_bounds_open_and_closed():
    assert checks.number("x", 0.0, low=0.0) == 0.0
    assert checks.number("x", 1.0, high=1.0) == 1.0
    assert checks.unit_interval("beta", 1) == 1.0 and checks.probability("p", 0) == 0.0
    assert checks.positive("tau", 1e-12) == 1e-12


@pytest.mark.parametrize("value", [3, np.int32(3), torch.tensor(3), np.array(3)])
def test_integer_returns_a_plain_int(value):
    out = checks.positive_int("n", value)
    assert out == 3 and type(out) is int


def test_integer_bounds():
    assert checks.nonnegative_int("seed", 0) == 0
    assert checks.integer("k", 5, low=5, high=5) == 5


@pytest.mark.parametrize("value", [True, False, np.bool_(True), torch.tensor(False)])
def test_boolean_accepts_only_booleans(value):
    assert checks.boolean("flag", value) is bool(value)


def test_one_of_callable_and_same_length():
    assert checks.one_of("mode", "zero", ["subtract", "zero"]) == "zero"
    assert checks.callable_("fn", len) is len
    assert checks.same_length(a=[1, 2], b=torch.zeros(2, 5), c=np.zeros(2)) == 2


def test_tensor_checks_shape_rank_and_kind_without_reading_values():
    x = torch.zeros(4, 3)
    assert checks.tensor("x", x, ndim=2, shape=(None, 3), kind="float") is x
    assert checks.tensor("x", x, ndim=(1, 2)) is x
    assert checks.tensor("y", torch.zeros(3, dtype=torch.long), kind="integer") is not None
    assert checks.tensor("m", torch.zeros(2, dtype=torch.bool), kind="bool") is not None
    assert checks.tensor("e", torch.zeros(0), nonempty=False).numel() == 0
    meta = torch.empty(5, 2, device="meta")
    assert checks.tensor("x", meta, shape=(5, 2), kind="real") is meta


def test_finite_values_and_labels():
    x = torch.tensor([0.0, 0.5, 1.0])
    assert checks.finite_values("x", x, low=0, high=1) is x
    assert checks.finite_values("x", torch.tensor([1, 2, 3]), low=1) is not None
    # meta tensors have no values: value checks are skipped, shape checks still run
    assert checks.finite_values("x", torch.empty(3, device="meta"), low=0).device.type == "meta"
    y = torch.tensor([0, 2, 1])
    assert checks.labels("y", y, num_classes=3) is y
    assert (
        checks.labels("y", torch.empty(4, dtype=torch.long, device="meta"), num_classes=3).ndim == 1
    )


def test_messages_name_the_argument_the_value_and_the_hint():
    with pytest.raises(ValueError) as info:
        checks.unit_interval("beta", 1.5, hint="beta = exp(-dt / tau)")
    assert str(info.value) == "beta must be a number in [0, 1], got 1.5; beta = exp(-dt / tau)"
    with pytest.raises(TypeError) as info:
        checks.positive_int("steps", 2.0)
    assert str(info.value) == "steps must be an integer >= 1, got 2.0 (float)"
    with pytest.raises(ValueError, match=r"holds 2 NaN or infinite value\(s\)"):
        checks.finite_values("x", torch.tensor([1.0, math.nan, math.inf]))
    with pytest.raises(ValueError, match="its largest entry is 7"):
        checks.finite_values("x", torch.tensor([1.0, 7.0]), high=5)
    with pytest.raises(ValueError, match="got values from -1 to 2"):
        checks.labels("y", torch.tensor([-1, 2]), num_classes=3)


def test_long_values_are_shortened_in_messages():
    with pytest.raises(TypeError) as info:
        checks.number("x", "a" * 500)
    assert len(str(info.value)) < 150 and "..." in str(info.value)


# ----------------------------------------------------------------- refused
NAN, INF = float("nan"), float("inf")

BAD_INPUTS = [
    refuse(lambda: checks.number("x", "1.0"), TypeError, "x", "str", id="number-str"),
    refuse(lambda: checks.number("x", None), TypeError, "x", id="number-none"),
    refuse(lambda: checks.number("x", True), TypeError, "x", "bool", id="number-bool"),
    refuse(lambda: checks.number("x", 1 + 2j), TypeError, "x", id="number-complex"),
    refuse(lambda: checks.number("x", NAN), ValueError, "x", "nan", id="number-nan"),
    refuse(lambda: checks.number("x", INF), ValueError, "x", "inf", id="number-inf"),
    refuse(lambda: checks.number("x", -INF), ValueError, "x", id="number-minus-inf"),
    refuse(lambda: checks.number("x", np.float64("nan")), ValueError, "x", id="number-np-nan"),
    refuse(lambda: checks.number("x", torch.tensor(NAN)), ValueError, "x", id="number-tensor-nan"),
    refuse(lambda: checks.number("x", torch.zeros(2)), TypeError, "x", "Tensor", id="number-tensor-2"),
    refuse(lambda: checks.number("x", torch.tensor(1.0, device="meta")), TypeError, "x", id="number-meta"),
    refuse(lambda: checks.number("x", [1.0]), TypeError, "x", "list", id="number-list"),
    refuse(lambda: checks.number("x", -0.1, low=0), ValueError, "x", ">= 0", id="number-below"),
    refuse(lambda: checks.number("x", 0.0, low=0, low_open=True), ValueError, "> 0", id="number-open-low"),
    refuse(lambda: checks.number("x", 2.0, high=1), ValueError, "<= 1", id="number-above"),
    refuse(lambda: checks.number("x", 1.0, high=1, high_open=True), ValueError, "< 1", id="number-open-high"),
    refuse(lambda: checks.positive("tau", 0), ValueError, "tau", "> 0", id="positive-0"),
    refuse(lambda: checks.positive("tau", -1), ValueError, "tau", id="positive-negative"),
    refuse(lambda: checks.unit_interval("beta", 1.5), ValueError, "beta", "[0, 1]", id="unit-above"),
    refuse(lambda: checks.unit_interval("beta", -0.5), ValueError, "beta", id="unit-below"),
    refuse(lambda: checks.integer("n", 3.0), TypeError, "n", "float", id="integer-float"),
    refuse(lambda: checks.integer("n", True), TypeError, "n", "bool", id="integer-bool"),
    refuse(lambda: checks.integer("n", "3"), TypeError, "n", id="integer-str"),
    refuse(lambda: checks.integer("n", torch.tensor(3.0)), TypeError, "n", id="integer-float-tensor"),
    refuse(lambda: checks.integer("n", 11, low=0, high=10), ValueError, "[0, 10]", id="integer-above"),
    refuse(lambda: checks.integer("n", 5, high=4), ValueError, "<= 4", id="integer-high"),
    refuse(lambda: checks.positive_int("steps", 0), ValueError, "steps", ">= 1", id="positive-int-0"),
    refuse(lambda: checks.nonnegative_int("seed", -1), ValueError, "seed", ">= 0", id="nonnegative-int"),
    refuse(lambda: checks.boolean("flag", 1), TypeError, "flag", "True or False", id="boolean-int"),
    refuse(lambda: checks.boolean("flag", "yes"), TypeError, "flag", id="boolean-str"),
    refuse(lambda: checks.boolean("flag", None), TypeError, "flag", id="boolean-none"),
    refuse(lambda: checks.one_of("mode", "Zero", ["zero"]), ValueError, "mode", "'zero'", id="one-of-case"),
    refuse(lambda: checks.one_of("mode", True, [1, 0]), ValueError, "mode", id="one-of-bool-for-int"),
    refuse(lambda: checks.one_of("mode", np.array([1, 2]), [1, 2]), ValueError, "mode", id="one-of-array"),
    refuse(lambda: checks.one_of("mode", torch.tensor(1), [1]), ValueError, "mode", id="one-of-tensor"),
    refuse(lambda: checks.callable_("fn", 3), TypeError, "fn", "callable", id="callable"),
    refuse(lambda: checks.tensor("x", [1.0]), TypeError, "x", "torch.Tensor", "as_tensor", id="tensor-list"),
    refuse(lambda: checks.tensor("x", np.zeros(3)), TypeError, "x", "torch.Tensor", id="tensor-numpy"),
    refuse(lambda: checks.tensor("x", torch.zeros(3), ndim=2), ValueError, "x", "2 dimensions", id="tensor-ndim"),
    refuse(lambda: checks.tensor("x", torch.zeros(3), ndim=(2, 3)), ValueError, "2 or 3", id="tensor-ndims"),
    refuse(lambda: checks.tensor("x", torch.zeros(3, 4), shape=(None, 5)), ValueError, "(*, 5)", id="tensor-shape"),
    refuse(lambda: checks.tensor("x", torch.zeros(3, 4), shape=(3,)), ValueError, "(3)", id="tensor-shape-rank"),
    refuse(lambda: checks.tensor("x", torch.zeros(3, dtype=torch.long), kind="float"), TypeError, "float", id="tensor-kind-float"),
    refuse(lambda: checks.tensor("x", torch.zeros(3), kind="integer"), TypeError, "integer", id="tensor-kind-integer"),
    refuse(lambda: checks.tensor("x", torch.zeros(3, dtype=torch.bool), kind="integer"), TypeError, "integer", id="tensor-bool-not-integer"),
    refuse(lambda: checks.tensor("x", torch.zeros(3, dtype=torch.complex64), kind="real"), TypeError, "real", id="tensor-kind-complex"),
    refuse(lambda: checks.tensor("x", torch.zeros(3), kind="floaty"), ValueError, "kind", id="tensor-kind-unknown"),
    refuse(lambda: checks.tensor("x", torch.zeros(0, 3)), ValueError, "x", "empty", id="tensor-empty"),
    refuse(lambda: checks.finite_values("x", torch.tensor([NAN])), ValueError, "x", "NaN", id="finite-nan"),
    refuse(lambda: checks.finite_values("x", torch.tensor([INF])), ValueError, "x", id="finite-inf"),
    refuse(lambda: checks.finite_values("x", torch.tensor([-0.5]), low=0), ValueError, "smallest entry is -0.5", id="finite-low"),
    refuse(lambda: checks.labels("y", torch.tensor([[0, 1]])), ValueError, "y", "1 dimensions", id="labels-2d"),
    refuse(lambda: checks.labels("y", torch.tensor([0.0, 1.0])), TypeError, "y", "integer", id="labels-float"),
    refuse(lambda: checks.labels("y", torch.tensor([0, 3]), num_classes=3), ValueError, "[0, 3)", id="labels-range"),
    refuse(lambda: checks.labels("y", [0, 1]), TypeError, "y", id="labels-list"),
    refuse(lambda: checks.same_length(x=[1, 2], y=[1]), ValueError, "x and y", "x has 2, y has 1", id="same-length"),
    refuse(lambda: checks.same_length(x=torch.tensor(1.0), y=[1]), TypeError, "x", id="same-length-0d"),
]  # fmt: skip


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)
