"""Tests of snnbook.lmu against independent references (scipy, plain loops, closed forms)."""

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import assert_refuses, refuse
from scipy.linalg import expm
from scipy.signal import cont2discrete

from snnbook import lmu, records

ROOT = Path(__file__).resolve().parents[1]


def band_limited(steps: int, cycles_per_step: float, seed: int) -> np.ndarray:
    """White noise with every frequency above the cutoff removed, unit variance."""
    rng = np.random.default_rng(seed)
    freqs = np.fft.rfftfreq(steps)
    spectrum = rng.normal(size=freqs.size) + 1j * rng.normal(size=freqs.size)
    spectrum[freqs > cycles_per_step] = 0
    x = np.fft.irfft(spectrum, n=steps)
    return x / x.std()


def test_legendre_delay_matches_the_formula_elementwise():
    a, b = lmu.legendre_delay(5, 10.0)
    for i in range(5):
        assert b[i, 0] == pytest.approx((2 * i + 1) * (-1) ** i / 10.0)
        for j in range(5):
            expected = (2 * i + 1) / 10.0 * (-1.0 if i < j else (-1.0) ** (i - j + 1))
            assert a[i, j] == pytest.approx(expected)


@pytest.mark.parametrize("order,theta,dt", [(1, 5.0, 1.0), (6, 20.0, 1.0), (32, 100.0, 0.5)])
def test_discretize_matches_scipy_and_the_block_exponential(order, theta, dt):
    a, b = lmu.legendre_delay(order, theta)
    ad, bd = lmu.discretize(a, b, dt=dt)
    ref_a, ref_b, *_ = cont2discrete(
        (a, b, np.eye(order), np.zeros((order, 1))), dt=dt, method="zoh"
    )
    np.testing.assert_allclose(ad, ref_a, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(bd, ref_b, rtol=1e-12, atol=1e-14)
    # independent route: exp of the block matrix [[A, B], [0, 0]] dt
    block = np.zeros((order + 1, order + 1))
    block[:order, :order], block[:order, order:] = a, b
    e = expm(block * dt)
    np.testing.assert_allclose(ad, e[:order, :order], atol=1e-10)
    np.testing.assert_allclose(bd, e[:order, order:], atol=1e-10)


def test_discretize_is_cached():
    a, b = lmu.legendre_delay(8, 12.0)
    first = lmu.discretize(a, b)
    assert lmu.discretize(a.copy(), b.copy())[0] is first[0]


def test_impulse_response_is_powers_of_abar():
    ad, bd = lmu.discretize(*lmu.legendre_delay(6, 9.0))
    h = lmu.impulse_response(6, 9.0, 5)
    for k in range(5):
        np.testing.assert_allclose(h[k], np.linalg.matrix_power(ad, k) @ bd[:, 0], atol=1e-12)


def test_parallel_forms_equal_the_recurrence_in_float64():
    u = torch.randn(60, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    rec = lmu.memory(u, 24, 40.0, parallel=False)
    # a plain numpy loop as the independent reference
    ad, bd = lmu.discretize(*lmu.legendre_delay(24, 40.0))
    m = np.zeros((3, 24))
    for t in range(60):
        m = m @ ad.T + u[t].numpy()[:, None] * bd[:, 0]
        np.testing.assert_allclose(rec[t].numpy(), m, atol=1e-12)
    fft = lmu.memory(u, 24, 40.0)
    last = lmu.memory(u[:, :, None], 24, 40.0, last_only=True)
    last_rec = lmu.memory(u, 24, 40.0, parallel=False, last_only=True)
    tail = lmu.memory_tail(u, 24, 40.0, 7)
    assert fft.shape == (60, 3, 24) and last.shape == (3, 24) and tail.shape == (7, 3, 24)
    torch.testing.assert_close(fft, rec, atol=1e-12, rtol=0)
    torch.testing.assert_close(last, rec[-1], atol=1e-12, rtol=0)
    torch.testing.assert_close(last_rec, rec[-1], atol=1e-12, rtol=0)
    torch.testing.assert_close(tail, rec[-7:], atol=1e-12, rtol=0)


def test_gradients_agree_between_forms():
    x = torch.rand(50, 4, dtype=torch.float64)
    grads = []
    for parallel in (True, False):
        w = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
        lmu.memory(w * x, 16, 50.0, parallel=parallel, last_only=True).square().sum().backward()
        grads.append(w.grad)
    torch.testing.assert_close(grads[0], grads[1], atol=1e-10, rtol=1e-10)


def test_decode_reconstructs_a_delayed_band_limited_signal():
    """Order 64, theta 200, input band-limited to 3 cycles per window: RMS error < 0.01.

    Input u_k is held over the step (k-1, k], so the continuous delay theta' lands at
    sample index t - theta' + 1/2 (the target is interpolated there)."""
    order, theta, steps = 64, 200, 2000
    x = band_limited(steps, 3 / theta, seed=1)
    m = lmu.memory(torch.tensor(x)[:, None], order, float(theta))[:, 0]
    t = np.arange(steps)
    for r in (0.25, 0.5, 1.0):
        target = np.interp(t - r * theta + 0.5, t, x)
        rec = lmu.decode(m, r)[:, 0].numpy()
        rmse = np.sqrt(np.mean((rec[theta:] - target[theta:]) ** 2))
        assert rmse < 0.01, (r, rmse)
    # too small an order cannot hold the window: the same signal at order 4 fails
    m4 = lmu.memory(torch.tensor(x)[:, None], 4, float(theta))[:, 0]
    rec4 = lmu.decode(m4, 1.0)[:, 0].numpy()
    target = np.interp(t - theta + 0.5, t, x)
    assert np.sqrt(np.mean((rec4[theta:] - target[theta:]) ** 2)) > 0.1


def test_legendre_basis_is_the_shifted_legendre_formula():
    from math import comb

    r = np.linspace(0, 1, 7)
    basis = lmu.legendre_basis(6, r)
    for i in range(6):
        closed = (-1) ** i * sum(comb(i, k) * comb(i + k, k) * (-r) ** k for k in range(i + 1))
        np.testing.assert_allclose(basis[:, i], closed, atol=1e-12)


def test_lmu_layer_parallel_equals_recurrent_and_fits_a_tiny_task():
    torch.manual_seed(0)
    # task: is the input's mean over the first half larger than over the second half?
    x = torch.rand(200, 1, 8, 8)
    x[:100, :, :4] += 0.5
    x[100:, :, 4:] += 0.5
    y = torch.cat([torch.zeros(100), torch.ones(100)]).long()
    model = lmu.LMUClassifier(hidden_size=16, order=8, theta=64.0, classes=2, window=3)
    sequential = lmu.LMUClassifier(hidden_size=16, order=8, theta=64.0, classes=2, window=3)
    sequential.load_state_dict(model.state_dict())
    sequential.lmu.parallel = False
    torch.testing.assert_close(model(x[:5]), sequential(x[:5]), atol=1e-5, rtol=1e-5)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(60):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert (model(x).argmax(1) == y).float().mean() == 1.0


def test_features_path_equals_the_full_model():
    torch.manual_seed(0)
    images = torch.rand(7, 1, 6, 6)
    clf = lmu.LMUClassifier(hidden_size=5, order=6, theta=30.0, classes=3, window=4)
    features = clf.features(images, chunk=3)
    assert features.shape == (7, 4, 7)
    torch.testing.assert_close(lmu.FeatureModel(clf)(features), clf(images))
    assert not clf.lmu.encoder.requires_grad
    with pytest.raises(ValueError, match="features must have shape"):
        clf.from_features(features[:, :2])


def test_pixel_sequence_and_permutation():
    images = torch.arange(2 * 9, dtype=torch.float32).reshape(2, 1, 3, 3)
    perm = lmu.fixed_permutation(9, seed=0)
    assert torch.equal(perm, torch.as_tensor(np.random.RandomState(0).permutation(9)))
    seq = lmu.pixel_sequence(images, perm)
    assert seq.shape == (9, 2, 1)
    assert torch.equal(seq[:, 1, 0], images[1].flatten()[perm])


def test_rnn_classifier_shapes_and_matched_parameters():
    lstm = lmu.RNNClassifier("lstm", 116)
    gru = lmu.RNNClassifier("gru", 134)
    model = lmu.LMUClassifier()
    counts = [lmu.count_parameters(m) for m in (model, lstm, gru)]
    assert max(counts) / min(counts) < 1.02
    assert lstm(torch.rand(3, 1, 4, 4)).shape == (3, 10)


def test_reconstruction_error_is_smallest_mid_window():
    """The far end of the window (r = 1) is the least accurate part (chapter 5's slider)."""
    x = band_limited(600, 1 / 40, seed=0)
    errors = {r: lmu.reconstruction_error(x, 24, 200.0, r)[0] for r in (0.25, 0.5, 1.0)}
    assert errors[0.5] < 0.01 < errors[1.0] < 0.1
    rmse, decoded, target = lmu.reconstruction_error(x, 24, 200.0, 1.0)
    assert decoded.shape == target.shape == (600,) and np.isnan(target[:199]).all()


def test_impulse_response_kernels_follow_the_legendre_polynomials():
    theta = 100.0
    h = lmu.impulse_response(12, theta, 100)
    basis = lmu.legendre_basis(12, np.arange(100) / theta)
    scaled = h * theta / (2 * np.arange(12) + 1)
    assert np.abs(scaled[5:95, :4] - basis[5:95, :4]).max() < 0.25
    fig = lmu.plot_impulse_response(12, theta, 150, dims=3)
    assert len(fig.axes) >= 2


def test_matrices_arrive_in_the_input_dtype():
    for dtype in (torch.float32, torch.float64):
        u = torch.rand(30, 2, dtype=dtype)
        for kw in ({}, {"last_only": True}, {"parallel": False}):
            assert lmu.memory(u, 6, 20.0, **kw).dtype == dtype
        assert lmu.decode(lmu.memory(u, 6, 20.0), 0.5).dtype == dtype
        assert lmu.memory_tail(u, 6, 20.0, 3).dtype == dtype


def make_models():
    perm = lmu.fixed_permutation(16, 0)
    return {
        "LMU": (lmu.LMU(2, 5, 6, 8.0, window=3), (9, 4, 2)),
        "LMU-sequential": (lmu.LMU(1, 5, 6, 8.0, parallel=False, window=2), (9, 4, 1)),
        "LMUClassifier": (
            lmu.LMUClassifier(5, 6, 8.0, 3, permutation=perm, window=2),
            (4, 1, 4, 4),
        ),
        "RNN-lstm": (lmu.RNNClassifier("lstm", 5, 3, permutation=perm), (4, 1, 4, 4)),
        "RNN-gru": (lmu.RNNClassifier("gru", 5, 3), (4, 4, 4)),
        "FeatureModel": (lmu.FeatureModel(lmu.LMUClassifier(5, 6, 8.0, 3, window=2)), (4, 2, 7)),
    }


@pytest.mark.parametrize("name", list(make_models()))
def test_runs_on_meta_device(name):
    """Forward and backward on PyTorch's meta device: no CPU-pinned tensors, no .item()."""
    model, shape = make_models()[name]
    meta = torch.device("meta")
    model = model.to(meta)
    out = model(torch.empty(shape, device=meta))
    assert out.device == meta
    out.sum().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and all(g is not None and g.device == meta for g in grads)


def test_memory_runs_on_meta_device_in_every_form():
    u = torch.empty(12, 3, device="meta", requires_grad=True)
    for kw in ({}, {"last_only": True}, {"parallel": False}):
        out = lmu.memory(u, 5, 9.0, **kw)
        assert out.device.type == "meta"
        out.sum().backward()
    assert lmu.memory_tail(u, 5, 9.0, 4).device.type == "meta"
    assert lmu.decode(torch.empty(4, 5, device="meta"), [0.2, 0.9]).shape == (4, 2)


_u = torch.zeros(5, 2)
_images = torch.rand(2, 1, 4, 4)
BAD_INPUTS = [
    refuse(lambda: lmu.legendre_delay(0, 10.0), ValueError, "order", id="order-zero"),
    refuse(lambda: lmu.legendre_delay(4.0, 10.0), TypeError, "order", id="order-float"),
    refuse(lambda: lmu.legendre_delay(True, 10.0), TypeError, "order", id="order-bool"),
    refuse(lambda: lmu.legendre_delay(4, 0.0), ValueError, "theta", id="theta-zero"),
    refuse(lambda: lmu.legendre_delay(4, math.nan), ValueError, "theta", id="theta-nan"),
    refuse(lambda: lmu.legendre_delay(4, math.inf), ValueError, "theta", id="theta-inf"),
    refuse(lambda: lmu.legendre_delay(4, "10"), TypeError, "theta", id="theta-str"),
    refuse(lambda: lmu.discretize(*lmu.legendre_delay(4, 10.0), dt=0.0), ValueError, "dt", id="dt"),
    refuse(lambda: lmu.discretize(np.ones((2, 3)), np.ones(2)), ValueError, "A", id="A-rect"),
    refuse(lambda: lmu.discretize(np.eye(3), np.ones(2)), ValueError, "B", id="B-size"),
    refuse(lambda: lmu.discretize(np.eye(2) * np.nan, np.ones(2)), ValueError, "A", id="A-nan"),
    refuse(lambda: lmu.discretize("A", np.ones(2)), TypeError, "A", id="A-str"),
    refuse(lambda: lmu.impulse_response(4, 10.0, 0), ValueError, "steps", id="ir-steps"),
    refuse(lambda: lmu.impulse_response(4, 10.0, 2.0), TypeError, "steps", id="ir-float"),
    refuse(lambda: lmu.memory(torch.zeros(5), 4, 10.0), ValueError, "u", id="mem-1d"),
    refuse(lambda: lmu.memory(torch.zeros(5, 2, 3), 4, 10.0), ValueError, "u", id="mem-3ch"),
    refuse(lambda: lmu.memory(torch.zeros(0, 2), 4, 10.0), ValueError, "u", id="mem-empty"),
    refuse(lambda: lmu.memory(_u.long(), 4, 10.0), TypeError, "u", id="mem-long"),
    refuse(lambda: lmu.memory(np.zeros((5, 2)), 4, 10.0), TypeError, "u", id="mem-numpy"),
    refuse(lambda: lmu.memory(_u, 4, -1.0), ValueError, "theta", id="mem-theta"),
    refuse(lambda: lmu.memory(_u, 0, 10.0), ValueError, "order", id="mem-order"),
    refuse(lambda: lmu.memory(_u, 4, 10.0, parallel=1), TypeError, "parallel", id="mem-par"),
    refuse(lambda: lmu.memory(_u, 4, 10.0, last_only="yes"), TypeError, "last_only", id="mem-last"),
    refuse(lambda: lmu.memory_tail(_u, 4, 10.0, 6), ValueError, "steps", id="tail-long"),
    refuse(lambda: lmu.memory_tail(_u, 4, 10.0, 0), ValueError, "steps", id="tail-zero"),
    refuse(lambda: lmu.legendre_basis(4, 1.5), ValueError, "r", id="basis-r"),
    refuse(lambda: lmu.legendre_basis(4, math.nan), ValueError, "r", id="basis-nan"),
    refuse(lambda: lmu.legendre_basis(4, [[0.1]]), ValueError, "r", id="basis-2d"),
    refuse(lambda: lmu.legendre_basis(4, []), ValueError, "r", id="basis-empty"),
    refuse(lambda: lmu.legendre_basis(4, "half"), TypeError, "r", id="basis-str"),
    refuse(lambda: lmu.decode(torch.zeros(3, 4), 1.5), ValueError, "r", id="decode-r"),
    refuse(lambda: lmu.decode(np.zeros((3, 4)), 0.5), TypeError, "m", id="decode-numpy"),
    refuse(lambda: lmu.decode(torch.zeros(()), 0.5), ValueError, "m", id="decode-scalar"),
    refuse(
        lambda: lmu.reconstruction_error([1.0, 2.0, 3.0], 4, 10.0), ValueError, "theta", id="re"
    ),
    refuse(
        lambda: lmu.reconstruction_error(np.ones((5, 2)), 4, 2.0), ValueError, "signal", id="re2"
    ),
    refuse(
        lambda: lmu.reconstruction_error([np.nan] * 9, 4, 2.0), ValueError, "signal", id="re-nan"
    ),
    refuse(
        lambda: lmu.reconstruction_error(np.ones(9), 4, 2.0, 1.5), ValueError, "delay", id="re-r"
    ),
    refuse(lambda: lmu.LMU(0, 4, 4, 10.0), ValueError, "input_size", id="lmu-input"),
    refuse(lambda: lmu.LMU(1, 4.5, 4, 10.0), TypeError, "hidden_size", id="lmu-hidden"),
    refuse(lambda: lmu.LMU(1, 4, 4, 10.0, window=0), ValueError, "window", id="lmu-window"),
    refuse(lambda: lmu.LMU(1, 4, 4, 10.0, parallel=None), TypeError, "parallel", id="lmu-par"),
    refuse(
        lambda: lmu.LMU(1, 4, 4, 10.0, activation=torch.relu), TypeError, "activation", id="act"
    ),
    refuse(lambda: lmu.LMU(1, 4, 4, 10.0)(torch.zeros(5, 2)), ValueError, "x", id="lmu-2d"),
    refuse(lambda: lmu.LMU(1, 4, 4, 10.0)(torch.zeros(5, 2, 3)), ValueError, "x", id="lmu-width"),
    refuse(
        lambda: lmu.LMU(1, 4, 4, 10.0, window=6)(torch.zeros(5, 2, 1)),
        ValueError,
        "window",
        id="lmu-short",
    ),
    refuse(lambda: lmu.fixed_permutation(0), ValueError, "n", id="perm-n"),
    refuse(lambda: lmu.fixed_permutation(9, seed=-1), ValueError, "seed", id="perm-seed"),
    refuse(lambda: lmu.pixel_sequence(torch.zeros(4, 16)), ValueError, "images", id="pix-2d"),
    refuse(lambda: lmu.pixel_sequence(_images.long()), TypeError, "images", id="pix-long"),
    refuse(
        lambda: lmu.pixel_sequence(_images, torch.arange(5)),
        ValueError,
        "permutation",
        id="pix-perm",
    ),
    refuse(
        lambda: lmu.pixel_sequence(_images, torch.rand(16)),
        TypeError,
        "permutation",
        id="pix-float",
    ),
    refuse(lambda: lmu.LMUClassifier(classes=1), ValueError, "classes", id="clf-classes"),
    refuse(lambda: lmu.LMUClassifier(order=-3), ValueError, "order", id="clf-order"),
    refuse(lambda: lmu.LMUClassifier(permutation=[1, 0]), TypeError, "permutation", id="clf-perm"),
    refuse(
        lambda: lmu.LMUClassifier(4, 4, 8.0).features(_images, chunk=0),
        ValueError,
        "chunk",
        id="feat-chunk",
    ),
    refuse(
        lambda: lmu.LMUClassifier(4, 4, 8.0).from_features(torch.zeros(2, 1, 3)),
        ValueError,
        "features",
        id="from-features",
    ),
    refuse(
        lambda: lmu.FeatureModel(lmu.LMU(1, 4, 4, 10.0)),
        TypeError,
        "classifier",
        id="feature-model",
    ),
    refuse(lambda: lmu.RNNClassifier("rnn", 4), ValueError, "kind", id="rnn-kind"),
    refuse(lambda: lmu.RNNClassifier("gru", 0), ValueError, "hidden_size", id="rnn-hidden"),
    refuse(
        lambda: lmu.RNNClassifier("gru", 4, classes=1.0), TypeError, "classes", id="rnn-classes"
    ),
    refuse(
        lambda: lmu.RNNClassifier("gru", 4)(torch.zeros(2, 16)), ValueError, "images", id="rnn-2d"
    ),
    refuse(lambda: lmu.count_parameters("model"), TypeError, "model", id="count"),
    refuse(
        lambda: lmu.plot_reconstruction(np.ones(50), 4, 10.0, delay=-0.1),
        ValueError,
        "delay",
        id="plot-delay",
    ),
    refuse(
        lambda: lmu.plot_impulse_response(4, 10.0, 20, dims=5), ValueError, "dims", id="plot-dims"
    ),
]


@pytest.mark.parametrize("call, exc, words", BAD_INPUTS)
def test_refuses_bad_input(call, exc, words):
    assert_refuses(call, exc, words)


def _script():
    spec = importlib.util.spec_from_file_location(
        "lmu_baselines", ROOT / "scripts/lmu_baselines.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_baseline_script_prefix_reproduces_the_recorded_losses():
    """Re-run the first optimizer steps of every model (first seed) of scripts/lmu_baselines.py."""
    script = _script()
    record = records.load("lmu_baselines")
    splits = script.load_data()
    for name, seeds in record["results"].items():
        seed = sorted(seeds, key=int)[0]
        epochs = record["protocol"]["epochs"]
        losses = script.train(name, int(seed), splits, epochs, max_steps=3)["first_losses"]
        np.testing.assert_allclose(losses, seeds[seed]["first_losses"], rtol=1e-4)
        assert seeds[seed]["parameters"] == lmu.count_parameters(script.MODELS[name](None))
