"""The Legendre memory's matrices, readouts and delay against independent references."""

import math

import nengo
import numpy as np
import pytest
import scipy.interpolate
import scipy.signal
from nengo.exceptions import ValidationError
from numpy.polynomial import legendre as npleg

import nengo_lmu
from nengo_lmu import LegendreDelay, legendre_memory, legendre_readout, retained_energy


def paper_AB(q):
    """A, B written out entry by entry from Voelker et al. (2019), eq. 2."""
    A = np.zeros((q, q))
    B = np.zeros((q, 1))
    for i in range(q):
        B[i, 0] = (2 * i + 1) * (-1) ** i
        for j in range(q):
            A[i, j] = (2 * i + 1) * (-1 if i < j else (-1) ** (i - j + 1))
    return A, B


@pytest.mark.parametrize("order", [1, 2, 5, 12])
@pytest.mark.parametrize("theta", [0.1, 1.0, 784.0])
def test_matrices_match_paper(order, theta):
    A, B = legendre_memory(order, theta)
    A_ref, B_ref = paper_AB(order)
    assert A.shape == (order, order) and B.shape == (order, 1)
    # the same integers divided by theta: only rounding of the division differs
    assert np.allclose(A, A_ref / theta, rtol=1e-15, atol=0)
    assert np.allclose(B, B_ref / theta, rtol=1e-15, atol=0)


def test_order1_is_lowpass():
    # q = 1: dm/dt = (-m + u) / theta, i.e. nengo.Lowpass(theta)
    theta, dt = 0.05, 0.001
    A, B = legendre_memory(1, theta)
    assert np.allclose(A, [[-1 / theta]]) and np.allclose(B, [[1 / theta]])

    u = np.random.RandomState(0).randn(500)
    y = nengo_lmu.LinearSystem((A, B, [[1.0]], [[0.0]])).filt(u, dt=dt)
    # same discretisation (ZOH) and the same step, so equal to rounding error
    assert np.allclose(y, nengo.Lowpass(theta).filt(u, dt=dt), atol=1e-12)


def test_readout_is_shifted_legendre():
    # P~_i(r) = P_i(2r - 1), evaluated here with numpy's Legendre series
    order, r = 7, np.linspace(0, 1, 11)
    expected = np.stack(
        [npleg.legval(2 * r - 1, np.eye(order)[i]) for i in range(order)], axis=1
    )
    assert np.allclose(legendre_readout(order, r), expected, atol=1e-12)
    assert legendre_readout(order, 0.3).shape == (order,)
    assert np.allclose(legendre_readout(order, 1.0), 1)  # P_i(1) = 1
    assert np.allclose(legendre_readout(order, 0.0), (-1.0) ** np.arange(order))


def test_readout_reconstructs_window():
    # Continuous simulation by scipy (not our code): a 0.5 Hz sine through the
    # memory, then u(t - r theta) read out over the whole window.
    order, theta = 12, 1.0
    A, B = legendre_memory(order, theta)
    t = np.linspace(0, 6, 60001)
    u = np.sin(2 * np.pi * 0.5 * t + 0.3)
    _, _, m = scipy.signal.lsim((A, B, np.eye(order), np.zeros((order, 1))), u, t)
    r = np.linspace(0, 1, 51)
    window = m[-1] @ legendre_readout(order, r).T
    # a 12-term Legendre series of half a sine period is accurate to ~1e-7;
    # lsim's own integration error is below that
    assert np.allclose(window, np.sin(2 * np.pi * 0.5 * (6 - r * theta) + 0.3), atol=1e-6)


def delay_error(order, theta, freq):
    A, B, C, _ = LegendreDelay(theta, order).ss
    s = 2j * np.pi * freq
    H = C @ np.linalg.solve(s * np.eye(order) - A, B)  # C (sI - A)^-1 B
    return abs(H.item() - np.exp(-s * theta))


