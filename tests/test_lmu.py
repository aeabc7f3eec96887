"""Tests of snnbook.lmu against independent references (scipy, plain loops, closed forms)."""

import numpy as np
import pytest
import torch
from scipy.linalg import expm
from scipy.signal import cont2discrete

from snnbook import lmu


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


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="order must be >= 1"):
        lmu.legendre_delay(0, 10.0)
    with pytest.raises(ValueError, match="theta must be a finite number > 0"):
        lmu.legendre_delay(4, 0.0)
    with pytest.raises(ValueError, match="theta must be a finite number > 0"):
        lmu.memory(torch.zeros(5, 2), 4, -1.0)
    with pytest.raises(ValueError, match="dt must be a finite number > 0"):
        lmu.discretize(*lmu.legendre_delay(4, 10.0), dt=0.0)
    with pytest.raises(ValueError, match=r"shape \(T, batch\) or \(T, batch, 1\)"):
        lmu.memory(torch.zeros(5), 4, 10.0)
    with pytest.raises(ValueError, match=r"shape \(T, batch\) or \(T, batch, 1\)"):
        lmu.memory(torch.zeros(5, 2, 3), 4, 10.0)
    with pytest.raises(TypeError, match="floating-point"):
        lmu.memory(torch.zeros(5, 2, dtype=torch.long), 4, 10.0)
    with pytest.raises(ValueError, match=r"r must lie in \[0, 1\]"):
        lmu.decode(torch.zeros(3, 4), 1.5)
    with pytest.raises(ValueError, match="time-major input"):
        lmu.LMU(1, 4, 4, 10.0)(torch.zeros(5, 2))
    with pytest.raises(ValueError, match="kind must be 'lstm' or 'gru'"):
        lmu.RNNClassifier("rnn", 4)
    with pytest.raises(ValueError, match="steps must be an int"):
        lmu.memory_tail(torch.zeros(5, 2), 4, 10.0, 6)


def test_baseline_script_prefix_reproduces_the_recorded_losses():
    """Re-run the first optimizer steps of scripts/lmu_baselines.py and compare with its record."""
    import importlib.util
    import json
    from pathlib import Path

    import snnbook
    from snnbook import data, training

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location(
        "lmu_baselines", root / "scripts/lmu_baselines.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    record = json.loads((root / "results/lmu_baselines.json").read_text())
    provenance = record["provenance"]
    for key in ("command", "seed", "torch", "date_utc", "wall_seconds"):
        assert key in provenance
    x, y = data.load_fashion_mnist("train")
    for name, steps in (("LMU", 3), ("LSTM", 1)):
        snnbook.seed_everything(provenance["seed"])
        model = script.MODELS[name](lmu.fixed_permutation(784, provenance["seed"]))
        optimizer = torch.optim.Adam(model.parameters(), lr=script.LR)
        generator = torch.Generator().manual_seed(provenance["seed"])
        losses = []
        for xb, yb in training.batches(x, y, script.BATCH, shuffle=True, generator=generator):
            loss = torch.nn.functional.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break
        recorded = record["results"][name]["first_losses"][:steps]
        np.testing.assert_allclose(losses, recorded, rtol=1e-4)
