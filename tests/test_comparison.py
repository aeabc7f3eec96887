"""snnbook.comparison against independent counts.

``measure`` must agree with one unbatched ``count_operations`` call and with
``training.evaluate``; ``lmu_operations`` (a count by hand) must agree with the
hooks on an explicit step-by-step LMU built from ``nn.Linear`` layers, whose
every connection the hooks see; ``lmu_task`` with a loop over 2 x 2 blocks;
``lmu_rows`` with the closed form at 196 steps; ``lmu_hooked`` with a step-by-step
re-run of the hybrid LMU that counts nonzero inputs call by call; ``seed_ratios``
and the pricing figure with energies worked out by hand.
"""

import copy
import math

import matplotlib.pyplot as plt
import pytest
import torch
from conftest import assert_refuses, refuse
from torch import nn

from snnbook import comparison, energy, hybrid_lmu, lmu, stats
from snnbook.comparison import (
    PRICES,
    Probe,
    energy_of,
    lmu_hooked,
    lmu_images,
    lmu_operations,
    lmu_rows,
    lmu_task,
    measure,
    reference_of,
    seed_ratios,
    verdict,
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


# ------------------------------------------------------------------ chapter 6's task and runs
def _images(n=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 28, 28, generator=g)
    x[x < 0.6] = 0  # many zero pixels, and some 2 x 2 blocks all zero
    return x


def test_lmu_task_equals_a_loop_over_blocks():
    x = _images()
    pooled = lmu_images(x)
    nonzero = []
    for img in x[:, 0]:
        blocks = [
            img[2 * i : 2 * i + 2, 2 * j : 2 * j + 2].mean() for i in range(14) for j in range(14)
        ]
        assert torch.allclose(pooled[len(nonzero)].flatten(), torch.stack(blocks))
        nonzero.append(sum(float(b) != 0 for b in blocks))
    task = lmu_task(x)
    assert task["steps"] == 196 == 28 * 28 // 4
    assert task["nonzero_pixels"] == pytest.approx(sum(nonzero) / len(nonzero))


def _lmu_record(hidden=5, order=4, seeds=(0, 1)):
    def arm(acc, spikes):
        return {"seconds": [1.0, 2.0], "test_accuracy_non_spiking": acc,
                "reports": [{"dt": dt, "accuracy": acc - dt / 100, "spikes_per_image": spikes * dt}
                            for dt in (0.3, 3.0)]}  # fmt: skip

    results = {str(s): {"pretrain": {"seconds": [5.0]}, "non-spiking": arm(0.8, 0),
                        "interpolated dt": arm(0.7, 100.0 + s), "target dt": arm(0.71, 90.0),
                        "interpolated dt 3": arm(0.72, 10.0)} for s in seeds}  # fmt: skip
    settings = {"hidden": hidden, "order": order, "theta": 196.0, "window": 4,
                "dt_target": 0.3, "dt_target_2": 3.0}  # fmt: skip
    return {"settings": settings, "results": results,
            "provenance": {"seeds": list(seeds), "wall_seconds": 9.0}}  # fmt: skip


def test_lmu_rows_count_chapter_6_task_in_closed_form():
    x, rec = _images(), _lmu_record()
    nz = lmu_task(x)["nonzero_pixels"]
    out = lmu_rows(x, rec)
    n, d, T = 5, 4, 196
    assert out["steps"] == T and out["nonzero_pixels"] == pytest.approx(nz)
    ann = out["rows"]["lmu_ann"]
    assert ann["steps"] == T and ann["n_test"] == len(x)
    memory = T * (d * d + d)
    for seed in ("0", "1"):
        a = ann["seeds"][seed]
        assert a["macs"] == pytest.approx(memory + T * d * n + nz * n + T * n * n + n * 10)
        assert a["dense"] == pytest.approx(memory + T * (d * n + n + n * n) + n * 10)
        assert a["acs"] == 0 and a["memory"] == memory and a["train_seconds"] == 8.0
        h = out["rows"]["lmu_hybrid"]["seeds"][seed]
        spikes = (100.0 + int(seed)) * 0.3
        assert h["neuron_spikes"] == spikes and h["acs"] == pytest.approx(spikes * n)
        assert h["macs"] == pytest.approx(memory + T * d * n + nz * n + n * 10)
        assert out["rows"]["lmu_dt3"]["seeds"][seed]["accuracy"] == pytest.approx(0.72 - 0.03)
    assert out["rows"]["lmu_hybrid"]["label"] == "hybrid LMU, interpolated to dt 0.3"
    # with_live_lmu swaps these rows in and leaves the others (and the record) alone
    stored = {"rows": {"ann_mlp": {"x": 1}, "lmu_ann": {"old": 1}}, "n_test": 6}
    live = with_live_lmu(stored, x, rec)
    assert live["rows"]["ann_mlp"] == {"x": 1} and live["rows"]["lmu_ann"] == ann
    assert stored["rows"]["lmu_ann"] == {"old": 1} and live["lmu"]["steps"] == T


def _lmu_weights(hidden=5, order=4):
    weights = {}
    for k, (arm, _, _) in enumerate(comparison.LMU_ROWS.values()):
        torch.manual_seed(k)
        net = hybrid_lmu.HybridLMU(hidden, order, 196.0)
        with torch.no_grad():
            net.memory_kernel.weight.mul_(4.0)
            net.input_kernel.weight.mul_(4.0)
        weights[arm] = net.state_dict()
    return weights


def _brute_force(images, state, dt, hidden=5, order=4):
    """The hybrid LMU re-run step by step; every weight layer's nonzero inputs counted per call."""
    net = hybrid_lmu.HybridLMU(hidden, order, 196.0, permutation=lmu.fixed_permutation(196, 0))
    net.load_state_dict(state)
    x = lmu.pixel_sequence(lmu_images(images), net.permutation)  # (T, B, 1)
    m = lmu.memory(x[..., 0] * net.encoder, order, 196.0)
    height = 1.0 if math.isinf(dt) else 1 / dt
    counts = {"acs": 0.0, "macs": 0.0, "rec_acs": 0.0, "rec_macs": 0.0}

    def bill(inp, fan_out, prefix=""):
        nz = inp[inp != 0]
        spikes = bool((nz == height).all())  # one call (a step, the whole batch): exact heights
        counts[prefix + ("acs" if spikes else "macs")] += len(nz) * fan_out

    with torch.no_grad():
        bill(m, hidden)
        bill(x, hidden)
        a = x.new_zeros(x.shape[1], hidden)
        state_q = net.initial_state(x.shape[1], x) if not math.isinf(dt) else None
        outputs = []
        for t in range(x.shape[0]):
            bill(a, hidden)
            bill(a, hidden, "rec_")
            rate = torch.relu(
                net.memory_kernel(m[t]) + net.input_kernel(x[t]) + net.recurrent_kernel(a)
            )
            a = rate if state_q is None else hybrid_lmu.spike_step(rate, state_q, dt)[0]
            if state_q is not None:
                state_q = hybrid_lmu.spike_step(rate, state_q, dt)[2]
            if t >= x.shape[0] - 4:
                outputs.append(a)
        bill(torch.stack(outputs).mean(0), 10)
    return {k: v / len(images) for k, v in counts.items()}


def test_lmu_hooked_equals_a_step_by_step_count():
    x, rec, weights = _images(4), _lmu_record(seeds=(0,)), _lmu_weights()
    hooked = lmu_hooked(x, rec, weights)
    memory = 196 * (4 * 4 + 4)
    for key, (arm, dt_key, _) in comparison.LMU_ROWS.items():
        dt = math.inf if dt_key is None else rec["settings"][dt_key]
        ref = _brute_force(x, weights[arm], dt)
        h = hooked[key]
        assert h["memory"] == memory
        assert h["acs"] + h["macs"] == pytest.approx(ref["acs"] + ref["macs"] + memory), key
        assert h["recurrent"].acs == pytest.approx(ref["rec_acs"]), key
        assert h["recurrent"].macs == pytest.approx(ref["rec_macs"]), key
    assert hooked["lmu_ann"]["acs"] == 0
    # at dt = 0.3 a neuron can send a burst: those steps are MACs (NeuroBench), not k ACs
    assert hooked["lmu_hybrid"]["recurrent"].macs > 0


# ------------------------------------------------------------------ reading a record
def _record():
    rows = {}
    for key, acc, acs, macs, task in (
        ("ann_mlp", 0.85, 0.0, 1e5, "Fashion-MNIST"),
        ("snn", 0.80, 1e6, 0.0, "Fashion-MNIST"),
        ("ann_conv", 0.90, 0.0, 1e6, "Fashion-MNIST"),
        ("converted", 0.88, 0.0, 1e6, "Fashion-MNIST"),  # seed s: (0.9 + 0.1 s) x its convnet
        ("lmu_ann", 0.70, 0.0, 1e7, "psFashion-MNIST"),
        ("lmu_hybrid", 0.70, 1e4, 5e6, "psFashion-MNIST"),
    ):
        seeds = {str(s): {"accuracy": acc + 0.01 * s, "dense": 2e7, "acs": acs,
                          "macs": macs * (0.9 + 0.1 * s if key == "converted" else 1.0),
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
    assert snn["dense_energy"] == pytest.approx(2e7 * 3.2e-12)
    html = comparison.cost_table(record).data
    assert "psFashion-MNIST" in html and "µJ" in html
    for fig in (
        comparison.plot_accuracy_energy(record),
        comparison.plot_pricing(record, "int32"),
        comparison.plot_sweep(record, "snn", 1),
    ):
        plt.close(fig)


def test_cost_table_says_what_each_spikes_entry_counts():
    html = comparison.cost_table(_record()).data
    assert "spikes counted" in html and "not stated" in html  # "snn" is not a row of the book
    assert comparison.SPIKES_COUNTED["lmu_hybrid"] in html
    assert set(comparison.SPIKES_COUNTED) >= set(comparison.LMU_ROWS)


def test_each_row_is_set_against_the_ann_it_replaces_seed_by_seed():
    record = _record()
    assert [reference_of(k) for k in ("ann_mlp", "snn", "converted", "hybrid", "lmu_dt3")] == [
        None, "ann_mlp", "ann_conv", "ann_conv", "lmu_ann"]  # fmt: skip
    # converted: the same MACs as its convnet x 0.9, 1.0, 1.1 on seeds 0, 1, 2
    assert seed_ratios(record, "converted") == pytest.approx([0.9, 1.0, 1.1])
    assert verdict(record, "converted") == "level"
    # snn: 1e6 x 0.9 pJ against 1e5 x 4.6 pJ (float32); 1e6 x 0.1 against 1e5 x 3.2 (int32)
    assert seed_ratios(record, "snn") == pytest.approx([0.9 / 0.46] * 3)
    assert verdict(record, "snn") == "dearer" and verdict(record, "snn", "int32") == "cheaper"
    # lmu_hybrid against lmu_ann, not the MLP: (1e4 x 0.9 + 5e6 x 4.6) / (1e7 x 4.6)
    ratio = (1e4 * 0.9 + 5e6 * 4.6) / (1e7 * 4.6)
    assert seed_ratios(record, "lmu_hybrid") == pytest.approx([ratio] * 3)
    assert verdict(record, "lmu_hybrid") == "cheaper"


def test_pricing_figure_follows_the_seed_by_seed_verdicts():
    # the SNN costs more than its MLP under float32 and less under int32, so its label flips;
    # the converted row straddles 1 on every price list (grey, no flip); ANN rows get no bar
    fig = comparison.plot_pricing(_record(), "int32")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    widths = [p.get_width() for p in ax.patches]
    colors = [p.get_facecolor() for p in ax.patches]
    plt.close(fig)
    assert labels == ["snn / ann_mlp  ← flips", "converted / ann_conv", "lmu_hybrid / lmu_ann"]
    assert widths[0] == pytest.approx(0.1 / 0.32) and widths[1] == pytest.approx(1.0)
    assert colors[1][:3] == pytest.approx((0.6, 0.6, 0.6))


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
    refuse(lambda: lmu_rows(300.0), TypeError, "images", id="lmu-rows-images"),
    refuse(lambda: lmu_rows(torch.rand(2, 28, 28)), ValueError, "images", id="lmu-rows-ndim"),
    refuse(
        lambda: lmu_rows(torch.full((2, 1, 28, 28), math.nan)), ValueError, "images", id="lmu-nan"
    ),  # fmt: skip
    refuse(lambda: lmu_rows(_images(2), {"rows": {}}), TypeError, "hybrid_lmu", id="lmu-rows-rec"),
    refuse(lambda: lmu_images(torch.rand(2, 1, 27, 27)), ValueError, "divisible", id="lmu-odd"),
    refuse(lambda: lmu_images(torch.zeros(0, 1, 28, 28)), ValueError, "images", id="lmu-empty"),
    refuse(lambda: lmu_task(torch.ones(2, 1, 28, 28).long()), TypeError, "images", id="task-int"),
    refuse(
        lambda: with_live_lmu({"rows": 3}, _images(2)), TypeError, "method_costs", id="live-rec"
    ),
    refuse(lambda: with_live_lmu(_record(), "x"), TypeError, "images", id="live-lmu-images"),
    refuse(
        lambda: lmu_hooked(_images(2), _lmu_record(), weights=[1]), TypeError, "weights", id="hk-w"
    ),  # fmt: skip
    refuse(
        lambda: lmu_hooked(_images(2), _lmu_record(), weights={}), ValueError, "arm", id="hk-arm"
    ),  # fmt: skip
    refuse(lambda: lmu_hooked(_images(2), {"settings": {}}), TypeError, "hybrid_lmu", id="hk-rec"),
    refuse(lambda: reference_of(3), TypeError, "key", id="reference-of"),
    refuse(lambda: seed_ratios(_record(), "nope"), ValueError, "key", id="ratios-key"),
    refuse(lambda: seed_ratios(_record(), "ann_mlp"), ValueError, "ANN row", id="ratios-ann"),
    refuse(lambda: seed_ratios(_record(), "snn", "fp16"), ValueError, "pricing", id="ratios-price"),
    refuse(
        lambda: seed_ratios({"rows": {"snn": _record()["rows"]["snn"]}}, "snn"),
        ValueError,
        "ann_mlp",
        id="ratios-no-ann",
    ),  # fmt: skip
    refuse(lambda: verdict(_record(), "lmu_ann"), ValueError, "ANN row", id="verdict-ann"),
    refuse(
        lambda: comparison.plot_pricing({"rows": {"ann_mlp": _record()["rows"]["ann_mlp"]}}),
        ValueError,
        "spiking rows",
        id="pricing-none",
    ),  # fmt: skip
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
