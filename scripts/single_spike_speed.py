"""Speed of the single-spike layer on a CPU: neuron dynamics alone, then whole training steps.

Two measurements, both forward + backward, best of ``--repeats`` after one warm-up call,
on ``--threads`` threads (2: the book's laptop):

``layers``: the neuron dynamics of one layer, with the currents given (shape
(T, batch, neurons)), for three exact simulations:

* ``parallel``: :func:`snnbook.single_spike.first_spike_lif` (chunked scan, no loop over time);
* ``loop``: :func:`snnbook.single_spike.first_spike_lif_loop` (the step-by-step reference);
* ``leaky``: :func:`snnbook.single_spike.multi_spike_lif_loop`, snnTorch's multi-spike
  ``Leaky`` looped over time (the usual baseline, chapter 3).

Before timing, the parallel and loop spikes are checked to be identical on the same currents.

``steps``: one whole training step (latency encoding, input product, hidden layer, readout,
cross-entropy, backward, Adam) of the chapter's network 784-400-10 at batch 128, with each
hidden layer and with the dense or the sparse input product, plus the encoding and the input
product alone (forward + weight gradient), whose share of the step is reported.

``layers_heap_kept``: the ``layers`` of the chapter's 128 x 400 layer again, after telling glibc's
allocator (``mallopt``) to keep freed memory in its heap instead of returning blocks over 32 MB to
the operating system. By default every call of a layer at T >= 200 maps fresh pages for its 41 MB
buffers and pays a page fault per 4 KB page on first touch; the loop's small tensors are reused
from the heap. Both methods are timed again under the same setting (Linux/glibc only; elsewhere
the key holds an empty list). ``steps_heap_kept``: the ``steps`` again under that setting, so
that every training step reuses its buffers whatever ran before it in the process.

Results go to ``results/single_spike_speed.json`` with provenance (:mod:`snnbook.records`).
Run on an idle machine, from the repository root::

    /work/bin/heavy .venv/bin/python scripts/single_spike_speed.py

``tests/test_single_spike_scripts.py`` runs a short prefix and checks the record's structure.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

import snnbook
from snnbook import records
from snnbook.single_spike import (
    LatencyEncoder,
    LeakyReadout,
    MultiSpikeLinear,
    SingleSpikeLinear,
    SpikingClassifier,
    first_spike_lif,
    first_spike_lif_loop,
    multi_spike_lif_loop,
    sparse_linear,
)
from snnbook.timing import best_ms, forward_backward_ms

OUT = records.RESULTS / "single_spike_speed.json"
LAYER_STEPS = (25, 50, 100, 200, 400, 1024)
LAYER_WIDTHS = ("16x100", "128x400")  # batch x neurons: the paper-like small layer, the chapter's
STEP_STEPS = (25, 100, 400)
HIDDEN, BETA = 400, 0.9
BATCH = 128
METHODS = {
    "parallel": lambda x: first_spike_lif(x, BETA),
    "loop": lambda x: first_spike_lif_loop(x, BETA),
    "leaky": lambda x: multi_spike_lif_loop(x, BETA),
}


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed blocks of any size in its heap (no mmap, no trim); False elsewhere."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, 1 << 30)) and bool(mallopt(m_trim_threshold, 1 << 30))


def parse_width(text: str) -> tuple[int, int]:
    batch, neurons = (int(v) for v in text.lower().split("x"))
    return batch, neurons


def layer_rows(steps, widths, repeats: int, seed: int = 0) -> list[dict]:
    """Forward + backward of the neuron dynamics for every T and (batch, neurons)."""
    gen = torch.Generator().manual_seed(seed)
    rows = []
    for batch, neurons in widths:
        for t in steps:
            # mean drive 0.05 and spread 0.3 per step: most neurons fire once within 25 steps
            currents = 0.05 + 0.3 * torch.randn(t, batch, neurons, generator=gen)
            with torch.no_grad():
                if not torch.equal(METHODS["parallel"](currents), METHODS["loop"](currents)):
                    raise AssertionError(
                        f"parallel and loop spikes differ: T={t}, {batch}x{neurons}"
                    )
            row = {"batch": batch, "neurons": neurons, "T": t}
            for name, fn in METHODS.items():
                slow = name != "parallel"
                reps = max(1, repeats - 2) if slow and t >= 400 else repeats
                row[f"{name}_ms"] = forward_backward_ms(fn, currents, repeats=reps)
            row["speedup_vs_loop"] = row["loop_ms"] / row["parallel_ms"]
            row["speedup_vs_leaky"] = row["leaky_ms"] / row["parallel_ms"]
            print(
                f"layer {batch:4d} x {neurons:4d}  T={t:5d}  parallel {row['parallel_ms']:8.1f} ms"
                f"  loop {row['loop_ms']:8.1f} ms  leaky {row['leaky_ms']:8.1f} ms"
                f"  speedup {row['speedup_vs_loop']:5.2f}x (loop) "
                f"{row['speedup_vs_leaky']:5.2f}x (leaky)",
                flush=True,
            )
            rows.append(row)
    return rows


def make_network(hidden: str, steps: int, sparse: bool) -> SpikingClassifier:
    """The chapter's 784-400-10 network with the named hidden layer."""
    torch.manual_seed(0)
    if hidden == "leaky":
        layer = MultiSpikeLinear(784, HIDDEN, beta=BETA, sparse_input=sparse)
    else:
        layer = SingleSpikeLinear(784, HIDDEN, beta=BETA, method=hidden, sparse_input=sparse)
    encoder = LatencyEncoder(steps, sparse=sparse)  # sparse spikes for the sparse product
    return SpikingClassifier(layer, LeakyReadout(HIDDEN, 10, beta=1.0), encoder)


