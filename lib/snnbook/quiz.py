"""Quizzes that answer on click, in Jupyter and in the static HTML book.

A reader of the web book has no kernel, so a quiz cannot call Python. This
module writes each quiz as one small self-contained piece of HTML with its own
JavaScript (no external assets, no network), emitted as a cell's output, like
the interactive figures of :mod:`snnbook.widgets`::

    from snnbook import quiz

    quiz.show(
        quiz.multiple_choice(
            "What does error diffusion do with the part of a spike it cannot send?",
            {
                "It carries it into the next step": (True, "The remainder v stays in [0, 1)."),
                "It throws it away": (False, "That is per-step rounding."),
            },
        ),
        quiz.numeric("Bits per activity for counts 0 to 8?", 3.17, 0.01,
                     "Nine levels: log2(9) = 3.17."),
    )

* :func:`multiple_choice`: one or several right options; every option has an
  explanation, shown when the reader clicks it, with "Right" or "Not quite".
  With several right options the question says so and counts the ones found.
* :func:`numeric`: a typed number, right within ``tol``; "too high" or
  "too low" otherwise (with an optional hint), and a button that shows the
  answer.
* :func:`show`: the questions as one quiz (a display object; put it last in a
  cell, and tag the cell ``remove-input`` so the answers are not printed above).

Text may hold inline math, ``$...$`` (typeset by MathJax in the book), and
``code`` in backticks; everything else is escaped. Feedback is announced to
screen readers (``aria-live``), options are real buttons (keyboard usable),
states are marked by a symbol and not by colour alone, and colours follow the
book's light and dark themes. Every quiz gets its own ids, so a page may hold
several.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from . import checks

__all__ = ["Option", "MultipleChoice", "Numeric", "Quiz", "multiple_choice", "numeric", "show"]

_counter = itertools.count(1)


# ------------------------------------------------------------------ questions
@dataclass(frozen=True)
class Option:
    """One answer of a multiple-choice question."""

    text: str
    correct: bool
    explanation: str


@dataclass(frozen=True)
class MultipleChoice:
    """A question with one or several right options (see :func:`multiple_choice`)."""

    question: str
    options: tuple[Option, ...]

    @property
    def n_correct(self) -> int:
        return sum(o.correct for o in self.options)


@dataclass(frozen=True)
class Numeric:
    """A question answered by a number within a tolerance (see :func:`numeric`)."""

    question: str
    answer: float
    tol: float
    explanation: str
    hint: str = ""
    unit: str = ""


def _text(name: str, value: object, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {value!r} ({type(value).__name__})")
    if not allow_empty and not value.strip():
        raise ValueError(f"{name} is empty; write the text the reader should see")
    return value.strip()


def multiple_choice(question: str, options: Mapping[str, tuple[bool, str]]) -> MultipleChoice:
    """A multiple-choice question: ``options`` maps each option's text to ``(correct, explanation)``.

    At least two options and at least one right one. With more than one right
    option the reader is told to choose every right answer. Options are shown
    in the order given.
    """
    question = _text("question", question)
    if not isinstance(options, Mapping):
        raise TypeError(
            "options must be a dict {option text: (correct, explanation)}, got "
            f"{type(options).__name__}"
        )
    if len(options) < 2:
        raise ValueError(f"give at least two options, got {len(options)}")
    parsed = []
    for text, value in options.items():
        text = _text("option text", text)
        if not isinstance(value, tuple) or len(value) != 2:
            raise TypeError(
                f"option {text!r} must map to a pair (correct, explanation), got {value!r}"
            )
        correct, explanation = value
        checks.boolean(f"correct of option {text!r}", correct)
        explanation = _text(f"explanation of option {text!r}", explanation)
        parsed.append(Option(text, correct, explanation))
    if len({o.text for o in parsed}) != len(parsed):
        raise ValueError("two options have the same text (after stripping spaces)")
    if not any(o.correct for o in parsed):
        raise ValueError(
            f"no option of {question[:50]!r} is marked correct; mark the right one(s) True"
        )
    return MultipleChoice(question, tuple(parsed))


def numeric(
    question: str,
    answer: float,
    tol: float,
    explanation: str,
    *,
    hint: str = "",
    unit: str = "",
) -> Numeric:
    """A question answered by a number: right if ``|typed - answer| <= tol``.

    ``explanation`` is shown with a right answer (and by "Show the answer");
    ``hint`` is shown with a wrong one. ``unit`` is printed after the box.
    """
    question = _text("question", question)
    answer = checks.number("answer", answer)
    tol = checks.number("tol", tol, low=0.0, hint="the tolerance is a number >= 0")
    explanation = _text("explanation", explanation)
    hint = _text("hint", hint, allow_empty=True)
    unit = _text("unit", unit, allow_empty=True)
    return Numeric(question, answer, tol, explanation, hint, unit)


# ------------------------------------------------------------------ rendering
_MATH_OR_CODE = re.compile(r"`([^`]+)`|\$([^$]+)\$")


def _inline(text: str) -> str:
    """Escape ``text`` for HTML; ``$math$`` becomes ``\\(math\\)``, ```code``` becomes <code>."""
    out, last = [], 0
    for m in _MATH_OR_CODE.finditer(text):
        out.append(html.escape(text[last : m.start()]))
        if m.group(1) is not None:
            out.append(f"<code>{html.escape(m.group(1))}</code>")
        else:
            out.append(f"\\({html.escape(m.group(2))}\\)")
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


_STYLE = """<style>
.snnbook-quiz{border:1px solid rgba(128,128,128,.45);border-radius:6px;padding:.5em 1em .8em;
 margin:1em 0;color:inherit;background:transparent}
