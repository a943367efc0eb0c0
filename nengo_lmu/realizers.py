"""Realizers: the state coordinates in which neurons represent a linear system.

A `.LinearSystem` has infinitely many state-space forms with the same
input-output behaviour, :math:`x' = T x` giving
:math:`(T A T^{-1}, T B, C T^{-1}, D)`. Neurons represent each state over
a finite radius, so the form matters: a realizer picks it. Each returns a
`Realization` holding the new system and the transform, so outputs stay in
the original coordinates (:math:`y = C' x' + D u`) and states can be mapped
back (:math:`x \\approx T^{-1} x'`).

* `Identity`: the system as given.
* `RMS`: each state divided by a multiple of its RMS for the expected input
  (white noise of a given band and RMS), so every ensemble uses its radius.
* `Balanced`: the balanced realisation, whose controllability and
  observability Gramians are equal and diagonal (the Hankel singular values);
  with ``order`` it truncates to the ``order`` best-balanced states
  (balanced truncation [1]_, error bounded by twice the sum of the discarded
  Hankel singular values).

A realizer can be applied on top of another: ``RMS(basis=Balanced(order=6))``
normalises a reduced balanced realisation.

References
----------
.. [1] Moore, B. C. (1981). Principal component analysis in linear systems:
   Controllability, observability, and model reduction. IEEE Transactions on
   Automatic Control 26(1).
"""

import numpy as np
import scipy.linalg
from nengo.exceptions import ValidationError

from nengo_lmu.mapping import normalize, state_rms
from nengo_lmu.params import FiniteNumberParam, IntegerParam, check_param
from nengo_lmu.system import LinearSystem

#: Default ``rms_per_radius`` of `RMS`: how many state RMS fit into an
#: ensemble's radius. Fewer saturate the ensembles on input peaks, more cost
#: resolution; 3.5 did best of the values tried on the delay network
#: (benchmarks/delay_network.py; no results file holds that comparison).
RMS_PER_RADIUS = 3.5


class Realization:
    """A system in new state coordinates :math:`x' = T x`.

    Attributes
    ----------
    sys : LinearSystem
        :math:`(T A T^{-1}, T B, C T^{-1}, D)`, of order ``r`` (``r < n``
        after a truncation).
    T : ndarray
        ``(r, n)``: new state from the original one.
    Tinv : ndarray
        ``(n, r)``: original state from the new one (exactly, unless truncated).
    hankel : ndarray or None
        `Balanced` only: the ``n`` Hankel singular values of the original
        system, in decreasing order.
    """

    def __init__(self, sys, T, Tinv, hankel=None, bounded=True):
        self.sys, self.T, self.Tinv, self.hankel = sys, T, Tinv, hankel
        self.bounded = bounded

    @property
    def error_bound(self):
        """Bound on :math:`\\|G - G_r\\|_\\infty` of a balanced truncation.

        Twice the sum of the discarded Hankel singular values (0 when none is
        discarded); None for a realizer that computes none, or a balancing
        against a given covariance (`Balanced`), for which no bound holds.
        """
        if self.hankel is None or not self.bounded:
            return None
        return 2.0 * float(np.sum(self.hankel[self.sys.state_d :]))

    def then(self, other):
        """This realisation followed by ``other`` (a `Realization` of ``self.sys``)."""
        return Realization(
            other.sys, other.T @ self.T, self.Tinv @ other.Tinv, self.hankel, self.bounded
        )


def transformed(sys, T, Tinv):
    """``sys`` in the coordinates :math:`x' = T x` (``Tinv`` maps back)."""
    A, B, C, D = sys.ss
    return LinearSystem(
        (T @ A @ Tinv, T @ B, C @ Tinv, D), analog=sys.analog, method=sys.method, dt=sys.dt
    )


def as_system(sys):
    """``sys`` as a `.LinearSystem` (a tuple or `nengo.LinearFilter` is
    converted; anything else is refused by name, ``sys``)."""
    return sys if isinstance(sys, LinearSystem) else LinearSystem(sys)


class Realizer:
    """Base class: ``realizer(sys, input_high, input_rms)`` returns a `Realization`.

    ``input_high`` (Hz) and ``input_rms`` describe the input the system is
    expected to see (white noise of that band and RMS); realizers that do
    not depend on it ignore them.
    """

    def __call__(self, sys, input_high=None, input_rms=1.0):
        """The `Realization` of ``sys`` (a `.LinearSystem`, or what makes one)."""
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Identity(Realizer):
    """The system in its own coordinates (:math:`T = I`)."""

    def __call__(self, sys, input_high=None, input_rms=1.0):
        sys = as_system(sys)
        eye = np.eye(sys.state_d)
        return Realization(sys, eye, eye)


