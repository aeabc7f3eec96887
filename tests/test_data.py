"""snnbook.data: IDX parsing, checksums, the download path, loaders and encoders."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import assert_refuses, refuse

from snnbook import data
from snnbook.data import DataError, FileSpec, ensure_file, read_idx


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array as IDX, independently of the parser under test."""
    header = bytes([0, 0, 0x08, array.ndim])
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def spec_of(raw: bytes) -> FileSpec:
    return FileSpec(len(raw), hashlib.sha256(raw).hexdigest())


@pytest.fixture
def small_file():
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    raw = idx_bytes(array)
    return array, raw, spec_of(raw)


# ----------------------------------------------------------------------- IDX
def test_read_idx_round_trip(small_file):
    array, raw, _ = small_file
    np.testing.assert_array_equal(read_idx(raw), array)
    labels = np.array([9, 0, 0, 3], dtype=np.uint8)
    np.testing.assert_array_equal(read_idx(idx_bytes(labels)), labels)


def test_read_idx_big_endian_int32():
    values = np.array([1, -2, 70000], dtype=">i4")
    raw = bytes([0, 0, 0x0C, 1]) + (3).to_bytes(4, "big") + values.tobytes()
    np.testing.assert_array_equal(read_idx(raw), [1, -2, 70000])


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"\x01\x00\x08\x01" + b"\x00\x00\x00\x01" + b"\x05", "bad magic"),
        (b"\x00\x00\x07\x01" + b"\x00\x00\x00\x01" + b"\x05", "unknown IDX element type"),
        (b"\x00\x00\x08\x02" + b"\x00\x00\x00\x01", "truncated IDX header"),
        (b"\x00\x00\x08\x01" + b"\x00\x00\x00\x05" + b"\x01\x02", "truncated or corrupt"),
    ],
)
def test_read_idx_rejects_malformed_files(raw, message):
    with pytest.raises(DataError, match=message):
        read_idx(raw)


# ------------------------------------------------------------ verified files
def test_ensure_file_copies_from_a_search_dir_and_decompresses(tmp_path, small_file):
    _, raw, spec = small_file
    source = tmp_path / "debian"
    source.mkdir()
    (source / "images.gz").write_bytes(gzip.compress(raw))
    cache = tmp_path / "cache"
    path = ensure_file("images", spec, cache_dir=cache, search_dirs=[source])
    assert path == cache / "images"
    assert path.read_bytes() == raw
    assert [p.name for p in cache.iterdir()] == ["images"], "no temporary files left behind"
    # Second call: served from the cache, even with no source at all.
    (source / "images.gz").unlink()
    assert ensure_file("images", spec, cache_dir=cache, search_dirs=[source]) == path


def test_corrupt_cache_file_raises_and_is_left_alone(tmp_path, small_file):
    _, raw, spec = small_file
    (tmp_path / "images").write_bytes(raw[:-1] + b"\xff")
    before = (tmp_path / "images").read_bytes()
    with pytest.raises(DataError, match="corrupt.*Delete it"):
        ensure_file("images", spec, cache_dir=tmp_path)
    assert (tmp_path / "images").read_bytes() == before


# The corrupt-file message names the check that failed, and quotes sizes only when
# the size is what is wrong.
def test_corrupt_message_names_the_checksum_when_only_the_content_differs(tmp_path, small_file):
    _, raw, spec = small_file
    (tmp_path / "images").write_bytes(raw[:-1] + b"\xff")  # same size, same header
    with pytest.raises(DataError) as info:
        ensure_file("images", spec, cache_dir=tmp_path)
    message = str(info.value)
    assert "checksum check failed" in message
    assert "size check" not in message and "bytes, expected" not in message


def test_corrupt_message_names_the_size_when_truncated(tmp_path, small_file):
    _, raw, spec = small_file
    (tmp_path / "images").write_bytes(raw[:-5])
    with pytest.raises(DataError) as info:
        ensure_file("images", spec, cache_dir=tmp_path)
    message = str(info.value)
    assert f"size check failed ({len(raw) - 5:,} bytes, expected {len(raw):,})" in message
    assert "IDX header check failed" in message  # the header announces more than is there
    assert "checksum" not in message


def test_corrupt_message_names_the_header_of_a_compressed_file(tmp_path, small_file):
    _, raw, spec = small_file
    (tmp_path / "images").write_bytes(gzip.compress(raw))
    with pytest.raises(DataError, match="header check failed.*gzip-compressed"):
        ensure_file("images", spec, cache_dir=tmp_path)


def test_corrupt_message_names_a_wrong_magic_number(tmp_path, small_file):
    _, raw, spec = small_file
    (tmp_path / "images").write_bytes(b"\x01" + raw[1:])
    with pytest.raises(DataError) as info:
        ensure_file("images", spec, cache_dir=tmp_path)
    assert "IDX header check failed (not an IDX file" in str(info.value)
    assert "size check" not in str(info.value)


def test_loader_names_the_failed_check_too(tmp_path):
    name = "t10k-labels-idx1-ubyte"
    (tmp_path / name).write_bytes(b"\x00\x00\x08\x01" + (3).to_bytes(4, "big") + b"abc")
    with pytest.raises(DataError, match="size check failed.*expected 10,008"):
        data._verified_array(tmp_path, name)


# ------------------------------------------------------ unusable cache folders
def test_cache_that_is_a_file_gets_the_loaders_message(tmp_path, small_file):
    _, raw, spec = small_file
    source = tmp_path / "src"
    source.mkdir()
    (source / "images").write_bytes(raw)
    cache = tmp_path / "cache"
    cache.write_text("not a folder")
    with pytest.raises(DataError, match="is a file, not a folder.*SNNBOOK_DATA"):
        ensure_file("images", spec, cache_dir=cache, search_dirs=[source])
    with pytest.raises(DataError, match="is a file, not a folder"):
        data.load_fashion_mnist("test", cache_dir=cache)
    assert cache.read_text() == "not a folder"


def test_cache_below_a_file_gets_the_loaders_message(tmp_path, small_file):
    _, raw, spec = small_file
    source = tmp_path / "src"
    source.mkdir()
    (source / "images").write_bytes(raw)
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match="cannot be created: a part of its path is a file"):
        ensure_file("images", spec, cache_dir=tmp_path / "file" / "cache", search_dirs=[source])


def test_read_only_cache_gets_the_loaders_message(tmp_path, small_file, monkeypatch):
    """A folder the user may not write to (simulated: the tests may run as root)."""
    _, raw, spec = small_file
    source = tmp_path / "src"
    source.mkdir()
    (source / "images").write_bytes(raw)
    cache = tmp_path / "cache"
    cache.mkdir()
    real_access = os.access
    monkeypatch.setattr(
        data.os, "access", lambda p, mode: False if Path(p) == cache else real_access(p, mode)
    )
    with pytest.raises(DataError, match="cannot be written.*SNNBOOK_DATA") as info:
        ensure_file("images", spec, cache_dir=cache, search_dirs=[source])
    assert "make data" in str(info.value)
    assert list(cache.iterdir()) == []
    # a verified file already in a read-only cache is fine: nothing needs writing
    (cache / "images").write_bytes(raw)
    assert ensure_file("images", spec, cache_dir=cache) == cache / "images"


def test_write_refused_by_the_system_gets_the_loaders_message(tmp_path, small_file, monkeypatch):
    def refuse_write(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(data.tempfile, "mkstemp", refuse_write)
    with pytest.raises(DataError, match="cannot be written \\(Permission denied\\)"):
        data._atomic_write(tmp_path / "f", b"data")


def test_unreadable_cache_file_gets_the_loaders_message(tmp_path, small_file, monkeypatch):
    _, raw, spec = small_file
    (tmp_path / "images").write_bytes(raw)

    def refuse_read(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(data.Path, "read_bytes", refuse_read)
    with pytest.raises(DataError, match="cannot read .*images.*Permission denied"):
        ensure_file("images", spec, cache_dir=tmp_path)


# ------------------------------------------------------------- partial files
def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_partial_files_are_removed_and_nothing_else(tmp_path, small_file, capsys):
    _, raw, spec = small_file
    source = tmp_path / "src"
    source.mkdir()
    (source / "images").write_bytes(raw)
    cache = tmp_path / "cache"
    cache.mkdir()
    dead = _dead_pid()
    stale = [
        cache / f".images.{dead}.abcd_123.part",  # its writer is gone
        cache / ".images.k2j4h5g6.part",  # the older naming, an hour old
    ]
    kept = [
        cache / ".images.q1w2e3r4.part",  # the older naming, fresh: maybe being written
        cache / f".images.{os.getpid()}.zxcvbnm1.part",  # a live writer
        cache / ".images.part",  # not our naming
        cache / ".images.12.ABCDEFGH.part",  # not mkstemp's alphabet
        cache / ".labels.1.abcdefgh.part",  # another file's
        cache / "images.abcdefgh.part",  # not hidden: not ours
        cache / "notes.txt",
    ]
    for p in stale + kept:
        p.write_bytes(b"x" * 1000)
    hour_ago = time.time() - 3600
    os.utime(stale[1], (hour_ago, hour_ago))
    assert ensure_file("images", spec, cache_dir=cache, search_dirs=[source]).read_bytes() == raw
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in kept)
    err = capsys.readouterr().err
    assert err.count("partial file left by an interrupted write") == 2


def test_a_killed_write_leaves_a_part_file_that_the_next_run_removes(tmp_path, small_file):
    """Reproduce the leftover: a writer killed between writing and linking."""
    _, raw, spec = small_file
    cache = tmp_path / "cache"
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from snnbook import data\n"
        "os.link = lambda *a: os._exit(9)  # die after the write, before the rename\n"
        f"data._atomic_write(Path({str(cache / 'images')!r}), b'partial')\n"
    )
    subprocess.run([sys.executable, "-c", script], check=False)
    leftovers = list(cache.glob(".images.*.part"))
    assert len(leftovers) == 1, "the killed writer should have left its partial file"
    source = tmp_path / "src"
    source.mkdir()
    (source / "images").write_bytes(raw)
    ensure_file("images", spec, cache_dir=cache, search_dirs=[source])
    assert sorted(p.name for p in cache.iterdir()) == ["images"]


def test_wrong_file_in_search_dir_raises(tmp_path, small_file):
    _, raw, spec = small_file
    source = tmp_path / "src"
    source.mkdir()
    (source / "images.gz").write_bytes(gzip.compress(raw + b"x"))
    with pytest.raises(DataError, match="does not match its checksum"):
        ensure_file("images", spec, cache_dir=tmp_path / "cache", search_dirs=[source])
    assert not (tmp_path / "cache" / "images").exists()


def test_missing_everywhere_without_download_says_what_to_run(tmp_path, small_file):
    _, _, spec = small_file
    with pytest.raises(DataError, match="make data"):
        ensure_file("images", spec, cache_dir=tmp_path, search_dirs=[tmp_path / "nowhere"])


