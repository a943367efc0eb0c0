"""The offline datasets."""

import numpy as np
import pytest
from nengo.exceptions import ValidationError
from sklearn.datasets import load_digits

from nengo_lmu.datasets import mackey_glass, ps_digits, white_noise


def test_ps_digits_is_a_fixed_permutation_of_the_digits():
    x_train, y_train, x_test, y_test = ps_digits(permutation_seed=3)
    assert x_train.shape == (1347, 64, 1) and x_test.shape == (450, 64, 1)
    assert 0 <= x_train.min() and x_train.max() <= 1
    # every sequence is one of the original images, pixels in the same order
    digits = load_digits()
    images = digits.data / 16.0
    order = np.random.RandomState(3).permutation(64)
    rows = {tuple(img[order]): label for img, label in zip(images, digits.target)}
    for seq, label in zip(x_test[:50, :, 0], y_test[:50]):
        assert rows[tuple(seq)] == label
    # stratified: every class appears in the test set in about its share
    assert np.all(np.bincount(y_test, minlength=10) >= 40)
    with pytest.raises(ValidationError):
        ps_digits(test_fraction=1.0)


def test_white_noise_band_and_rms():
    dt, high = 0.001, 5.0
    x = white_noise(4000, dt, high=high, rms=0.3, seed=1)
    assert x.shape == (4000, 1)
    assert np.sqrt(np.mean(x**2)) == pytest.approx(0.3, rel=0.05)
    power = np.abs(np.fft.rfft(x[:, 0])) ** 2
    freqs = np.fft.rfftfreq(4000, dt)
    assert power[freqs > high].sum() < 1e-12 * power.sum()


def euler_mackey_glass(n_steps, tau=17, h=0.01, x0=1.2):
    """Independent reference: forward Euler with a small step."""
    lag = int(round(tau / h))
    per_sample = int(round(1 / h))
    x = np.full(lag + 1 + n_steps * per_sample, x0)
    for i in range(lag, len(x) - 1):
        x_lag = x[i - lag]
        x[i + 1] = x[i] + h * (0.2 * x_lag / (1 + x_lag**10) - 0.1 * x[i])
    return x[lag + per_sample :: per_sample][:n_steps]


def test_mackey_glass_matches_independent_integration():
    x = mackey_glass(300, washout=0)
    ref = euler_mackey_glass(300)
    # RK4 at h = 0.1 vs Euler at h = 0.01 (error O(h) ~ 1e-3): chaotic growth
    # over 300 time units stays small at tau = 17
    assert np.allclose(x, ref, atol=0.01)  # measured 0.005
    x = mackey_glass(2000)
    assert 0.2 < x.min() and x.max() < 1.5 and x.std() > 0.15  # the known attractor
    assert not np.allclose(mackey_glass(100, seed=1), mackey_glass(100, seed=2))
