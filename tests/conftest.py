"""Shared helpers of the test suite.

The bad-input sweep: every test module lists the careless calls its library
module must refuse, as ``BAD_INPUTS = [refuse(call, ValueError, "beta"), ...]``,
and parametrises ``test_refuses_bad_input`` over them. Each case names the
exception type and words the message must contain (the argument's name, at
least), so a case fails as soon as the check behind it is removed: a deep
torch error or a meaningless result does not pass.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest


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
