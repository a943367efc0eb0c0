"""Realizers against Gramian identities, Hankel matrices and simulation."""

import warnings

import nengo
import numpy as np
import pytest
import scipy.linalg
from nengo.exceptions import ValidationError

from nengo_lmu import LegendreDelay, LinearSystem
from nengo_lmu.realizers import (
    RMS,
    Balanced,
    Identity,
    gramians,
    hankel_singular_values,
    transformed,
)


def mimo():
    return LinearSystem(
        ([[-20.0, 8.0, 0.0], [-8.0, -20.0, 1.0], [0.0, 0.0, -5.0]],
         [[20.0, 0.0], [0.0, 15.0], [1.0, 2.0]],
         [[1.0, 0.0, 1.0], [0.5, 1.0, 0.0]],
         [[0.0, 0.2], [0.0, 0.0]])
    )


def hankel_matrix_svd(sys, dt, n):
    """Singular values of the Hankel matrix of the ZOH system's Markov
    parameters h_k = C Abar^k Bbar, from `LinearSystem.impulse` (digital
    impulse response, an independent route: no Gramian, no Lyapunov solver)."""
    h = sys.discretize(dt).impulse(2 * n, dt=dt).reshape(2 * n, sys.output_d, sys.input_d)
    H = np.block([[h[i + j] for j in range(n)] for i in range(n)])
    return np.linalg.svd(H, compute_uv=False)


@pytest.mark.parametrize("analog", [True, False])
@pytest.mark.parametrize("make", [lambda: LegendreDelay(0.1, 6), mimo])
def test_balanced_gramians_are_equal_and_diagonal(make, analog):
    sys = make() if analog else make().discretize(0.005)
    real = Balanced()(sys)
    P, Q = gramians(real.sys)
    hsv = real.hankel  # checked against Hankel matrices below
    scale = hsv[0]
    np.testing.assert_allclose(P, np.diag(hsv), atol=1e-8 * scale)
    np.testing.assert_allclose(Q, np.diag(hsv), atol=1e-8 * scale)
    # the Gramians solve their Lyapunov equations in the new coordinates too
    A, B, C, _ = real.sys.ss
    if analog:
        residual = A @ P + P @ A.T + B @ B.T
    else:
        residual = A @ P @ A.T - P + B @ B.T
    assert np.abs(residual).max() < 1e-8 * np.abs(B @ B.T).max()
    # x' = T x, and the original system comes back through Tinv
    np.testing.assert_allclose(real.T @ real.Tinv, np.eye(sys.state_d), atol=1e-9)
    np.testing.assert_allclose(real.Tinv @ real.sys.A @ real.T, sys.A, atol=1e-8 * np.abs(sys.A).max())


def cayley_hankel_svd(sys, alpha, n):
    """Hankel singular values of an analog system through an exact route:
    the Cayley transform A_d = (I - aA)^-1 (I + aA), B_d = sqrt(2a) (I - aA)^-1 B,
    C_d = sqrt(2a) C (I - aA)^-1 keeps both Gramians unchanged, and a digital
    system's Hankel singular values are those of its Hankel matrix."""
    M = np.linalg.inv(np.eye(sys.state_d) - alpha * sys.A)
    Ad = M @ (np.eye(sys.state_d) + alpha * sys.A)
    Bd, Cd = np.sqrt(2 * alpha) * M @ sys.B, np.sqrt(2 * alpha) * sys.C @ M
    h, X = [], Bd
    for _ in range(2 * n):
        h.append(Cd @ X)
        X = Ad @ X
    H = np.block([[h[i + j] for j in range(n)] for i in range(n)])
    return np.linalg.svd(H, compute_uv=False)


def test_hankel_singular_values_against_the_hankel_matrix():
    # digital: the Hankel operator's singular values (a horizon long enough
    # that Abar^n is negligible); analog: through the Cayley transform
    sys = LegendreDelay(0.1, 5)
    digital = sys.discretize(0.002)
    ref = hankel_matrix_svd(sys, 0.002, 600)[: sys.state_d]
    np.testing.assert_allclose(hankel_singular_values(digital), ref, rtol=1e-6)
    ref = cayley_hankel_svd(sys, 0.005, 300)[: sys.state_d]
    np.testing.assert_allclose(hankel_singular_values(sys), ref, rtol=1e-6)
    # and scipy's Lyapunov solution is what gramians returns
    P, _ = gramians(sys)
    np.testing.assert_allclose(
        P, scipy.linalg.solve_continuous_lyapunov(sys.A, -sys.B @ sys.B.T), atol=1e-12
    )


