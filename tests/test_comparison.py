"""snnbook.comparison against independent counts.

``measure`` must agree with one unbatched ``count_operations`` call and with
``training.evaluate``; ``lmu_operations`` (a count by hand) must agree with the
hooks on an explicit step-by-step LMU built from ``nn.Linear`` layers, whose
every connection the hooks see.
"""

import copy

import matplotlib.pyplot as plt
import pytest
import torch
from conftest import assert_refuses, refuse
from torch import nn

from snnbook import comparison, energy, stats
from snnbook.comparison import (
    PRICES,
    Probe,
    energy_of,
    lmu_operations,
    lmu_rows,
    measure,
    with_live_lmu,
)
from snnbook.energy import count_operations
from snnbook.lif import RateLIFNet
from snnbook.training import evaluate


def _mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 3))


def _data(n=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 4, 4, generator=g)
    x[x < 0.4] = 0
    return x, torch.randint(0, 3, (n,), generator=g)


# ------------------------------------------------------------------ measure
def test_measure_equals_one_count_and_evaluate():
    model, (x, y) = _mlp(), _data()
    m = measure(model, x, y, batch_size=7)
    ops = count_operations(model, x).per_sample(len(y))
    assert m["dense"] == pytest.approx(ops.dense)
    assert m["macs"] == pytest.approx(ops.macs)
    assert m["acs"] == 0
    assert m["accuracy"] == pytest.approx(evaluate(model, x, y))
    assert set(m["layers"]) == {"1", "3"}


def test_measure_counts_binary_inputs_as_acs_and_is_seeded():
    torch.manual_seed(0)
    net = RateLIFNet(8, num_steps=5, n_in=16, n_out=3)
    x, y = _data()

    def run(model, xb):
        rec = model.run(xb)
        return rec["spk2"].sum(0), rec["spk1"].sum() + rec["spk2"].sum()

    a = measure(net, x, y, run=run, batch_size=9, seed=3)
    assert a["macs"] == 0 and a["acs"] > 0
    # the rate code draws the same spikes from the same seed
    c = measure(net, x, y, run=run, batch_size=9, seed=3)
    assert c == a
    # input spikes x out_features of the first layer are its ACs
    assert a["layers"]["fc1"]["acs"] == pytest.approx(a["input_spikes"] * 8)


def test_energy_of_matches_snnbook_energy():
    model, (x, _) = _mlp(), _data()
    ops = count_operations(model, x)
    counts = {"acs": ops.acs, "macs": ops.macs}
    assert energy_of(counts, "float32") == pytest.approx(energy.energy(ops))
    e_ac, e_mac = PRICES["int32"]
    assert energy_of(counts, "int32") == pytest.approx(energy.energy(ops, e_ac=e_ac, e_mac=e_mac))


# ------------------------------------------------------------------ the LMU, by hand vs hooks
class _LoopLMU(nn.Module):
    """The LMU classifier as an explicit loop of nn.Linear calls (memory update included)."""

    def __init__(self, d=4, n=5, c=3):
        super().__init__()
        self.A, self.B = nn.Linear(d, d, bias=False), nn.Linear(1, d, bias=False)
        self.Wm, self.Wx = nn.Linear(d, n), nn.Linear(1, n, bias=False)
        self.Wh, self.out = nn.Linear(n, n, bias=False), nn.Linear(n, c)
        self.d, self.n, self.spiking = d, n, False

    def forward(self, x):  # x: (B, T) pixels
        m = x.new_full((len(x), self.d), 2.0)  # real-valued start: MACs, not ACs
        a = x.new_full((len(x), self.n), 2.0)
        for t in range(x.shape[1]):
            u = x[:, t : t + 1]
            m = self.A(m) + self.B(u)
            r = torch.relu(self.Wm(m) + self.Wx(u) + self.Wh(a)) + 1.0  # never zero
            a = (r > 1.5).float() if self.spiking else r
        return self.out(a)


def test_lmu_operations_match_hooks_on_an_explicit_loop():
    torch.manual_seed(0)
    net = _LoopLMU()
    x = torch.rand(6, 9)
    x[:, ::3] = 0  # a third of the pixels are zero
    nonzero = float((x != 0).sum(1).float().mean())
    ops = count_operations(net, x).per_sample(len(x))
    hand = lmu_operations(hidden=5, order=4, steps=9, classes=3, spikes_per_image=None,
                          nonzero_pixels=nonzero)  # fmt: skip
    # hooks skip the zero pixels in B u_t too; the hand count prices the memory update densely
    skipped = (9 - nonzero) * 4
    assert ops.macs == pytest.approx(hand["macs"] - skipped)
    assert ops.dense == pytest.approx(hand["dense"])
    net.spiking = True
    ops = count_operations(net, x).per_sample(len(x))
    spikes = ops.layers[[layer.name for layer in ops.layers].index("Wh")].spikes
    hand = lmu_operations(hidden=5, order=4, steps=9, classes=3, spikes_per_image=spikes,
                          nonzero_pixels=nonzero)  # fmt: skip
    assert ops.acs == pytest.approx(hand["acs"])


