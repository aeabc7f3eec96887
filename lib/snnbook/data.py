"""Data for the book: real Fashion-MNIST, seeded synthetic tasks, spike encoders.

Fashion-MNIST :cite:`xiao2017fashion` has 60 000 training and 10 000 test
images (28 x 28, grey levels 0..255) of ten kinds of clothing. It is stored as
four IDX files. This module finds them, in this order:

1. the book's cache, ``data/fashion-mnist/`` at the top of the repository (or
   the folder named by the environment variable ``SNNBOOK_DATA``);
2. the Debian package ``dataset-fashion-mnist``, which puts gzipped IDX files
   under ``/usr/share/datasets/fashion-mnist/``;
3. a download from the dataset's public location (:data:`FASHION_MNIST_URL`).

Every file is checked against the SHA-256 of its *decompressed* bytes before it
is used (gzip headers differ between sources, the content does not). A file
that is missing or corrupt raises :class:`DataError` with the command to run.
Files in the cache are never overwritten: a new file is written to a temporary
name in the same folder and renamed into place, so a crash cannot leave half a
file behind.

The IDX format (LeCun et al.) is a 4-byte magic number ``0 0 type ndim``, then
``ndim`` big-endian 32-bit sizes, then the array in C order.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

__all__ = [
    "DataError",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_FILES",
    "FASHION_MNIST_URL",
    "DEBIAN_FASHION_MNIST",
    "default_data_dir",
    "read_idx",
    "ensure_file",
    "install_fashion_mnist",
    "load_fashion_mnist",
    "rate_encode",
    "latency_encode",
    "spike_timing_task",
]


class DataError(RuntimeError):
    """A data file is missing, corrupt or malformed; the message says what to do."""


@dataclass(frozen=True)
class FileSpec:
    """What a verified data file must be: its size in bytes and its SHA-256."""

    size: int
    sha256: str


#: Decompressed IDX files of Fashion-MNIST and their checksums.
FASHION_MNIST_FILES: dict[str, FileSpec] = {
    "train-images-idx3-ubyte": FileSpec(
        47_040_016, "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"
    ),
    "train-labels-idx1-ubyte": FileSpec(
        60_008, "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"
    ),
    "t10k-images-idx3-ubyte": FileSpec(
        7_840_016, "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"
    ),
    "t10k-labels-idx1-ubyte": FileSpec(
        10_008, "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"
    ),
}

#: Where the dataset's authors publish the gzipped files.
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"

#: Where Debian's ``dataset-fashion-mnist`` package installs them.
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip

_INSTALL_HINT = "Run `make data` (or `python -m snnbook.data`) at the top of the book."

_IDX_TYPES = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def default_data_dir() -> Path:
    """The book's data cache: ``$SNNBOOK_DATA`` if set, else ``<repository>/data``."""
    env = os.environ.get("SNNBOOK_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "data"


# --------------------------------------------------------------------------- IDX
def read_idx(raw: bytes, *, name: str = "IDX data") -> np.ndarray:
    """Parse the bytes of one (decompressed) IDX file into a NumPy array.

    Raises :class:`DataError` when the header is not IDX or the payload does
    not match the sizes the header announces.
    """
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{name}: not an IDX file (bad magic number {raw[:4]!r})")
    type_code, ndim = raw[2], raw[3]
    if type_code not in _IDX_TYPES:
        raise DataError(f"{name}: unknown IDX element type 0x{type_code:02x}")
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise DataError(f"{name}: truncated IDX header ({len(raw)} bytes, ndim={ndim})")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_TYPES[type_code])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise DataError(
            f"{name}: header announces shape {shape} ({expected} bytes) "
            f"but the file has {len(raw)} bytes; the file is truncated or corrupt"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


# --------------------------------------------------------------- verified files
def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _decompress(raw: bytes, origin: str) -> bytes:
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError) as err:  # gzip.BadGzipFile is an OSError
        raise DataError(f"{origin}: not a valid gzip file ({err})") from err


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a new ``path``; never replaces an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        # os.link fails if `path` appeared in the meantime: nothing is overwritten.
        os.link(tmp, path)
    except FileExistsError as err:
        raise DataError(f"{path} appeared while it was being written; not overwriting it") from err
    finally:
        os.unlink(tmp)


def ensure_file(
    name: str,
    spec: FileSpec,
    *,
    cache_dir: Path,
    search_dirs: Sequence[Path] = (),
    base_url: str | None = None,
    timeout: float = 60.0,
) -> Path:
    """Make sure the verified, decompressed file ``cache_dir / name`` exists.

    Looks in ``cache_dir`` first, then for ``name`` or ``name.gz`` in each of
    ``search_dirs``, then downloads ``base_url + name + ".gz"`` (if ``base_url``
    is given). Every candidate is checked against ``spec``; a corrupt file in
    the cache raises :class:`DataError` and is left alone for you to inspect.
    Returns the path of the verified file in the cache.
    """
    target = Path(cache_dir) / name
    if target.exists():
        data = target.read_bytes()
        if len(data) != spec.size or _sha256(data) != spec.sha256:
            raise DataError(
                f"{target} is corrupt (size {len(data)}, expected {spec.size}; "
                f"or wrong SHA-256). Delete it and run `make data` again."
            )
        return target

    for folder in search_dirs:
        for candidate in (Path(folder) / name, Path(folder) / f"{name}.gz"):
            if not candidate.is_file():
                continue
            raw = candidate.read_bytes()
            if candidate.suffix == ".gz":
                raw = _decompress(raw, str(candidate))
            if len(raw) == spec.size and _sha256(raw) == spec.sha256:
                _atomic_write(target, raw)
                return target
            raise DataError(
                f"{candidate} does not match its checksum; it is not the expected file. "
                "Reinstall it (for Debian: apt-get install --reinstall dataset-fashion-mnist)."
            )

    if base_url is None:
        raise DataError(f"{name} was not found in {[str(d) for d in search_dirs]}. {_INSTALL_HINT}")

    url = base_url.rstrip("/") + "/" + name + ".gz"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            raw = _decompress(response.read(), url)
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        if isinstance(err, DataError):
            raise
        raise DataError(
            f"could not download {url} ({err}). Install the Debian package "
            f"dataset-fashion-mnist, or copy the files into {target.parent}, then {_INSTALL_HINT}"
        ) from err
    if len(raw) != spec.size or _sha256(raw) != spec.sha256:
        raise DataError(f"the file downloaded from {url} does not match its checksum; not saved")
    _atomic_write(target, raw)
    return target


def install_fashion_mnist(
    cache_dir: Path | None = None,
    *,
    search_dirs: Sequence[Path] = (DEBIAN_FASHION_MNIST,),
    base_url: str | None = FASHION_MNIST_URL,
    files: Mapping[str, FileSpec] = FASHION_MNIST_FILES,
) -> Path:
    """Put the four verified Fashion-MNIST files in the cache; return its folder."""
    folder = Path(cache_dir) if cache_dir is not None else default_data_dir() / "fashion-mnist"
    for name, spec in files.items():
        ensure_file(name, spec, cache_dir=folder, search_dirs=search_dirs, base_url=base_url)
    return folder


def _verified_array(folder: Path, name: str) -> np.ndarray:
    path = folder / name
    if not path.is_file():
        raise DataError(f"{path} is missing. {_INSTALL_HINT}")
    raw = path.read_bytes()
    spec = FASHION_MNIST_FILES[name]
    if len(raw) != spec.size or _sha256(raw) != spec.sha256:
        raise DataError(f"{path} is corrupt (checksum mismatch). Delete it, then {_INSTALL_HINT}")
    return read_idx(raw, name=str(path))


