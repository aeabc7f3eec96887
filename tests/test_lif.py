import math

import pytest
import torch
from conftest import assert_refuses, refuse
from snntorch import surrogate

from snnbook.lif import (
    RateLIFNet,
    beta_from_tau,
    leaky_scan,
    lif_response,
    plot_codes,
    plot_leak,
    plot_resets,
    plot_slope,
    plot_surrogates,
    run_leaky,
    saved_bytes,
    slope_trial,
    surrogate_derivative,
    time_loop_backward,
    triangle,
)


def _reference_lif(current, beta, theta, reset):
    """Plain-Python LIF with snnTorch's delayed reset, written from the equations."""
    u, mems, spks = 0.0, [], []
    for i in current.tolist():
        r = 1.0 if u > theta else 0.0
        if reset == "subtract":
            u = beta * u + i - r * theta
        else:
            u = beta * (1.0 - r) * u + i
        s = 1.0 if u > theta else 0.0
        mems.append(u)
        spks.append(s)
    return torch.tensor(mems), torch.tensor(spks)


@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_lif_response_matches_plain_loop(reset):
    current = torch.tensor([0.3, 0.8, 0.9, 0.0, 1.7, 0.4, 0.4, 0.4, 2.5, 0.0])
    mem, spk = lif_response(current, beta=0.8, threshold=1.0, reset_mechanism=reset)
    ref_mem, ref_spk = _reference_lif(current, 0.8, 1.0, reset)
    torch.testing.assert_close(mem, ref_mem)
    assert spk.tolist() == ref_spk.tolist()


def test_subtractive_if_neuron_counts_like_error_diffusion():
    # beta = 1, constant input I: after T steps the count is floor(T * I / theta) within one spike
    for level in [0.13, 0.5, 0.77]:
        _, spk = lif_response(torch.full((100,), level), beta=1.0, threshold=1.0)
        assert abs(spk.sum().item() - 100 * level) <= 1.0


def test_surrogate_derivatives_match_formulas():
    u = torch.linspace(-2, 2, 41)
    fs = surrogate_derivative(surrogate.fast_sigmoid(slope=5.0), u)
    torch.testing.assert_close(fs, 1.0 / (5.0 * u.abs() + 1.0) ** 2)
    at = surrogate_derivative(surrogate.atan(alpha=2.0), u)
    torch.testing.assert_close(at, 1.0 / (1.0 + (torch.pi * u) ** 2))
    tri = surrogate_derivative(triangle(0.5), u)
    torch.testing.assert_close(tri, (1.0 - u.abs() / 0.5).clamp(min=0.0))


def test_index_and_unbind_loops_give_the_same_gradients():
    x = torch.randn(6, 3, 4, requires_grad=True)
    grads = []
    for split in ("index", "unbind"):
        steps = x.unbind(0) if split == "unbind" else [x[t] for t in range(6)]
        total = sum((s.tanh() * (t + 1)).sum() for t, s in enumerate(steps))
        (g,) = torch.autograd.grad(total, x)
        grads.append(g)
    torch.testing.assert_close(grads[0], grads[1])
    assert time_loop_backward(5, split="unbind") >= 0.0


def test_rate_lif_net_shapes_and_errors():
    torch.manual_seed(0)
    net = RateLIFNet(16, num_steps=4)
    out = net.run(torch.rand(3, 1, 28, 28))
    assert out["spk1"].shape == (4, 3, 16) and out["mem2"].shape == (4, 3, 10)
    assert net(torch.rand(3, 784)).shape == (3, 10)
    with pytest.raises(ValueError, match="784 input features"):
        net(torch.rand(3, 100))


# ------------------------------------------------------------------ fast path
def _stepped(lif, currents):
    """Reference: step the snnTorch layer one time step at a time."""
    mem = lif.init_leaky()
    spikes, mems = [], []
    for c in currents.unbind(0):
        spk, mem = lif(c, mem)
        spikes.append(spk)
        mems.append(mem)
    return torch.stack(spikes), torch.stack(mems)


@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
@pytest.mark.parametrize("spike_grad", ["fast_sigmoid", "atan"])
def test_leaky_scan_equals_stepping_snntorch_in_values_and_gradients(reset, spike_grad):
    import snntorch as snn

    grad_fn = getattr(surrogate, spike_grad)()
    lif = snn.Leaky(beta=0.7, threshold=1.5, spike_grad=grad_fn, reset_mechanism=reset)
    gen = torch.Generator().manual_seed(1)
    currents = (torch.randn(30, 4, 5, generator=gen) * 1.2).requires_grad_(True)
    w_spk, w_mem = torch.randn(2, 30, 4, 5, generator=gen)
    ref_spk, ref_mem = _stepped(lif, currents)
    (ref_grad,) = torch.autograd.grad((ref_spk * w_spk).sum() + (ref_mem * w_mem).sum(), currents)
    spk, mem = leaky_scan(lif, currents)
    (grad,) = torch.autograd.grad((spk * w_spk).sum() + (mem * w_mem).sum(), currents)
    assert ref_spk.sum() > 0 and torch.equal(spk, ref_spk)
    torch.testing.assert_close(mem, ref_mem)
    torch.testing.assert_close(grad, ref_grad)