# ------------------------------------------------------------------ reading a record
def _record():
    rows = {}
    for key, acc, acs, macs, task in (
        ("ann_mlp", 0.85, 0.0, 1e5, "Fashion-MNIST"),
        ("snn", 0.80, 1e6, 0.0, "Fashion-MNIST"),
        ("lmu", 0.70, 1e4, 1e7, "psFashion-MNIST"),
    ):
        seeds = {str(s): {"accuracy": acc + 0.01 * s, "dense": 2e5, "acs": acs, "macs": macs,
                          "neuron_spikes": acs / 100 or None, "input_spikes": 0.0,
                          "train_seconds": 3.0} for s in range(3)}  # fmt: skip
        rows[key] = {"label": key, "chapter": 1, "steps": 4, "task": task, "n_test": 1000,
                     "seeds": seeds}  # fmt: skip
    sweep = {"label": "snn", "knob": "T", "trained": 4, "values": [2, 4],
             "seeds": {"0": {"accuracy": [0.5, 0.8], "acs": [5e5, 1e6], "macs": [0, 0]}}}  # fmt: skip
    return {"rows": rows, "sweeps": {"snn": sweep}}


def test_rows_table_and_figures():
    record = _record()
    s = comparison.summaries(record)
    assert s["snn"].mean == pytest.approx(stats.summarize([0.80, 0.81, 0.82], 1000).mean)
    rows = comparison.cost_rows(record, "int32")
    snn = next(r for r in rows if r["key"] == "snn")
    assert snn["energy"] == pytest.approx(1e6 * 0.1e-12)
    assert snn["dense_energy"] == pytest.approx(2e5 * 3.2e-12)
    html = comparison.cost_table(record).data
    assert "psFashion-MNIST" in html and "µJ" in html
    for fig in (
        comparison.plot_accuracy_energy(record),
        comparison.plot_pricing(record, "int32"),
        comparison.plot_sweep(record, "snn", 1),
    ):
        plt.close(fig)


def test_pricing_flips_are_labelled():
    # the SNN costs 1e6 x 0.9 pJ = 0.9 uJ vs 1e5 x 4.6 pJ = 0.46 uJ (float32): more;
    # in int32 1e6 x 0.1 = 0.1 uJ vs 0.32 uJ: less, so its label says so
    fig = comparison.plot_pricing(_record(), "int32")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    plt.close(fig)
    assert any(label.startswith("snn") and "flips" in label for label in labels)


BAD_INPUTS = [
    refuse(lambda: measure("net", *_data()), TypeError, "model", id="measure-model"),
    refuse(lambda: measure(_mlp(), [1.0], _data()[1]), TypeError, "x", id="measure-x"),
    refuse(lambda: measure(_mlp(), _data()[0], _data()[1][:5]), ValueError, "x", id="measure-len"),
    refuse(lambda: measure(_mlp(), *_data(), batch_size=0), ValueError, "batch_size", id="batch"),
    refuse(lambda: measure(_mlp(), *_data(), seed=-1), ValueError, "seed", id="measure-seed"),
    refuse(lambda: Probe(_mlp(), "run"), TypeError, "run", id="probe-run"),
    refuse(
        lambda: Probe(_mlp(), lambda m, x: (m(x), 0))(*_data(n=4)[:1], torch.zeros(3).long()),
        ValueError,
        "labels",
        id="probe-len",
    ),  # fmt: skip
    refuse(
        lambda: lmu_operations(
            hidden=0, order=4, steps=9, classes=3, spikes_per_image=1.0, nonzero_pixels=1.0
        ),
        ValueError,
        "hidden",
        id="lmu-hidden",
    ),  # fmt: skip
    refuse(
        lambda: lmu_operations(
            hidden=5, order=4, steps=9, classes=3, spikes_per_image=-1.0, nonzero_pixels=1.0
        ),
        ValueError,
        "spikes_per_image",
        id="lmu-spk",
    ),  # fmt: skip
    refuse(
        lambda: lmu_operations(
            hidden=5, order=4, steps=9, classes=3, spikes_per_image=1.0, nonzero_pixels=10.0
        ),
        ValueError,
        "nonzero_pixels",
        id="lmu-px",
    ),  # fmt: skip
    refuse(lambda: lmu_rows(300.0, 0), ValueError, "n_test", id="lmu-rows-n"),
    refuse(lambda: lmu_rows(float("nan"), 1000), ValueError, "nonzero_pixels", id="lmu-rows-px"),
    refuse(lambda: lmu_rows(300.0, 1000, {"rows": {}}), TypeError, "hybrid_lmu", id="lmu-rows-rec"),
    refuse(lambda: with_live_lmu({"rows": 3}), TypeError, "method_costs", id="live-lmu-rec"),
    refuse(lambda: energy_of({"acs": 1.0, "macs": 1.0}, "fp16"), ValueError, "pricing", id="price"),
    refuse(lambda: energy_of({"acs": 1.0}), TypeError, "macs", id="energy-counts"),
    refuse(lambda: comparison.cost_rows({"rows": 3}), TypeError, "record", id="rows-record"),
    refuse(lambda: comparison.plot_sweep(_record(), "lif", 0), ValueError, "method", id="sweep"),
    refuse(lambda: comparison.plot_sweep(_record(), "snn", 5), ValueError, "position", id="pos"),
    refuse(
        lambda: comparison.plot_accuracy_energy(_record(), reference="x"),
        ValueError,
        "reference",
        id="reference",
    ),  # fmt: skip
]


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)


def test_runs_on_meta_device():
    model = copy.deepcopy(_mlp()).to("meta")
    probe = Probe(model, lambda m, x: (m(x), 0))
    x = torch.zeros(4, 1, 4, 4, device="meta")
    y = torch.zeros(4, dtype=torch.long, device="meta")
    scores = probe(x, y)
    scores.sum().backward()
    assert scores.shape == (4, 3) and probe.samples == 4