def hinf_error(sys, reduced):
    """max over a dense grid of frequencies of the largest singular value of G - G_r."""
    w = np.concatenate([[0.0], np.logspace(-1, 4, 4000)])
    err = 0.0
    for wi in w:
        G = [s.C @ np.linalg.solve(1j * wi * np.eye(s.state_d) - s.A, s.B) + s.D
             for s in (sys, reduced)]
        err = max(err, np.linalg.norm(G[0] - G[1], 2))
    return err


@pytest.mark.parametrize("order", [2, 4, 6, 8])
def test_balanced_truncation_error_bounds(order):
    sys = LegendreDelay(1.0, 12)
    real = Balanced(order=order)(sys)
    assert real.sys.state_d == order and real.sys.is_stable()
    assert real.hankel.shape == (12,) and np.all(np.diff(real.hankel) <= 0)
    err = hinf_error(sys, real.sys)
    # sigma_{r+1} <= ||G - G_r||_inf <= 2 sum_{i > r} sigma_i (Moore; Glover);
    # the grid may miss the peak by a little: 2% slack on the lower bound
    assert 0.98 * real.hankel[order] <= err <= real.error_bound
    assert np.isclose(real.error_bound, 2 * real.hankel[order:].sum())


def test_rms_realizer_normalises_the_states():
    # simulated white noise through the realised system: each state's RMS is
    # 1 / rms_per_radius (the band's quadrature against a finite sample)
    sys, high, rms = LegendreDelay(0.5, 5), 2.0, 0.4
    real = RMS(rms_per_radius=3.0)(sys, input_high=high, input_rms=rms)
    u = nengo.processes.WhiteSignal(200.0, high=high, rms=rms, seed=0).run(200.0)
    A, B, _, _ = real.sys.ss
    states = LinearSystem((A, B, np.eye(5), np.zeros((5, 1)))).filt(u, dt=0.001)
    np.testing.assert_allclose(np.sqrt(np.mean(states[20000:] ** 2, axis=0)), 1 / 3.0, rtol=0.1)
    # the same input-output system
    y0 = sys.filt(u[:3000], dt=0.001)
    np.testing.assert_allclose(real.sys.filt(u[:3000], dt=0.001), y0, atol=1e-10)


@pytest.mark.parametrize("realizer", [Identity(), RMS(), Balanced(), RMS(basis=Balanced())])
def test_realizers_keep_input_output_behaviour(realizer):
    sys = mimo()
    real = realizer(sys, input_high=5.0, input_rms=0.5)
    u = np.random.RandomState(0).randn(500, 2)
    np.testing.assert_allclose(
        real.sys.filt(u, dt=0.001), sys.filt(u, dt=0.001), atol=1e-9
    )
    if isinstance(realizer, RMS):  # built by normalize, not by transformed
        np.testing.assert_allclose(
            transformed(sys, real.T, real.Tinv).A, real.sys.A, atol=1e-9 * np.abs(sys.A).max()
        )


