"""Compare snnbook.energy.count_operations with NeuroBench's SynapticOperations.

Not part of the book or its tests: NeuroBench (2.3.0) is not in requirements.lock.
Run it in a throwaway environment that reuses the book's torch, e.g.

    python3 -m venv /tmp/nb && echo "$(pwd)/.venv/lib/python3.11/site-packages" \
        > /tmp/nb/lib/python3.11/site-packages/book.pth
    /tmp/nb/bin/pip install --no-deps neurobench==2.3.0
    /tmp/nb/bin/python scripts/neurobench_check.py

Three snnTorch networks, 64 Fashion-MNIST test images, T = 25: chapter 3's
784-256-10 LIF MLP on rate-coded (Bernoulli) spikes, the same MLP on the
analog image repeated at every step (direct input: real values into fc1), and
a small strided, padded convolutional SNN on rate-coded spikes.
"""

import snntorch as snn
import torch
from neurobench.benchmarks import Benchmark
from neurobench.metrics.workload import SynapticOperations
from neurobench.models import SNNTorchModel
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from snnbook.data import load_fashion_mnist, rate_encode
from snnbook.energy import count_operations

T, N = 25, 64


def mlp() -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(784, 256),
        snn.Leaky(beta=0.9, init_hidden=True),
        nn.Linear(256, 10),
        snn.Leaky(beta=0.9, init_hidden=True, output=True),
    )


def convnet() -> nn.Sequential:
    return nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, 8, 3, stride=2, padding=1),
        snn.Leaky(beta=0.9, init_hidden=True),
        nn.Flatten(),
        nn.Linear(8 * 14 * 14, 10),
        snn.Leaky(beta=0.9, init_hidden=True, output=True),
    )


class TimeLoop(nn.Module):
    """What SNNTorchModel does: reset, then call the net once per step of (B, T, ...)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, data: torch.Tensor) -> torch.Tensor:
        snn.utils.reset(self.net)
        return torch.stack([self.net(data[:, t])[0] for t in range(data.shape[1])])


def neurobench_counts(net: nn.Module, data: torch.Tensor, labels: torch.Tensor) -> dict:
    loader = DataLoader(TensorDataset(data, labels), batch_size=len(data))
    bench = Benchmark(SNNTorchModel(net), loader, [], [], [[], [SynapticOperations]])
    return bench.run(quiet=True)["SynapticOperations"]


def main() -> None:
    torch.manual_seed(0)
    images, labels = load_fashion_mnist("test", n=N, seed=0)
    flat = images.flatten(1)
    spikes = rate_encode(flat, T, seed=0).transpose(0, 1)  # (B, T, 784) spikes
    direct = flat[:, None].expand(N, T, 784).contiguous()  # (B, T, 784) real pixels
    cases = {"MLP, rate-coded": (mlp, spikes), "MLP, direct": (mlp, direct)}
    cases["conv, rate-coded"] = (convnet, spikes)
    for name, (make, data) in cases.items():
        torch.manual_seed(1)
        net = make()
        theirs = neurobench_counts(net, data, labels)
        ours = count_operations(TimeLoop(net), data).per_sample(N)
        print(f"{name}:")
        print(
            f"  NeuroBench  dense {theirs['Dense']:.1f}  MACs {theirs['Effective_MACs']:.1f}"
            f"  ACs {theirs['Effective_ACs']:.1f}"
        )
        print(f"  snnbook     dense {ours.dense:.1f}  MACs {ours.macs:.1f}  ACs {ours.acs:.1f}")
        for layer in ours.layers:
            print(
                f"    {layer.name}: {layer.kind}, calls {layer.calls}, acs {layer.acs:.1f}, "
                f"macs {layer.macs:.1f}, input sparsity {layer.input_sparsity:.3f}"
            )
        same = all(
            abs(a - b) <= 1e-6 * max(1.0, b)
            for a, b in (
                (ours.dense, theirs["Dense"]),
                (ours.macs, theirs["Effective_MACs"]),
                (ours.acs, theirs["Effective_ACs"]),
            )
        )
        print("  agree:", same)


if __name__ == "__main__":
    main()
