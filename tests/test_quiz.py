"""The offline quizzes (snnbook.quiz): the HTML they generate, and the inputs they refuse.

What the quizzes *do* in a browser (feedback on click) is tested by
tests/test_book_quiz.py on the built book.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from conftest import assert_refuses, refuse

from snnbook import quiz


class Collector(HTMLParser):
    """Every start tag as (tag, attrs); every id; the text outside <style> and <script>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.ids: list[str] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag in ("style", "script"):
            self._in = tag

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in == "script":
            self.scripts.append(data)
        elif self._in is None:
            self.text.append(data)

    def find(self, tag: str, **attrs) -> list[dict]:
        return [
            a
            for t, a in self.tags
            if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]


def parse(text: str) -> Collector:
    c = Collector()
    c.feed(text)
    c.close()
    return c


def sample() -> quiz.Quiz:
    return quiz.show(
        quiz.multiple_choice(
            "Which reset keeps the overshoot $U - \\theta$?",
            {
                "Subtractive reset": (True, "It removes exactly $\\theta$."),
                "Reset to zero": (False, "It throws the overshoot away."),
                "No reset": (False, "Then the neuron fires at every step."),
            },
        ),
        quiz.multiple_choice(
            "Which are true of `snn.Leaky`?",
            {
                "The reset acts one step after the spike": (True, "reset_delay=True."),
                "It fires when U > threshold": (True, "Strictly above."),
                "It never leaks": (False, "beta < 1 leaks."),
            },
        ),
        quiz.numeric(
            "Bits per activity for counts 0 to 8?",
            3.17,
            0.01,
            "Nine levels: log2(9) = 3.17.",
            hint="Count the levels, including 0.",
            unit="bits",
        ),
    )


# ------------------------------------------------------------------ structure
def test_structure_of_the_html():
    q = sample()
    page = parse(q.to_html())
    root = page.find("div", id=q.uid)
    assert len(root) == 1 and "snnbook-quiz" in root[0]["class"]
    questions = [a for t, a in page.tags if "snnbook-quiz-q" in a.get("class", "").split()]
    assert [a["data-kind"] for a in questions] == ["choice", "choice", "numeric"]
    assert [a.get("data-multiple") for a in questions] == ["0", "1", None]
    assert all(a["role"] == "group" and a["aria-labelledby"] in page.ids for a in questions)
    options = page.find("button", **{"class": "snnbook-quiz-option"})
    assert [o["data-correct"] for o in options] == ["1", "0", "0", "1", "1", "0"]
    assert all(o["type"] == "button" and o["aria-pressed"] == "false" for o in options)
    feedback = [a for t, a in page.tags if a.get("class") == "snnbook-quiz-feedback"]
    assert len(feedback) == 3
    assert all(f["aria-live"] == "polite" and f["role"] == "status" for f in feedback)
    # one explanation per option, hidden until clicked; right/wrong texts for the number
    explanations = [a for t, a in page.tags if "data-expl" in a]
    assert [e["data-expl"] for e in explanations] == [
        "0",
        "1",
        "2",
        "0",
        "1",
        "2",
        "right",
        "wrong",
    ]
    assert all("hidden" in e for e in explanations)
    numeric = questions[2]
    assert float(numeric["data-answer"]) == 3.17 and float(numeric["data-tol"]) == 0.01
    assert numeric["data-display"] == "3.17 bits"
    box = page.find("input")
    assert len(box) == 1 and box[0]["id"] in [
        a["for"] for t, a in page.tags if t == "label" and "for" in a
    ]
    assert "Choose every right answer (2 are right)." in "".join(page.text)
    assert "Choose one answer." in "".join(page.text)


def test_self_contained_no_external_assets():
    text = sample().to_html()
    assert not re.search(r"\b(src|href)\s*=", text), "a quiz must not load anything"
    assert "http" not in text and "//cdn" not in text
    page = parse(text)
    assert len(page.scripts) == 1 and json.dumps(sample().uid)[:14] in page.scripts[0]


def test_text_is_escaped_and_math_is_marked_for_mathjax():
    q = quiz.show(
        quiz.multiple_choice(
            "Is <b>bold</b> & <script>alert(1)</script> shown as text, with $a < b$?",
            {"yes <i>": (True, "escaped & safe"), "no": (False, "`x<y` is code")},
        )
    )
    text = q.to_html()
    assert "<b>bold</b>" not in text and "<script>alert(1)" not in text
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "\\(a &lt; b\\)" in text  # inline math for MathJax, escaped
    assert "yes &lt;i&gt;" in text and "escaped &amp; safe" in text
    assert "<code>x&lt;y</code>" in text
    assert "mathjax_process" in text


