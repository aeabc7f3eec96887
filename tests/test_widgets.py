"""snnbook.widgets.explore: frames, the static HTML slider, the live widget bundle."""

from __future__ import annotations

import base64
import itertools
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

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