.snnbook-quiz-title{font-weight:bold;margin:.2em 0 .4em}
.snnbook-quiz-q{margin:.8em 0 0}
.snnbook-quiz-text{margin:.2em 0}
.snnbook-quiz-instr{margin:.1em 0 .3em;font-size:.9em;opacity:.8}
.snnbook-quiz button{font:inherit;color:inherit;background:transparent;cursor:pointer;
 border:1px solid rgba(128,128,128,.6);border-radius:4px;padding:.35em .7em}
.snnbook-quiz button:hover{background:rgba(128,128,128,.14)}
.snnbook-quiz button:focus-visible,.snnbook-quiz input:focus-visible{
 outline:2px solid var(--pst-color-primary,#3b82f6);outline-offset:2px}
.snnbook-quiz-option{display:block;width:100%;text-align:left;margin:.3em 0}
.snnbook-quiz-option[data-state=right]{border:2px solid var(--pst-color-success,#2e9d48)}
.snnbook-quiz-option[data-state=wrong]{border:2px solid var(--pst-color-danger,#d64545)}
.snnbook-quiz-option[data-state=right]::before{content:"\\2713\\00a0";font-weight:bold}
.snnbook-quiz-option[data-state=wrong]::before{content:"\\2717\\00a0";font-weight:bold}
.snnbook-quiz input{font:inherit;color:inherit;background:transparent;width:8em;
 border:1px solid rgba(128,128,128,.6);border-radius:4px;padding:.3em .5em}
.snnbook-quiz-feedback{margin:.4em 0 0;padding:0 .7em;border-left:4px solid transparent}
.snnbook-quiz-feedback[data-state=right]{border-left-color:var(--pst-color-success,#2e9d48)}
.snnbook-quiz-feedback[data-state=wrong]{border-left-color:var(--pst-color-danger,#d64545)}
.snnbook-quiz-feedback[data-state=shown],.snnbook-quiz-feedback[data-state=invalid]{
 border-left-color:rgba(128,128,128,.6)}
.snnbook-quiz-verdict{font-weight:bold}
.snnbook-quiz code{color:inherit;background:rgba(128,128,128,.18);border:none;border-radius:3px;
 padding:0 .25em}
</style>"""

# One script per quiz, bound to its root element by id. Options and answers
# are data attributes, explanations hidden elements that are revealed (so
# MathJax typesets them with the page).
_SCRIPT = """<script>(function(){
var root=document.getElementById(__UID__);if(!root||root.dataset.ready)return;root.dataset.ready="1";
function $(el,sel){return el.querySelector(sel);}
function $$(el,sel){return Array.prototype.slice.call(el.querySelectorAll(sel));}
function say(q,state,verdict,show){var fb=$(q,".snnbook-quiz-feedback");fb.dataset.state=state;
 $(fb,".snnbook-quiz-verdict").textContent=verdict;
 $$(fb,"[data-expl]").forEach(function(e){e.hidden=(e.dataset.expl!==show);});}
$$(root,".snnbook-quiz-q[data-kind=choice]").forEach(function(q){
 var multi=q.dataset.multiple==="1",opts=$$(q,".snnbook-quiz-option");
 var total=opts.filter(function(b){return b.dataset.correct==="1";}).length;
 opts.forEach(function(b,i){b.addEventListener("click",function(){
  var ok=b.dataset.correct==="1";
  if(!multi){opts.forEach(function(o){o.setAttribute("aria-pressed","false");delete o.dataset.state;});}
  b.setAttribute("aria-pressed","true");b.dataset.state=ok?"right":"wrong";
  var verdict=ok?"\\u2713 Right.":"\\u2717 Not quite.";
  if(multi){var found=opts.filter(function(o){return o.dataset.state==="right";}).length;
   verdict+=" ("+found+" of "+total+" right answers found.)";}
  say(q,ok?"right":"wrong",verdict,String(i));});});});
$$(root,".snnbook-quiz-q[data-kind=numeric]").forEach(function(q){
 var input=$(q,"input"),answer=parseFloat(q.dataset.answer),tol=parseFloat(q.dataset.tol);
 function grade(){var text=input.value.trim().replace(",",".");
  if(!/^[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?$/.test(text)){
   say(q,"invalid","Please type a number, such as 0.5 or 2e-3.","");return;}
  var x=parseFloat(text),ok=Math.abs(x-answer)<=tol+1e-9*Math.abs(answer);
  input.setAttribute("aria-invalid",ok?"false":"true");
  if(ok){say(q,"right","\\u2713 Right.","right");}
  else{say(q,"wrong","\\u2717 Not quite: "+(x>answer?"too high.":"too low."),"wrong");}}
 $(q,".snnbook-quiz-check").addEventListener("click",grade);
 input.addEventListener("keydown",function(e){if(e.key==="Enter"){e.preventDefault();grade();}});
 $(q,".snnbook-quiz-reveal").addEventListener("click",function(){
  say(q,"shown","The answer is "+q.dataset.display+".","right");});});
})();</script>"""


def _fmt_number(x: float) -> str:
    return f"{x:.6g}"


class Quiz:
    """The display object of :func:`show`: renders as self-contained HTML in a cell's output."""

    def __init__(self, questions: tuple[MultipleChoice | Numeric, ...], title: str) -> None:
        self.questions = questions
        self.title = title
        digest = hashlib.sha1(repr((questions, title)).encode()).hexdigest()[:10]
        self.uid = f"snnbook-quiz-{digest}-{next(_counter)}"

    def _choice(self, q: MultipleChoice, qid: str) -> str:
        multiple = q.n_correct > 1
        instr = (
            f"Choose every right answer ({q.n_correct} are right)."
            if multiple
            else "Choose one answer."
        )
        buttons, expl = [], []
        for i, o in enumerate(q.options):
            buttons.append(
                f'<button type="button" class="snnbook-quiz-option" aria-pressed="false" '
                f'data-correct="{int(o.correct)}" aria-describedby="{qid}-fb">'
                f"{_inline(o.text)}</button>"
            )
            expl.append(f'<div data-expl="{i}" hidden>{_inline(o.explanation)}</div>')
        return (
            f'<div class="snnbook-quiz-q" role="group" aria-labelledby="{qid}-text" '
            f'data-kind="choice" data-multiple="{int(multiple)}">'
            f'<p class="snnbook-quiz-text" id="{qid}-text">{_inline(q.question)}</p>'
            f'<p class="snnbook-quiz-instr">{instr}</p>'
            f'<div class="snnbook-quiz-options">{"".join(buttons)}</div>'
            f'<div class="snnbook-quiz-feedback" id="{qid}-fb" role="status" aria-live="polite">'
            f'<span class="snnbook-quiz-verdict"></span>{"".join(expl)}</div></div>'
        )

    def _numeric(self, q: Numeric, qid: str) -> str:
        unit = f" {_inline(q.unit)}" if q.unit else ""
        hint = q.hint or "Check your working and try again."
        return (
            f'<div class="snnbook-quiz-q" role="group" aria-labelledby="{qid}-text" '
            f'data-kind="numeric" data-answer="{q.answer!r}" data-tol="{q.tol!r}" '
            f'data-display="{html.escape(_fmt_number(q.answer) + (" " + q.unit if q.unit else ""))}">'
            f'<p class="snnbook-quiz-text" id="{qid}-text">{_inline(q.question)}</p>'
            f'<label for="{qid}-in">Your answer: </label>'
            f'<input id="{qid}-in" type="text" inputmode="decimal" autocomplete="off" '
            f'aria-describedby="{qid}-fb">{unit} '
            '<button type="button" class="snnbook-quiz-check">Check</button> '
            '<button type="button" class="snnbook-quiz-reveal">Show the answer</button>'
            f'<div class="snnbook-quiz-feedback" id="{qid}-fb" role="status" aria-live="polite">'
            '<span class="snnbook-quiz-verdict"></span>'
            f'<div data-expl="right" hidden>{_inline(q.explanation)}</div>'
            f'<div data-expl="wrong" hidden>{_inline(hint)}</div></div></div>'
        )

    def to_html(self) -> str:
        """The quiz as one self-contained HTML fragment (style, markup, script)."""
        parts = []
        for k, q in enumerate(self.questions, start=1):
            qid = f"{self.uid}-q{k}"
            parts.append(
                self._choice(q, qid) if isinstance(q, MultipleChoice) else self._numeric(q, qid)
            )
        title = f'<p class="snnbook-quiz-title">{_inline(self.title)}</p>' if self.title else ""
        return (
            f'<div class="snnbook-quiz mathjax_process" id="{self.uid}">{_STYLE}{title}'
            f"{''.join(parts)}</div>" + _SCRIPT.replace("__UID__", json.dumps(self.uid))
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return f"<quiz of {len(self.questions)} question(s): {self.title!r}>"


def show(*questions: MultipleChoice | Numeric, title: str = "Check your understanding") -> Quiz:
    """One quiz of the given questions, displayed when it is the last value of a cell."""
    if not questions:
        raise ValueError("give at least one question: show(multiple_choice(...), numeric(...))")
    for i, q in enumerate(questions):
        if not isinstance(q, MultipleChoice | Numeric):
            raise TypeError(
                f"question {i + 1} must come from quiz.multiple_choice or quiz.numeric, "
                f"got {type(q).__name__}"
            )
    title = _text("title", title, allow_empty=True)
    return Quiz(tuple(questions), title)
