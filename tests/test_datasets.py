"""The offline datasets."""

import os
import sys
import time

import numpy as np
import pytest
from nengo.exceptions import ValidationError
from sklearn.datasets import load_digits

from nengo_lmu import LinearSystem, legendre_memory
from nengo_lmu.datasets import (
    _pad_leading,
    _trim_nans,
    mackey_glass,
    ps_digits,
    ucr,
    ucr_names,
    white_noise,
)


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


def test_mackey_glass_delay_between_integration_steps():
    # tau = 17.05 lies halfway between RK4 steps of 0.1 (the delayed term is
    # interpolated; it used to be rounded to 17.0 without a word) but on the
    # Euler reference's grid of 0.01: the same tolerance as above
    x = mackey_glass(300, tau=17.05, washout=0)
    assert np.allclose(x, euler_mackey_glass(300, tau=17.05), atol=0.01)
    # a control that can fail: the rounded delay gives a visibly other series
    assert not np.allclose(mackey_glass(300, tau=17.0, washout=0), x, atol=0.02)


def sktime_split(name, split, return_type=None):
    """The reference: sktime's own loader on its shipped data folder."""
    import sktime.datasets as sktime_datasets  # pylint: disable=import-outside-toplevel

    folder = os.path.join(os.path.dirname(sktime_datasets.__file__), "data")
    return sktime_datasets.load_UCR_UEA_dataset(
        name,
        split=split,
        return_X_y=True,
        return_type=return_type,
        extract_path=folder,
    )


def check_labels(y, classes, reference):
    """Integer labels 0..n_classes-1 that name sktime's labels."""
    assert y.dtype.kind == "i"
    assert 0 <= y.min() and y.max() < len(classes)
    assert np.array_equal(classes[y], reference)


@pytest.mark.parametrize(
    "name, shape, n_classes",
    [("ArrowHead", (36, 175, 251, 1), 3), ("BasicMotions", (40, 40, 100, 6), 4)],
)
def test_ucr_equal_length_matches_sktime(name, shape, n_classes):
    x_train, y_train, x_test, y_test, info = ucr(name, return_info=True)
    assert (len(x_train), len(x_test)) + x_train.shape[1:] == shape
    assert x_train.dtype == x_test.dtype == np.float64
    assert len(info.classes) == n_classes and list(info.classes) == sorted(
        info.classes
    )
    for x, y, lengths, split in [
        (x_train, y_train, info.train_lengths, "train"),
        (x_test, y_test, info.test_lengths, "test"),
    ]:
        ref_x, ref_y = sktime_split(name, split, return_type="numpy3D")
        # sktime: (n, dims, steps); here (n, steps, dims), values untouched
        assert np.array_equal(x, ref_x.transpose(0, 2, 1))
        check_labels(y, info.classes, ref_y)
        assert np.all(lengths == shape[2])
    # the archive's split: train then test is sktime's default, both files
    ref_x, ref_y = sktime_split(name, None, return_type="numpy3D")
    assert np.array_equal(np.concatenate([x_train, x_test]), ref_x.transpose(0, 2, 1))
    assert np.array_equal(info.classes[np.concatenate([y_train, y_test])], ref_y)


def test_ucr_varying_length_padded_in_front():
    x_train, y_train, x_test, y_test, info = ucr("JapaneseVowels", return_info=True)
    assert x_train.shape == (270, 29, 12) and x_test.shape == (370, 29, 12)
    assert list(info.classes) == [str(k) for k in range(1, 10)]
    lengths = np.concatenate([info.train_lengths, info.test_lengths])
    assert lengths.min() == 7 and lengths.max() == 29  # really varying
    for x, y, lengths, split in [
        (x_train, y_train, info.train_lengths, "train"),
        (x_test, y_test, info.test_lengths, "test"),
    ]:
        ref_x, ref_y = sktime_split("JapaneseVowels", split)  # nested: any length
        check_labels(y, info.classes, ref_y)
        for i, row in enumerate(ref_x.to_numpy()):
            ref = np.stack([s.to_numpy() for s in row], axis=1)  # (length, 12)
            assert lengths[i] == len(ref)
            assert np.array_equal(x[i, 29 - len(ref) :], ref)
            assert not x[i, : 29 - len(ref)].any()


