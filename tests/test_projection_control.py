"""scripts/projection_control.py: the random-projection control of chapter 5."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from snnbook import lmu, records

ROOT = Path(__file__).resolve().parents[1]


def _script():
    path = ROOT / "scripts/projection_control.py"
    spec = importlib.util.spec_from_file_location("projection_control", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_legendre_features_are_the_lmu_memory():
    """The Legendre arm's features equal LMUClassifier.features (the LMU's own fixed part)."""
    script = _script()
    images = torch.rand(5, 1, 14, 14, generator=torch.Generator().manual_seed(0))
    clf = lmu.LMUClassifier(212, script.ORDER, 196.0, permutation=lmu.fixed_permutation(196, 0))
    torch.testing.assert_close(script.features("Legendre", images, 0), clf.features(images))


def test_random_map_has_the_legendre_gain_and_depends_on_the_seed():
    script = _script()
    k, r0, r1 = script.legendre_map(196), script.random_map(196, 0), script.random_map(196, 1)
    assert r0.shape == k.shape == (196, script.ORDER)
    assert r0.norm().item() == pytest.approx(k.norm().item(), rel=1e-5)
    assert not torch.equal(r0, r1)
    torch.testing.assert_close(r0, script.random_map(196, 0))


def test_unknown_arm_is_refused():
    with pytest.raises(ValueError, match="arm"):
        _script().features("lstm", torch.rand(2, 1, 14, 14), 0)


def test_committed_run_prefix_reproduces_the_recorded_losses():
    """Re-run the first optimizer steps of seed 0 of every arm against the committed file."""
    script = _script()
    record = records.load("projection_control")
    seed = str(record["provenance"]["seeds"][0])
    splits = script.baselines().load_data()
    epochs = record["protocol"]["epochs"]
    for arm, seeds in record["results"].items():
        run = script.run_arm(arm, int(seed), splits, epochs, max_steps=3)
        np.testing.assert_allclose(run["first_losses"], seeds[seed]["first_losses"], rtol=1e-4)
        assert run["parameters"] == seeds[seed]["parameters"]
    # the Legendre arm is the LMU of lmu_baselines: the same first loss (same weights, same batch)
    lmu_run = records.load("lmu_baselines")["results"]["LMU"][seed]
    np.testing.assert_allclose(
        record["results"]["Legendre"][seed]["first_losses"][0],
        lmu_run["first_losses"][0],
        rtol=1e-5,
    )