class RMS(Realizer):
    """Each state divided by ``rms_per_radius`` times its RMS.

    The RMS is that of the state for white noise up to ``input_high`` Hz of
    RMS ``input_rms`` on every input (`.state_rms`), so a unit radius holds
    ``rms_per_radius`` standard deviations of each state. With ``basis``,
    the normalisation applies to that realizer's coordinates.

    Parameters
    ----------
    rms_per_radius : float, optional
        Default `RMS_PER_RADIUS`.
    basis : Realizer, optional
        Coordinates to normalise (default: the system's own).
    """

    def __init__(self, rms_per_radius=RMS_PER_RADIUS, basis=None):
        self.rms_per_radius = check_param(
            FiniteNumberParam("rms_per_radius", low=0, low_open=True), rms_per_radius
        )
        if basis is not None and not isinstance(basis, Realizer):
            raise ValidationError(f"must be a Realizer (got {basis!r})", attr="basis")
        self.basis = basis

    def __call__(self, sys, input_high=None, input_rms=1.0):
        if input_high is None:
            raise ValidationError(
                "the RMS realizer needs the input's band limit, in Hz", attr="input_high"
            )
        input_high = check_param(
            FiniteNumberParam("input_high", low=0, low_open=True), input_high
        )
        input_rms = check_param(
            FiniteNumberParam("input_rms", low=0, low_open=True), input_rms
        )
        base = (self.basis or Identity())(sys, input_high, input_rms)
        scales = self.rms_per_radius * state_rms(base.sys, input_high, rms=input_rms)
        if not np.all(scales > 0):
            raise ValidationError(
                f"states {np.flatnonzero(scales <= 0)} never move for this input: "
                "the system is not controllable; reduce it first "
                "(e.g. basis=Balanced(order=...))",
                attr="sys",
            )
        T, Tinv = np.diag(1.0 / scales), np.diag(scales)
        return base.then(Realization(normalize(base.sys, scales), T, Tinv))


def gramians(sys):
    """Controllability and observability Gramians ``(P, Q)`` of a stable system.

    Analog: :math:`A P + P A^T + B B^T = 0,\\ A^T Q + Q A + C^T C = 0`
    (`scipy.linalg.solve_continuous_lyapunov`); digital: :math:`A P A^T - P
    + B B^T = 0` and its dual (`scipy.linalg.solve_discrete_lyapunov`).
    """
    if not sys.is_stable():
        raise ValidationError(
            f"must be stable to have Gramians (poles {sys.poles})", attr="sys"
        )
    A, B, C, _ = sys.ss
    if sys.analog:
        P = scipy.linalg.solve_continuous_lyapunov(A, -B @ B.T)
        Q = scipy.linalg.solve_continuous_lyapunov(A.T, -C.T @ C)
    else:
        P = scipy.linalg.solve_discrete_lyapunov(A, B @ B.T)
        Q = scipy.linalg.solve_discrete_lyapunov(A.T, C.T @ C)
    return (P + P.T) / 2, (Q + Q.T) / 2


def _factor(M):
    """``L`` with ``L L^T = M`` for a symmetric positive semi-definite ``M``."""
    w, V = np.linalg.eigh(M)
    return V * np.sqrt(np.clip(w, 0, None))


def _square_root_svd(sys, covariance=None):
    """``(L_P, L_Q, U, sigma, V^T)``: the factors of P and Q and the SVD of
    :math:`L_Q^T L_P`; ``covariance``, if given, in place of P."""
    P, Q = gramians(sys)
    if covariance is not None:
        P = covariance
    LP, LQ = _factor(P), _factor(Q)
    U, hsv, Vt = np.linalg.svd(LQ.T @ LP)
    return LP, LQ, U, hsv, Vt


def hankel_singular_values(sys):
    """The Hankel singular values of a stable system, in decreasing order.

    :math:`\\sigma_i = \\sqrt{\\lambda_i(P Q)}`, computed as the singular
    values of :math:`L_Q^T L_P` (square-root factors of the `gramians`).
    """
    return _square_root_svd(sys)[3]


def check_covariance(covariance):
    """``covariance`` as a symmetric float array, or a ValidationError naming it."""
    try:
        cov = np.array(covariance, dtype=float)
    except (TypeError, ValueError):
        cov = np.full((0, 1), np.nan)
    ok = cov.ndim == 2 and cov.shape[0] == cov.shape[1] and cov.size > 0
    ok = ok and bool(np.all(np.isfinite(cov)))
    if ok:
        scale = np.abs(cov).max()
        sym = (cov + cov.T) / 2
        ok = np.allclose(cov, cov.T, rtol=1e-6, atol=1e-9 * scale) and (
            np.linalg.eigvalsh(sym)[0] >= -1e-8 * scale
        )
    if not ok:
        raise ValidationError(
            "must be a square, symmetric, positive semi-definite matrix of finite "
            f"numbers: the states' covariance (got {np.shape(covariance)})",
            attr="covariance",
        )
    return sym


