import math

import pytest
import torch
from torch.nn import functional as F

from snnbook.binary import BinaryConv2d, BinaryConvSNN, BinaryLinear, TemporalCodingNet, binarize


def test_binarize_forward_is_sign_with_zero_mapped_to_plus_one():
    w = torch.tensor([-2.0, -0.1, 0.0, 0.3, 5.0])
    assert binarize(w).tolist() == [-1.0, -1.0, 1.0, 1.0, 1.0]


def test_straight_through_gradient_is_identity():
    w = torch.tensor([-2.0, -0.1, 0.0, 0.3, 5.0], requires_grad=True)
    upstream = torch.tensor([1.0, -2.0, 3.0, 0.5, -1.0])
    (binarize(w) * upstream).sum().backward()
    assert torch.equal(w.grad, upstream)


def test_binary_linear_matches_linear_with_signed_weights_and_ste_gradient():
    torch.manual_seed(0)
    layer = BinaryLinear(6, 4)
    x = torch.randn(3, 6)
    y = layer(x)
    signs = torch.where(layer.weight >= 0, 1.0, -1.0).detach()
    torch.testing.assert_close(y, x @ signs.T)
    y.sum().backward()
    # d(sum y)/dW_b[i, j] = sum_b x[b, j], passed straight through to the latent weights
    torch.testing.assert_close(layer.weight.grad, x.sum(0).expand(4, 6))


def test_binary_conv_matches_conv_with_signed_weights():
    torch.manual_seed(0)
    layer = BinaryConv2d(2, 3, 3, padding=1)
    x = torch.randn(2, 2, 5, 5, requires_grad=True)
    signs = torch.where(layer.weight >= 0, 1.0, -1.0).detach()
    torch.testing.assert_close(layer(x), F.conv2d(x, signs, padding=1))
    g = torch.randn(2, 3, 5, 5)
    (layer(x) * g).sum().backward()
    w = signs.clone().requires_grad_(True)
    (F.conv2d(x.detach(), w, padding=1) * g).sum().backward()
    torch.testing.assert_close(layer.weight.grad, w.grad)


def test_glorot_uniform_bound():
    layer = BinaryLinear(300, 100)
    bound = math.sqrt(1.5 / 400)
    assert layer.weight.abs().max() <= bound
    assert layer.weight.abs().max() > 0.9 * bound
    assert layer.bias is None


def test_networks_shapes_and_errors():
    net = BinaryConvSNN(num_steps=3, thresholds=(1.0, 2.0, 3.0))
    out = net.run(torch.rand(2, 1, 28, 28))
    assert out["spk1"].shape == (3, 2, 16, 12, 12)
    assert out["spk3"].shape == (3, 2, 10)
    assert [lif.threshold.item() for lif in net.lifs] == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match=r"\(B, 1, 28, 28\)"):
        net(torch.rand(2, 784))
    with pytest.raises(ValueError, match="one threshold per LIF layer"):
        BinaryConvSNN(thresholds=(1.0, 1.0))
    toy = TemporalCodingNet(hidden=20)
    res = toy.run(torch.ones(5, 1, 100))
    assert res["mem2"].shape == (5, 1) and res["spk1"].shape == (5, 1, 20)
    with pytest.raises(ValueError, match="expected input spikes"):
        toy.run(torch.ones(5, 100))
    with pytest.raises(TypeError, match="torch.Tensor"):
        binarize([1.0, -1.0])


def test_ramp_target_shape_and_errors():
    from snnbook.binary import ramp_target

    r = ramp_target(100, 75, ramp_to=0.8, peak=1.25)
    assert r.shape == (100,)
    assert r[0] == 0.0 and r[74] == pytest.approx(0.8) and r[75] == 1.25
    assert (r[:75] < 1).all() and (r[76:] == 0).all()
    with pytest.raises(ValueError, match="spike_time must be in"):
        ramp_target(100, 100)
    with pytest.raises(ValueError, match="ramp_to < 1 < peak"):
        ramp_target(100, 75, peak=0.9)


def test_train_temporal_lowers_the_loss_of_a_full_precision_net():
    from snnbook.binary import ramp_target, train_temporal

    torch.manual_seed(0)
    net = TemporalCodingNet(binary=False, hidden=50)
    spikes = (torch.rand(20, 1, 100) < 0.8).float()
    losses = train_temporal(net, spikes, ramp_target(20, 15), iterations=30, lr=0.01, momentum=0.9)
    assert losses[-1] < 0.5 * losses[0]
