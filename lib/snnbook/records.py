"""Committed runs: the file format of ``results/NAME.json`` and how to read and write it.

Some experiments of the book take longer than a notebook may (three minutes on a
2-core laptop). They run from a driver in ``scripts/`` and leave one JSON file
in ``results/``; the chapter loads that file, shows its numbers and re-runs one
seed live. Every such file has the same two parts:

* ``provenance``: how the numbers were made. The exact command, the git commit
  at the end and at the start of the run (``uncommitted_changes`` is true when
  the tree had uncommitted changes at either end; ``uncommitted_at_start``
  tells whether the code that ran was itself committed), the list of ``seeds``, the
  versions of Python and the main packages, the date, the wall time, the
  number of CPU threads and the load average before and after the run. A run
  is only worth committing if it was made on a quiet machine (load below 2
  before it started); :func:`provenance` records the load so that a reader
  can check.
* everything else: the results, in whatever shape the driver chooses.

A driver calls :func:`start` at its beginning and :func:`write` at its end; a
notebook calls :func:`load`. :func:`load` refuses a file whose provenance lacks
a field, so a hand-edited or half-written result cannot reach the book.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from snnbook import checks

__all__ = ["REQUIRED", "RESULTS", "Run", "load", "start", "write"]

#: The repository's ``results/`` folder (the library is installed from ``lib/``).
RESULTS = Path(__file__).resolve().parents[2] / "results"

#: Fields every ``provenance`` object must have.
REQUIRED = (
    "command",
    "commit",
    "seeds",
    "versions",
    "date_utc",
    "wall_seconds",
    "threads",
    "load_average_before",
    "load_average_after",
)


@dataclass(frozen=True)
class Run:
    """What :func:`start` noted when a driver began: the clock, the load and the seeds."""

    started: float
    load_before: tuple[float, float, float]
    seeds: tuple[int, ...]
    command: str
    commit_at_start: str = "unknown"
    dirty_at_start: bool = False


def _commit() -> tuple[str, bool]:
    root = RESULTS.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)", False
    return head, bool(dirty)


def _versions() -> dict[str, str]:
    import scipy
    import snntorch

    import snnbook

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "snntorch": snntorch.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "snnbook": snnbook.__version__,
    }


def start(seeds: list[int] | tuple[int, ...], *, max_load: float | None = 2.0) -> Run:
    """Note the time, the load average and the seeds at the start of a committed run.

    With ``max_load`` set (the default, 2.0), refuses to start when the
    1-minute load average is already above it: the timings would say more
    about the neighbours than about the models. Pass ``max_load=None`` for a
    trial run that will not be committed.
    """
    if isinstance(seeds, str | bytes) or not isinstance(seeds, list | tuple | range):
        raise TypeError(f"seeds must be a list of seeds, e.g. [0, 1, 2], got {seeds!r}")
    seeds = tuple(checks.nonnegative_int(f"seeds[{i}]", s) for i, s in enumerate(seeds))
    if not seeds:
        raise ValueError("seeds is empty; a committed run needs at least one seed")
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise ValueError(f"seeds repeats {repeated}: each seed is one independent run")
    if max_load is not None:
        max_load = checks.positive("max_load", max_load, hint="or None for a trial run")
    load = os.getloadavg()
    if max_load is not None and load[0] > max_load:
        raise RuntimeError(
            f"the machine is busy (1-minute load average {load[0]:.2f} > {max_load}); wait "
            "until nothing else runs, or pass max_load=None for a run you will not commit"
        )
    command = shlex.join([Path(sys.executable).name, *sys.argv])
    commit, dirty = _commit()
    return Run(time.perf_counter(), load, seeds, command, commit, dirty)


def provenance(run: Run, **extra: Any) -> dict[str, Any]:
    """The ``provenance`` object of a run that began with :func:`start` and ends now.

    ``extra`` adds fields (for example ``budget_seconds=140``); it may not
    replace one of the standard fields.
    """
    if not isinstance(run, Run):
        raise TypeError(f"run must be the Run returned by records.start, got {type(run).__name__}")
    own = {*REQUIRED, "uncommitted_changes", "uncommitted_at_start", "commit_at_start", "machine"}
    clash = sorted(set(extra) & own)
    if clash:
        raise ValueError(f"extra provenance fields may not replace the standard ones: {clash}")
    commit, dirty = _commit()
    record = {
        "command": run.command,
        "commit": commit,
        "uncommitted_changes": dirty or run.dirty_at_start,
        "commit_at_start": run.commit_at_start,
        "uncommitted_at_start": run.dirty_at_start,
        "seeds": list(run.seeds),
        "versions": _versions(),
        "date_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "wall_seconds": round(time.perf_counter() - run.started, 2),
        "threads": torch.get_num_threads(),
        "load_average_before": [round(x, 2) for x in run.load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count()},
    }
    record.update(extra)
    return record


def write(path: str | Path, results: dict[str, Any], run: Run, **extra: Any) -> Path:
    """Write ``results`` plus a ``provenance`` object to ``path`` (JSON) and return the path.

    The file is written next to its destination and renamed into place, so an
    interrupted run never leaves half a file. An existing file is replaced
    (it is under version control), and the replacement is reported.
    """
    if not isinstance(results, dict):
        raise TypeError(f"results must be a dict, got {type(results).__name__}")
    if "provenance" in results:
        raise ValueError("results already has a 'provenance' key; it is added by write()")
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a file path, got {type(path).__name__}")
    path = Path(path)
    if path.suffix != ".json":
        raise ValueError(f"path must name a .json file, got {path}")
    bad_keys = [k for k in results if not isinstance(k, str)]
    if bad_keys:
        raise TypeError(f"results keys must be strings (JSON turns {bad_keys} into text)")
    record = {**results, "provenance": provenance(run, **extra)}
    text = json.dumps(record, indent=1, default=_plain) + "\n"  # fails before any file is touched
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    try:
        tmp.write_text(text)
        replaced = path.exists()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    print(
        f"{'replaced' if replaced else 'wrote'} {path} ({record['provenance']['wall_seconds']} s)"
    )
    return path


def _plain(value: Any) -> Any:
    if isinstance(value, torch.Tensor | np.ndarray | np.generic):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in a result file")


def load(name: str | Path) -> dict[str, Any]:
    """Read a committed run: ``load("lmu_baselines")`` reads ``results/lmu_baselines.json``.

    Raises :class:`FileNotFoundError` naming the script to run if the file is
    missing, and :class:`ValueError` if its provenance lacks a required field.
    """
    if not isinstance(name, str | os.PathLike) or not str(name):
        raise TypeError(f"name must be a run's name (e.g. 'lmu_baselines') or a path, got {name!r}")
    path = Path(name)
    if path.suffix != ".json":
        path = RESULTS / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"no committed run at {path}; run the matching driver in scripts/ to make it "
            "(its docstring gives the command)"
        )
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err}); re-run its script") from err
    prov = record.get("provenance") if isinstance(record, dict) else None
    if not isinstance(prov, dict):
        raise ValueError(f"{path} has no provenance object; re-run its script")
    missing = [key for key in REQUIRED if key not in prov]
    if missing:
        raise ValueError(f"{path}: provenance lacks {missing}; re-run its script")
    seeds = prov["seeds"]
    if (
        not isinstance(seeds, list)
        or not seeds
        or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)
    ):
        raise ValueError(
            f"{path}: provenance seeds must be a non-empty list of ints, got {seeds!r}"
        )
    return record
