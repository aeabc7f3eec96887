"""snnbook.tables.table: the HTML it builds, parsed back by an independent HTML parser."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pytest
import torch
from conftest import assert_refuses, refuse

from snnbook.tables import table


class Cells(HTMLParser):
    """Collect caption, header and body cells (text and style) of one table."""

    def __init__(self, markup: str):
        super().__init__()
        self.caption, self.head, self.body, self._cell, self._row = "", [], [], None, None
        self._in_caption = False
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "caption":
            self._in_caption = True
        elif tag == "tr":
            self._row = []
        elif tag in ("th", "td"):
            self._cell = [tag, "", attrs.get("style", "")]

    def handle_endtag(self, tag):
        if tag == "caption":
            self._in_caption = False
        elif tag in ("th", "td"):
            self._row.append(tuple(self._cell))
            self._cell = None
        elif tag == "tr":
            (self.head if self._row and self._row[0][0] == "th" else self.body).append(self._row)

    def handle_data(self, data):
        if self._in_caption:
            self.caption += data
        elif self._cell is not None:
            self._cell[1] += data

    def texts(self):
        return [[c[1] for c in row] for row in self.body]


ROWS = [
    {"method": "ANN", "accuracy": 0.8734, "steps": 12000, "note": None},
    {"method": "SNN <T=16>", "accuracy": 0.85, "steps": 3000, "note": "a & b"},
]


def parse(**kwargs):
    return Cells(table(ROWS, **kwargs).data)


def test_default_columns_formats_and_alignment():
    t = parse()
    assert [c[1] for c in t.head[0]] == ["method", "accuracy", "steps", "note"]
    assert t.texts() == [
        ["ANN", "0.8734", "12,000", "–"],
        ["SNN <T=16>", "0.85", "3,000", "a & b"],
    ]
    aligns = [c[2].rsplit("text-align:", 1)[1].split(";")[0] for c in t.body[0]]
    assert aligns == ["left", "right", "right", "left"]


def test_text_is_escaped():
    markup = table(ROWS, caption="<b>best</b> & worst").data
    assert "<T=16>" not in markup and "&lt;T=16&gt;" in markup
    assert "a &amp; b" in markup
    assert Cells(markup).caption == "<b>best</b> & worst"


def test_columns_select_order_and_rename():
    t = parse(columns={"accuracy": "test accuracy", "method": "model"})
    assert [c[1] for c in t.head[0]] == ["test accuracy", "model"]
    assert t.texts()[0] == ["0.8734", "ANN"]


def test_formats_strings_and_functions():
    t = parse(
        columns=["method", "accuracy", "steps"],
        formats={"accuracy": "{:.1%}", "steps": lambda v: f"{v / 1000:g} k"},
    )
    assert t.texts() == [["ANN", "87.3%", "12 k"], ["SNN <T=16>", "85.0%", "3 k"]]


def test_bold_rows():
    t = parse(bold=lambda row: row["accuracy"] > 0.86)
    assert all("font-weight:bold" in c[2] for c in t.body[0])
    assert not any("font-weight:bold" in c[2] for c in t.body[1])


def test_numpy_and_torch_numbers_print_like_python_numbers():
    rows = [{"a": np.float32(0.25), "b": np.int64(12000), "c": torch.tensor(0.5)}]
    t = Cells(table(rows).data)
    assert t.texts() == [["0.25", "12,000", "0.5"]]
    assert all("text-align:right" in c[2] for c in t.body[0])


def test_alignment_looks_past_missing_values():
    rows = [{"x": None}, {"x": 3.5}]
    t = Cells(table(rows).data)
    assert "text-align:right" in t.body[0][0][2]


def test_notebook_and_book_see_the_same_html():
    obj = table(ROWS)
    assert obj._repr_html_() == obj.data
    assert obj.data.startswith('<table class="snnbook-table"')


BAD_INPUTS = [
    refuse(lambda: table([]), ValueError, "rows", "non-empty", id="rows-empty"),
    refuse(lambda: table({"a": 1}), TypeError, "rows", "dict", id="rows-dict"),
    refuse(lambda: table("abc"), TypeError, "rows", "str", id="rows-str"),
    refuse(lambda: table([{"a": 1}, [1]]), TypeError, "rows[1]", "dict", id="row-list"),
    refuse(lambda: table([{}]), ValueError, "no columns", id="rows-no-columns"),
    refuse(lambda: table([{"a": 1}, {"b": 2}]), ValueError, "rows[1]", "['a']", id="row-missing-column"),
    refuse(lambda: table(ROWS, columns=["method", "speed"]), ValueError, "rows[0]", "speed", id="columns-unknown"),
    refuse(lambda: table(ROWS, columns="method"), TypeError, "columns", id="columns-str"),
    refuse(lambda: table(ROWS, columns=3), TypeError, "columns", id="columns-int"),
    refuse(lambda: table(ROWS, columns={"method": 1}), TypeError, "heading", "'method'", id="heading-int"),
    refuse(lambda: table(ROWS, formats={"speed": "{:.1f}"}), ValueError, "formats", "speed", id="formats-unknown"),
    refuse(lambda: table(ROWS, formats=["{:.1f}"]), TypeError, "formats", id="formats-list"),
    refuse(lambda: table(ROWS, formats={"steps": 3}), TypeError, "formats['steps']", id="format-int"),
    refuse(lambda: table(ROWS, formats={"method": "{:.1%}"}), ValueError, "rows[0]['method']", "{:.1%}", id="format-mismatch"),
    refuse(lambda: table(ROWS, formats={"steps": lambda v: v}), TypeError, "rows[0]['steps']", "not a string", id="format-returns-int"),
    refuse(lambda: table(ROWS, caption=3), TypeError, "caption", id="caption-int"),
    refuse(lambda: table(ROWS, bold="accuracy"), TypeError, "bold", id="bold-str"),
]  # fmt: skip


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)
