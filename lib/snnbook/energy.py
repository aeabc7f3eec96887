r"""Operations and energy: what a network computes, counted the way the field counts it.

A weight layer (``nn.Linear``, ``nn.Conv2d``) connects input elements to output
elements. One **connection** is one weight applied to one input element: one
multiplication, in a dense network. Over one forward pass (every call of every
layer, so every time step of a spiking network) :func:`count_operations` counts

* ``dense``: every connection of every call, zero inputs included: the work of a
  network that multiplies everything it is given;
* ``acs``: connections whose input element is nonzero in a call whose input is
  **binary** (every entry 0 or 1: spikes). A spike multiplies its weights by 1,
  so each such connection is one *accumulate* (AC): the weight is added to the
  target;
* ``macs``: connections whose input element is nonzero in any other call (real
  values: pixels, ReLU activities, averaged spikes). Each is one
  *multiply-accumulate* (MAC).

A zero input element costs nothing in ``acs`` or ``macs`` (an event-driven or
zero-skipping machine never touches its weights). This is the convention of
NeuroBench's ``SynapticOperations`` (effective MACs and ACs, and dense) :cite:`yik2025neurobench`,
and the two agree exactly on snnTorch MLPs and convnets (checked with NeuroBench 2.3.0), with
two differences at the edges: NeuroBench also calls an input with entries in
:math:`\{-1, 0, 1\}` spiking, here only :math:`\{0, 1\}` is (or
:math:`\{0, s\}` with ``spike_value=s``); and NeuroBench skips connections whose
weight is exactly zero (pruned weights), here every weight counts. Biases are
not counted.

For a linear layer each nonzero element along the last axis reaches
``out_features`` weights, whatever the leading axes are (``(B, F)``,
``(T, B, F)``, ...). For a convolution the number of output positions an input
element reaches depends on where it sits: near a border, with a stride, or with
dilation, fewer kernel taps land on it. The count here is exact per input
position: the fan-out map :math:`F[h, w]` (how many (output position, kernel
tap) pairs read input position :math:`(h, w)`) is the gradient of
:math:`\sum \mathrm{conv}(\mathbf 1, \mathbf 1)` with respect to the all-ones input,
computed once per layer and input size, and a nonzero input element at
:math:`(h, w)` in any channel makes :math:`F[h, w]\cdot C_\text{out}/\text{groups}`
connections. Taps that fall on zero padding are not connections (they touch no
input element); with ``padding_mode="reflect"`` and friends the padded values
are copies of real elements and their taps count for those elements.

**Energy.** :func:`energy` prices the counts with the 45 nm figures of Horowitz
:cite:`horowitz2014energy`: a 32-bit floating-point add costs 0.9 pJ and a
multiply 3.7 pJ, so an AC is an add (0.9 pJ) and a MAC a multiply plus an add
(4.6 pJ),

.. math::

    E = 0.9\,\text{pJ} \times \text{ACs} + 4.6\,\text{pJ} \times \text{MACs},

and :func:`dense_energy` prices the dense network that multiplies every
connection (:math:`4.6\,\text{pJ} \times \text{dense}`). **This counts arithmetic
only.** Reading the weights, moving activations and updating membrane potentials
is not counted, and on digital hardware it often costs more than the arithmetic:
Davidson & Furber :cite:`davidson2021comparison` conclude that, on the same
silicon, most rate-coded spiking networks are no more energy-efficient than the
ANN they replace, and Yan et al. :cite:`yan2024reconsidering`, counting data
movement, find that a rate-coded SNN with :math:`T = 5` time steps beats an
equivalent quantized network only at a spike rate below about 6% (6.4% for
:math:`T \in [5, 10]` in their v2; 5.7% at :math:`T = 5` in their latest version).
Read these energies as the arithmetic part of the bill, under one assumption
about the hardware.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from . import checks

__all__ = [
    "E_AC",
    "E_MAC",
    "LayerOperations",
    "Operations",
    "conv_fanout",
    "count_operations",
    "dense_energy",
    "energy",
]

#: Energy of one accumulate: a 32-bit float add at 45 nm, 0.9 pJ (Horowitz, ISSCC 2014).
E_AC = 0.9e-12
#: Energy of one multiply-accumulate: 32-bit float multiply (3.7 pJ) plus add (0.9 pJ) at 45 nm.
E_MAC = 4.6e-12

_COUNTED = (nn.Linear, nn.Conv2d)


@dataclass(frozen=True)
class LayerOperations:
    """The counts of one weight layer over one forward pass (all its calls summed).

    ``inputs`` is the number of input elements the layer was given (all calls),
    ``nonzero`` how many of them were nonzero, ``spikes`` how many of those were
    in binary calls (spikes arriving), ``binary_calls`` how many calls had a
    binary input.
    """

    name: str
    kind: str
    calls: int
    dense: float
    acs: float
    macs: float
    inputs: float
    nonzero: float
    spikes: float
    binary_calls: int

    @property
    def input_sparsity(self) -> float:
        """Fraction of the layer's input elements that were zero (0 when it saw none)."""
        return 1.0 - self.nonzero / self.inputs if self.inputs else 0.0

    @property
    def synaptic(self) -> float:
        """Operations actually done: ``acs + macs``."""
        return self.acs + self.macs


