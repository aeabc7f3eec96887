"""snnbook.records: committed-run files round-trip with their provenance, and bad ones are refused."""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest
import torch
from conftest import assert_refuses, refuse

from snnbook import records


@pytest.fixture
def quiet(monkeypatch):
    """A machine whose load average reads 0.5 now (the tests may run on a busy one)."""
    monkeypatch.setattr(records.os, "getloadavg", lambda: (0.5, 0.4, 0.3))


def test_round_trip_keeps_results_and_records_provenance(tmp_path, quiet, capsys):
    run = records.start([0, 1, 2])
    results = {
        "accuracy": [0.81, 0.83, 0.82],
        "curve": torch.tensor([0.5, 0.25]),
        "weights": np.arange(3, dtype=np.int64),
        "best": np.float32(0.5),
        "name": "lmu",
    }
    path = records.write(tmp_path / "run.json", results, run, budget_seconds=140)
    assert "wrote" in capsys.readouterr().out
    loaded = records.load(path)
    assert loaded["accuracy"] == [0.81, 0.83, 0.82]
    assert loaded["curve"] == [0.5, 0.25] and loaded["weights"] == [0, 1, 2]
    assert loaded["best"] == 0.5 and loaded["name"] == "lmu"
    prov = loaded["provenance"]
    assert set(records.REQUIRED) <= set(prov)
    assert prov["seeds"] == [0, 1, 2]
    assert prov["load_average_before"] == [0.5, 0.4, 0.3]
    assert prov["threads"] == torch.get_num_threads()
    assert prov["versions"]["torch"] == torch.__version__
    assert prov["budget_seconds"] == 140
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=records.RESULTS.parent, capture_output=True, text=True
    ).stdout.strip()
    assert prov["commit"] == head
    assert prov["wall_seconds"] >= 0


def test_provenance_tells_a_dirty_start_from_a_dirty_end(tmp_path, quiet, monkeypatch):
    """Edits made while a run is under way must not hide that the code that ran was committed."""
    states = iter([("aaa", False), ("bbb", True)])  # clean at start, edited during the run
    monkeypatch.setattr(records, "_commit", lambda: next(states))
    prov = records.load(records.write(tmp_path / "a.json", {"x": 1}, records.start([0])))
    assert prov["provenance"]["commit_at_start"] == "aaa" and prov["provenance"]["commit"] == "bbb"
    assert prov["provenance"]["uncommitted_at_start"] is False
    assert prov["provenance"]["uncommitted_changes"] is True
    states = iter([("aaa", True), ("aaa", False)])  # dirty at start, cleaned before the end
    monkeypatch.setattr(records, "_commit", lambda: next(states))
    prov = records.load(records.write(tmp_path / "b.json", {"x": 1}, records.start([0])))
    assert prov["provenance"]["uncommitted_at_start"] is True
    assert prov["provenance"]["uncommitted_changes"] is True, "a dirty start is never hidden"