def test_ids_are_unique_within_and_across_quizzes():
    first, second = sample(), sample()  # the same questions twice on one page
    assert first.uid != second.uid
    page = parse(first.to_html() + second.to_html())
    assert len(page.ids) == len(set(page.ids)), "duplicate ids on a page with two quizzes"
    assert all(i.startswith("snnbook-quiz-") for i in page.ids)


def test_display_in_a_notebook():
    q = sample()
    assert q._repr_html_() == q.to_html()
    assert repr(q) == "<quiz of 3 question(s): 'Check your understanding'>"
    untitled = quiz.show(quiz.numeric("1 + 1?", 2, 0, "Two."), title="")
    assert 'class="snnbook-quiz-title"' not in untitled.to_html()


def test_questions_keep_what_was_given():
    mc = quiz.multiple_choice("Q?", {" a ": (True, "x"), "b": (False, "y")})
    assert [o.text for o in mc.options] == ["a", "b"] and mc.n_correct == 1
    num = quiz.numeric("Q?", 3, 0.5, "E")
    assert (num.answer, num.tol, num.hint, num.unit) == (3.0, 0.5, "", "")


def test_script_grades_with_the_stated_rule():
    """The JavaScript compares |x - answer| <= tol and handles the keyboard; read it here."""
    script = parse(sample().to_html()).scripts[0]
    assert "Math.abs(x-answer)<=tol" in script
    assert 'e.key==="Enter"' in script
    assert "too high" in script and "too low" in script
    assert "Right." in script and "Not quite." in script


# ------------------------------------------------------------------ bad input
def _mc(options):
    return lambda: quiz.multiple_choice("Q?", options)


BAD_INPUTS = [
    refuse(_mc({"a": (False, "x"), "b": (False, "y")}), ValueError, "no option", "correct"),
    refuse(_mc({"a": (True, "x")}), ValueError, "at least two options"),
    refuse(_mc([("a", True, "x"), ("b", False, "y")]), TypeError, "options", "dict"),
    refuse(_mc({"a": True, "b": (False, "y")}), TypeError, "(correct, explanation)"),
    refuse(_mc({"a": (1, "x"), "b": (False, "y")}), TypeError, "correct", "True or False"),
    refuse(_mc({"a": (True, ""), "b": (False, "y")}), ValueError, "explanation", "empty"),
    refuse(_mc({"a": (True, 3), "b": (False, "y")}), TypeError, "explanation"),
    refuse(_mc({"": (True, "x"), "b": (False, "y")}), ValueError, "option text", "empty"),
    refuse(_mc({"a": (True, "x"), " a": (False, "y")}), ValueError, "same text"),
    refuse(lambda: quiz.multiple_choice("", {"a": (True, "x"), "b": (False, "y")}), ValueError, "question"),
    refuse(lambda: quiz.multiple_choice(None, {"a": (True, "x")}), TypeError, "question"),
    refuse(lambda: quiz.numeric("Q?", float("nan"), 0.1, "E"), ValueError, "answer"),
    refuse(lambda: quiz.numeric("Q?", "3", 0.1, "E"), TypeError, "answer"),
    refuse(lambda: quiz.numeric("Q?", 3.0, -0.1, "E"), ValueError, "tol"),
    refuse(lambda: quiz.numeric("Q?", 3.0, float("inf"), "E"), ValueError, "tol"),
    refuse(lambda: quiz.numeric("Q?", 3.0, 0.1, ""), ValueError, "explanation"),
    refuse(lambda: quiz.numeric("Q?", 3.0, 0.1, "E", hint=5), TypeError, "hint"),
    refuse(lambda: quiz.numeric("Q?", True, 0.1, "E"), TypeError, "answer"),
    refuse(lambda: quiz.show(), ValueError, "at least one question"),
    refuse(lambda: quiz.show("What?"), TypeError, "question 1", "quiz.multiple_choice"),
    refuse(lambda: quiz.show(quiz.numeric("Q?", 1, 0, "E"), title=None), TypeError, "title"),
]  # fmt: skip


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)