def test_ucr_numeric_labels_sort_as_numbers():
    # PLAID's labels are "0".."10": "10" is the last class, not the third
    _, y_train, _, _, info = ucr("PLAID", return_info=True)
    assert list(info.classes) == [str(k) for k in range(11)]
    ref_x, ref_y = sktime_split("PLAID", "train")
    assert np.array_equal(y_train, ref_y.astype(int))


@pytest.mark.parametrize(
    "name, match",
    [
        ("Adiac", "in the UCR/UEA archive but not shipped.*download"),
        ("NoSuchProblem", "not a UCR/UEA problem shipped.*download"),
        ("arrowhead", "not a UCR/UEA problem shipped"),
        ("Tecator", "not one of its UCR/UEA classification problems"),
    ],
)
def test_ucr_refuses_what_is_not_shipped(name, match):
    start = time.perf_counter()
    with pytest.raises(ValidationError, match=match) as info:
        ucr(name)
    # sktime would have tried the network (and raised something else, or
    # hung); the check comes first and reads only the package's folder
    assert time.perf_counter() - start < 10
    assert info.value.attr == "name"
    assert "ArrowHead" in str(info.value) and "JapaneseVowels" in str(info.value)


def test_ucr_names_and_arguments():
    names = ucr_names()
    assert {"ACSF1", "ArrowHead", "BasicMotions", "JapaneseVowels", "OSULeaf"} <= set(
        names
    )
    assert "Tecator" not in names and "Adiac" not in names
    with pytest.raises(ValidationError, match="name"):
        ucr(3)
    with pytest.raises(ValidationError, match="return_info"):
        ucr("ArrowHead", return_info="yes")


def test_ucr_without_sktime_names_the_extra(monkeypatch):
    # a None entry makes `import sktime.datasets` raise ImportError
    monkeypatch.setitem(sys.modules, "sktime", None)
    monkeypatch.setitem(sys.modules, "sktime.datasets", None)
    with pytest.raises(ImportError, match=r"nengo-lmu\[datasets\]"):
        ucr("ArrowHead")


def test_nan_padding_is_read_like_a_shorter_series():
    short = [np.array([1.0, 2.0]), np.array([3.0, 4.0])]
    nan_padded = [np.array([1.0, 2.0, np.nan]), np.array([3.0, 4.0, np.nan])]
    full = [np.array([5.0, 6.0, 7.0]), np.array([8.0, 9.0, 1.0])]
    x = _pad_leading(_trim_nans([nan_padded, full]), 4)
    assert np.array_equal(x, _pad_leading(_trim_nans([short, full]), 4))
    assert np.array_equal(x[0], [[0, 0], [0, 0], [1, 3], [2, 4]])
    with pytest.raises(ValueError, match="before its end"):
        _trim_nans([[np.array([1.0, np.nan, 2.0])]])


def test_leading_zeros_leave_a_memory_at_rest_unchanged():
    x_train, _, _, _, info = ucr("JapaneseVowels", return_info=True)
    steps = x_train.shape[1]
    order = 6
    A, B = legendre_memory(order, theta=10.0)  # in steps: dt = 1
    memory = LinearSystem((A, B, np.eye(order), np.zeros((order, 1))))
    i = int(np.argmin(info.train_lengths))  # the most padding
    length = info.train_lengths[i]
    padded, unpadded = x_train[i], x_train[i, steps - length :]
    assert steps - length >= 20

    def final_state(u):
        return memory.filt(u, dt=1.0)[-1]  # (12 * order,): every dimension

    # exact up to rounding (measured: bit-identical): the zeros leave the
    # state exactly at zero
    assert np.allclose(final_state(padded), final_state(unpadded), atol=1e-12)
    assert np.abs(final_state(unpadded)).max() > 0.1  # a state worth comparing
    # controls, so that the claim can fail: zeros at the end move the memory,
    # and so does an offset (a bias) that makes the padding nonzero input
    trailing = np.concatenate([unpadded, np.zeros((steps - length, 12))])
    assert not np.allclose(final_state(trailing), final_state(unpadded), atol=0.01)
    assert not np.allclose(
        final_state(padded + 0.5), final_state(unpadded + 0.5), atol=0.01
    )
