"""Interactive figures that work both in Jupyter and in the static HTML book.

A reader of the web book has no Python kernel, so an ``ipywidgets.interact``
slider there would move but redraw nothing. :func:`explore` avoids that by
producing *one* output with two renderings:

* in a live Jupyter kernel, ipywidgets sliders that call the plotting function
  again whenever a slider moves;
* in the published HTML, a small self-contained slider (plain HTML and
  JavaScript, no network) over frames that were drawn once, for every
  combination of slider values, when the book was built.

Jupyter shows the widget view (it ranks it above HTML); the book's
``_config.yml`` ranks ``text/html`` first for the HTML builder, so the web page
shows the pre-rendered frames. Keep the grid small: every frame is a PNG
embedded in the page.

Frames are drawn at :data:`DPI` (110) dots per inch, so a 7-inch figure is
770 pixels wide: about the width of the book's text column, with 10-point
labels about 15 pixels high, as legible as the text beside them. The image
shrinks with a narrower column and is never blown up past its own size. Each
frame is stored as a 256-colour PNG (line plots lose nothing visible), which
makes it about three times smaller than full colour.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from snnbook import checks

__all__ = ["Explorer", "explore", "MAX_FRAMES", "MAX_BYTES", "DPI"]

#: At most this many pre-rendered frames per figure.
MAX_FRAMES = 64
#: At most this many bytes of embedded images per figure (about 3 MB).
MAX_BYTES = 3_000_000
#: Resolution of the pre-rendered frames (dots per inch): 7 inches -> 770 pixels.
DPI = 110


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _palette_png(png: bytes) -> bytes:
    """``png`` re-encoded with a 256-colour palette, if that is smaller."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        small = image.convert("RGB").quantize(
            colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
    buffer = io.BytesIO()
    small.save(buffer, format="png", optimize=True)
    return buffer.getvalue() if buffer.tell() < len(png) else png


def _png_width(png: bytes) -> int:
    """Width in pixels, from the PNG header (bytes 16-20 of the IHDR chunk)."""
    return int.from_bytes(png[16:20], "big")