@pytest.fixture
def http_dir(tmp_path):
    """Serve a folder over a loopback HTTP server; yields (folder, base URL)."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_download_path_verifies_and_writes(tmp_path, http_dir, small_file):
    folder, url = http_dir
    _, raw, spec = small_file
    (folder / "images.gz").write_bytes(gzip.compress(raw))
    path = ensure_file("images", spec, cache_dir=tmp_path / "cache", base_url=url)
    assert path.read_bytes() == raw


def test_download_with_wrong_checksum_saves_nothing(tmp_path, http_dir, small_file):
    folder, url = http_dir
    _, raw, spec = small_file
    (folder / "images.gz").write_bytes(gzip.compress(raw[:-1] + b"\x00\x00"))
    with pytest.raises(DataError, match="does not match its checksum"):
        ensure_file("images", spec, cache_dir=tmp_path / "cache", base_url=url)
    assert not (tmp_path / "cache" / "images").exists()


def test_download_of_a_non_gzip_file_is_refused(tmp_path, http_dir, small_file):
    folder, url = http_dir
    _, raw, spec = small_file
    (folder / "images.gz").write_bytes(raw)  # not compressed
    with pytest.raises(DataError, match="not a valid gzip"):
        ensure_file("images", spec, cache_dir=tmp_path / "cache", base_url=url)


def test_unreachable_server_gives_a_clear_error(tmp_path, http_dir, small_file):
    _, url = http_dir
    _, _, spec = small_file
    with pytest.raises(DataError, match="could not download"):
        ensure_file("missing", spec, cache_dir=tmp_path, base_url=url)


def test_atomic_write_never_overwrites(tmp_path):
    target = tmp_path / "f"
    target.write_bytes(b"old")
    with pytest.raises(DataError, match="not overwriting"):
        data._atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


# --------------------------------------------------------------- Fashion-MNIST
def test_load_fashion_mnist_real_files():
    x, y = data.load_fashion_mnist("train")
    assert x.shape == (60_000, 1, 28, 28) and x.dtype == torch.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert y[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert torch.bincount(y).tolist() == [6000] * 10
    xt, yt = data.load_fashion_mnist("test")
    assert xt.shape == (10_000, 1, 28, 28) and len(yt) == 10_000


def test_load_fashion_mnist_subset_is_seeded():
    a = data.load_fashion_mnist("test", n=100, seed=3)
    b = data.load_fashion_mnist("test", n=100, seed=3)
    c = data.load_fashion_mnist("test", n=100, seed=4)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[1], c[1])


def test_load_fashion_mnist_errors(tmp_path):
    with pytest.raises(ValueError, match="split must be"):
        data.load_fashion_mnist("validation")
    with pytest.raises(ValueError, match=r"n must be an integer in \[1, 10000\]"):
        data.load_fashion_mnist("test", n=0)
    with pytest.raises(DataError, match="missing.*make data"):
        data.load_fashion_mnist("test", cache_dir=tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"\x00" * 16)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"\x00" * 16)
    with pytest.raises(DataError, match="corrupt"):
        data.load_fashion_mnist("test", cache_dir=tmp_path)


# -------------------------------------------------------------------- encoders
def test_rate_encode_is_time_major_seeded_and_unbiased():
    x = torch.tensor([[0.0, 0.25, 1.0]])
    s = data.rate_encode(x, 4000, seed=1)
    assert s.shape == (4000, 1, 3)
    assert torch.equal(s, data.rate_encode(x, 4000, seed=1))
    torch.testing.assert_close(s.mean(0), x, atol=0.03, rtol=0)


def test_latency_encode_one_spike_earlier_for_brighter():
    x = torch.tensor([0.0, 0.2, 0.6, 1.0])
    s = data.latency_encode(x, 11)
    assert s.shape == (11, 4)
    assert s.sum(0).tolist() == [0.0, 1.0, 1.0, 1.0]
    first = s.argmax(0)
    assert first[3] < first[2] < first[1]
    assert first[3] == 0


@pytest.mark.parametrize("fn", [data.rate_encode, data.latency_encode])
def test_encoders_reject_bad_input(fn):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        fn(torch.tensor([1.5]), 10)
    with pytest.raises(ValueError, match="num_steps"):
        fn(torch.tensor([0.5]), 0)


def test_seeded_rate_encode_touches_no_global_generator(monkeypatch):
    """A private generator on the input's device: global CPU/CUDA/MPS state is left alone."""
    x = torch.rand(3, 5)
    before = torch.get_rng_state()

    def forbidden(*args, **kwargs):
        raise AssertionError("rate_encode(seed=...) must not re-seed a global generator")

    monkeypatch.setattr(torch, "manual_seed", forbidden)
    monkeypatch.setattr(torch.cuda, "manual_seed_all", forbidden)
    monkeypatch.setattr(torch.cuda, "manual_seed", forbidden)
    a = data.rate_encode(x, 50, seed=3)
    assert torch.equal(a, data.rate_encode(x, 50, seed=3))
    assert not torch.equal(a, data.rate_encode(x, 50, seed=4))
    assert torch.equal(torch.get_rng_state(), before)


def test_rate_encode_without_seed_is_snntorchs_rate_code():
    from snntorch import spikegen

    x = torch.rand(4, 6)
    torch.manual_seed(11)
    ours = data.rate_encode(x, 20, gain=0.5)
    torch.manual_seed(11)
    theirs = spikegen.rate(x, num_steps=20, gain=0.5)
    assert torch.equal(ours, theirs)


def test_rate_encode_clips_rates_above_one():
    s = data.rate_encode(torch.tensor([0.6, 0.0]), 200, gain=2.0, seed=0)
    assert s[:, 0].sum() == 200 and s[:, 1].sum() == 0


def test_encoders_keep_device_and_dtype():
    x = torch.rand(2, 3, dtype=torch.float64)
    assert data.rate_encode(x, 4, seed=1).dtype == torch.float64
    meta = torch.empty(2, 3, device="meta")
    for s in (data.rate_encode(meta, 4), data.rate_encode(meta, 4, seed=1)):
        assert s.device.type == "meta" and s.shape == (4, 2, 3)


def test_spike_timing_task_has_one_spike_per_input_and_balanced_classes():
    x, y = data.spike_timing_task(64, n_inputs=5, n_classes=4, num_steps=12, seed=2)
    assert x.shape == (64, 12, 5) and torch.all(x.sum(1) == 1)
    assert torch.bincount(y).tolist() == [16] * 4


# ---------------------------------------------------------------- bad inputs
IMG = torch.rand(2, 4)
SPEC = FileSpec(10, "0" * 64)


def _with(value, index=(0, 1)):
    x = IMG.clone()
    x[index] = value
    return x


