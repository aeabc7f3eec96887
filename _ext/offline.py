"""Sphinx extension: keep the built book free of network-bound scripts.

Jupyter Book 1 always loads sphinx-thebe, which adds an inline script naming
a CDN URL for Thebe (twice, with Sphinx 7.4, which throws "Identifier
'THEBE_JS_URL' has already been declared" in every page). The book does not
use Thebe (no live kernels on the web page), so its scripts are dropped.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def _keep(script: Any) -> bool:
    filename = getattr(script, "filename", None) or str(script)
    body = (getattr(script, "attributes", None) or {}).get("body", "")
    return "sphinx-thebe" not in filename and "THEBE_JS_URL" not in body


def _drop_thebe(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    if "script_files" in context:
        context["script_files"] = [s for s in context["script_files"] if _keep(s)]


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", _drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