def _render_png(
    plot_fn: Callable[..., Figure | None], kwargs: Mapping[str, Any], dpi: int
) -> bytes:
    before = set(plt.get_fignums())
    try:
        fig = plot_fn(**kwargs)
    except Exception:
        for num in set(plt.get_fignums()) - before:  # leave no half-drawn figure behind
            plt.close(num)
        raise
    if fig is None:
        fig = plt.gcf()
    if not isinstance(fig, Figure):
        raise TypeError(f"plot_fn must return a matplotlib Figure (or None), got {type(fig)!r}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    plt.close(fig)
    return _palette_png(buffer.getvalue())


def _values(name: str, values: object) -> list[Any]:
    """The slider values of one parameter: an ordered list of at least two distinct values."""
    if isinstance(values, np.ndarray):
        values = values.tolist()
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise TypeError(
            f"parameter {name!r} must be a list of values, e.g. {name}=[0.1, 1, 10], "
            f"got {type(values).__name__}"
        )
    values = [v.item() if isinstance(v, np.generic) else v for v in values]
    if len(values) < 2:
        raise ValueError(f"parameter {name!r} needs at least two values, got {values!r}")
    shown = [_fmt(v) for v in values]
    repeated = sorted({v for v in shown if shown.count(v) > 1})
    if repeated:
        raise ValueError(
            f"parameter {name!r} lists the same value more than once ({', '.join(repeated)}); "
            "each slider position must show another figure"
        )
    return values


class Explorer:
    """The display object returned by :func:`explore` (see the module docstring)."""

    def __init__(
        self,
        plot_fn: Callable[..., Figure | None],
        params: Mapping[str, Sequence[Any]],
        *,
        defaults: Mapping[str, Any] | None = None,
        dpi: int = DPI,
        title: str = "",
    ) -> None:
        if not callable(plot_fn):
            raise TypeError("plot_fn must be callable: explore(plot_fn, name=[values], ...)")
        if not isinstance(params, Mapping):
            raise TypeError(f"params must be a dict {{name: values}}, got {type(params).__name__}")
        if not params:
            raise ValueError("give at least one parameter, e.g. explore(plot_fn, dt=[0.1, 1, 10])")
        dpi = checks.integer("dpi", dpi, low=30, high=300, hint=f"the default is {DPI}")
        if not isinstance(title, str):
            raise TypeError(f"title must be a string, got {type(title).__name__}")
        if defaults is not None and not isinstance(defaults, Mapping):
            raise TypeError(
                f"defaults must be a dict {{name: value}} or None, got {type(defaults).__name__}"
            )
        self.params = {name: _values(name, values) for name, values in params.items()}
        n_frames = 1
        for values in self.params.values():
            n_frames *= len(values)
        if n_frames > MAX_FRAMES:
            raise ValueError(
                f"{n_frames} combinations of slider values is more than {MAX_FRAMES} frames; "
                "offer fewer values per parameter"
            )
        defaults = dict(defaults or {})
        unknown = set(defaults) - set(self.params)
        if unknown:
            raise ValueError(f"defaults name unknown parameters: {sorted(unknown)}")
        self.default_index = {}
        for name, values in self.params.items():
            if name in defaults:
                if defaults[name] not in values:
                    raise ValueError(f"default {defaults[name]!r} of {name!r} is not in {values!r}")
                self.default_index[name] = values.index(defaults[name])
            else:
                self.default_index[name] = (len(values) - 1) // 2
        self.plot_fn = plot_fn
        self.title = title
        self.frames = [
            _render_png(plot_fn, dict(zip(self.params, combo, strict=True)), dpi)
            for combo in itertools.product(*self.params.values())
        ]
        size = sum(len(f) for f in self.frames)
        if size > MAX_BYTES:
            raise ValueError(
                f"the {len(self.frames)} frames take {size / 1e6:.1f} MB, over the "
                f"{MAX_BYTES / 1e6:.0f} MB budget; use fewer values, a smaller figure or a lower dpi"
            )

    # -- static rendering ---------------------------------------------------
    def to_html(self) -> str:
        """A self-contained HTML slider over the pre-rendered frames."""
        uid = "snnbook-explore-" + hashlib.sha1(b"".join(self.frames)).hexdigest()[:12]
        controls = []
        for name, values in self.params.items():
            idx = self.default_index[name]
            controls.append(
                f'<label style="margin-right:1.5em">{html.escape(name)} '
                f'<input type="range" min="0" max="{len(values) - 1}" step="1" value="{idx}" '
                f'data-param="{html.escape(name)}" aria-label="{html.escape(name)}"> '
                f"<output>{html.escape(_fmt(values[idx]))}</output></label>"
            )
        frames = [base64.b64encode(f).decode("ascii") for f in self.frames]
        labels = [[_fmt(v) for v in values] for values in self.params.values()]
        start = self._flat_index(self.default_index)
        title = f"<strong>{html.escape(self.title)}</strong><br>" if self.title else ""
        alt = html.escape(self.title or "interactive figure", quote=True)
        width = _png_width(self.frames[start])
        return (
            f'<div class="snnbook-explore" id="{uid}">{title}'
            f'<div class="snnbook-explore-controls">{"".join(controls)}</div>'
            f'<img class="snnbook-explore-frame" alt="{alt}" '
            f'style="width:100%;max-width:{width}px;height:auto" '
            f'src="data:image/png;base64,{frames[start]}"></div>'
            "<script>(function(){"
            f'var root=document.getElementById("{uid}");'
            f"var frames={json.dumps(frames)};var labels={json.dumps(labels)};"
            'var inputs=root.querySelectorAll("input[type=range]");'
            'var img=root.querySelector("img");'
            "function update(){var k=0;"
            "for(var i=0;i<inputs.length;i++){var v=parseInt(inputs[i].value,10);"
            "k=k*labels[i].length+v;inputs[i].nextElementSibling.textContent=labels[i][v];}"
            'img.src="data:image/png;base64,"+frames[k];}'
            'for(var i=0;i<inputs.length;i++){inputs[i].addEventListener("input",update);}'
            "})();</script>"
        )

    def _flat_index(self, index: Mapping[str, int]) -> int:
        k = 0
        for name, values in self.params.items():
            k = k * len(values) + index[name]
        return k

    # -- live rendering -----------------------------------------------------
    def widget(self) -> Any:
        """ipywidgets sliders that redraw the figure in a live kernel."""
        import ipywidgets

        def draw(**kwargs: Any) -> None:
            fig = self.plot_fn(**kwargs)
            if fig is None:
                plt.show()
            else:
                _show(fig)

        sliders = {
            name: ipywidgets.SelectionSlider(
                options=[(_fmt(v), v) for v in values],
                value=values[self.default_index[name]],
                description=name,
                continuous_update=False,
            )
            for name, values in self.params.items()
        }
        return ipywidgets.interactive(draw, **sliders)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = dict(self.widget()._repr_mimebundle_(**kwargs) or {})
        bundle["text/html"] = self.to_html()
        bundle["text/plain"] = f"<interactive figure over {', '.join(self.params)}>"
        return bundle


def _show(fig: Figure) -> None:
    from IPython.display import display

    display(fig)
    plt.close(fig)


def explore(
    plot_fn: Callable[..., Figure | None],
    *,
    defaults: Mapping[str, Any] | None = None,
    dpi: int = DPI,
    title: str = "",
    **params: Sequence[Any],
) -> Explorer:
    """An interactive figure over a small grid of parameter values.

    ``plot_fn(**values)`` draws one figure and returns it; each keyword
    argument of ``explore`` is a list of values for one slider, e.g.::

        explore(plot_quantizer, dt=[0.1, 0.3, 1, 3, 10], amplitude=[0.5, 1, 2])

    The default position of each slider is the middle value unless
    ``defaults`` says otherwise. At most :data:`MAX_FRAMES` combinations and
    :data:`MAX_BYTES` of images are allowed, so the page stays light; frames
    are drawn at ``dpi`` dots per inch (:data:`DPI` by default, legible at the
    book's column width).
    """
    return Explorer(plot_fn, params, defaults=defaults, dpi=dpi, title=title)
