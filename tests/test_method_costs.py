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


def test_chapter9_shows_the_lmu_rows_of_chapter_6_as_recorded_now(record):
    """The live LMU rows are chapter 6's committed accuracies, read independently here."""
    lmu = records.load("hybrid_lmu")
    settings, seeds = lmu["settings"], [str(s) for s in lmu["provenance"]["seeds"]]
    x_test, _ = load_fashion_mnist("test")
    live = comparison.with_live_lmu(record, x_test)
    assert set(live["rows"]) == (METHODS - {"lmu_ann", "lmu_hybrid"}) | set(comparison.LMU_ROWS)
    for key in METHODS - {"lmu_ann", "lmu_hybrid"}:
        assert live["rows"][key] == record["rows"][key]

    def at(arm, dt):
        out = []
        for s in seeds:
            for r in lmu["results"][s][arm]["reports"]:
                if r["dt"] == dt:
                    out.append(r["accuracy"])
        return out

    expect = {
        "lmu_ann": [lmu["results"][s]["non-spiking"]["test_accuracy_non_spiking"] for s in seeds],
        "lmu_hybrid": at("interpolated dt", settings["dt_target"]),
        "lmu_target": at("target dt", settings["dt_target"]),
        "lmu_dt3": at("interpolated dt 3", settings["dt_target_2"]),
    }
    for key, accs in expect.items():
        got = [live["rows"][key]["seeds"][s]["accuracy"] for s in seeds]
        assert got == accs, key
        assert live["rows"][key]["task"] == "psFashion-MNIST"
    # the spiking rows trade the recurrent MACs for accumulates; the memory stays
    ann, hyb = live["rows"]["lmu_ann"]["seeds"], live["rows"]["lmu_hybrid"]["seeds"]
    for s in seeds:
        assert hyb[s]["acs"] > 0 and ann[s]["acs"] == 0
        assert hyb[s]["macs"] < ann[s]["macs"]
        assert hyb[s]["memory"] == ann[s]["memory"]
    assert live["lmu"]["dt"] == settings["dt_target"]
    # counted on chapter 6's task: 14 x 14 block means of the test images, one pixel a step
    pooled = x_test.reshape(-1, 14, 2, 14, 2).mean((2, 4))
    assert live["lmu"]["steps"] == 196
    assert live["lmu"]["nonzero_pixels"] == pytest.approx(
        float((pooled != 0).sum() / len(x_test)), rel=1e-6
    )
    for key in comparison.LMU_ROWS:
        assert live["rows"][key]["steps"] == 196


def test_with_live_lmu_refuses_a_foreign_record():
    with pytest.raises(TypeError, match="method_costs"):
        comparison.with_live_lmu({"no": "rows"}, load_fashion_mnist("test")[0][:2])
    with pytest.raises(TypeError, match="hybrid_lmu"):
        comparison.lmu_rows(load_fashion_mnist("test")[0][:2], {"rows": {}})