def test_leaky_scan_scales_graded_spikes_like_snntorch():
    import snntorch as snn

    lif = snn.Leaky(beta=0.8, threshold=1.0, graded_spikes_factor=2.5)
    currents = torch.rand(12, 3, generator=torch.Generator().manual_seed(0)).requires_grad_(True)
    ref, _ = _stepped(lif, currents)
    (ref_grad,) = torch.autograd.grad(ref.sum(), currents)
    spk, _ = leaky_scan(lif, currents)
    (grad,) = torch.autograd.grad(spk.sum(), currents)
    assert ref.max() == 2.5 and torch.equal(spk, ref)
    torch.testing.assert_close(grad, ref_grad)


def test_leaky_scan_sees_an_annealed_threshold_and_expanded_input():
    import snntorch as snn

    lif = snn.Leaky(beta=0.9, threshold=1.0)
    constant = torch.full((3,), 0.6, requires_grad=True)
    spk, _ = leaky_scan(lif, constant.expand(10, 3))
    with torch.no_grad():
        lif.threshold.fill_(100.0)
    quiet, _ = leaky_scan(lif, constant.expand(10, 3))
    assert spk.sum() > 0 and quiet.sum() == 0
    quiet.sum().backward()
    assert constant.grad.shape == (3,)


def test_beta_from_tau_is_the_exact_decay():
    # tau dU/dt = -U over one step: U(dt) = U(0) exp(-dt / tau)
    assert beta_from_tau(10.0, 1.0) == pytest.approx(0.904837418)
    assert beta_from_tau(5.0, 5.0) == pytest.approx(math.exp(-1.0))


def test_saved_bytes_grows_linearly_with_the_number_of_steps():
    torch.manual_seed(0)
    x = torch.rand(8, 784)
    sizes = []
    for steps in (10, 20, 40):
        net = RateLIFNet(32, num_steps=steps)
        sizes.append(saved_bytes(lambda net=net: net(x).sum()))
    # the per-step part doubles with T; the weights saved once do not
    assert sizes[2] - sizes[1] == pytest.approx(2 * (sizes[1] - sizes[0]), rel=0.02)
    assert sizes[0] > 0


def test_saved_bytes_counts_what_the_graph_keeps_exactly():
    # x[:3] * w saves x (for dw) and w (for dx): 4 + 3 floats; the 2 x 1000
    # floats saved by the detached branch are freed with its graph and must not count
    w = torch.ones(3, requires_grad=True)
    x = torch.rand(4, requires_grad=True)

    def forward():
        a, b = torch.rand(1000, requires_grad=True), torch.rand(1000, requires_grad=True)
        (a * b).detach()  # saves a and b, but this graph is dropped at once
        return (x[:3] * w).sum()

    first = saved_bytes(forward)
    assert first == saved_bytes(forward)  # no dependence on allocator reuse
    assert first == 4 * 4 + 3 * 4  # the view x[:3] shares x's storage of 4 floats


def test_saved_bytes_is_deterministic_for_a_spiking_network():
    x = torch.rand(8, 784)
    sizes = set()
    for _ in range(3):
        torch.manual_seed(0)
        net = RateLIFNet(32, num_steps=10)
        sizes.add(saved_bytes(lambda net=net: net(x).sum()))
    assert len(sizes) == 1


def test_slope_trial_is_reproducible():
    from snnbook.data import load_fashion_mnist

    x, y = load_fashion_mnist("train", n=256)
    a = slope_trial(
        2.0, 0, (x, y), (x[:64], y[:64]), hidden=16, num_steps=4, probe_batch=64, batch_size=64
    )
    b = slope_trial(
        2.0, 0, (x, y), (x[:64], y[:64]), hidden=16, num_steps=4, probe_batch=64, batch_size=64
    )
    assert a == b and len(a["first_losses"]) == 3 and 0 <= a["test_acc"] <= 1


# ---------------------------------------------------------- bad inputs, devices
def _leaky():
    import snntorch as snn

    return snn.Leaky(beta=0.9)