def test_rms_of_a_reduced_basis():
    """Balanced truncation to 5 of 10 states, normalised by RMS, against
    references computed otherwise: Gramians from the Kronecker form of the
    Lyapunov equations, the state RMS by adaptive quadrature, and the
    truncation error on a frequency grid."""
    import scipy.integrate  # pylint: disable=import-outside-toplevel

    sys = LegendreDelay(0.1, 10)
    high, rms, per_radius = 5.0, 0.5, 3.5
    real = RMS(per_radius, basis=Balanced(order=5))(sys, input_high=high, input_rms=rms)
    assert real.sys.state_d == 5 and real.T.shape == (5, 10) and real.Tinv.shape == (10, 5)

    # Hankel singular values: sqrt(eig(P Q)), with A P + P A^T = -B B^T
    # solved as (I kron A + A kron I) vec(P) = -vec(B B^T)
    A, B, C, D = sys.ss
    n = sys.state_d
    lyap = np.kron(np.eye(n), A) + np.kron(A, np.eye(n))
    P = np.linalg.solve(lyap, -(B @ B.T).ravel()).reshape(n, n)
    Q = np.linalg.solve(lyap.T, -(C.T @ C).ravel()).reshape(n, n)
    hsv = np.sort(np.sqrt(np.abs(np.linalg.eigvals(P @ Q))))[::-1]
    # relative to the largest: the smallest are near the solvers' rounding
    np.testing.assert_allclose(real.hankel, hsv, rtol=1e-6, atol=1e-9 * hsv[0])
    assert np.isclose(real.error_bound, 2 * hsv[5:].sum(), rtol=1e-6)

    # the realisation is the truncated system in the new coordinates
    np.testing.assert_allclose(real.T @ real.Tinv, np.eye(5), atol=1e-9)
    np.testing.assert_allclose(real.sys.A, real.T @ A @ real.Tinv, atol=1e-9 * np.abs(A).max())
    np.testing.assert_allclose(real.sys.B, real.T @ B, atol=1e-9 * np.abs(B).max())
    np.testing.assert_allclose(real.sys.C, C @ real.Tinv, atol=1e-9)

    # its transfer function is within the balanced-truncation bound,
    # sigma_6 <= ||G - G_r||_inf <= 2 (sigma_6 + ... + sigma_10); a grid to
    # 200 Hz (a delay of 0.1 s at order 10 ends near 50 Hz) finds the peak
    # to within a few per cent
    def response(system, f):
        a, b, c, d = system.ss
        return np.array(
            [(c @ np.linalg.solve(2j * np.pi * fi * np.eye(len(a)) - a, b) + d)[0, 0]
             for fi in f]
        )

    f = np.linspace(0, 200, 8001)
    gap = np.abs(response(sys, f) - response(real.sys, f)).max()
    assert 0.95 * hsv[5] <= gap <= real.error_bound

    # each new state has RMS 1 / per_radius for white noise of RMS ``rms`` up
    # to ``high``: var = rms**2 / high * integral over [0, high] of |H_i|^2
    a, b = real.sys.A, real.sys.B
    for i in range(5):
        var = scipy.integrate.quad(
            lambda fi: abs(np.linalg.solve(2j * np.pi * fi * np.eye(5) - a, b)[i, 0]) ** 2,
            0, high, epsabs=0, epsrel=1e-10, limit=200,
        )[0] * rms**2 / high
        assert np.isclose(np.sqrt(var), 1 / per_radius, rtol=1e-4), (i, np.sqrt(var))


def test_digital_state_rms_matches_analog():
    # a digital system's band is read on the unit circle: the ZOH system of a
    # slow analog one has (nearly) its state RMS
    sys = LegendreDelay(0.5, 4)
    a = RMS()(sys, input_high=2.0, input_rms=0.5)
    d = RMS()(sys.discretize(0.001), input_high=2.0, input_rms=0.5)
    np.testing.assert_allclose(np.diag(d.Tinv), np.diag(a.Tinv), rtol=2e-3)


def unobservable():
    return LinearSystem(([[-1.0, 0.0], [0.0, -2.0]], [[1.0], [1.0]], [[1.0, 0.0]], [[0.0]]))


@pytest.mark.parametrize(
    "call, attr",
    [
        (lambda: Balanced(order=0), "order"),
        (lambda: Balanced(order=7)(LegendreDelay(0.1, 6)), "order"),
        (lambda: Balanced()(unobservable()), "order"),  # balance to order 1
        (lambda: RMS(rms_per_radius=0), "rms_per_radius"),
        (lambda: RMS(basis="balanced"), "basis"),
        (lambda: RMS()(LegendreDelay(0.1, 2)), "input_high"),
        (lambda: RMS()(LinearSystem(([[-1.0, 0], [0, -2.0]], [[1.0], [0.0]], [[1.0, 1.0]],
                                     [[0.0]])), 1.0), "sys"),  # an unreachable state
    ],
)
def test_bad_realizer_arguments(call, attr):
    with pytest.raises(ValidationError) as e:
        call()
    assert e.value.attr == attr


def test_gramians_refuse_unstable_systems():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sys = LinearSystem(([[1.0]], [[1.0]], [[1.0]], [[0.0]]))
    with pytest.raises(ValidationError) as e:
        gramians(sys)
    assert e.value.attr == "sys"
    assert Balanced(order=1)(unobservable()).sys.state_d == 1
