"""snnbook.widgets.explore: frames, the static HTML slider, the live widget bundle."""

from __future__ import annotations

import base64
import itertools
import re

import matplotlib

matplotlib.use("Agg")
import io  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from conftest import assert_refuses, refuse  # noqa: E402
from PIL import Image  # noqa: E402

from snnbook import widgets  # noqa: E402


def make_plot(calls):
    def plot(a, b):
        calls.append((a, b))
        fig, ax = plt.subplots(figsize=(2, 1))
        ax.plot([0, 1], [a, b])
        ax.set_ylim(-5, 5)
        return fig

    return plot


def test_one_frame_per_combination_in_product_order():
    calls = []
    ex = widgets.explore(make_plot(calls), a=[1, 2, 3], b=[-1.0, 1.0])
    assert calls == list(itertools.product([1, 2, 3], [-1.0, 1.0]))
    assert len(ex.frames) == 6 and all(f.startswith(b"\x89PNG") for f in ex.frames)
    # mixed-radix index used by the JavaScript: a is the slow digit, b the fast one
    assert ex._flat_index({"a": 2, "b": 1}) == 5
    assert ex._flat_index({"a": 1, "b": 0}) == 2
    assert not plt.get_fignums(), "pre-rendering must close its figures"


def test_html_holds_sliders_and_starts_at_the_default_frame():
    ex = widgets.explore(make_plot([]), a=[1, 2, 3], b=[-1.0, 1.0], defaults={"b": 1.0})
    html = ex.to_html()
    assert html.count('type="range"') == 2
    assert 'max="2"' in html and 'max="1"' in html
    start = ex._flat_index({"a": 1, "b": 1})  # middle of a, b as requested
    shown = re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1)
    assert base64.b64decode(shown) == ex.frames[start]
    assert "http" not in html, "the static figure must not reference the network"


def test_mime_bundle_has_widget_and_html():
    ex = widgets.explore(make_plot([]), a=[1, 2], b=[0, 1])
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"].startswith('<div class="snnbook-explore"')


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({}, ValueError, "at least one parameter"),
        ({"a": [1]}, ValueError, "at least two values"),
        ({"a": list(range(9)), "b": list(range(8))}, ValueError, "more than 64 frames"),
        ({"a": [1, 2], "b": [0, 1], "defaults": {"c": 1}}, ValueError, "unknown parameters"),
        ({"a": [1, 2], "b": [0, 1], "defaults": {"a": 7}}, ValueError, "not in"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        widgets.explore(make_plot([]), **kwargs)


def test_plot_fn_must_return_a_figure():
    with pytest.raises(TypeError, match="must return a matplotlib Figure"):
        widgets.explore(lambda a: 42, a=[1, 2])


def test_size_budget_is_enforced(monkeypatch):
    monkeypatch.setattr(widgets, "MAX_BYTES", 100)
    with pytest.raises(ValueError, match="MB budget"):
        widgets.explore(make_plot([]), a=[1, 2], b=[0, 1])


# ------------------------------------------------------------- legibility
def book_width_plot(k):
    """A dense 7-inch figure like the chapters' (two panels, legends, many lines)."""
    fig, axes = plt.subplots(1, 2, figsize=(7, 2.8), constrained_layout=True)
    t = np.linspace(0, 10, 400)
    for j in range(4):
        axes[0].plot(t, np.sin(t * (k + j + 1)), label=f"line {j}")
        axes[1].step(t, np.round(np.cos(t * (k + 1)) * (j + 1)), label=f"step {j}")
    for ax in axes:
        ax.set_xlabel("step $t$")
        ax.set_ylabel("activity")
        ax.legend(ncols=2, fontsize=8)
    fig.suptitle(f"frame {k}")
    return fig


def test_frames_are_drawn_at_the_books_column_width():
    ex = widgets.explore(book_width_plot, k=[0, 1])
    with Image.open(io.BytesIO(ex.frames[0])) as image:
        assert image.size[0] == 7 * widgets.DPI == 770
    html = ex.to_html()
    assert "width:100%;max-width:770px;height:auto" in html, "fills the column, never blown up"


def test_palette_frames_look_the_same_and_fit_the_budget():
    """256 colours lose nothing visible on line plots, and 64 frames stay within the budget."""
    fig = book_width_plot(3)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=widgets.DPI, facecolor="white")
    plt.close(fig)
    full = buffer.getvalue()
    small = widgets._palette_png(full)
    assert len(small) < 0.6 * len(full)
    with Image.open(io.BytesIO(full)) as a, Image.open(io.BytesIO(small)) as b:
        diff = np.abs(np.asarray(a.convert("RGB"), float) - np.asarray(b.convert("RGB"), float))
    assert diff.mean() < 1.0 and np.percentile(diff, 99.9) < 40
    sizes = [len(f) for f in widgets.explore(book_width_plot, k=[0, 1, 2, 3]).frames]
    assert max(sizes) * widgets.MAX_FRAMES < widgets.MAX_BYTES


