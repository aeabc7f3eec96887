"""snnbook.data: IDX parsing, checksums, the download path, loaders and encoders."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import threading

import numpy as np
import pytest
import torch

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
    with pytest.raises(ValueError, match="n must be in"):
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