def _images():
    return torch.rand(4, 784), torch.zeros(4, dtype=torch.long)


BAD_INPUTS = [
    refuse(lambda: lif_response(torch.ones(5), beta=1.5), ValueError, "beta", id="beta>1"),
    refuse(lambda: lif_response(torch.ones(5), beta=-0.1), ValueError, "beta", id="beta<0"),
    refuse(lambda: lif_response(torch.ones(5), beta="0.9"), TypeError, "beta", id="beta-str"),
    refuse(lambda: lif_response(torch.ones(5), beta=0.9, threshold=0), ValueError, "threshold"),
    refuse(
        lambda: lif_response(torch.ones(5), beta=0.9, threshold=float("nan")),
        ValueError,
        "threshold",
        id="threshold-nan",
    ),
    refuse(lambda: lif_response([1.0, 2.0], beta=0.9), TypeError, "current", id="list"),
    refuse(lambda: lif_response(torch.ones(2, 2, 2), beta=0.9), ValueError, "current", id="3d"),
    refuse(lambda: lif_response(torch.ones(0), beta=0.9), ValueError, "current", id="empty"),
    refuse(
        lambda: lif_response(torch.tensor([1.0, float("nan")]), beta=0.9),
        ValueError,
        "current",
        id="current-nan",
    ),
    refuse(
        lambda: lif_response(torch.ones(5), beta=0.9, reset_mechanism="soft"),
        ValueError,
        "reset_mechanism",
    ),
    refuse(lambda: run_leaky(torch.nn.Linear(2, 2), torch.ones(3, 2)), TypeError, "snntorch"),
    refuse(lambda: run_leaky(_leaky(), torch.ones(3, 2, dtype=torch.long)), TypeError, "currents"),
    refuse(lambda: leaky_scan(_leaky(), torch.tensor(1.0)), ValueError, "currents", id="0d"),
    refuse(lambda: leaky_scan("lif", torch.ones(3, 2)), TypeError, "lif", id="scan-not-leaky"),
    refuse(
        lambda: leaky_scan(
            __import__("snntorch").Leaky(beta=0.9, learn_threshold=True), torch.ones(3, 2)
        ),
        ValueError,
        "learn_threshold",
    ),
    refuse(lambda: beta_from_tau(0.0), ValueError, "tau"),
    refuse(lambda: beta_from_tau(10.0, dt=-1.0), ValueError, "dt"),
    refuse(lambda: surrogate_derivative("atan", torch.zeros(3)), TypeError, "spike_grad"),
    refuse(lambda: surrogate_derivative(surrogate.atan(), [0.0]), TypeError, "u"),
    refuse(
        lambda: surrogate_derivative(surrogate.atan(), torch.tensor([float("inf")])),
        ValueError,
        "u",
    ),
    refuse(lambda: triangle(0.0), ValueError, "width"),
    refuse(lambda: triangle("1"), TypeError, "width"),
    refuse(lambda: RateLIFNet(0), ValueError, "hidden"),
    refuse(lambda: RateLIFNet(16, num_steps=2.5), TypeError, "num_steps"),
    refuse(lambda: RateLIFNet(16, beta=1.2), ValueError, "beta"),
    refuse(lambda: RateLIFNet(16, spike_grad=3), TypeError, "spike_grad"),
    refuse(lambda: RateLIFNet(16, n_in=True), TypeError, "n_in"),
    refuse(lambda: RateLIFNet(16)(torch.rand(3, 100)), ValueError, "784", id="features"),
    refuse(lambda: RateLIFNet(16)(torch.ones(3, 784, dtype=torch.long)), TypeError, "x"),
    refuse(lambda: time_loop_backward(0, split="unbind"), ValueError, "num_steps"),
    refuse(lambda: time_loop_backward(10, split="slice"), ValueError, "split"),
    refuse(lambda: time_loop_backward(10, split="index", batch=0), ValueError, "batch"),
    refuse(lambda: time_loop_backward(10, split="index", seed=-1), ValueError, "seed"),
    refuse(lambda: saved_bytes(3), TypeError, "forward"),
    refuse(lambda: saved_bytes(lambda: torch.ones(2)), ValueError, "requires grad"),
    refuse(lambda: slope_trial(0.0, 0, _images(), _images()), ValueError, "slope"),
    refuse(lambda: slope_trial(1.0, -1, _images(), _images()), ValueError, "seed"),
    refuse(lambda: slope_trial(1.0, 0, torch.ones(3), _images()), TypeError, "train"),
    refuse(
        lambda: slope_trial(1.0, 0, (torch.rand(4, 784), torch.zeros(3).long()), _images()),
        ValueError,
        "same length",
    ),
    refuse(lambda: plot_resets(torch.ones(3, 2), beta=0.9), ValueError, "current"),
    refuse(lambda: plot_resets(torch.ones(5), beta=2.0), ValueError, "beta"),
    refuse(lambda: plot_surrogates({}, torch.zeros(3)), ValueError, "named"),
    refuse(lambda: plot_leak(1.2), ValueError, "beta", id="plot_leak-beta"),
    refuse(lambda: plot_leak(0.9, float("nan")), ValueError, "level", id="plot_leak-nan"),
    refuse(lambda: plot_leak(0.9, 0.5, num_steps=20), ValueError, "num_steps", id="plot_leak-T"),
    refuse(lambda: plot_slope(0.0), ValueError, "slope", id="plot_slope-0"),
    refuse(lambda: plot_slope("25"), TypeError, "slope", id="plot_slope-str"),
    refuse(lambda: plot_surrogates({"a": 1}, torch.zeros(3)), TypeError, "named"),
    refuse(lambda: plot_codes(torch.rand(784), {}), ValueError, "codes"),
    refuse(lambda: plot_codes([0.0], {"rate": torch.zeros(3, 784)}), TypeError, "image"),
]


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)


