"""Tables of results in one style, for the notebook and the static book alike.

Every chapter shows its comparisons as small tables. :func:`table` turns a
list of rows (dicts) into a styled HTML table that reads the same in Jupyter
and in the published HTML, light or dark theme, with numbers right-aligned.
Format each column once (``formats={"accuracy": "{:.1%}"}``) instead of
building HTML strings in the notebook.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from IPython.display import HTML

__all__ = ["table", "STYLE"]

#: Inline CSS: works offline and survives the theme's own table rules.
STYLE = (
    "border-collapse:collapse;margin:0.6em 0;font-size:0.92em;"
    "font-variant-numeric:tabular-nums;background:transparent"
)
_TH = "border-bottom:2px solid currentColor;padding:0.25em 0.7em;text-align:{align}"
_TD = "border-bottom:1px solid rgba(127,127,127,0.35);padding:0.25em 0.7em;text-align:{align}"

Format = str | Callable[[Any], str]


def _plain(value: Any) -> Any:
    """NumPy scalars and one-element tensors as Python numbers (``np.float32`` prints oddly)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.device.type != "meta":
        return value.detach().item()
    return value


def _cell(value: Any, fmt: Format | None, where: str) -> str:
    value = _plain(value)
    if value is None:
        return "–"
    if fmt is None:
        if isinstance(value, float):
            return f"{value:.4g}"
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value:,}"
        return str(value)
    try:
        text = fmt(value) if callable(fmt) else fmt.format(value)
    except (TypeError, ValueError, IndexError, KeyError) as err:
        raise ValueError(f"{where}: the format {fmt!r} cannot show {value!r} ({err})") from err
    if not isinstance(text, str):
        raise TypeError(f"{where}: the format {fmt!r} returned {type(text).__name__}, not a string")
    return text


def _is_number(value: Any) -> bool:
    value = _plain(value)
    return isinstance(value, int | float) and not isinstance(value, bool)


def table(
    rows: Sequence[Mapping[str, Any]],
    *,
    columns: Sequence[str] | Mapping[str, str] | None = None,
    formats: Mapping[str, Format] | None = None,
    caption: str | None = None,
    bold: Callable[[Mapping[str, Any]], bool] | None = None,
) -> HTML:
    """An HTML table of ``rows``.

    Parameters
    ----------
    rows:
        one mapping per row, column name -> value.
    columns:
        which columns to show, in order; a mapping ``{key: heading}`` also
        renames them. Defaults to the keys of the first row.
    formats:
        ``{key: "{:.1%}"}`` or ``{key: callable}`` per column; integers get a
        thousands separator and floats four significant digits by default.
    caption:
        a line of text shown above the table.
    bold:
        ``bold(row) -> bool`` sets whole rows in bold (for example the best).
    """
    if isinstance(rows, Mapping | str | bytes) or not isinstance(rows, Sequence):
        raise TypeError(
            f"rows must be a list of dicts, one per table row, got {type(rows).__name__}"
        )
    if not rows:
        raise ValueError("rows must be a non-empty list of dicts, one per table row")
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise TypeError(f"rows[{i}] must be a dict (column -> value), got {type(row).__name__}")
    if columns is None:
        columns = list(rows[0])
    elif isinstance(columns, str | bytes) or not isinstance(columns, Sequence | Mapping):
        raise TypeError(
            f"columns must be a list of column names (or a dict name -> heading), "
            f"got {type(columns).__name__}"
        )
    headings = dict(columns) if isinstance(columns, Mapping) else {c: c for c in columns}
    if not headings:
        raise ValueError("no columns to show: the rows are empty dicts or columns is empty")
    for key, heading in headings.items():
        if not isinstance(heading, str):
            raise TypeError(f"the heading of column {key!r} must be a string, got {heading!r}")
    if formats is not None and not isinstance(formats, Mapping):
        raise TypeError(f"formats must be a dict column -> format, got {type(formats).__name__}")
    formats = dict(formats or {})
    for key, fmt in formats.items():
        if not (isinstance(fmt, str) or callable(fmt)):
            raise TypeError(
                f"formats[{key!r}] must be a format string like '{{:.1%}}' or a function, got {fmt!r}"
            )
    if caption is not None and not isinstance(caption, str):
        raise TypeError(f"caption must be a string or None, got {type(caption).__name__}")
    if bold is not None and not callable(bold):
        raise TypeError(f"bold must be a function of a row or None, got {type(bold).__name__}")
    unknown = sorted(set(formats) - set(headings))
    if unknown:
        raise ValueError(f"formats names columns that are not shown: {unknown}")
    for i, row in enumerate(rows):
        missing = [c for c in headings if c not in row]
        if missing:
            raise ValueError(
                f"rows[{i}] lacks the column(s) {missing}; give every row every column"
            )

    def align(key: str) -> str:
        # numbers right-aligned: judged by the first row that has a value in this column
        sample = next((row[key] for row in rows if row[key] is not None), None)
        return "right" if _is_number(sample) else "left"

    aligns = {k: align(k) for k in headings}
    head = "".join(
        f'<th style="{_TH.format(align=aligns[k])}">{html.escape(h)}</th>'
        for k, h in headings.items()
    )
    body = []
    for i, row in enumerate(rows):
        weight = ";font-weight:bold" if bold is not None and bold(row) else ""
        cells = "".join(
            f'<td style="{_TD.format(align=aligns[k])}{weight}">'
            f"{html.escape(_cell(row[k], formats.get(k), f'rows[{i}][{k!r}]'))}</td>"
            for k in headings
        )
        body.append(f"<tr>{cells}</tr>")
    cap = (
        f'<caption style="caption-side:top;text-align:left;padding-bottom:0.3em">'
        f"{html.escape(caption)}</caption>"
        if caption
        else ""
    )
    return HTML(
        f'<table class="snnbook-table" style="{STYLE}">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )
