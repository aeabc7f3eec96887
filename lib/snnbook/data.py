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
that is missing or corrupt raises :class:`DataError` naming the check that
failed (size, IDX header or checksum) and the command to run; so does a cache
folder that is not a folder or cannot be written. Files in the cache are never
overwritten: a new file is written to a temporary name in the same folder
(``.NAME.PID.XXXXXXXX.part``) and linked into place, so a crash cannot leave half
a file under the real name; a partial file left by a killed write is removed by
the next run (only files of that naming, and only once their writer is gone).

The IDX format (LeCun et al.) is a 4-byte magic number ``0 0 type ndim``, then
``ndim`` big-endian 32-bit sizes, then the array in C order.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from snnbook import checks

__all__ = [
    "DataError",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_FILES",
    "FASHION_MNIST_URL",
    "DEBIAN_FASHION_MNIST",
    "default_data_dir",
    "read_idx",
    "ensure_file",
    "remove_stale_parts",
    "install_fashion_mnist",
    "load_fashion_mnist",
    "FASHION_MNIST_SIZES",
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
_THEN_INSTALL = "r" + _INSTALL_HINT[1:]

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
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise TypeError(f"raw must be the bytes of an IDX file, got {type(raw).__name__}")
    raw = bytes(raw)
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
        raise DataError(f"{origin}: header check failed: not a valid gzip file ({err})") from err


def _mismatch(data: bytes, spec: FileSpec) -> str | None:
    """Which check ``data`` fails against ``spec`` (size, IDX header, checksum), or None.

    The size is quoted only when the size is what is wrong; the checksum is
    named only when size and header pass.
    """
    failed = []
    if len(data) != spec.size:
        failed.append(f"size check failed ({len(data):,} bytes, expected {spec.size:,})")
    if data[:2] == b"\x1f\x8b":
        failed.append(
            "header check failed (it is gzip-compressed; the cache holds decompressed IDX files)"
        )
    else:
        try:
            read_idx(data)
        except DataError as err:
            failed.append(f"IDX header check failed ({str(err).removeprefix('IDX data: ')})")
    if failed:
        return "; ".join(failed)
    if _sha256(data) != spec.sha256:
        return (
            "checksum check failed (size and header are right, but the SHA-256 differs: "
            "the content is damaged or it is another file)"
        )
    return None


#: A partial file of :func:`_atomic_write`: ``.NAME.PID.XXXXXXXX.part`` (older
#: versions wrote ``.NAME.XXXXXXXX.part``, without the writer's process id).
_PART_SUFFIX = re.compile(r"\.(?:(?P<pid>\d+)\.)?[a-z0-9_]{8}\.part")
#: A partial file is stale once its writer is gone or it is older than this.
STALE_PART_SECONDS = 600.0


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but belongs to someone else
        return True
    return True


def remove_stale_parts(folder: Path, name: str) -> list[Path]:
    """Delete the partial files that an interrupted write of ``name`` left in ``folder``.

    Only files named like this module's own temporary files for ``name``
    (``.NAME.PID.XXXXXXXX.part``) are considered, and only those whose writing
    process no longer exists or that are older than :data:`STALE_PART_SECONDS`.
    Returns the paths removed (each is also reported on stderr).
    """
    folder = Path(folder)
    prefix = f".{name}"
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir()) if folder.is_dir() else []
    except OSError:
        return removed
    for path in entries:
        if not path.name.startswith(prefix):
            continue
        match = _PART_SUFFIX.fullmatch(path.name[len(prefix) :])
        if match is None or not path.is_file() or path.is_symlink():
            continue
        try:
            info = path.stat()
            old = time.time() - info.st_mtime > STALE_PART_SECONDS
            orphan = match["pid"] is not None and not _alive(int(match["pid"]))
            if not (old or orphan):
                continue
            path.unlink()
        except OSError:
            continue
        removed.append(path)
        print(
            f"removed {path} ({info.st_size / 1e6:.1f} MB), a partial file left by an "
            "interrupted write",
            file=sys.stderr,
        )
    return removed


def _cache_error(folder: Path, err: OSError | None = None) -> DataError:
    """The loader's own message for a cache folder it cannot use."""
    if folder.exists() and not folder.is_dir():
        what = "is a file, not a folder"
    elif isinstance(err, NotADirectoryError | FileExistsError):
        what = "cannot be created: a part of its path is a file, not a folder"
    else:
        reason = f" ({err.strerror})" if err is not None and err.strerror else ""
        what = f"cannot be written{reason}"
    return DataError(
        f"the data cache {folder} {what}. Make it a writable folder, or point the "
        f"environment variable SNNBOOK_DATA at one, then {_THEN_INSTALL}"
    )


def _writable_folder(folder: Path) -> None:
    """Create ``folder`` if needed; raise :class:`DataError` if files cannot be written there."""
    if folder.exists() and not folder.is_dir():
        raise _cache_error(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise _cache_error(folder, err) from err
    if not os.access(folder, os.W_OK | os.X_OK):
        raise _cache_error(folder, PermissionError(13, "permission denied"))


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a new ``path``; never replaces an existing file."""
    _writable_folder(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".part"
        )
    except OSError as err:
        raise _cache_error(path.parent, err) from err
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
    except OSError as err:
        raise _cache_error(path.parent, err) from err
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise DataError(
            f"cannot read {path} ({err.strerror or err}); make it readable, or delete it, "
            f"then {_THEN_INSTALL}"
        ) from err


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
    the cache raises :class:`DataError` naming the failed check and is left
    alone for you to inspect. Partial files of earlier interrupted writes are
    removed first (:func:`remove_stale_parts`). Returns the path of the
    verified file in the cache.
    """
    if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
        raise ValueError(f"name must be a plain file name, got {name!r}")
    if not isinstance(spec, FileSpec):
        raise TypeError(f"spec must be a FileSpec(size, sha256), got {type(spec).__name__}")
    if not isinstance(cache_dir, str | os.PathLike):
        raise TypeError(f"cache_dir must be a path, got {type(cache_dir).__name__}")
    timeout = checks.positive("timeout", timeout, hint="seconds to wait for the download")
    folder = Path(cache_dir)
    target = folder / name
    if folder.exists() and not folder.is_dir():
        raise _cache_error(folder)
    remove_stale_parts(folder, name)
    if target.exists():
        if not target.is_file():
            raise DataError(f"{target} is not a file; move it away, then {_THEN_INSTALL}")
        problem = _mismatch(_read(target), spec)
        if problem:
            raise DataError(f"{target} is corrupt: {problem}. Delete it and run `make data` again.")
        return target
    _writable_folder(folder)  # before any search or download: fail early, and say why

    for source in search_dirs:
        for candidate in (Path(source) / name, Path(source) / f"{name}.gz"):
            if not candidate.is_file():
                continue
            raw = _read(candidate)
            if candidate.suffix == ".gz":
                raw = _decompress(raw, str(candidate))
            problem = _mismatch(raw, spec)
            if problem is None:
                _atomic_write(target, raw)
                return target
            raise DataError(
                f"{candidate} does not match its checksum: {problem}; it is not the expected "
                "file. Reinstall it (for Debian: apt-get install --reinstall dataset-fashion-mnist)."
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
            f"dataset-fashion-mnist, or copy the files into {target.parent}, then {_THEN_INSTALL}"
        ) from err
    problem = _mismatch(raw, spec)
    if problem:
        raise DataError(
            f"the file downloaded from {url} does not match its checksum: {problem}; not saved"
        )
    _atomic_write(target, raw)
    return target


def _folder(cache_dir: object) -> Path:
    if cache_dir is None:
        return default_data_dir() / "fashion-mnist"
    if not isinstance(cache_dir, str | os.PathLike):
        raise TypeError(f"cache_dir must be a path or None, got {type(cache_dir).__name__}")
    return Path(cache_dir)


def install_fashion_mnist(
    cache_dir: Path | None = None,
    *,
    search_dirs: Sequence[Path] = (DEBIAN_FASHION_MNIST,),
    base_url: str | None = FASHION_MNIST_URL,
    files: Mapping[str, FileSpec] = FASHION_MNIST_FILES,
) -> Path:
    """Put the four verified Fashion-MNIST files in the cache; return its folder."""
    folder = _folder(cache_dir)
    if isinstance(search_dirs, str | os.PathLike):
        raise TypeError("search_dirs must be a list of folders, not one path: wrap it in [...]")
    for name, spec in files.items():
        ensure_file(name, spec, cache_dir=folder, search_dirs=search_dirs, base_url=base_url)
    return folder


def _verified_array(folder: Path, name: str) -> np.ndarray:
    path = folder / name
    if folder.exists() and not folder.is_dir():
        raise _cache_error(folder)
    if not path.is_file():
        raise DataError(f"{path} is missing. {_INSTALL_HINT}")
    problem = _mismatch(_read(path), FASHION_MNIST_FILES[name])
    if problem:
        raise DataError(f"{path} is corrupt: {problem}. Delete it, then {_THEN_INSTALL}")
    return read_idx(path.read_bytes(), name=str(path))


#: Number of samples in each split of Fashion-MNIST.
FASHION_MNIST_SIZES = {"train": 60_000, "test": 10_000}


def load_fashion_mnist(
    split: str = "train",
    *,
    n: int | None = None,
    seed: int = 0,
    cache_dir: Path | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST images and labels, verified by SHA-256.

    Returns ``(images, labels)`` on the CPU (move them with ``.to(device)``):
    ``images`` is float32 of shape ``(N, 1, 28, 28)`` scaled to [0, 1];
    ``labels`` is int64 of shape ``(N,)``. ``split`` is ``"train"`` (60 000)
    or ``"test"`` (10 000). With ``n``, a random subset of ``n`` samples drawn
    with ``seed`` (the same every run).
    """
    prefixes = {"train": "train", "test": "t10k"}
    split = checks.one_of("split", split, prefixes)
    if n is not None:
        n = checks.integer(
            "n", n, low=1, high=FASHION_MNIST_SIZES[split], hint="or None for the whole split"
        )
    seed = checks.nonnegative_int("seed", seed)
    folder = _folder(cache_dir)
    images = _verified_array(folder, f"{prefixes[split]}-images-idx3-ubyte")
    labels = _verified_array(folder, f"{prefixes[split]}-labels-idx1-ubyte")
    x = torch.from_numpy(images.copy()).unsqueeze(1).float().div_(255.0)
    y = torch.from_numpy(labels.astype(np.int64))
    if n is not None:
        idx = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))[:n]
        x, y = x[idx], y[idx]
    return x, y


# -------------------------------------------------------------------- encoders
def _intensities(name: str, x: object) -> torch.Tensor:
    """``x`` a floating-point tensor whose entries lie in [0, 1] (checked off ``meta``)."""
    x = checks.tensor(name, x, kind="float", hint="pixel intensities as a float tensor")
    return checks.finite_values(name, x, low=0.0, high=1.0, hint="rescale the input to [0, 1]")


def rate_encode(
    x: torch.Tensor, num_steps: int, *, gain: float = 1.0, seed: int | None = None
) -> torch.Tensor:
    """Poisson-like rate code: ``S[t] ~ Bernoulli(min(gain * x, 1))`` for each of ``num_steps``.

    The rate code of snnTorch (:func:`snntorch.spikegen.rate`); returns a
    time-major tensor of shape ``(num_steps, *x.shape)`` on ``x``'s device and
    dtype. ``x`` must lie in [0, 1]; ``gain`` scales it (probabilities above 1
    are clipped to 1, as snnTorch does). Without ``seed`` the spikes come from
    PyTorch's global generator of ``x``'s device, exactly as
    ``spikegen.rate(x, num_steps, gain)``. With ``seed`` they come from a
    private :class:`torch.Generator` on ``x``'s device seeded with it: the same
    spikes on every call, and no global generator (CPU, CUDA or MPS) is touched.
    """
    from snntorch import spikegen

    x = _intensities("x", x)
    num_steps = checks.positive_int("num_steps", num_steps)
    gain = checks.number("gain", gain, low=0.0, hint="a non-negative scale of the rates")
    if seed is not None:
        seed = checks.nonnegative_int("seed", seed, hint="or None for the global generator")
    if seed is None:
        return spikegen.rate(x, num_steps=num_steps, gain=gain)
    # The same arithmetic as spikegen.rate, drawn from a private generator.
    p = (x.repeat(num_steps, *([1] * x.ndim)) * gain).clamp(0, 1)
    if x.device.type == "meta":  # no values, no generator
        return torch.bernoulli(p)
    generator = torch.Generator(device=x.device).manual_seed(seed)
    return torch.bernoulli(p, generator=generator)


def latency_encode(x: torch.Tensor, num_steps: int, *, threshold: float = 0.01) -> torch.Tensor:
    """Latency code: one spike per input, earlier for brighter pixels.

    Wraps :func:`snntorch.spikegen.latency` with ``linear=True,
    normalize=True, clip=True``: an intensity ``x`` fires once, at about step
    ``(1 - x) * (num_steps - 1)``, and inputs below ``threshold`` (in [0, 1))
    never fire. Returns a time-major tensor of shape ``(num_steps, *x.shape)``
    on ``x``'s device.
    """
    from snntorch import spikegen

    x = _intensities("x", x)
    num_steps = checks.integer(
        "num_steps", num_steps, low=2, hint="a latency code needs at least two time steps"
    )
    threshold = checks.number(
        "threshold", threshold, low=0.0, high=1.0, high_open=True,
        hint="inputs below it never fire; 1 or more would silence every input",
    )  # fmt: skip
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
    Returns ``(x, y)`` on the CPU: ``x`` float32 of shape ``(n, num_steps, n_inputs)``
    (batch-first, 0/1 spikes), ``y`` int64 of shape ``(n,)``, balanced classes.
    """
    n, n_inputs, n_classes, num_steps = (
        checks.integer(name, value)
        for name, value in (
            ("n", n), ("n_inputs", n_inputs), ("n_classes", n_classes), ("num_steps", num_steps)
        )
    )  # fmt: skip
    if n < 1 or n_inputs < 1 or n_classes < 2 or num_steps < 2:
        raise ValueError(
            "need n >= 1, n_inputs >= 1, n_classes >= 2 and num_steps >= 2, got "
            f"n={n}, n_inputs={n_inputs}, n_classes={n_classes}, num_steps={num_steps}"
        )
    jitter = checks.number("jitter", jitter, hint="a spread in time steps")
    if jitter < 0:
        raise ValueError(f"jitter must be >= 0 (in time steps), got {jitter}")
    seed = checks.nonnegative_int("seed", seed)
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