def test_runs_on_meta_device():
    import snntorch as snn

    meta = torch.device("meta")
    net = RateLIFNet(16, num_steps=3).to(meta)
    out = net(torch.rand(2, 784, device=meta))
    assert out.device == meta and out.shape == (2, 10)
    out.sum().backward()
    assert net.fc1.weight.grad.device == meta
    lif = snn.Leaky(beta=0.9, threshold=2.0).to(meta)
    currents = torch.randn(5, 2, 3, device=meta, requires_grad=True)
    spk, mem = leaky_scan(lif, currents)
    (spk.sum() + mem.sum()).backward()
    assert currents.grad.device == meta
    assert run_leaky(lif, currents).device == meta


def test_plotting_helpers_accept_tensors_that_require_grad():
    import matplotlib.pyplot as plt

    current = torch.full((20,), 0.5, requires_grad=True)
    fig, counts = plot_resets(current, beta=0.9)
    assert counts["subtract"] >= counts["zero"]
    plt.close(fig)
    fig = plot_surrogates({"atan": surrogate.atan()}, torch.linspace(-1, 1, 5, requires_grad=True))
    plt.close(fig)
    fig = plot_codes(torch.rand(784), {"rate": torch.zeros(4, 784, requires_grad=True)})
    plt.close(fig)


def test_explorer_plots_state_what_they_draw():
    import matplotlib.pyplot as plt

    fig = plot_leak(0.9, 0.45)
    assert "4.50" in fig._suptitle.get_text()  # 0.45 / (1 - 0.9)
    plt.close(fig)
    # the share of N(0, 0.5^2) membranes with |u| < 1/k, by sampling
    gen = torch.Generator().manual_seed(0)
    u = 0.5 * torch.randn(200_000, generator=gen)
    share = (u.abs() < 1 / 25).float().mean().item()
    fig = plot_slope(25.0)
    assert fig.axes[0].get_title().startswith(f"{share:.1%}"[:3])
    plt.close(fig)


def test_slope_script_prefix_reproduces_the_recorded_numbers():
    import importlib.util
    from pathlib import Path

    from snnbook import records
    from snnbook.training import batches

    path = Path(__file__).resolve().parents[1] / "scripts" / "surrogate_slopes.py"
    spec = importlib.util.spec_from_file_location("surrogate_slopes", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    record = records.load("surrogate_slopes")
    assert record["slopes"] == list(script.SLOPES)
    assert record["provenance"]["seeds"] == list(script.SEEDS)
    (x, y), _ = script.data()
    slope = script.SLOPES[0]
    stored = record["runs"][f"{slope:g}"]["0"]
    # the opening of slope_trial: initialisation, gradient probe, then the first Adam steps of fit
    torch.manual_seed(0)
    net = RateLIFNet(128, num_steps=25, spike_grad=surrogate.fast_sigmoid(slope=slope))
    torch.nn.functional.cross_entropy(net(x[:256]), y[:256]).backward()
    assert net.fc1.weight.grad.norm().item() == pytest.approx(stored["grad_norm"], rel=1e-4)
    net.zero_grad()
    optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)
    losses = []
    for xb, yb in batches(x, y, 128, shuffle=True, generator=torch.Generator().manual_seed(0)):
        loss = torch.nn.functional.cross_entropy(net(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if len(losses) == 3:
            break
    assert losses == pytest.approx(stored["first_losses"], rel=1e-4)