@dataclass(frozen=True)
class Operations:
    """Totals over one forward pass, and the same per layer (input side first).

    ``spikes`` is the number of nonzero input elements of binary calls: the
    spikes that reached a weight layer. ``uncounted`` names the modules that
    ran, hold a weight matrix or kernel of their own, and are neither
    ``nn.Linear`` nor ``nn.Conv2d`` (an LSTM, a ``Conv1d``, ...): their
    arithmetic is missing from the totals. Arithmetic done outside modules
    (``x @ W`` in a forward method, an LMU's memory update) is never seen.
    """

    dense: float
    acs: float
    macs: float
    spikes: float
    layers: tuple[LayerOperations, ...]
    uncounted: tuple[str, ...] = ()

    @property
    def synaptic(self) -> float:
        """Operations actually done: ``acs + macs`` (NeuroBench's effective synaptic operations)."""
        return self.acs + self.macs

    def per_sample(self, n: int) -> Operations:
        """The same counts divided by ``n`` (the number of samples in the pass)."""
        n = checks.positive_int("n", n, hint="pass the batch size of the counted forward pass")
        layers = tuple(
            dataclasses.replace(
                layer,
                dense=layer.dense / n,
                acs=layer.acs / n,
                macs=layer.macs / n,
                inputs=layer.inputs / n,
                nonzero=layer.nonzero / n,
                spikes=layer.spikes / n,
            )
            for layer in self.layers
        )
        return Operations(
            dense=self.dense / n,
            acs=self.acs / n,
            macs=self.macs / n,
            spikes=self.spikes / n,
            layers=layers,
            uncounted=self.uncounted,
        )


# ------------------------------------------------------------------ fan-out of a convolution
def conv_fanout(conv: nn.Conv2d, height: int, width: int) -> torch.Tensor:
    """How many (output position, kernel tap) pairs read each input position, ``(height, width)``.

    Exact for any stride, padding (numbers, ``"same"``, ``"valid"``, any
    ``padding_mode``) and dilation: the gradient of the sum of the convolution
    of an all-ones image with an all-ones kernel. Computed on the CPU in float64
    (it depends on shapes only); the entries are integers.
    """
    if not isinstance(conv, nn.Conv2d):
        raise TypeError(f"conv must be an nn.Conv2d, got {type(conv).__name__}")
    height = checks.positive_int("height", height)
    width = checks.positive_int("width", width)
    with torch.enable_grad():
        ones = torch.ones(1, 1, height, width, dtype=torch.float64, requires_grad=True)
        kernel = torch.ones(1, 1, *conv.kernel_size, dtype=torch.float64)
        if conv.padding_mode != "zeros":
            padded = F.pad(ones, conv._reversed_padding_repeated_twice, mode=conv.padding_mode)
            out = F.conv2d(padded, kernel, stride=conv.stride, dilation=conv.dilation)
        else:
            out = F.conv2d(
                ones, kernel, stride=conv.stride, padding=conv.padding, dilation=conv.dilation
            )
        (grad,) = torch.autograd.grad(out.sum(), ones)
    return grad[0, 0].round()


