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


def _cell(value: Any, fmt: Format | None) -> str:
    if value is None:
        return "–"
    if fmt is None:
        if isinstance(value, float):
            return f"{value:.4g}"
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value:,}"
        return str(value)
    return fmt(value) if callable(fmt) else fmt.format(value)


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
    if isinstance(rows, Mapping) or not isinstance(rows, Sequence) or not rows:
        raise ValueError("rows must be a non-empty list of dicts, one per table row")
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise TypeError(f"rows[{i}] must be a dict (column -> value), got {type(row).__name__}")
    if columns is None:
        columns = list(rows[0])
    headings = dict(columns) if isinstance(columns, Mapping) else {c: c for c in columns}
    formats = dict(formats or {})
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
        sample = rows[0][key]
        return (
            "right" if isinstance(sample, int | float) and not isinstance(sample, bool) else "left"
        )

    head = "".join(
        f'<th style="{_TH.format(align=align(k))}">{html.escape(h)}</th>'
        for k, h in headings.items()
    )
    body = []
    for row in rows:
        weight = ";font-weight:bold" if bold is not None and bold(row) else ""
        cells = "".join(
            f'<td style="{_TD.format(align=align(k))}{weight}">'
            f"{html.escape(_cell(row[k], formats.get(k)))}</td>"
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
