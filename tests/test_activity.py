import pytest
import snntorch as snn
import torch
from conftest import assert_refuses, refuse

from snnbook.activity import (
    RATE_FLOOR,
    ActivityProbe,
    firing_rate,
    plot_activity,
    silent_fraction,
    spike_counts,
)


def _hand_built():
    # T = 4 steps, batch 2, 3 neurons: neuron 0 fires 3 times, neuron 1 once, neuron 2 never
    s = torch.zeros(4, 2, 3)
    s[0, 0, 0] = s[1, 1, 0] = s[3, 0, 0] = 1
    s[2, 1, 1] = 1
    return s


def test_functions_on_hand_built_spikes():
    s = _hand_built()
    assert spike_counts(s).tolist() == [3, 1, 0]
    assert firing_rate(s) == pytest.approx(4 / 24)
    assert silent_fraction(s) == pytest.approx(1 / 3)


def test_conv_shaped_spikes_count_every_position_as_a_neuron():
    s = torch.zeros(2, 1, 2, 3, 3)
    s[1, 0, 0, 1, 1] = 1
    assert silent_fraction(s) == pytest.approx(17 / 18)
    assert firing_rate(s) == pytest.approx(1 / 36)


def test_probe_agrees_with_functions_when_fed_step_by_step():
    s = _hand_built()
    identity = torch.nn.Identity()
    probe = ActivityProbe({"a": identity})
    for t in range(4):
        identity(s[t])
    assert probe.rates()["a"] == pytest.approx(firing_rate(s))
    assert probe.silent()["a"] == pytest.approx(silent_fraction(s))
    probe.snapshot(step=10)
    assert probe.history["step"] == [10]
    assert probe.history["a"]["silent"] == [pytest.approx(1 / 3)]
    with pytest.raises(RuntimeError, match="has not run"):
        probe.rates()
    probe.remove()
    identity(s[0])
    with pytest.raises(RuntimeError, match="has not run"):
        probe.rates()


def test_probe_reads_the_spikes_of_a_leaky_layer():
    lif = snn.Leaky(beta=1.0, threshold=1.0)
    current = torch.tensor([[0.6, 0.0], [0.6, 0.0], [0.6, 0.0], [0.6, 0.0]])  # (T, neurons)
    with ActivityProbe({"lif": lif}) as probe:
        mem = lif.init_leaky()
        spikes = []
        for c in current:
            spk, mem = lif(c.unsqueeze(0), mem)
            spikes.append(spk)
        recorded = torch.stack(spikes)
        assert recorded.sum() > 0
        assert probe.rates()["lif"] == pytest.approx(firing_rate(recorded))
        assert probe.silent()["lif"] == pytest.approx(0.5)
    assert lif._forward_hooks == {}


def test_observe_counts_a_whole_recording_like_step_by_step_hooks():
    s = _hand_built()
    probe = ActivityProbe({"a": None})
    probe.observe("a", s[:2])
    probe.observe("a", s[2:])
    assert probe.rates()["a"] == pytest.approx(firing_rate(s))
    assert probe.silent()["a"] == pytest.approx(silent_fraction(s))


def test_plot_activity_uses_a_log_axis_with_a_floor_for_silence():
    import matplotlib.pyplot as plt

    history = {"step": [10, 20], "a": {"rate": [0.1, 0.0], "silent": [0.5, 1.0]}}
    fig = plot_activity({"run 1": history, "run 2": history})
    rate_ax = fig.axes[0]
    assert rate_ax.get_yscale() == "log"
    line = rate_ax.lines[0]
    assert list(line.get_ydata()) == [0.1, RATE_FLOOR]  # no negative or zero rates drawn
    assert len(fig.axes) == 2 and len(fig.axes[1].lines) == 2
    plt.close(fig)


BAD_INPUTS = [
    refuse(lambda: firing_rate(torch.zeros(4, 3)), ValueError, "time-major"),
    refuse(lambda: silent_fraction([[0, 1]]), TypeError, "spikes"),
    refuse(lambda: spike_counts(torch.zeros(0, 2, 3)), ValueError, "empty"),
    refuse(lambda: firing_rate(torch.zeros(2, 2, 2, dtype=torch.complex64)), TypeError, "dtype"),
    refuse(lambda: ActivityProbe({}), ValueError, "non-empty dict"),
    refuse(lambda: ActivityProbe([("a", torch.nn.Identity())]), ValueError, "dict"),
    refuse(lambda: ActivityProbe({"x": 3}), TypeError, "nn.Module"),
    refuse(lambda: ActivityProbe({1: None}), TypeError, "names"),
    refuse(
        lambda: ActivityProbe({"a": None}).observe("b", torch.zeros(2, 1, 3)), ValueError, "name"
    ),
    refuse(
        lambda: ActivityProbe({"a": None}).observe("a", torch.zeros(2, 3)), ValueError, "time-major"
    ),
    refuse(lambda: ActivityProbe({"a": None}).rates(), RuntimeError, "has not run"),
    refuse(lambda: plot_activity({}), ValueError, "at least one run"),
    refuse(lambda: plot_activity({"r": {"step": []}}, ["a"]), ValueError, "lacks"),
    refuse(
        lambda: plot_activity({"r": {"step": [1], "a": {"rate": [0.1], "silent": [0]}}}, floor=0),
        ValueError,
        "floor",
    ),
]


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)


def test_runs_on_meta_device():
    meta = torch.device("meta")
    lif = snn.Leaky(beta=0.9).to(meta)
    with ActivityProbe({"lif": lif}) as probe:
        mem = lif.init_leaky()
        for _ in range(3):
            spk, mem = lif(torch.ones(2, 4, device=meta), mem)
        probe.observe("lif", torch.ones(3, 2, 4, device=meta))
        assert probe._counts["lif"].device == meta
