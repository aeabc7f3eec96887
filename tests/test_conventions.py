"""The book's conventions, checked on every notebook and on the table of contents.

* notebooks are stored without outputs, with the ``python3`` kernel;
* the first cell is a ``# Chapter N: ...`` title with learning objectives,
  prerequisites and the expected run time;
* each chapter has at least one exercise with a hidden (dropdown) solution;
* citations use ``{cite}`` with keys that exist in ``references.bib``;
* no ``ipywidgets.interact`` (its sliders are dead in the static book), no
  ``sys.path`` edits, no torchvision, no network access;
* ``_toc.yml`` lists exactly the notebooks that exist.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
BIB_KEYS = set(re.findall(r"@\w+\{([^,\s]+),", (ROOT / "references.bib").read_text()))
SOURCE_PAPERS = {
    "voelker2020spike", "eshraghian2022fine", "taylor2022robust", "rathi2020hybrid",
    "voelker2019lmu", "chilkuri2021parallel",
}  # fmt: skip
FORBIDDEN = {
    r"\binteract(ive)?\s*\(": "use snnbook.widgets.explore, not ipywidgets.interact",
    r"sys\.path": "import snnbook as an installed package; no sys.path edits",
    r"\btorchvision\b": "torchvision does not import beside the CPU torch build",
    r"urlopen|requests\.get|download\s*=\s*True": "notebooks must not reach the network",
    r"\{bibliography\}": "the book has one references page; no per-chapter bibliography",
}


def cells(path):
    return json.loads(path.read_text())["cells"]


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_there_are_chapters():
    assert NOTEBOOKS, "no notebooks in chapters/"


def test_bibliography_holds_the_source_papers():
    assert SOURCE_PAPERS <= BIB_KEYS, f"missing: {SOURCE_PAPERS - BIB_KEYS}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_clean_with_python3_kernel(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"
    dirty = [
        i for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))
    ]  # fmt: skip
    assert not dirty, f"cells {dirty} carry outputs: store notebooks without outputs"
    assert "widgets" not in nb["metadata"], "stored widget state: clear it"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_at_least_two_interactive_figures(path):
    """Each chapter shows its mechanism in >= 2 offline figures (snnbook.widgets.explore)."""
    cells = json.loads(path.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    found = len(re.findall(r"\bexplore\(", code))
    assert found >= 2, f"{path.name}: {found} explore(...) figure(s); add one with snnbook.widgets"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_cell_states_objectives_prerequisites_and_time(path):
    first = cells(path)[0]
    text = source(first)
    assert first["cell_type"] == "markdown"
    assert re.match(r"# Chapter \d+: \S", text), "first line must be '# Chapter N: Title'"
    number = int(re.match(r"# Chapter (\d+)", text).group(1))
    assert path.name.startswith(f"{number:02d}_"), "file name and chapter number disagree"
    for label in ("Learning objectives", "Prerequisites", "Expected run time"):
        assert label in text, f"first cell lacks '{label}'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_exercises_have_hidden_solutions(path):
    md = "\n".join(source(c) for c in cells(path) if c["cell_type"] == "markdown")
    exercises = re.findall(r"```\{exercise\}[^\n]*\n:label: (\S+)", md)
    solutions = re.findall(r"```\{solution\} (\S+)\n:class: dropdown", md)
    assert exercises, "each chapter needs at least one {exercise}"
    assert set(exercises) <= set(solutions), f"exercises without a dropdown solution: {exercises}"


def test_exercise_labels_are_unique_across_the_book():
    labels = []
    for path in NOTEBOOKS:
        for c in cells(path):
            if c["cell_type"] == "markdown":
                labels += re.findall(r"```\{exercise\}[^\n]*\n:label: (\S+)", source(c))
    assert len(labels) == len(set(labels)), f"duplicate exercise labels: {labels}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_citations_exist(path):
    md = "\n".join(source(c) for c in cells(path) if c["cell_type"] == "markdown")
    keys = {
        k.strip()
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", md)
        for k in group.split(",")
    }
    assert keys, "cite the chapter's sources with {cite}"
    assert keys <= BIB_KEYS, f"unknown citation keys: {keys - BIB_KEYS}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_forbidden_patterns(path):
    code = "\n".join(source(c) for c in cells(path) if c["cell_type"] == "code")
    md = "\n".join(source(c) for c in cells(path) if c["cell_type"] == "markdown")
    for pattern, why in FORBIDDEN.items():
        target = md if "bibliography" in pattern else code
        assert not re.search(pattern, target), why


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return files


def test_toc_lists_exactly_the_pages_that_exist():
    files = toc_files()
    missing = [
        f for f in files if not any((ROOT / f).with_suffix(s).exists() for s in (".md", ".ipynb"))
    ]
    assert not missing, f"_toc.yml lists pages that do not exist: {missing}"
    listed = {f for f in files if f.startswith("chapters/")}
    present = {f"chapters/{p.stem}" for p in NOTEBOOKS}
    assert present == listed, f"notebooks not in _toc.yml: {present - listed}"