BAD_INPUTS = [
    # read_idx / ensure_file / install / load
    refuse(lambda: read_idx("0008"), TypeError, "raw", "bytes", id="read-idx-str"),
    refuse(lambda: ensure_file("", SPEC, cache_dir="/tmp"), ValueError, "name", id="ensure-name-empty"),
    refuse(lambda: ensure_file("../x", SPEC, cache_dir="/tmp"), ValueError, "name", id="ensure-name-path"),
    refuse(lambda: ensure_file(3, SPEC, cache_dir="/tmp"), ValueError, "name", id="ensure-name-int"),
    refuse(lambda: ensure_file("x", (10, "0"), cache_dir="/tmp"), TypeError, "spec", "FileSpec", id="ensure-spec-tuple"),
    refuse(lambda: ensure_file("x", SPEC, cache_dir=3), TypeError, "cache_dir", id="ensure-cache-int"),
    refuse(lambda: ensure_file("x", SPEC, cache_dir="/tmp", timeout=0), ValueError, "timeout", id="ensure-timeout-0"),
    refuse(lambda: ensure_file("x", SPEC, cache_dir="/tmp", timeout=float("nan")), ValueError, "timeout", id="ensure-timeout-nan"),
    refuse(lambda: data.install_fashion_mnist(cache_dir=1), TypeError, "cache_dir", id="install-cache-int"),
    refuse(lambda: data.install_fashion_mnist(search_dirs="/usr/share"), TypeError, "search_dirs", id="install-search-str"),
    refuse(lambda: data.load_fashion_mnist("valid"), ValueError, "split", "'train'", id="load-split"),
    refuse(lambda: data.load_fashion_mnist("test", n=0), ValueError, "n", id="load-n-0"),
    refuse(lambda: data.load_fashion_mnist("test", n=10_001), ValueError, "n", "10000", id="load-n-too-many"),
    refuse(lambda: data.load_fashion_mnist("test", n=2.5), TypeError, "n", id="load-n-float"),
    refuse(lambda: data.load_fashion_mnist("test", n=True), TypeError, "n", id="load-n-bool"),
    refuse(lambda: data.load_fashion_mnist("test", seed=-2), ValueError, "seed", id="load-seed"),
    refuse(lambda: data.load_fashion_mnist("test", cache_dir=5), TypeError, "cache_dir", id="load-cache-int"),
    # rate_encode
    refuse(lambda: data.rate_encode(_with(float("nan")), 5), ValueError, "x", "NaN", id="rate-nan"),
    refuse(lambda: data.rate_encode(_with(float("inf")), 5), ValueError, "x", "NaN or infinite", id="rate-inf"),
    refuse(lambda: data.rate_encode(_with(1.5), 5), ValueError, "x", "[0, 1]", id="rate-above-1"),
    refuse(lambda: data.rate_encode(_with(-0.1), 5), ValueError, "x", "[0, 1]", id="rate-negative"),
    refuse(lambda: data.rate_encode((IMG * 255).to(torch.uint8), 5), TypeError, "x", "float", id="rate-uint8"),
    refuse(lambda: data.rate_encode(IMG.numpy(), 5), TypeError, "x", "torch.Tensor", id="rate-numpy"),
    refuse(lambda: data.rate_encode(IMG[:0], 5), ValueError, "x", "empty", id="rate-empty"),
    refuse(lambda: data.rate_encode(IMG, 0), ValueError, "num_steps", id="rate-steps-0"),
    refuse(lambda: data.rate_encode(IMG, 5.0), TypeError, "num_steps", id="rate-steps-float"),
    refuse(lambda: data.rate_encode(IMG, True), TypeError, "num_steps", id="rate-steps-bool"),
    refuse(lambda: data.rate_encode(IMG, 5, gain=-1.0), ValueError, "gain", id="rate-gain-negative"),
    refuse(lambda: data.rate_encode(IMG, 5, gain=float("nan")), ValueError, "gain", id="rate-gain-nan"),
    refuse(lambda: data.rate_encode(IMG, 5, gain="2"), TypeError, "gain", id="rate-gain-str"),
    refuse(lambda: data.rate_encode(IMG, 5, seed=-1), ValueError, "seed", id="rate-seed-negative"),
    refuse(lambda: data.rate_encode(IMG, 5, seed=0.5), TypeError, "seed", id="rate-seed-float"),
    # latency_encode
    refuse(lambda: data.latency_encode(_with(float("nan")), 5), ValueError, "x", "NaN", id="latency-nan"),
    refuse(lambda: data.latency_encode(_with(2.0), 5), ValueError, "x", "[0, 1]", id="latency-above-1"),
    refuse(lambda: data.latency_encode(IMG.long(), 5), TypeError, "x", "float", id="latency-int"),
    refuse(lambda: data.latency_encode(IMG, 1), ValueError, "num_steps", id="latency-steps-1"),
    refuse(lambda: data.latency_encode(IMG, 4.0), TypeError, "num_steps", id="latency-steps-float"),
    refuse(lambda: data.latency_encode(IMG, 5, threshold=1.0), ValueError, "threshold", id="latency-threshold-1"),
    refuse(lambda: data.latency_encode(IMG, 5, threshold=-0.1), ValueError, "threshold", id="latency-threshold-negative"),
    refuse(lambda: data.latency_encode(IMG, 5, threshold=float("nan")), ValueError, "threshold", id="latency-threshold-nan"),
    # spike_timing_task
    refuse(lambda: data.spike_timing_task(0), ValueError, "n", id="timing-n-0"),
    refuse(lambda: data.spike_timing_task(10.0), TypeError, "n", id="timing-n-float"),
    refuse(lambda: data.spike_timing_task(10, n_inputs=0), ValueError, "n_inputs", id="timing-inputs-0"),
    refuse(lambda: data.spike_timing_task(10, n_classes=1), ValueError, "n_classes", id="timing-classes-1"),
    refuse(lambda: data.spike_timing_task(10, num_steps=1), ValueError, "num_steps", id="timing-steps-1"),
    refuse(lambda: data.spike_timing_task(10, jitter=-1.0), ValueError, "jitter", id="timing-jitter-negative"),
    refuse(lambda: data.spike_timing_task(10, jitter=float("inf")), ValueError, "jitter", id="timing-jitter-inf"),
    refuse(lambda: data.spike_timing_task(10, seed=-1), ValueError, "seed", id="timing-seed"),
]  # fmt: skip


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)