# ------------------------------------------------------------------ the tally kept by the hooks
class _Tally:
    """Running counts of one layer. Value counts stay tensors on the input's device."""

    def __init__(self, name: str, module: nn.Module, spike_value: float) -> None:
        self.name = name
        self.module = module
        self.kind = type(module).__name__
        self.spike_value = spike_value
        self.calls = 0
        self.dense = 0
        self.inputs = 0
        self.counts: torch.Tensor | None = None  # [acs, macs, nonzero, spikes, binary calls]
        self._fanout: dict[tuple[int, int, torch.device], tuple[torch.Tensor, int]] = {}

    def _conv_fanout(
        self, height: int, width: int, device: torch.device
    ) -> tuple[torch.Tensor, int]:
        key = (height, width, device)
        if key not in self._fanout:
            fanout = conv_fanout(self.module, height, width)
            self._fanout[key] = (fanout.to(device=device, dtype=torch.int64), int(fanout.sum()))
        return self._fanout[key]

    def add(self, x: torch.Tensor) -> None:
        """Count one call on input ``x`` (no value is read back to the host)."""
        nonzero = x != 0
        binary = (nonzero.logical_not() | (x == self.spike_value)).all().to(torch.int64)
        m = self.module
        if isinstance(m, nn.Conv2d):
            if x.ndim not in (3, 4):
                raise ValueError(f"{self.name}: expected a (C, H, W) or (N, C, H, W) input")
            fanout, fanout_sum = self._conv_fanout(x.shape[-2], x.shape[-1], x.device)
            per_tap = m.out_channels // m.groups
            lead = x.numel() // (x.shape[-2] * x.shape[-1])  # samples x channels
            self.dense += lead * fanout_sum * per_tap
            positions = nonzero.flatten(0, -3).sum(0)  # (H, W) nonzero count per position
            effective = (positions * fanout).sum() * per_tap
        else:
            self.dense += x.numel() * m.out_features
            effective = nonzero.sum() * m.out_features
        count = nonzero.sum()
        step = torch.stack(
            [effective * binary, effective * (1 - binary), count, count * binary, binary]
        )
        self.counts = step if self.counts is None else self.counts + step
        self.calls += 1
        self.inputs += x.numel()


def _input_of(args: tuple, kwargs: dict) -> torch.Tensor:
    return args[0] if args else kwargs["input"]


def _has_weight_matrix(module: nn.Module) -> bool:
    return any(p.ndim >= 2 for p in module.parameters(recurse=False))


def _run_hooks(
    model: nn.Module, inputs: tuple, spike_value: float
) -> tuple[list[_Tally], list[str]]:
    """Run ``model(*inputs)`` once in eval mode with counting hooks; the tallies, unread."""
    tallies: list[_Tally] = []
    uncounted: list[str] = []
    handles = []
    modes = {m: m.training for m in model.modules()}
    try:
        for name, module in model.named_modules():
            label = name or type(module).__name__
            if isinstance(module, _COUNTED):
                tally = _Tally(label, module, spike_value)
                tallies.append(tally)
                handles.append(
                    module.register_forward_pre_hook(
                        lambda _m, args, kwargs, t=tally: t.add(_input_of(args, kwargs)),
                        with_kwargs=True,
                    )
                )
            elif _has_weight_matrix(module):

                def note(_module: nn.Module, _args: tuple, label: str = label) -> None:
                    if label not in uncounted:
                        uncounted.append(label)

                handles.append(module.register_forward_pre_hook(note))
        model.eval()
        with torch.no_grad():
            model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
        for module, mode in modes.items():
            module.training = mode
    return tallies, uncounted


