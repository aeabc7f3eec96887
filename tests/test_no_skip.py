"""The guard of tests/conftest.py: under SNNBOOK_NO_SKIP=1 a skip is a failure that says why."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFTEST = (Path(__file__).parent / "conftest.py").read_text()

SKIPPING = """
import pytest

def test_skips():
    pytest.skip("Chromium not found")

@pytest.mark.skipif(True, reason="no GPU here")
def test_marked():
    pass

def test_passes():
    pass

@pytest.mark.xfail(reason="a known bug", strict=True)
def test_expected_failure():
    assert False
"""

MODULE_SKIP = """
import pytest
pytest.importorskip("no_such_package_for_the_book")

def test_never_runs():
    pass
"""


@pytest.fixture
def project(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_skipping=SKIPPING, test_module_skip=MODULE_SKIP)
    return pytester


def test_skips_fail_with_their_reason_when_the_guard_is_on(project, monkeypatch):
    monkeypatch.setenv("SNNBOOK_NO_SKIP", "1")
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "-ra", "test_skipping.py")
    result.assert_outcomes(passed=1, failed=1, errors=1, xfailed=1)  # skipif: in setup
    out = result.stdout.str()
    assert "Chromium not found" in out and "no GPU here" in out
    assert "must not skip anything (SNNBOOK_NO_SKIP=1" in out
    assert result.ret != 0


def test_a_skipped_module_fails_the_whole_run(project, monkeypatch):
    """pytest.importorskip at module level (a missing package) stops the run with its reason."""
    monkeypatch.setenv("SNNBOOK_NO_SKIP", "1")
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "test_module_skip.py")
    result.assert_outcomes(errors=1)
    assert "no_such_package_for_the_book" in result.stdout.str()
    assert result.ret != 0


def test_skips_stay_skips_without_the_guard(project, monkeypatch):
    monkeypatch.delenv("SNNBOOK_NO_SKIP", raising=False)
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=3, xfailed=1)
    assert result.ret == 0


def test_zero_turns_the_guard_off(project, monkeypatch):
    monkeypatch.setenv("SNNBOOK_NO_SKIP", "0")
    project.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(
        passed=1, skipped=3, xfailed=1
    )


def test_the_makefile_turns_the_guard_on():
    makefile = (Path(__file__).parents[1] / "Makefile").read_text()
    assert "export SNNBOOK_NO_SKIP ?= 1" in makefile