class Balanced(Realizer):
    """The balanced realisation, optionally truncated to ``order`` states.

    In balanced coordinates both `gramians` equal :math:`\\Sigma =
    \\mathrm{diag}(\\sigma_1, \\ldots, \\sigma_n)`, the Hankel singular
    values: state ``i`` is as easy to reach from the input as to see in the
    output, and :math:`\\sigma_i` says how much it matters. Keeping the
    first ``order`` states (balanced truncation) gives a stable system
    :math:`G_r` with :math:`\\sigma_{r+1} \\le \\|G - G_r\\|_\\infty \\le 2
    \\sum_{i > r} \\sigma_i` (`Realization.error_bound`). Computed by the
    square-root method: with :math:`P = L_P L_P^T,\\ Q = L_Q L_Q^T` and
    :math:`L_Q^T L_P = U \\Sigma V^T`, :math:`T = \\Sigma^{-1/2} U^T L_Q^T`
    and :math:`T^{-1} = L_P V \\Sigma^{-1/2}`.

    The states' magnitudes are not normalised (the balanced state ``i``
    has variance :math:`\\sigma_i` for unit white noise); use
    ``RMS(basis=Balanced(...))`` for neurons.

    The controllability Gramian :math:`P` is the state covariance for unit
    white noise on every input, which weighs every frequency alike. With
    ``covariance``, the states' covariance under the input the system will
    really see (measured on data, :math:`E[x x^T]`, or
    `.state_covariance` for a band), takes its place: the states kept are
    then those that input moves and the output sees (frequency-weighted
    balanced truncation [2]_, one-sided). Its truncation need not be stable
    and its error bound no longer holds, so an unstable truncation is
    refused (keep fewer or more states) and `Realization.error_bound` is
    None.

    Parameters
    ----------
    order : int, optional
        States to keep; None (default) keeps all (a minimal system needed).
    covariance : (n, n) array_like, optional
        Covariance of the system's states under its expected input
        (symmetric, positive semi-definite, in the system's coordinates).

    References
    ----------
    .. [2] Enns, D. F. (1984). Model reduction with balanced realizations: an
       error bound and a frequency weighted generalization. 23rd IEEE
       Conference on Decision and Control.
    """

    def __init__(self, order=None, covariance=None):
        self.order = check_param(IntegerParam("order", low=1, optional=True), order)
        self.covariance = None if covariance is None else check_covariance(covariance)

    def __repr__(self):
        cov = "None" if self.covariance is None else f"<{self.covariance.shape} array>"
        return f"Balanced(order={self.order!r}, covariance={cov})"

    def __call__(self, sys, input_high=None, input_rms=1.0):
        sys = as_system(sys)
        n = sys.state_d
        order = n if self.order is None else self.order
        if order > n:
            raise ValidationError(
                f"cannot exceed the system's order {n} (got {order})", attr="order"
            )
        cov = self.covariance
        if cov is not None and cov.shape != (n, n):
            raise ValidationError(
                f"must be {n} x {n}, one row and column per state of the system "
                f"(got {cov.shape})",
                attr="covariance",
            )
        LP, LQ, U, hsv, Vt = _square_root_svd(sys, cov)
        if hsv[order - 1] <= 1e-12 * hsv[0]:
            minimal = int(np.sum(hsv > 1e-12 * hsv[0]))
            raise ValidationError(
                f"the system has only {minimal} states that both the input reaches "
                f"and the output sees (Hankel singular values {hsv}): balance it to "
                f"order={minimal} or fewer",
                attr="order",
            )
        root = 1.0 / np.sqrt(hsv[:order])
        T = root[:, None] * (U[:, :order].T @ LQ.T)
        Tinv = (LP @ Vt[:order].T) * root[None, :]
        reduced = transformed(sys, T, Tinv)
        if cov is None:
            return Realization(reduced, T, Tinv, hankel=hsv)
        if order < n and not reduced.is_stable():
            raise ValidationError(
                f"the {order} states balanced against this covariance make an "
                f"unstable system (poles {reduced.poles}): keep fewer or more states",
                attr="order",
            )
        return Realization(reduced, T, Tinv, hankel=hsv, bounded=False)