def test_delay_frequency_response():
    # Reference errors of the Legendre (Pade-like) delay at theta * f = 1
    for order, ref in [(5, 0.0669), (6, 0.00704), (7, 0.000476)]:
        assert delay_error(order, 1.0, 1.0) == pytest.approx(ref, rel=0.01)
    # error falls monotonically with order and depends only on theta * f
    errors = [delay_error(q, 0.25, 4.0) for q in range(3, 12)]
    assert np.all(np.diff(errors) < 0)
    assert delay_error(6, 0.25, 4.0) == pytest.approx(delay_error(6, 1.0, 1.0))


def test_delay_equals_pade_transfer_function():
    # The Legendre delay realises the [q-1/q] Pade approximant of exp(-theta s)
    order, theta = 6, 0.7
    num, den = scipy.interpolate.pade(
        [(-theta) ** k / math.factorial(k) for k in range(2 * order)], order, order - 1
    )
    A, B, C, _ = LegendreDelay(theta, order).ss
    w = np.linspace(0.1, 30, 50)
    H = [(C @ np.linalg.solve(1j * wi * np.eye(order) - A, B)).item() for wi in w]
    H_pade = num(1j * w) / den(1j * w)
    assert np.allclose(H, H_pade, rtol=1e-8)


def test_delay_step_response():
    # A unit step comes out of the delay about theta later and settles at the
    # DC gain C (-A)^-1 B = 1; a 6th-order rational delay rings a little first.
    theta, dt = 0.1, 0.001
    y = LegendreDelay(theta, order=6).filt(np.ones(600), dt=dt)
    crossing = np.argmax(y > 0.5) * dt
    assert 0.9 * theta < crossing < 1.1 * theta
    assert np.allclose(y[int(3 * theta / dt) :], 1, atol=1e-4)


def legendre_projection(x, q):
    """The share of ``x``'s energy in its first ``q`` discrete Legendre
    directions: numpy's Legendre polynomials on the steps, orthonormalised."""
    steps = x.shape[1]
    basis, _ = np.linalg.qr(npleg.legvander(np.linspace(-1, 1, steps), q - 1))
    u = x.transpose(0, 2, 1).reshape(-1, steps)
    return np.sum((u @ basis) ** 2) / np.sum(u**2)