def test_a_failing_plot_leaves_no_figure_open():
    def broken(a):
        plt.figure()
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        widgets.explore(broken, a=[1, 2])
    assert not plt.get_fignums()


def test_numpy_values_become_plain_numbers():
    calls = []
    ex = widgets.explore(make_plot(calls), a=np.array([1.0, 2.0]), b=(0, 1))
    assert calls[0] == (1.0, 0) and type(calls[0][0]) is float
    assert ex.params["a"] == [1.0, 2.0]


PLOT = make_plot([])

BAD_INPUTS = [
    refuse(lambda: widgets.explore(42, a=[1, 2]), TypeError, "plot_fn", "callable", id="plot-fn"),
    refuse(lambda: widgets.explore(PLOT), ValueError, "at least one parameter", id="no-params"),
    refuse(lambda: widgets.explore(PLOT, a="abc", b=[0, 1]), TypeError, "'a'", "list", id="values-str"),
    refuse(lambda: widgets.explore(PLOT, a=3, b=[0, 1]), TypeError, "'a'", "list", id="values-scalar"),
    refuse(lambda: widgets.explore(PLOT, a={1, 2}, b=[0, 1]), TypeError, "'a'", "list", id="values-set"),
    refuse(lambda: widgets.explore(PLOT, a=[1], b=[0, 1]), ValueError, "'a'", "two values", id="values-one"),
    refuse(lambda: widgets.explore(PLOT, a=[1, 1.0], b=[0, 1]), ValueError, "'a'", "more than once", id="values-repeated"),
    refuse(lambda: widgets.explore(PLOT, a=list(range(9)), b=list(range(8))), ValueError, "64 frames", id="too-many-frames"),
    refuse(lambda: widgets.explore(PLOT, a=[1, 2], b=[0, 1], defaults=[1]), TypeError, "defaults", id="defaults-list"),
    refuse(lambda: widgets.explore(PLOT, a=[1, 2], b=[0, 1], defaults={"c": 1}), ValueError, "unknown parameters", id="defaults-unknown"),
    refuse(lambda: widgets.explore(PLOT, a=[1, 2], b=[0, 1], defaults={"a": 7}), ValueError, "not in", id="defaults-value"),
    refuse(lambda: widgets.explore(PLOT, a=[1, 2], b=[0, 1], dpi=0), ValueError, "dpi", id="dpi-0"),
    refuse(lambda: widgets.explore(PLOT, a=[1, 2], b=[0, 1], dpi=1000), ValueError, "dpi", id="dpi-huge"),
    refuse(lambda: widgets.explore(PLOT, a=[1, 2], b=[0, 1], dpi=96.5), TypeError, "dpi", id="dpi-float"),
    refuse(lambda: widgets.explore(PLOT, a=[1, 2], b=[0, 1], title=None), TypeError, "title", id="title-none"),
    refuse(lambda: widgets.explore(lambda a: 42, a=[1, 2]), TypeError, "must return a matplotlib Figure", id="returns-int"),
    refuse(lambda: widgets.Explorer(PLOT, [("a", [1, 2])]), TypeError, "params", "dict", id="explorer-params-list"),
]  # fmt: skip


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)
    plt.close("all")
