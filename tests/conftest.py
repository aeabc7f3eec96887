"""Shared helpers of the test suite.

The bad-input sweep: every test module lists the careless calls its library
module must refuse, as ``BAD_INPUTS = [refuse(call, ValueError, "beta"), ...]``,
and parametrises ``test_refuses_bad_input`` over them. Each case names the
exception type and words the message must contain (the argument's name, at
least), so a case fails as soon as the check behind it is removed: a deep
torch error or a meaningless result does not pass.

No silent skips: with the environment variable ``SNNBOOK_NO_SKIP=1`` (which
``make test``, and so CI, sets), a test or a whole module that would be skipped
fails instead, with the skip's reason (a missing package, browser or data
file) in its report. Without it (a developer running one file), skips stay skips.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]  # for tests/test_no_skip.py, which tests the guard below


def _no_skip() -> bool:
    return os.environ.get("SNNBOOK_NO_SKIP", "").strip() not in ("", "0")


def _as_failure(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Turn a skip report into a failure that names the skip's reason and what to do."""
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    where = f" ({longrepr[0]}:{longrepr[1]})" if isinstance(longrepr, tuple) else ""
    report.outcome = "failed"
    report.longrepr = (
        f"SKIPPED{where}: {reason}\n"
        "This run must not skip anything (SNNBOOK_NO_SKIP=1, set by `make test` and CI): "
        "install what the reason names, or unset SNNBOOK_NO_SKIP to allow skips locally."
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if _no_skip() and report.skipped and not hasattr(report, "wasxfail"):
        _as_failure(report)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    outcome = yield
    report = outcome.get_result()
    if _no_skip() and report.skipped:
        _as_failure(report)


def refuse(call: Callable[[], object], exc: type[Exception], *words: str, id: str | None = None):
    """One case of the bad-input sweep: ``call()`` must raise ``exc`` whose message has ``words``."""
    if not words:
        raise ValueError("name at least one word the message must contain (the argument's name)")
    return pytest.param(call, exc, words, id=id)


def assert_refuses(call: Callable[[], object], exc: type[Exception], words: tuple[str, ...]):
    """``call()`` raises ``exc`` (not a subclass-less stand-in) mentioning every word in ``words``."""
    with pytest.raises(exc) as info:
        call()
    message = str(info.value)
    missing = [w for w in words if w not in message]
    assert not missing, f"message {message!r} does not mention {missing}"
    return message


# ------------------------------------------------------------------ the built book, served
@pytest.fixture(scope="module")
def server():
    """The built HTML book (``BOOK_HTML``, default ``_build/html``) on a local port."""
    html = Path(
        os.environ.get("BOOK_HTML", Path(__file__).resolve().parents[1] / "_build" / "html")
    )
    if not (html / "intro.html").is_file():
        pytest.fail(f"no built book at {html}: run `make book` (or `make test`) first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(html))
    handler.log_message = lambda *args: None  # quiet
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