def load_fashion_mnist(
    split: str = "train",
    *,
    n: int | None = None,
    seed: int = 0,
    cache_dir: Path | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST images and labels, verified by SHA-256.

    Returns ``(images, labels)``: ``images`` is float32 of shape
    ``(N, 1, 28, 28)`` scaled to [0, 1]; ``labels`` is int64 of shape ``(N,)``.
    ``split`` is ``"train"`` (60 000) or ``"test"`` (10 000). With ``n``, a
    random subset of ``n`` samples drawn with ``seed`` (the same every run).
    """
    prefixes = {"train": "train", "test": "t10k"}
    if split not in prefixes:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folder = Path(cache_dir) if cache_dir is not None else default_data_dir() / "fashion-mnist"
    images = _verified_array(folder, f"{prefixes[split]}-images-idx3-ubyte")
    labels = _verified_array(folder, f"{prefixes[split]}-labels-idx1-ubyte")
    x = torch.from_numpy(images.copy()).unsqueeze(1).float().div_(255.0)
    y = torch.from_numpy(labels.astype(np.int64))
    if n is not None:
        if not 0 < n <= len(y):
            raise ValueError(f"n must be in 1..{len(y)} for the {split} split, got {n}")
        idx = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))[:n]
        x, y = x[idx], y[idx]
    return x, y


# -------------------------------------------------------------------- encoders
def rate_encode(
    x: torch.Tensor, num_steps: int, *, gain: float = 1.0, seed: int | None = None
) -> torch.Tensor:
    """Poisson-like rate code: ``S[t] ~ Bernoulli(gain * x)`` for each of ``num_steps``.

    Wraps :func:`snntorch.spikegen.rate`; returns a time-major tensor of shape
    ``(num_steps, *x.shape)``. ``x`` must lie in [0, 1]. With ``seed`` the
    spikes are the same on every call.
    """
    from snntorch import spikegen

    if num_steps < 1:
        raise ValueError(f"num_steps must be >= 1, got {num_steps}")
    if x.numel() and (x.min() < 0 or x.max() > 1):
        raise ValueError("rate_encode expects intensities in [0, 1]; rescale the input first")
    if seed is None:
        return spikegen.rate(x, num_steps=num_steps, gain=gain)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return spikegen.rate(x, num_steps=num_steps, gain=gain)


def latency_encode(x: torch.Tensor, num_steps: int, *, threshold: float = 0.01) -> torch.Tensor:
    """Latency code: one spike per input, earlier for brighter pixels.

    Wraps :func:`snntorch.spikegen.latency` with ``linear=True,
    normalize=True, clip=True``: an intensity ``x`` fires once, at about step
    ``(1 - x) * (num_steps - 1)``, and inputs below ``threshold`` never fire.
    Returns a time-major tensor of shape ``(num_steps, *x.shape)``.
    """
    from snntorch import spikegen

    if num_steps < 2:
        raise ValueError(f"num_steps must be >= 2 for a latency code, got {num_steps}")
    if x.numel() and (x.min() < 0 or x.max() > 1):
        raise ValueError("latency_encode expects intensities in [0, 1]; rescale the input first")
    return spikegen.latency(
        x, num_steps=num_steps, threshold=threshold, linear=True, normalize=True, clip=True
    )


def spike_timing_task(
    n: int,
    *,
    n_inputs: int = 16,
    n_classes: int = 8,
    num_steps: int = 40,
    jitter: float = 3.0,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded task that only timing can solve: each class is a pattern of spike times.

    Every input fires exactly once in every sample, so spike counts carry no
    information at all. Class ``k`` has a template of firing times: one set of
    times drawn uniformly from the first three quarters of the window, given
    to the inputs in a class-specific order (so the classes differ only in
    *which* input fires *when*, not in the times that occur); the templates are
    fixed (drawn with seed 1000), so sets made with different ``seed`` share
    them: train on one seed, test on another. A sample adds Gaussian jitter of
    ``jitter`` steps to its class's template, rounded and clipped to
    ``[0, num_steps - 1]``.
    Returns ``(x, y)``: ``x`` float32 of shape ``(n, num_steps, n_inputs)``
    (batch-first, 0/1 spikes), ``y`` int64 of shape ``(n,)``, balanced classes.
    """
    if n < 1 or n_inputs < 1 or n_classes < 2 or num_steps < 2:
        raise ValueError(
            "need n >= 1, n_inputs >= 1, n_classes >= 2 and num_steps >= 2, got "
            f"n={n}, n_inputs={n_inputs}, n_classes={n_classes}, num_steps={num_steps}"
        )
    if jitter < 0:
        raise ValueError(f"jitter must be >= 0 (in time steps), got {jitter}")
    templates_gen = torch.Generator().manual_seed(1000)
    base = torch.rand(n_inputs, generator=templates_gen) * 0.75 * (num_steps - 1)
    # every class uses the same set of times, shuffled over the inputs
    order = torch.stack(
        [torch.randperm(n_inputs, generator=templates_gen) for _ in range(n_classes)]
    )
    templates = base[order]
    gen = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % n_classes
    y = y[torch.randperm(n, generator=gen)]
    times = templates[y] + jitter * torch.randn(n, n_inputs, generator=gen)
    times = times.round().clamp(0, num_steps - 1).long()
    x = torch.zeros(n, num_steps, n_inputs)
    x.scatter_(1, times[:, None, :], 1.0)
    return x, y


def _main() -> None:
    folder = install_fashion_mnist()
    print(f"Fashion-MNIST verified in {folder}")


if __name__ == "__main__":
    try:
        _main()
    except DataError as err:
        raise SystemExit(f"error: {err}") from None