@pytest.mark.parametrize("order, steps", [(5, 50), (10, 100), (40, 200)])
def test_retained_energy_of_white_noise_is_order_over_steps(order, steps):
    # white noise has equal energy in every direction: a span of `order`
    # of the `steps` dimensions holds order / steps of it in expectation
    x = np.random.RandomState(order).normal(size=(4000 // order, steps, 2))
    assert np.isclose(retained_energy(x, order), order / steps, rtol=0.1)
    assert np.isclose(legendre_projection(x, order), order / steps, rtol=0.1)


@pytest.mark.parametrize("order", [20, 24, 28])
def test_retained_energy_approaches_the_legendre_projection_of_smooth_series(order):
    # the memory's states span nearly the polynomials of degree < order over
    # its window, so it keeps about what those polynomials hold of a smooth
    # series: the shares left out agree to a quarter
    b, a = scipy.signal.butter(4, 0.05)
    x = scipy.signal.lfilter(b, a, np.random.RandomState(1).normal(size=(50, 300, 1)), axis=1)
    kept = retained_energy(x, order)
    assert np.isclose(1 - kept, 1 - legendre_projection(x, order), rtol=0.25)
    assert 0.8 < kept < 0.99  # neither all of it nor little: the comparison can fail


def test_retained_energy_is_what_the_final_state_determines():
    # the memory simulated step by step (LinearSystem.filt): its final state
    # is the impulse response applied to the reversed sequence, and the
    # share is the energy of the minimum-norm sequence giving that state
    order, steps, dt = 6, 40, 0.5
    x = np.random.RandomState(2).normal(size=(3, steps, 1))
    A, B = legendre_memory(order, 12.0)
    memory = nengo_lmu.LinearSystem((A, B, np.eye(order), np.zeros((order, 1))))
    H = memory.discretize(dt).impulse(steps).reshape(steps, order)
    kept = 0.0
    for u in x[:, :, 0]:
        final = memory.filt(u, dt=dt)[-1]
        assert np.allclose(H.T @ u[::-1], final)
        reconstruction = np.linalg.lstsq(H.T, final, rcond=None)[0]  # u reversed
        kept += np.sum(reconstruction**2)
    assert np.isclose(retained_energy(x, order, theta=12.0, dt=dt), kept / np.sum(x**2))


def test_retained_energy_weighs_each_dimension_by_its_energy():
    # a slow sine (kept whole) beside white noise (kept order / steps) in one
    # series: the share is their energy-weighted mix, so time and dimensions
    # are not exchanged
    rng = np.random.RandomState(4)
    t = np.linspace(0, 1, 100)
    x = np.stack([np.broadcast_to(2 * np.sin(2 * np.pi * t), (20, 100)),
                  rng.normal(size=(20, 100))], axis=-1)
    parts = [retained_energy(x[:, :, [d]], 10) for d in range(2)]
    assert parts[0] > 0.99 and parts[1] < 0.2
    energy = np.sum(x**2, axis=(0, 1))
    assert np.isclose(retained_energy(x, 10), np.dot(parts, energy) / energy.sum())


def test_retained_energy_grows_with_order_to_all_of_it():
    x = np.random.RandomState(3).normal(size=(5, 30, 3))
    kept = [retained_energy(x, q) for q in (1, 5, 15, 30)]
    assert np.all(np.diff(kept) > 0) and 0 < kept[0]
    assert np.isclose(kept[-1], 1)  # as many states as steps: the whole sequence
    # a slow signal is kept by a low order
    t = np.linspace(0, 1, 200)[None, :, None]
    assert retained_energy(np.sin(2 * np.pi * t), 8) > 0.99


@pytest.mark.parametrize(
    "call, attr",
    [
        (lambda: legendre_memory(0, 1.0), "order"),
        (lambda: legendre_memory(2.5, 1.0), "order"),
        (lambda: legendre_memory(3, 0.0), "theta"),
        (lambda: legendre_memory(3, -1.0), "theta"),
        (lambda: legendre_memory(3, np.inf), "theta"),
        (lambda: legendre_readout(0, 0.5), "order"),
        (lambda: legendre_readout(3, 1.5), "r"),
        (lambda: legendre_readout(3, [-0.1, 0.5]), "r"),
        (lambda: legendre_readout(3, np.zeros((2, 2))), "r"),
        (lambda: LegendreDelay(0.0, 3), "theta"),
        (lambda: LegendreDelay(np.inf, 3), "theta"),
        (lambda: LegendreDelay(1.0, 0), "order"),
        (lambda: retained_energy(np.ones((5, 1)), 3), "sequences"),
        (lambda: retained_energy(np.ones((2, 0, 1)), 3), "sequences"),
        (lambda: retained_energy(np.full((1, 5, 1), np.nan), 3), "sequences"),
        (lambda: retained_energy(np.zeros((2, 5, 1)), 3), "sequences"),
        (lambda: retained_energy(np.ones((1, 5, 1)), 0), "order"),
        (lambda: retained_energy(np.ones((1, 5, 1)), 3, theta=0.0), "theta"),
        (lambda: retained_energy(np.ones((1, 5, 1)), 3, dt=0.0), "dt"),
        (lambda: retained_energy(np.ones((1, 5, 1)), 3, theta=np.inf), "theta"),
        (lambda: retained_energy(np.ones((1, 5, 1)), 3, dt=np.inf), "dt"),
        (lambda: retained_energy(np.ones((1, 5, 1)), 3, method="rk4"), "method"),
    ],
)
def test_bad_arguments(call, attr):
    with pytest.raises(ValidationError) as exc:
        call()
    assert exc.value.attr == attr
