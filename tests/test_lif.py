import pytest
import torch
from snntorch import surrogate

from snnbook.lif import RateLIFNet, lif_response, surrogate_derivative, time_loop_backward, triangle


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
    with pytest.raises(ValueError, match="reset_mechanism"):
        lif_response(torch.ones(3), beta=0.9, reset_mechanism="soft")
    with pytest.raises(ValueError, match="split must be"):
        time_loop_backward(10, split="slice")
    with pytest.raises(ValueError, match="width must be > 0"):
        triangle(0.0)
