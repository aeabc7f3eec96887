import pytest
import snntorch as snn
import torch

from snnbook.activity import ActivityProbe, firing_rate, silent_fraction, spike_counts


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


def test_bad_inputs():
    with pytest.raises(ValueError, match="time-major"):
        firing_rate(torch.zeros(4, 3))
    with pytest.raises(TypeError, match="torch.Tensor"):
        silent_fraction([[0, 1]])
    with pytest.raises(ValueError, match="non-empty dict"):
        ActivityProbe({})
    with pytest.raises(TypeError, match="nn.Module"):
        ActivityProbe({"x": 3})


def test_plot_activity_one_line_per_run_and_errors():
    import matplotlib.pyplot as plt

    from snnbook.activity import plot_activity

    history = {"step": [10, 20], "a": {"rate": [0.1, 0.2], "silent": [0.5, 0.4]}}
    fig = plot_activity({"run 1": history, "run 2": history})
    assert len(fig.axes) == 2 and len(fig.axes[1].lines) == 2
    plt.close(fig)
    with pytest.raises(ValueError, match="at least one run"):
        plot_activity({})
