"""Open every page of the built book in headless Chromium, as a reader would.

The built HTML (``_build/html``, or ``$BOOK_HTML``) is served over a loopback
HTTP server. For each page the test asserts that

* every piece of math is typeset by MathJax (no raw TeX left on the page),
* every image has loaded,
* the browser console shows no error and no script throws,
* no request leaves the machine: every request that is not ``file:``,
  ``data:``, ``blob:`` or loopback is recorded, blocked and fails the test,
* each interactive figure (``snnbook.widgets.explore``) shows another frame
  when each of its sliders moves.

Run after the book is built: ``pytest -m html`` (``make test`` does).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.html

ROOT = Path(__file__).resolve().parents[1]
HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))

GET_CHROMIUM = (
    "Debian/Ubuntu: sudo apt-get install chromium (make test does this when run as root); "
    "macOS: brew install --cask chromium; anywhere: .venv/bin/playwright install chromium; "
    "or point CHROMIUM at a Chromium or Chrome binary"
)


def find_chromium() -> str | None:
    """The browser to drive: ``$CHROMIUM``, a Chromium or Chrome on PATH or in macOS's
    Applications, else None (then Playwright's own download, if there is one).

    scripts/system-deps.sh searches the same places.
    """
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if found := shutil.which(name):
            return found
    for app in (
        "/Applications/Chromium.app/Contents/MacOS/Chromium",
        "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    ):
        if Path(app).is_file():
            return app
    return None


LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
LOCAL_SCHEMES = {"file", "data", "blob", "about"}

#: Console messages that are known, explained and harmless. Keep this empty
#: unless a message is understood; each entry needs a reason.
ALLOWED_CONSOLE = [
    # pydata-sphinx-theme reports a missing favicon as a 404 resource error.
    re.compile(r"Failed to load resource: .*favicon\.ico"),
]


def book_pages() -> list[Path]:
    skip = {"genindex.html", "search.html"}
    return sorted(
        p
        for p in HTML.rglob("*.html")
        if "_static" not in p.parts
        and "_sources" not in p.parts
        and p.name not in skip
        # index.html only redirects to the root page
        and not (p.name == "index.html" and p.parent == HTML)
    )


@pytest.fixture(scope="module")
def browser():
    # A missing browser or Playwright fails the test: it must never pass unchecked.
    try:
        from playwright import sync_api
    except ImportError as err:
        pytest.fail(
            f"the browser test needs Playwright, which does not import ({err}): it is in "
            "requirements.lock, so run `make setup` (or .venv/bin/pip install playwright)"
        )
    chromium = find_chromium()
    if chromium is not None and not Path(chromium).is_file():
        pytest.fail(f"Chromium not found at {chromium} (from $CHROMIUM): {GET_CHROMIUM}")
    with sync_api.sync_playwright() as p:
        if chromium is None and not Path(p.chromium.executable_path).is_file():
            pytest.fail(f"no Chromium or Chrome found: {GET_CHROMIUM}")
        b = p.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


def _is_local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in LOCAL_SCHEMES or (parsed.hostname or "") in LOOPBACK


def _router(external: list[str]):
    """A route handler that lets local requests through and blocks the rest."""

    def route(r):
        if _is_local(r.request.url):
            r.continue_()
        else:
            external.append(r.request.url)
            r.abort()

    return route


def _console_listener(errors: list[str]):
    def listener(message):
        if message.type == "error":
            errors.append(message.text)

    return listener


def _pageerror_listener(errors: list[str]):
    def listener(error):
        errors.append(f"uncaught: {error}")

    return listener


def test_built_html_has_no_remote_scripts_or_styles():
    """Static check: no <script src> or <link href> points off the machine."""
    if not (HTML / "intro.html").is_file():
        pytest.fail(f"no built book at {HTML}: run `make book` (or `make test`) first")
    pattern = re.compile(r"<(?:script|link)\b[^>]*(?:src|href)=\"(https?:)?//", re.I)
    offenders = [
        str(p.relative_to(HTML)) for p in HTML.rglob("*.html") if pattern.search(p.read_text())
    ]
    assert not offenders, f"pages load scripts or styles from the network: {offenders}"


def test_pages_render_offline(server, browser):
    pages = book_pages()
    assert pages, f"no pages found in {HTML}"
    failures: list[str] = []
    n_figures = 0
    for path in pages:
        rel = path.relative_to(HTML).as_posix()
        context = browser.new_context()
        external: list[str] = []
        errors: list[str] = []
        context.route("**/*", _router(external))
        page = context.new_page()
        page.on("console", _console_listener(errors))
        page.on("pageerror", _pageerror_listener(errors))
        page.goto(f"{server}/{rel}", wait_until="load")

        # MathJax: wait until it has typeset the page, then look for raw TeX.
        has_math = page.evaluate("document.querySelectorAll('.math').length") > 0
        if has_math:
            try:
                page.wait_for_function(
                    "window.MathJax && MathJax.startup && MathJax.startup.promise",
                    timeout=15_000,
                )
                page.evaluate("MathJax.startup.promise")
            except Exception as err:  # noqa: BLE001 - reported below with the page name
                failures.append(f"{rel}: MathJax did not start ({type(err).__name__})")
            raw = page.evaluate(
                "Array.from(document.querySelectorAll('.math'))"
                ".filter(e => !e.querySelector('mjx-container'))"
                ".map(e => e.textContent.slice(0, 60))"
            )
            if raw:
                failures.append(f"{rel}: {len(raw)} math elements not typeset, e.g. {raw[:2]}")
        leftover = page.evaluate(
            r"(() => { const t = document.querySelector('main')?.innerText || '';"
            r" return (t.match(/\\\(|\\\[|\$\$/g) || []).length; })()"
        )
        if leftover:
            failures.append(f"{rel}: {leftover} raw TeX delimiters left in the text")

        broken = page.evaluate(
            "Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
            ".map(i => i.src.slice(0, 80))"
        )
        if broken:
            failures.append(f"{rel}: images did not load: {broken}")

        # Interactive figures: every slider must change the frame shown.
        figures = page.query_selector_all(".snnbook-explore")
        for k, fig in enumerate(figures):
            n_figures += 1
            img = fig.query_selector("img")
            for slider in fig.query_selector_all("input[type=range]"):
                before = img.get_attribute("src")
                value, top = int(slider.input_value()), int(slider.get_attribute("max"))
                new = 0 if value != 0 else top
                slider.fill(str(new))  # sets the value and fires `input`
                after = img.get_attribute("src")
                label = fig.evaluate("e => e.querySelector('output').textContent")
                if before == after:
                    failures.append(
                        f"{rel}: figure {k}: moving slider "
                        f"{slider.get_attribute('data-param')} did not change the picture"
                    )
                if not label:
                    failures.append(f"{rel}: figure {k}: slider value label is empty")
                slider.fill(str(value))

        errors = [e for e in errors if not any(p.search(e) for p in ALLOWED_CONSOLE)]
        if errors:
            failures.append(f"{rel}: console errors: {errors[:3]}")
        if external:
            failures.append(f"{rel}: requests left the machine: {sorted(set(external))[:5]}")
        context.close()
    assert not failures, "\n".join(failures)
    print(f"checked {len(pages)} pages and {n_figures} interactive figures")
