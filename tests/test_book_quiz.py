"""Answer every quiz of the built book in headless Chromium, right and wrong.

The built HTML (``_build/html``, or ``$BOOK_HTML``) is served over a loopback
HTTP server, as in tests/test_book_html.py. On every page that holds a quiz
(:mod:`snnbook.quiz`), for every question:

* multiple choice: click a right option, then a wrong one; each time the
  feedback must say "Right" or "Not quite", the clicked button must be marked
  (``data-state`` and ``aria-pressed``) and the option's own explanation, and
  only it, must be shown; with several right options, clicking all of them
  must report that all were found;
* numeric: type the right value (Enter), a value too high and one too low
  (Check button) and some text that is not a number; then "Show the answer".

The page must raise no script error, and MathJax must have typeset every
formula of the quiz, hidden explanations included.

Which pages must hold a quiz is derived from the sources: every notebook in
``chapters/`` (``$BOOK_SOURCE/chapters``) with a cell calling ``quiz.show(``
must have at least that many quizzes on its page, and every chapter listed in
:data:`CHAPTERS_WITH_QUIZZES` must have such a cell. Once the chapters carry
quizzes, a book without any quiz fails here.

Run after the book is built: ``pytest -m html`` (``make test`` does). The test
fails, never skips, when playwright, Chromium or the built book is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.html

ROOT = Path(__file__).resolve().parents[1]
HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))
SOURCE = Path(os.environ.get("BOOK_SOURCE", ROOT))
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")

#: Chapters that must carry at least one quiz (filled in as quizzes are added
#: to the chapters; the goal is every chapter, 1 to 8).
CHAPTERS_WITH_QUIZZES: list[int] = [1, 2, 3, 4, 5, 6, 7, 8, 9]

QUIZ_CALL = re.compile(r"\bquiz\.show\(")


# ------------------------------------------------------------------ what must be there
def quiz_calls(notebook: Path) -> int:
    cells = json.loads(notebook.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return len(QUIZ_CALL.findall(code))


def expected_quiz_pages() -> dict[str, int]:
    """{page path relative to the HTML root: number of quizzes its notebook shows}."""
    pages = {}
    for nb in sorted((SOURCE / "chapters").glob("*.ipynb")):
        n = quiz_calls(nb)
        if n:
            pages[nb.relative_to(SOURCE).with_suffix(".html").as_posix()] = n
    return pages


def test_listed_chapters_have_quizzes():
    notebooks = {int(p.name[:2]): p for p in (SOURCE / "chapters").glob("[0-9][0-9]_*.ipynb")}
    missing = [
        n for n in CHAPTERS_WITH_QUIZZES if n not in notebooks or not quiz_calls(notebooks[n])
    ]
    assert not missing, (
        f"chapters listed in CHAPTERS_WITH_QUIZZES without a quiz.show(...) cell: {missing}"
    )


# ------------------------------------------------------------------ browser and server


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as err:  # fail, never skip: the quizzes would go untested
        pytest.fail(f"playwright is not installed ({err}); run `make setup`")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (or set CHROMIUM)")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
            ],
        )
        yield b
        b.close()


def pages_with_quizzes() -> list[str]:
    found = []
    for path in sorted(HTML.rglob("*.html")):
        if "_static" in path.parts or "_sources" in path.parts:
            continue
        if 'class="snnbook-quiz ' in path.read_text(errors="replace"):
            found.append(path.relative_to(HTML).as_posix())
    return found


# ------------------------------------------------------------------ answering
def _feedback(q) -> dict:
    return q.evaluate(
        """q => { const fb = q.querySelector('.snnbook-quiz-feedback');
        const shown = Array.from(fb.querySelectorAll('[data-expl]')).filter(e => !e.hidden);
        return {state: fb.dataset.state || '',
                verdict: fb.querySelector('.snnbook-quiz-verdict').textContent,
                shown: shown.map(e => e.dataset.expl),
                visible: shown.map(e => e.offsetParent !== null && e.innerText.trim() !== '')}; }"""
    )


def answer_choice(q, where: str) -> list[str]:
    failures = []
    options = q.query_selector_all(".snnbook-quiz-option")
    right = [i for i, o in enumerate(options) if o.get_attribute("data-correct") == "1"]
    wrong = [i for i, o in enumerate(options) if o.get_attribute("data-correct") == "0"]
    multiple = q.get_attribute("data-multiple") == "1"
    if not right:
        return [f"{where}: no right option"]
    plan = [(i, True) for i in right] if multiple else [(right[0], True)]
    plan += [(i, False) for i in wrong[:1]]
    for i, correct in plan:
        options[i].click()
        fb = _feedback(q)
        want_state, want_word = ("right", "Right") if correct else ("wrong", "Not quite")
        state = options[i].get_attribute("data-state")
        if fb["state"] != want_state or want_word not in fb["verdict"]:
            failures.append(
                f"{where}: clicking {'a right' if correct else 'a wrong'} option {i} gave "
                f"feedback {fb['verdict']!r} (state {fb['state']!r})"
            )
        if state != want_state or options[i].get_attribute("aria-pressed") != "true":
            failures.append(
                f"{where}: option {i} not marked {want_state} after a click ({state!r})"
            )
        if fb["shown"] != [str(i)] or not all(fb["visible"]):
            failures.append(f"{where}: option {i}'s explanation not shown alone: {fb['shown']}")
        if multiple and correct and i == right[-1]:
            n = len(right)
            if f"{n} of {n} right answers found" not in fb["verdict"]:
                failures.append(f"{where}: all {n} right options clicked, but: {fb['verdict']!r}")
    return failures


def answer_numeric(q, where: str) -> list[str]:
    failures = []
    answer = float(q.get_attribute("data-answer"))
    tol = float(q.get_attribute("data-tol"))
    box = q.query_selector("input")
    step = max(10 * tol, 0.5 * abs(answer), 1.0)
    attempts = [
        (repr(answer), "Enter", "right", "Right", "right"),
        (repr(answer + step), "Check", "wrong", "too high", "wrong"),
        (repr(answer - step), "Check", "wrong", "too low", "wrong"),
        ("twelve", "Check", "invalid", "Please type a number", None),
    ]
    for typed, how, state, word, shown in attempts:
        box.fill(typed)
        if how == "Enter":
            box.press("Enter")
        else:
            q.query_selector(".snnbook-quiz-check").click()
        fb = _feedback(q)
        if fb["state"] != state or word not in fb["verdict"]:
            failures.append(
                f"{where}: typing {typed!r} ({how}) gave {fb['verdict']!r} (state {fb['state']!r})"
            )
        if shown and (fb["shown"] != [shown] or not all(fb["visible"])):
            failures.append(
                f"{where}: typing {typed!r} should show the {shown} text, shown {fb['shown']}"
            )
    q.query_selector(".snnbook-quiz-reveal").click()
    fb = _feedback(q)
    if "The answer is" not in fb["verdict"] or fb["shown"] != ["right"]:
        failures.append(f"{where}: 'Show the answer' gave {fb['verdict']!r}")
    return failures


def exercise_page(browser, server: str, rel: str) -> tuple[int, int, list[str]]:
    """Answer every quiz of one page; return (quizzes, questions, failures)."""
    failures: list[str] = []
    context = browser.new_context()
    context.route(
        "**/*",
        lambda r: (
            r.continue_() if r.request.url.startswith((server, "data:", "about:")) else r.abort()
        ),
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{server}/{rel}", wait_until="load")
    if page.evaluate("!!(window.MathJax && MathJax.startup)"):
        page.wait_for_function("MathJax.startup.promise", timeout=15_000)
        page.evaluate("MathJax.startup.promise")
    quizzes = page.query_selector_all(".snnbook-quiz")
    n_questions = 0
    for k, root in enumerate(quizzes):
        raw = root.evaluate("r => (r.textContent.match(/\\\\\\(|\\\\\\)/g) || []).length")
        if raw:
            failures.append(f"{rel}: quiz {k}: {raw} formula delimiters left untypeset")
        for j, q in enumerate(root.query_selector_all(".snnbook-quiz-q")):
            n_questions += 1
            where = f"{rel}: quiz {k}, question {j + 1}"
            kind = q.get_attribute("data-kind")
            if kind == "choice":
                failures += answer_choice(q, where)
            elif kind == "numeric":
                failures += answer_numeric(q, where)
            else:
                failures.append(f"{where}: unknown kind {kind!r}")
    errors = [e for e in errors if "favicon.ico" not in e]
    if errors:
        failures.append(f"{rel}: script errors: {errors[:3]}")
    context.close()
    return len(quizzes), n_questions, failures


def test_every_quiz_answers_right_and_wrong(server, browser):
    expected = expected_quiz_pages()
    found = pages_with_quizzes()
    failures = [
        f"{rel}: its notebook shows {n} quiz(zes), the page has none"
        for rel, n in expected.items()
        if rel not in found
    ]
    if expected and not found:
        failures.append("the sources show quizzes, but the built book has none")
    n_quizzes = n_questions = 0
    for rel in found:
        quizzes, questions, page_failures = exercise_page(browser, server, rel)
        if quizzes < expected.get(rel, 0):
            page_failures.append(f"{rel}: {quizzes} quizzes on the page, {expected[rel]} expected")
        if quizzes == 0 or questions == 0:
            page_failures.append(f"{rel}: the page holds quiz HTML but no working quiz")
        n_quizzes += quizzes
        n_questions += questions
        failures += page_failures
    assert not failures, "\n".join(failures)
    print(f"answered {n_questions} questions in {n_quizzes} quizzes on {len(found)} pages")