def step_rows(steps, images, labels, repeats: int) -> list[dict]:
    """Whole training steps of the chapter's network, and the shared input costs alone."""
    rows = []
    for t in steps:
        encoder, sparse_encoder = LatencyEncoder(t), LatencyEncoder(t, sparse=True)
        spikes_in, sparse_in = encoder(images), sparse_encoder(images)
        fc = torch.nn.Linear(784, HIDDEN)
        grad = torch.rand(t, len(images), HIDDEN, generator=torch.Generator().manual_seed(1))

        def product(dense: bool, fc=fc, spikes_in=spikes_in, sparse_in=sparse_in, grad=grad):
            fc.zero_grad()
            out = fc(spikes_in) if dense else sparse_linear(sparse_in, fc.weight, fc.bias)
            out.backward(grad)

        row = {
            "T": t,
            "batch": len(images),
            "encode_dense_ms": best_ms(lambda enc=encoder: enc(images), repeats=repeats),
            "encode_sparse_ms": best_ms(lambda enc=sparse_encoder: enc(images), repeats=repeats),
            "product_dense_ms": best_ms(lambda: product(True), repeats=repeats),
            "product_sparse_ms": best_ms(lambda: product(False), repeats=repeats),
        }
        for hidden in METHODS:
            for sparse in (True, False):
                model = make_network(hidden, t, sparse)
                optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

                def step(model=model, optimizer=optimizer) -> None:
                    loss = torch.nn.functional.cross_entropy(model(images), labels)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()

                reps = max(1, repeats - 2) if hidden != "parallel" and t >= 400 else repeats
                key = f"step_{hidden}_{'sparse' if sparse else 'dense'}_ms"
                row[key] = best_ms(step, repeats=reps)
        for product_kind in ("sparse", "dense"):
            for hidden in METHODS:
                share = row[f"product_{product_kind}_ms"] / row[f"step_{hidden}_{product_kind}_ms"]
                row[f"share_product_{hidden}_{product_kind}"] = share
        for kind in ("sparse", "dense"):
            row[f"step_speedup_vs_loop_{kind}"] = (
                row[f"step_loop_{kind}_ms"] / row[f"step_parallel_{kind}_ms"]
            )
            row[f"step_speedup_vs_leaky_{kind}"] = (
                row[f"step_leaky_{kind}_ms"] / row[f"step_parallel_{kind}_ms"]
            )
        print(
            "step T={T:4d}  parallel {step_parallel_sparse_ms:7.1f} / {step_parallel_dense_ms:7.1f}"
            "  loop {step_loop_sparse_ms:7.1f} / {step_loop_dense_ms:7.1f}"
            "  leaky {step_leaky_sparse_ms:7.1f} / {step_leaky_dense_ms:7.1f} ms (sparse / dense)"
            "  product {product_sparse_ms:6.1f} / {product_dense_ms:6.1f} ms"
            "  encode {encode_sparse_ms:5.1f} / {encode_dense_ms:5.1f} ms".format(**row),
            flush=True,
        )
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer-steps", type=int, nargs="+", default=list(LAYER_STEPS))
    parser.add_argument("--widths", nargs="+", default=list(LAYER_WIDTHS), help="BATCHxNEURONS")
    parser.add_argument("--step-steps", type=int, nargs="*", default=list(STEP_STEPS))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--no-heap-kept", action="store_true", help="skip the layers_heap_kept measurement"
    )
    parser.add_argument(
        "--max-load", type=float, default=2.0, help="refuse a busier machine (0: a trial run)"
    )
    args = parser.parse_args(argv)
    run = records.start([args.seed], max_load=args.max_load if args.max_load > 0 else None)
    snnbook.seed_everything(args.seed, threads=args.threads)
    results: dict = {
        "settings": {
            "repeats": args.repeats,
            "timing": "best of repeats after one warm-up call, forward + backward",
            "hidden": HIDDEN,
            "beta": BETA,
            "batch": BATCH,
        },
        "layers": layer_rows(
            args.layer_steps, [parse_width(w) for w in args.widths], args.repeats, args.seed
        ),
        "steps": [],
    }
    if args.step_steps:
        from snnbook.data import load_fashion_mnist

        images, labels = load_fashion_mnist("train", n=BATCH, seed=args.seed)
        results["steps"] = step_rows(args.step_steps, images, labels, args.repeats)
    results["layers_heap_kept"], results["steps_heap_kept"] = [], []
    wide = [w for w in (parse_width(w) for w in args.widths) if w == (128, 400)]
    if wide and not args.no_heap_kept and keep_freed_memory():
        print("glibc now keeps freed memory in its heap:", flush=True)
        results["layers_heap_kept"] = layer_rows(args.layer_steps, wide, args.repeats, args.seed)
        if args.step_steps:
            results["steps_heap_kept"] = step_rows(args.step_steps, images, labels, args.repeats)
    records.write(args.out, results, run)
    return results


if __name__ == "__main__":
    main()
