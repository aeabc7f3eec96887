"""Chapter 9's committed run (results/method_costs.json) and its script.

The first optimizer steps of the cheapest row (the ANN, seed 0) are re-run and must
give the accuracy and operation counts stored in the file; the file must hold every
method of the book, each on the same test images for every seed.
"""

import importlib.util
from pathlib import Path

import pytest

from snnbook import comparison, records, regimes
from snnbook.data import load_fashion_mnist

ROOT = Path(__file__).resolve().parents[1]
METHODS = {"ann_mlp", "quant_dt4", "quant_dt025", "lif_rate", "binary", "single_spike",
           "ann_conv", "converted", "hybrid", "lmu_ann", "lmu_hybrid"}  # fmt: skip


def _script():
    spec = importlib.util.spec_from_file_location("method_costs", ROOT / "scripts/method_costs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def record():
    return records.load("method_costs")


def test_record_covers_every_method_on_the_same_images(record):
    assert set(record["rows"]) == METHODS
    seeds = record["provenance"]["seeds"]
    assert len(seeds) >= 3
    for key, row in record["rows"].items():
        assert sorted(map(int, row["seeds"])) == sorted(seeds), key
        assert row["n_test"] == 10_000
        for result in row["seeds"].values():
            assert 0.0 < result["accuracy"] <= 1.0
            assert result["acs"] + result["macs"] <= result["dense"] + 1e-6 * result["dense"]


def test_committed_run_prefix_reproduces(record):
    x_test, y_test = load_fashion_mnist("test")
    data = regimes.load_data(regimes.Setup())
    again = _script().prefix(data, (x_test, y_test))
    assert again == pytest.approx(record["prefix"], rel=1e-4)


def test_table_and_figure_read_the_record(record):
    import matplotlib.pyplot as plt

    rows = comparison.cost_rows(record)
    assert [r["key"] for r in rows] == list(record["rows"])
    comparison.cost_table(record)
    plt.close(comparison.plot_accuracy_energy(record))
