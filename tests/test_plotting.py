"""snnbook.plotting: what is drawn matches the data, from any tensor, and bad input is refused."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from conftest import assert_refuses, refuse  # noqa: E402

from snnbook import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_raster_puts_one_dot_per_spike_at_its_time_and_neuron():
    spikes = torch.zeros(6, 3)
    spikes[1, 0] = spikes[4, 2] = spikes[5, 0] = 1
    ax = plotting.raster(spikes, dt=0.5)
    dots = ax.collections[0].get_offsets()
    assert sorted(map(tuple, np.asarray(dots))) == [(0.5, 0), (2.0, 2), (2.5, 0)]
    assert ax.get_xlim() == (-0.25, 3.0)


def test_membrane_draws_the_trace_threshold_and_spike_ticks():
    u = torch.linspace(0, 1, 5)
    s = torch.tensor([0, 0, 1, 0, 1.0])
    ax = plotting.membrane(u, threshold=0.8, spikes=s)
    trace = ax.lines[0]
    np.testing.assert_allclose(trace.get_ydata(), u.numpy())
    assert ax.lines[1].get_ydata()[0] == 0.8  # the threshold line
    np.testing.assert_allclose(ax.lines[2].get_xdata(), [2, 4])  # ticks at the spike times


def test_curves_start_at_epoch_one():
    ax = plotting.curves({"a": [0.5, 0.6, 0.7], "b": np.array([0.1, 0.2])})
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), [0.1, 0.2])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.bool])
def test_helpers_take_tensors_with_gradients_and_any_dtype(dtype):
    u = torch.rand(8, 2).to(dtype)
    if dtype.is_floating_point:
        u.requires_grad_(True)
    plotting.raster(u)
    plotting.membrane(u.float() if dtype == torch.bool else u, spikes=u)
    plotting.curves({"x": u[:, 0]})


def test_meta_tensors_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="meta device"):
        plotting.raster(torch.empty(3, 2, device="meta"))


def test_new_figure_returns_a_grid():
    fig, axes = plotting.new_figure(ncols=3, nrows=2)
    assert axes.shape == (2, 3)
    assert fig.get_layout_engine() is not None


SPK = torch.zeros(5, 3)


BAD_INPUTS = [
    refuse(lambda: plotting.raster(torch.zeros(5)), ValueError, "spikes", "(T, neurons)", id="raster-1d"),
    refuse(lambda: plotting.raster(torch.zeros(2, 3, 4)), ValueError, "spikes", id="raster-3d"),
    refuse(lambda: plotting.raster(torch.zeros(0, 3)), ValueError, "spikes", "non-empty", id="raster-empty"),
    refuse(lambda: plotting.raster("spikes"), TypeError, "spikes", id="raster-str"),
    refuse(lambda: plotting.raster(None), TypeError, "spikes", id="raster-none"),
    refuse(lambda: plotting.raster([["a", "b"]]), TypeError, "spikes", "numbers", id="raster-strings"),
    refuse(lambda: plotting.raster(SPK, dt=0), ValueError, "dt", id="raster-dt-0"),
    refuse(lambda: plotting.raster(SPK, dt=float("nan")), ValueError, "dt", id="raster-dt-nan"),
    refuse(lambda: plotting.raster(SPK, color=3), TypeError, "color", id="raster-color"),
    refuse(lambda: plotting.raster(SPK, title=5), TypeError, "title", id="raster-title"),
    refuse(lambda: plotting.raster(SPK, ax="left"), TypeError, "ax", id="raster-ax"),
    refuse(lambda: plotting.membrane(torch.zeros(2, 3, 4)), ValueError, "u", id="membrane-3d"),
    refuse(lambda: plotting.membrane(torch.zeros(0)), ValueError, "u", id="membrane-empty"),
    refuse(lambda: plotting.membrane(SPK, threshold=float("inf")), ValueError, "threshold", id="membrane-threshold-inf"),
    refuse(lambda: plotting.membrane(SPK, threshold="1"), TypeError, "threshold", id="membrane-threshold-str"),
    refuse(lambda: plotting.membrane(SPK, spikes=torch.zeros(4, 3)), ValueError, "spikes", "shape", id="membrane-spikes-shape"),
    refuse(lambda: plotting.membrane(SPK, dt=-1.0), ValueError, "dt", id="membrane-dt"),
    refuse(lambda: plotting.membrane(SPK, label=1), TypeError, "label", id="membrane-label"),
    refuse(lambda: plotting.curves([0.1, 0.2]), TypeError, "series", "dict", id="curves-list"),
    refuse(lambda: plotting.curves({}), ValueError, "series", "empty", id="curves-empty"),
    refuse(lambda: plotting.curves({"a": []}), ValueError, "series['a']", id="curves-empty-series"),
    refuse(lambda: plotting.curves({"a": [[1, 2]]}), ValueError, "series['a']", "1-D", id="curves-2d"),
    refuse(lambda: plotting.curves({"a": [1]}, xlabel=None), TypeError, "xlabel", id="curves-xlabel"),
    refuse(lambda: plotting.new_figure(0), ValueError, "ncols", id="figure-ncols-0"),
    refuse(lambda: plotting.new_figure(1, 2.0), TypeError, "nrows", id="figure-nrows-float"),
]  # fmt: skip


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)
