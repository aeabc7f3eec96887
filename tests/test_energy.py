"""snnbook.energy against independent counts.

The references never use the module's fan-out map: a pure-Python loop over
output positions, kernel taps and input channels (the textbook definition of a
convolution), a loop over the nonzero inputs of a linear layer, and, for the
padding modes the loop does not cover, unit impulses pushed one at a time
through a copy of the layer with all-ones weights (each column of the layer's
Toeplitz matrix).
"""

import copy
import math

import pytest
import snntorch as snn
import torch
from conftest import assert_refuses, refuse
from torch import nn

from snnbook import energy
from snnbook.binary import BinaryLinear
from snnbook.data import rate_encode
from snnbook.energy import (
    E_AC,
    E_MAC,
    Operations,
    conv_fanout,
    count_operations,
    dense_energy,
)
from snnbook.lif import RateLIFNet


# ------------------------------------------------------------------ references
def _is_binary(x: torch.Tensor) -> bool:
    return set(x.flatten().tolist()) <= {0.0, 1.0}


def brute_linear(layer: nn.Linear, x: torch.Tensor) -> tuple[int, int]:
    """(dense, effective) connections of one call, by enumerating them."""
    dense = effective = 0
    for row in x.reshape(-1, layer.in_features).tolist():
        for value in row:
            for _target in range(layer.out_features):
                dense += 1
                effective += value != 0
    return dense, effective