def count_operations(model: nn.Module, *inputs: object, spike_value: float = 1.0) -> Operations:
    """Count dense connections, ACs and MACs of one forward pass ``model(*inputs)``.

    Hooks on every ``nn.Linear`` and ``nn.Conv2d`` (subclasses included, such as
    binarized layers) count every call, so a time loop that calls a layer ``T``
    times is counted ``T`` times. A call is *binary* when every entry of its
    input is 0 or ``spike_value`` (1 for snnTorch spikes): its nonzero inputs
    are spikes and their connections accumulates (ACs); otherwise multiply-
    accumulates (MACs). See the module docstring for the conventions.

    The model runs once in evaluation mode (dropout off, spiking activations
    in their inference behaviour) without gradients; the modes of all modules
    are restored afterwards. Counts accumulate on the input's device and are
    read back once, at the end. The totals are for the whole batch: use
    :meth:`Operations.per_sample` for per-image numbers.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"model must be a torch.nn.Module, got {type(model).__name__}; "
            "pass the network itself, not its output or its state_dict"
        )
    spike_value = checks.positive("spike_value", spike_value)
    if not inputs:
        raise ValueError(
            "count_operations needs at least one input for the forward pass: "
            "count_operations(model, x)"
        )
    tensors = [x for x in inputs if isinstance(x, torch.Tensor)]
    if not tensors:
        kinds = ", ".join(type(x).__name__ for x in inputs)
        raise TypeError(f"inputs must include at least one torch.Tensor, got ({kinds})")
    for i, x in enumerate(tensors):
        if x.device.type == "meta":
            raise ValueError(
                f"input {i} is on the meta device, which has shapes but no values; "
                "counting nonzero inputs needs real values: run on cpu, cuda or mps"
            )
        checks.finite_values(f"input {i}", x)
    if not any(isinstance(m, _COUNTED) for m in model.modules()):
        raise ValueError(
            f"model ({type(model).__name__}) has no nn.Linear or nn.Conv2d layer: "
            "there is nothing to count"
        )

    tallies, uncounted = _run_hooks(model, inputs, spike_value)
    ran = [t for t in tallies if t.calls > 0]
    if not ran:
        raise ValueError(
            f"no nn.Linear or nn.Conv2d of the model ({type(model).__name__}) ran during "
            "the forward pass: check that the layers are called in forward"
        )
    device = ran[0].counts.device
    values = torch.stack([t.counts.to(device) for t in ran]).tolist()  # the one read-back
    layers = tuple(
        LayerOperations(
            name=t.name,
            kind=t.kind,
            calls=t.calls,
            dense=t.dense,
            acs=acs,
            macs=macs,
            inputs=t.inputs,
            nonzero=nonzero,
            spikes=spikes,
            binary_calls=binary_calls,
        )
        for t, (acs, macs, nonzero, spikes, binary_calls) in zip(ran, values, strict=True)
    )
    return Operations(
        dense=sum(layer.dense for layer in layers),
        acs=sum(layer.acs for layer in layers),
        macs=sum(layer.macs for layer in layers),
        spikes=sum(layer.spikes for layer in layers),
        layers=layers,
        uncounted=tuple(uncounted),
    )


# ------------------------------------------------------------------ energy
def _check_ops(ops: object) -> Operations | LayerOperations:
    if not isinstance(ops, (Operations, LayerOperations)):
        raise TypeError(
            f"ops must be the Operations (or one LayerOperations) returned by count_operations, "
            f"got {type(ops).__name__}"
        )
    return ops


def energy(ops: Operations | LayerOperations, *, e_ac: float = E_AC, e_mac: float = E_MAC) -> float:
    """Arithmetic energy in joules: ``acs * e_ac + macs * e_mac``.

    Defaults: 0.9 pJ per accumulate and 4.6 pJ per multiply-accumulate, 32-bit
    floating point at 45 nm (Horowitz, ISSCC 2014). Memory access and data
    movement are **not** included, and often dominate (see the module docstring).
    """
    ops = _check_ops(ops)
    e_ac = checks.number("e_ac", e_ac, low=0.0, hint="an energy per accumulate in joules")
    e_mac = checks.number("e_mac", e_mac, low=0.0, hint="an energy per multiply-accumulate in J")
    return float(ops.acs * e_ac + ops.macs * e_mac)


def dense_energy(ops: Operations | LayerOperations, *, e_mac: float = E_MAC) -> float:
    """Arithmetic energy in joules of the dense network: ``dense * e_mac``.

    What a machine that multiplies every connection, zero inputs included, would
    spend: the usual reference for an ANN on a GPU-like accelerator.
    """
    ops = _check_ops(ops)
    e_mac = checks.number("e_mac", e_mac, low=0.0, hint="an energy per multiply-accumulate in J")
    return float(ops.dense * e_mac)