def test_write_is_atomic_and_reports_a_replacement(tmp_path, quiet, capsys):
    path = tmp_path / "run.json"
    path.write_text('{"old": true}')
    records.write(path, {"new": 1}, records.start([0]))
    assert "replaced" in capsys.readouterr().out
    assert json.loads(path.read_text())["new"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"], "no temporary file left"


def test_a_failed_write_leaves_the_old_file_and_no_partial_one(tmp_path, quiet, monkeypatch):
    path = tmp_path / "run.json"
    path.write_text('{"old": true}')

    def crash(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(records.os, "replace", crash)
    with pytest.raises(OSError, match="No space"):
        records.write(path, {"new": 1}, records.start([0]))
    assert path.read_text() == '{"old": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]


def test_unstorable_results_touch_no_file(tmp_path, quiet):
    path = tmp_path / "run.json"
    path.write_text('{"old": true}')
    with pytest.raises(TypeError, match="cannot store object"):
        records.write(path, {"model": object()}, records.start([0]))
    assert path.read_text() == '{"old": true}'


def test_start_refuses_a_busy_machine(monkeypatch):
    monkeypatch.setattr(records.os, "getloadavg", lambda: (3.7, 2.0, 1.0))
    with pytest.raises(RuntimeError, match=r"busy \(1-minute load average 3.70 > 2.0\)"):
        records.start([0, 1, 2])
    run = records.start([0], max_load=None)  # a trial run that will not be committed
    assert run.load_before == (3.7, 2.0, 1.0)
    assert records.start([0], max_load=5.0).seeds == (0,)


def test_load_refuses_missing_provenance(tmp_path, quiet):
    path = tmp_path / "run.json"
    records.write(path, {"a": 1}, records.start([0]))
    good = json.loads(path.read_text())
    for key in records.REQUIRED:
        record = json.loads(json.dumps(good))
        del record["provenance"][key]
        path.write_text(json.dumps(record))
        with pytest.raises(ValueError, match=f"provenance lacks \\['{key}'\\]"):
            records.load(path)
    path.write_text(json.dumps({"a": 1}))
    with pytest.raises(ValueError, match="no provenance object"):
        records.load(path)
    record = json.loads(json.dumps(good))
    record["provenance"]["seeds"] = []
    path.write_text(json.dumps(record))
    with pytest.raises(ValueError, match="seeds must be a non-empty list"):
        records.load(path)


def test_load_names_a_half_written_file(tmp_path):
    path = tmp_path / "run.json"
    path.write_text('{"accuracy": [0.8, ')
    with pytest.raises(ValueError, match="run.json is not valid JSON"):
        records.load(path)


def test_load_by_name_looks_in_results():
    with pytest.raises(FileNotFoundError, match="results/no_such_run.json.*scripts/"):
        records.load("no_such_run")


BAD_INPUTS = [
    refuse(lambda: records.start([]), ValueError, "seeds", "empty", id="start-empty"),
    refuse(lambda: records.start(0), TypeError, "seeds", "list", id="start-int"),
    refuse(lambda: records.start("012"), TypeError, "seeds", id="start-str"),
    refuse(lambda: records.start([0, -1]), ValueError, "seeds[1]", id="start-negative"),
    refuse(lambda: records.start([0, 1.0]), TypeError, "seeds[1]", id="start-float"),
    refuse(lambda: records.start([0, 1, 0]), ValueError, "repeats", "[0]", id="start-repeated"),
    refuse(lambda: records.start([0], max_load=0), ValueError, "max_load", id="start-max-load-0"),
    refuse(lambda: records.start([0], max_load="2"), TypeError, "max_load", id="start-max-load-str"),
    refuse(lambda: records.provenance("run"), TypeError, "run", "records.start", id="provenance-run"),
    refuse(lambda: records.provenance(records.Run(0.0, (0, 0, 0), (0,), "x"), seeds=[1]), ValueError, "seeds", id="provenance-clash"),
    refuse(lambda: records.write("x.json", [1, 2], records.Run(0.0, (0, 0, 0), (0,), "x")), TypeError, "results", "dict", id="write-list"),
    refuse(lambda: records.write("x.json", {"provenance": 1}, records.Run(0.0, (0, 0, 0), (0,), "x")), ValueError, "provenance", id="write-provenance-key"),
    refuse(lambda: records.write("x.txt", {"a": 1}, records.Run(0.0, (0, 0, 0), (0,), "x")), ValueError, ".json", id="write-suffix"),
    refuse(lambda: records.write(3, {"a": 1}, records.Run(0.0, (0, 0, 0), (0,), "x")), TypeError, "path", id="write-path-int"),
    refuse(lambda: records.write("x.json", {1: 1}, records.Run(0.0, (0, 0, 0), (0,), "x")), TypeError, "keys", id="write-int-keys"),
    refuse(lambda: records.load(3), TypeError, "name", id="load-int"),
    refuse(lambda: records.load(""), TypeError, "name", id="load-empty"),
]  # fmt: skip


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words, quiet, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a wrongly accepted write lands here, not in the repository
    assert_refuses(call, exc, words)
    assert not os.listdir(tmp_path)