def brute_conv(conv: nn.Conv2d, x: torch.Tensor) -> tuple[int, int]:
    """(dense, effective) connections of one call: loops over outputs, input channels, taps.

    Zero padding with integer padding only (the textbook definition).
    """
    n_batch, channels, height, width = x.shape
    (kh, kw), (sh, sw) = conv.kernel_size, conv.stride
    (ph, pw), (dh, dw) = conv.padding, conv.dilation
    in_group, out_group = channels // conv.groups, conv.out_channels // conv.groups
    out_h = (height + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    out_w = (width + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    values = x.tolist()
    dense = effective = 0
    for n in range(n_batch):
        for oc in range(conv.out_channels):
            group = oc // out_group
            for oh in range(out_h):
                for ow in range(out_w):
                    for ic in range(group * in_group, (group + 1) * in_group):
                        for i in range(kh):
                            h = oh * sh - ph + i * dh
                            if not 0 <= h < height:
                                continue  # a tap on zero padding touches no input
                            for j in range(kw):
                                w = ow * sw - pw + j * dw
                                if 0 <= w < width:
                                    dense += 1
                                    effective += values[n][ic][h][w] != 0
    return dense, effective


def impulse_connections(conv: nn.Conv2d, channels: int, height: int, width: int) -> torch.Tensor:
    """Connections leaving each input element ``(C, H, W)``: its impulse through all-ones weights."""
    ones = copy.deepcopy(conv).double()
    with torch.no_grad():
        ones.weight.fill_(1.0)
        ones.bias = None
        size = channels * height * width
        impulses = torch.eye(size, dtype=torch.float64).reshape(size, channels, height, width)
        return ones(impulses).flatten(1).sum(1).reshape(channels, height, width)


def _inputs(shape, binary, seed=0, density=0.3):
    gen = torch.Generator().manual_seed(seed)
    mask = (torch.rand(shape, generator=gen) < density).float()
    return mask if binary else mask * torch.randn(shape, generator=gen)


# ------------------------------------------------------------------ linear layers
@pytest.mark.parametrize("binary", [True, False])
@pytest.mark.parametrize("shape", [(5, 12), (4, 3, 12), (12,)])
def test_linear_matches_enumerated_connections(binary, shape):
    layer = nn.Linear(12, 7)
    x = _inputs(shape, binary)
    ops = count_operations(layer, x)
    dense, effective = brute_linear(layer, x)
    assert ops.dense == dense
    assert (ops.acs, ops.macs) == ((effective, 0) if binary else (0, effective))
    assert ops.spikes == (x.count_nonzero().item() if binary else 0)
    (layer_ops,) = ops.layers
    assert layer_ops.calls == 1 and layer_ops.inputs == x.numel()
    assert layer_ops.input_sparsity == pytest.approx(1 - x.count_nonzero().item() / x.numel())


def test_binarized_linear_subclass_is_counted():
    layer = BinaryLinear(10, 4)
    x = _inputs((3, 10), binary=True)
    ops = count_operations(layer, x)
    assert ops.acs == brute_linear(layer, x)[1] and ops.layers[0].kind == "BinaryLinear"


# ------------------------------------------------------------------ convolutions
CONVS = {
    "plain": dict(in_channels=3, out_channels=4, kernel_size=3),
    "pad1": dict(in_channels=3, out_channels=4, kernel_size=3, padding=1),
    "stride2-pad1": dict(in_channels=2, out_channels=5, kernel_size=3, stride=2, padding=1),
    "stride3-k2": dict(in_channels=2, out_channels=3, kernel_size=2, stride=3),
    "rect": dict(in_channels=2, out_channels=3, kernel_size=(3, 2), stride=(2, 1), padding=(2, 0)),
    "dilation": dict(in_channels=2, out_channels=3, kernel_size=3, dilation=2, padding=1),
    "groups": dict(in_channels=4, out_channels=6, kernel_size=3, padding=1, groups=2),
    "depthwise": dict(in_channels=3, out_channels=3, kernel_size=3, stride=2, groups=3),
    "big-pad": dict(in_channels=1, out_channels=2, kernel_size=3, padding=3, stride=2),
}


@pytest.mark.parametrize("binary", [True, False])
@pytest.mark.parametrize("config", list(CONVS))
def test_conv_matches_loop_over_outputs_and_taps(config, binary):
    conv = nn.Conv2d(**CONVS[config])
    x = _inputs((2, conv.in_channels, 7, 8), binary, density=0.4)
    ops = count_operations(conv, x)
    dense, effective = brute_conv(conv, x)
    assert ops.dense == dense
    assert (ops.acs, ops.macs) == ((effective, 0) if binary else (0, effective))


@pytest.mark.parametrize(
    "config",
    [
        dict(kernel_size=3, padding="same"),
        dict(kernel_size=(3, 5), padding="same", dilation=(2, 1)),
        dict(kernel_size=3, padding="valid", stride=2),
        dict(kernel_size=3, padding=1, padding_mode="reflect"),
        dict(kernel_size=3, padding=2, stride=2, padding_mode="circular"),
        dict(kernel_size=3, padding=1, padding_mode="replicate", groups=2),
    ],
    ids=["same", "same-dilated", "valid", "reflect", "circular", "replicate-groups"],
)
@pytest.mark.parametrize("binary", [True, False])
def test_conv_padding_modes_match_unit_impulses(config, binary):
    conv = nn.Conv2d(2, 4, **config)
    x = _inputs((3, 2, 6, 7), binary, density=0.5, seed=3)
    per_element = impulse_connections(conv, 2, 6, 7)
    ops = count_operations(conv, x)
    effective = ((x != 0) * per_element).sum().item()
    assert ops.dense == per_element.sum().item() * len(x)
    assert (ops.acs, ops.macs) == ((effective, 0) if binary else (0, effective))


def test_fanout_is_exact_at_borders_not_an_average():
    # 3x3 kernel, stride 1, padding 1, on 4x4: corners feed 4 outputs, edges 6, the inside 9
    fanout = conv_fanout(nn.Conv2d(1, 1, 3, padding=1), 4, 4)
    expected = torch.tensor([[4, 6, 6, 4], [6, 9, 9, 6], [6, 9, 9, 6], [4, 6, 6, 4]])
    assert torch.equal(fanout.long(), expected)
    # stride 2 without padding on 5x5: rows/columns 0 and 4 feed one output, 1 and 3 one, 2 two
    fanout = conv_fanout(nn.Conv2d(1, 1, 3, stride=2), 5, 5)
    per_axis = torch.tensor([1, 1, 2, 1, 1])
    assert torch.equal(fanout.long(), per_axis[:, None] * per_axis[None, :])


def test_unbatched_conv_input_is_counted_like_a_batch_of_one():
    conv = nn.Conv2d(2, 3, 3, stride=2, padding=1)
    x = _inputs((2, 6, 6), binary=True, density=0.5)
    assert count_operations(conv, x) == count_operations(conv, x[None])


# ------------------------------------------------------------------ whole networks
class TimeLoop(nn.Module):
    """Calls the same two layers once per step, as a hand-written SNN time loop does."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(6, 5), nn.Linear(5, 3)

    def forward(self, x):  # x: (T, B, 6) spikes
        out = 0
        for x_t in x:
            out = out + self.fc2((self.fc1(x_t) > 0).float())
        return out


def test_time_loop_sums_every_call():
    model = TimeLoop()
    x = _inputs((9, 4, 6), binary=True, density=0.4)
    ops = count_operations(model, x)
    fc1, fc2 = ops.layers
    assert (fc1.calls, fc2.calls) == (9, 9)
    hidden = [(model.fc1(x_t) > 0).float() for x_t in x]
    assert fc1.acs == sum(brute_linear(model.fc1, x_t)[1] for x_t in x)
    assert fc2.acs == sum(brute_linear(model.fc2, h)[1] for h in hidden)
    assert fc2.dense == 9 * 4 * 5 * 3 and fc1.macs == fc2.macs == 0
    assert fc2.binary_calls == 9 and fc2.spikes == sum(h.count_nonzero().item() for h in hidden)


class Mixed(nn.Module):
    """Real pixels into a convolution, its spikes into a linear layer, then a real readout."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3, stride=2, padding=1)
        self.fc = nn.Linear(3 * 4 * 4, 8)
        self.readout = nn.Linear(8, 2)

    def forward(self, x):
        spikes = (self.conv(x) > 0.1).float().flatten(1)
        return self.readout(torch.relu(self.fc(spikes)))


def test_mixed_model_gives_macs_then_acs_layer_by_layer():
    model = Mixed()
    x = torch.rand(3, 1, 8, 8)
    x[:, :, :2] = 0  # some zero pixels, which cost nothing
    ops = count_operations(model, x)
    conv, fc, readout = ops.layers
    assert [layer.name for layer in ops.layers] == ["conv", "fc", "readout"]
    assert conv.acs == 0 and conv.macs == brute_conv(model.conv, x)[1]
    spikes = (model.conv(x) > 0.1).float().flatten(1)
    assert fc.macs == 0 and fc.acs == brute_linear(model.fc, spikes)[1]
    hidden = torch.relu(model.fc(spikes))
    assert readout.acs == 0 and readout.macs == brute_linear(model.readout, hidden)[1]
    assert ops.acs == fc.acs and ops.macs == conv.macs + readout.macs
    assert ops.spikes == spikes.count_nonzero().item()
    assert ops.dense == sum(layer.dense for layer in ops.layers)


def test_zero_input_costs_nothing_but_dense_is_full():
    model = Mixed()
    x = torch.zeros(2, 1, 8, 8)
    ops = count_operations(model, x)
    assert ops.layers[0].acs == ops.layers[0].macs == 0
    assert ops.layers[0].dense == brute_conv(model.conv, x)[0]
    assert ops.layers[0].input_sparsity == 1.0
    linear = count_operations(nn.Linear(5, 4), torch.zeros(3, 5))
    assert (linear.acs, linear.macs, linear.dense, linear.spikes) == (0, 0, 60, 0)


def test_rate_coded_lif_network_of_chapter_3():
    net = RateLIFNet(hidden=32, num_steps=6)
    images = torch.rand(4, 784)
    torch.manual_seed(5)
    ops = count_operations(net, images)
    torch.manual_seed(5)
    spikes_in = rate_encode(images, 6)
    torch.manual_seed(5)
    spk1 = net.run(images)["spk1"]
    fc1, fc2 = ops.layers
    assert fc1.calls == 1 and fc2.calls == 6  # fc1 takes all steps at once, (T, B, 784)
    assert fc1.acs == spikes_in.count_nonzero().item() * 32 and fc1.macs == 0
    assert fc2.acs == spk1.count_nonzero().item() * 10 and fc2.macs == 0
    assert ops.dense == 6 * 4 * (784 * 32 + 32 * 10)


def test_spike_value_makes_scaled_spikes_binary():
    layer = nn.Linear(6, 2)
    x = 0.25 * _inputs((4, 6), binary=True)  # spikes of amplitude 1/dt, dt = 4
    assert count_operations(layer, x).acs == 0
    assert count_operations(layer, x, spike_value=0.25).acs == brute_linear(layer, x)[1]


def test_modes_are_restored_and_counting_runs_in_eval_mode():
    model = nn.Sequential(nn.Dropout(0.9), nn.Linear(50, 3), nn.Dropout(0.5))
    model.train()
    model[2].eval()
    x = torch.ones(2, 50)
    ops = count_operations(model, x)
    assert ops.macs == 0 and ops.acs == 2 * 50 * 3  # no dropout: every input stays 1
    assert [m.training for m in model] == [True, True, False] and model.training


def test_uncounted_weight_layers_are_named():
    class WithLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn, self.out = nn.LSTM(3, 4), nn.Linear(4, 2)

        def forward(self, x):
            return self.out(self.rnn(x)[0][-1])

    ops = count_operations(WithLSTM(), torch.rand(5, 2, 3))
    assert ops.uncounted == ("rnn",) and [layer.name for layer in ops.layers] == ["out"]


def test_per_sample_divides_every_count():
    ops = count_operations(Mixed(), torch.rand(4, 1, 8, 8))
    one = ops.per_sample(4)
    assert one.dense == ops.dense / 4 and one.acs == ops.acs / 4 and one.macs == ops.macs / 4
    assert one.layers[1].spikes == ops.layers[1].spikes / 4 and one.layers[1].calls == 1


# ------------------------------------------------------------------ energy
def test_energy_is_hand_arithmetic():
    ops = Operations(dense=1000, acs=300, macs=20, spikes=30, layers=())
    assert energy.energy(ops) == pytest.approx(300 * 0.9e-12 + 20 * 4.6e-12, rel=1e-12)
    assert energy.energy(ops, e_ac=1.0, e_mac=10.0) == 300 + 200
    assert dense_energy(ops) == pytest.approx(1000 * 4.6e-12, rel=1e-12)
    assert (E_AC, E_MAC) == (0.9e-12, 0.9e-12 + 3.7e-12)
    layer = count_operations(nn.Linear(4, 2), torch.ones(1, 4)).layers[0]
    assert energy.energy(layer) == pytest.approx(8 * E_AC)


# ------------------------------------------------------------------ devices
def _devices():
    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    if torch.backends.mps.is_available():
        found.append("mps")
    return found


@pytest.mark.parametrize("device", _devices())
def test_counts_are_the_same_on_every_available_device(device):
    model = Mixed()
    x = torch.rand(3, 1, 8, 8)
    x[:, :, 5:] = 0
    expected = count_operations(model, x)
    assert count_operations(model.to(device), x.to(device)) == expected


def test_hooks_never_read_values_back_meta_device():
    # On the meta device a tensor has no values: any .item(), bool() or .cpu() in
    # the hooks would fail. The tallies must stay meta tensors until the end.
    model = Mixed().to("meta")
    tallies, uncounted = energy._run_hooks(model, (torch.ones(2, 1, 8, 8, device="meta"),), 1.0)
    assert [t.calls for t in tallies] == [1, 1, 1] and uncounted == []
    assert all(t.counts.device.type == "meta" for t in tallies)
    assert (
        tallies[0].dense
        == brute_conv(nn.Conv2d(1, 3, 3, stride=2, padding=1), torch.ones(2, 1, 8, 8))[0]
    )


# ------------------------------------------------------------------ bad input
class Unused(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        return x * 2


_OPS = Operations(dense=10, acs=2, macs=1, spikes=2, layers=())
_X = torch.ones(2, 3)

BAD_INPUTS = [
    refuse(lambda: count_operations("net", _X), TypeError, "model", id="model-str"),
    refuse(lambda: count_operations(nn.Linear(3, 2)), ValueError, "input", id="no-input"),
    refuse(lambda: count_operations(nn.Linear(3, 2), [1, 2, 3]), TypeError, "Tensor", id="list"),
    refuse(
        lambda: count_operations(nn.Linear(3, 2), torch.tensor([[1.0, math.nan, 0.0]])),
        ValueError,
        "NaN",
        id="nan",
    ),
    refuse(
        lambda: count_operations(nn.Linear(3, 2), torch.ones(2, 3, device="meta")),
        ValueError,
        "meta",
        id="meta",
    ),
    refuse(lambda: count_operations(nn.ReLU(), _X), ValueError, "nn.Linear", id="no-layers"),
    refuse(lambda: count_operations(Unused(), _X), ValueError, "ran", id="layer-never-called"),
    refuse(
        lambda: count_operations(nn.Linear(3, 2), _X, spike_value=0.0),
        ValueError,
        "spike_value",
        id="spike-value-zero",
    ),
    refuse(
        lambda: count_operations(nn.Linear(3, 2), _X, spike_value="1"),
        TypeError,
        "spike_value",
        id="spike-value-str",
    ),
    refuse(lambda: energy.energy({"acs": 1}), TypeError, "ops", id="energy-dict"),
    refuse(lambda: energy.energy(_OPS, e_ac=-1.0), ValueError, "e_ac", id="e_ac-negative"),
    refuse(lambda: energy.energy(_OPS, e_mac=math.nan), ValueError, "e_mac", id="e_mac-nan"),
    refuse(lambda: dense_energy(_OPS, e_mac="4.6 pJ"), TypeError, "e_mac", id="dense-e_mac-str"),
    refuse(lambda: dense_energy(3), TypeError, "ops", id="dense-int"),
    refuse(lambda: _OPS.per_sample(0), ValueError, "n", id="per-sample-zero"),
    refuse(lambda: _OPS.per_sample(2.0), TypeError, "n", id="per-sample-float"),
    refuse(lambda: conv_fanout(nn.Linear(3, 3), 4, 4), TypeError, "conv", id="fanout-linear"),
    refuse(lambda: conv_fanout(nn.Conv2d(1, 1, 3), 0, 4), ValueError, "height", id="fanout-h0"),
]


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)


def test_snntorch_leaky_layers_hold_no_weights_to_miss():
    # snn.Leaky keeps beta and threshold as buffers: nothing is reported uncounted
    net = nn.Sequential(nn.Linear(4, 3), snn.Leaky(beta=0.9, init_hidden=True))
    assert count_operations(net, torch.ones(2, 4)).uncounted == ()
