"""Map linear systems onto recurrent neural populations (NEF principle 3).

A population whose recurrent and input connections both pass through the
synapse :math:`h` computes :math:`x = h * (A' x + B' u)` [1]_. `ss2sim` finds the
transforms :math:`(A', B')` that make this equal to a desired system
:math:`\\dot{x} = A x + B u` (or its discretisation) [2]_. `state_rms` and
`normalize` rescale the state so each population uses its radius.

References
----------
.. [1] Eliasmith, C. and Anderson, C. H. (2003). Neural Engineering.
   MIT Press (principle 3).
.. [2] Voelker, A. R. and Eliasmith, C. (2018). Improving spiking dynamical
   networks: Accurate delays, higher-order synapses, and time cells.
   Neural Computation 30(3).
"""

import warnings

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.params import FiniteNumberParam, IntegerParam, check_param
from nengo_lmu.system import LinearSystem, UnstableSystemWarning


def _as_system(sys):
    return sys if isinstance(sys, LinearSystem) else LinearSystem(sys)


def synapse_polynomial(synapse):
    """Coefficients ``c`` of :math:`1 / h(s) = \\sum_i c_i s^i` (ascending).

    Parameters
    ----------
    synapse : nengo.Lowpass or nengo.LinearFilter
        An analog synapse with a constant numerator and unit DC gain
        (``Lowpass(tau)``, ``Alpha(tau)``, a double exponential
        ``Lowpass(t1).combine(Lowpass(t2))``...).

    Returns
    -------
    ndarray
        ``c``, with ``c[0] == 1`` for a unit-DC-gain synapse.

    Examples
    --------
    >>> synapse_polynomial(nengo.Lowpass(0.1))
    array([1. , 0.1])
    """
    if not isinstance(synapse, nengo.LinearFilter):
        raise ValidationError(
            "must be a nengo.Lowpass or nengo.LinearFilter "
            f"(got {type(synapse).__name__})",
            attr="synapse",
        )
    if not synapse.analog:
        raise ValidationError("must be an analog synapse", attr="synapse")
    num = np.trim_zeros(np.atleast_1d(np.asarray(synapse.num, dtype=float)), "f")
    den = np.trim_zeros(np.atleast_1d(np.asarray(synapse.den, dtype=float)), "f")
    if len(num) != 1:
        raise ValidationError(
            f"must have a constant numerator (got num={synapse.num}); principle 3 "
            "needs 1/h(s) to be a polynomial",
            attr="synapse",
        )
    if len(den) < 2:
        raise ValidationError("must have at least one pole", attr="synapse")
    return den[::-1] / num[0]


def _matpoly(coeffs, M):
    """``sum_i coeffs[i] M^i``."""
    out = np.zeros_like(M)
    P = np.eye(len(M))
    for c in coeffs:
        out += c * P
        P = P @ M
    return out


def ss2sim(sys, synapse, dt=None):
    """Transforms that realise ``sys`` in a population with synapse ``synapse``.

    A population (or node) ``x`` with a recurrent connection ``x -> x`` of
    transform ``A'`` and an input connection ``u -> x`` of transform ``B'``,
    both through ``synapse``, realises ``sys`` when ``(A', B')`` are the
    matrices of the returned system. Its ``C, D`` are those of ``sys``.

    **Analog** (``dt=None``): with :math:`1/h(s) = \\sum_{i=0}^{k} c_i s^i`
    (`synapse_polynomial`),

    .. math::

        A' = \\sum_i c_i A^i, \\qquad B' = \\sum_{i \\ge 1} c_i A^{i-1} B,

    e.g. ``Lowpass(tau)``: :math:`A' = \\tau A + I,\\ B' = \\tau B`; the
    double exponential :math:`(\\tau_1, \\tau_2)`: :math:`A' = \\tau_1 \\tau_2
    A^2 + (\\tau_1 + \\tau_2) A + I,\\ B' = (\\tau_1 \\tau_2 A + (\\tau_1 +
    \\tau_2) I) B`. This is exact for a first-order synapse. For ``k >= 2``
    the exact input term also contains derivatives of the input,
    :math:`\\sum_{j \\ge 1} B'_j u^{(j)}`; they are **dropped** here (an
    error of relative size about :math:`c_2 \\omega \\|B\\|/\\|B'\\|` at
    frequency :math:`\\omega`, growing with the frequency and with
    :math:`c_2` (:math:`\\tau_1 \\tau_2` for the double exponential)). Get them
    from `ss2sim_input_derivatives` to add them back, e.g. as extra input
    connections with synapse :math:`s^j h(s)`.

    **Discrete** (``dt`` given): the mapping is exact at the time-step for
    ``nengo.Lowpass``, as simulated by Nengo. With :math:`a = e^{-dt/\\tau}`
    and ``sys`` discretised to :math:`(\\bar{A}, \\bar{B})` (zero-order hold),

    .. math:: A' = \\frac{\\bar{A} - a I}{1 - a}, \\qquad B' = \\frac{\\bar{B}}{1 - a}.

    Nengo applies a connection's synapse as an update, so a recurrent loop
    has one time-step of delay: the simulated state at step ``t`` is
    :math:`x_t = a x_{t-1} + (1 - a)(A' x_{t-1} + B' u_{t-1})
    = \\bar{A} x_{t-1} + \\bar{B} u_{t-1}`, i.e. the discrete system of
    `.LinearSystem` **one step late** (its state for input ``u`` delayed by
    ``dt``). For a synapse with several poles :math:`p_i` the loop is
    treated as a chain of discrete lowpass filters,
    :math:`\\prod_i (1 - a_i) / (z - a_i)` with :math:`a_i = e^{p_i dt}`
    (one step of delay per filter, as when chaining ``Lowpass`` connections
    through Nodes), and, from :math:`\\prod_i (z - a_i) / (1 - a_i) =
    \\sum_i c_i z^i`, :math:`A' = \\sum_i c_i \\bar{A}^i,\\ B' = \\sum_{i \\ge
    1} c_i \\sum_{j < i} \\bar{A}^{i-1-j} \\bar{B}`. The exact input term has
    :math:`u_{t+j}` where this uses :math:`u_t`: as in the analog case the
    (discrete) derivatives of the input are dropped.

    Parameters
    ----------
    sys : LinearSystem or tuple
        The system to realise: analog, or digital with ``dt`` its time-step
        (its matrices are then :math:`(\\bar{A}, \\bar{B})`).
    synapse : nengo.Lowpass or nengo.LinearFilter
        The synapse of the recurrent and input connections (analog, constant
        numerator, unit DC gain).
    dt : float, optional
        Simulation time-step for the discrete mapping; None for analog.

    Returns
    -------
    LinearSystem
        ``(A', B', C, D)``, marked analog (the matrices are transforms).

    Examples
    --------
    >>> from nengo_lmu import legendre_memory
    >>> A, B = legendre_memory(2, 1.0)
    >>> sim = ss2sim((A, B, np.eye(2), 0), nengo.Lowpass(0.1))
    >>> sim.A  # tau A + I
    array([[ 0.9, -0.1],
           [ 0.3,  0.7]])
    """
    sys = _as_system(sys)
    c = synapse_polynomial(synapse)
    if dt is None:
        if not sys.analog:
            raise ValidationError(
                "a digital system is mapped at its time-step: give dt", attr="dt"
            )
        A, B, C, D = sys.ss
    else:
        dt = check_param(FiniteNumberParam("dt", low=0, low_open=True), dt)
        A, B, C, D = _digital(sys, dt).ss
        c = _discrete_polynomial(c, dt)
    Ap = _matpoly(c, A)
    if dt is None:
        Bp = _matpoly(c[1:], A) @ B
    else:  # sum_i c_i sum_{j<i} Abar^(i-1-j) Bbar z^j, with z^j u ~ u
        Bp = sum(c[i] * _matpoly(np.ones(i), A) for i in range(1, len(c))) @ B
    with warnings.catch_warnings():  # A' is a transform: its poles mean nothing
        warnings.simplefilter("ignore", UnstableSystemWarning)
        return LinearSystem((Ap, Bp, C, D), analog=True)


def _digital(sys, dt):
    """``sys`` stepped by ``dt``: discretised if analog, else checked against its ``dt``."""
    if not sys.runs_at(dt):
        raise ValidationError(
            f"the system is digital with dt={sys.dt:g}; it cannot be mapped at "
            f"dt={dt:g}",
            attr="dt",
        )
    return sys.discretize(dt) if sys.analog else sys


#: Relative imaginary part below which a computed pole counts as real. A
#: pole of multiplicity m comes out of `numpy.roots` perturbed by about
#: eps^(1/m) (1e-8 for Alpha's double pole, 6e-6 for a triple one), split
#: into a complex pair; a genuinely oscillating synapse is far above this.
REAL_POLE_RTOL = 1e-4


def _discrete_polynomial(c, dt):
    """Ascending coefficients of prod_i (z - a_i) / (1 - a_i), a_i = exp(p_i dt).

    Repeated real poles (``Alpha``, equal-tau double exponentials) come out
    of the root finder as near-real complex pairs; the product over such a
    conjugate pair is real and accurate to the square of the perturbation,
    so the coefficients are formed from the poles as found.
    """
    poles = np.roots(c[::-1])
    if np.any(np.abs(poles.imag) > REAL_POLE_RTOL * np.abs(poles).max()):
        raise ValidationError(
            f"the discrete mapping needs a synapse with real poles (got {poles})",
            attr="synapse",
        )
    a = np.exp(poles * dt)
    den = np.real(np.poly(a) / np.prod(1 - a))
    return den[::-1]


def ss2sim_input_derivatives(sys, synapse):
    """All input terms of the analog mapping: ``[B'_0, B'_1, ...]``.

    The exact principle-3 input is :math:`\\sum_j B'_j u^{(j)}` with
    :math:`B'_j = \\sum_{i > j} c_i A^{i-1-j} B`; ``B'_0`` is the ``B`` of
    `ss2sim`. A first-order synapse has only ``B'_0``.

    Examples
    --------
    >>> from nengo_lmu import legendre_memory
    >>> A, B = legendre_memory(1, 1.0)
    >>> syn = nengo.Lowpass(0.1).combine(nengo.Lowpass(0.005))
    >>> [float(np.round(Bj.item(), 6)) for Bj in ss2sim_input_derivatives((A, B, 1, 0), syn)]
    [0.1045, 0.0005]
    """
    sys = _as_system(sys)
    if not sys.analog:
        raise ValidationError(
            "input derivatives are those of an analog system (a digital one is "
            "mapped with them dropped, see ss2sim)",
            attr="sys",
        )
    c = synapse_polynomial(synapse)
    A, B = sys.A, sys.B
    return [_matpoly(c[j + 1 :], A) @ B for j in range(len(c) - 1)]


def state_covariance(sys, high, rms=1.0, n_freqs=2000):
    """Steady-state covariance of the states for white-noise input up to ``high`` Hz.

    The input is each channel of `nengo.processes.WhiteSignal` with cut-off
    ``high`` and the given ``rms``: a flat power spectrum on
    :math:`[0, f_{high}]`. The state covariance is the mean of
    :math:`H(j\\omega) H(j\\omega)^*` over that band (its real part), with
    :math:`H(s) = (sI - A)^{-1} B`: the band-limited controllability Gramian,
    times ``rms**2``. A band wider than the system's poles approaches the
    Gramian for white noise (`nengo_lmu.realizers.gramians`), scaled.

    Parameters
    ----------
    sys : LinearSystem or tuple
        A stable system: analog, or digital and bound to its ``dt``
        (a pole beyond the stability boundary is refused; one on it, an
        integrator's, is not).
    high : float
        Band limit of the input, in Hz (at most Nyquist for a digital system).
    rms : float, optional
        RMS of each input channel (positive).
    n_freqs : int, optional
        Number of frequencies in the (midpoint) quadrature.

    Returns
    -------
    ndarray
        ``(state_d, state_d)``, symmetric positive semi-definite.

    Examples
    --------
    >>> np.round(state_covariance(nengo.Lowpass(1.0), high=0.01), 3)  # a slow input passes
    array([[0.999]])
    """
    sys = _as_system(sys)
    high = check_param(FiniteNumberParam("high", low=0, low_open=True), high)
    rms = check_param(FiniteNumberParam("rms", low=0, low_open=True), rms)
    n_freqs = check_param(IntegerParam("n_freqs", low=1), n_freqs)
    unstable = sys.unstable_poles()
    if len(unstable):
        raise ValidationError(
            f"must be stable to have a steady-state covariance (unstable poles {unstable})",
            attr="sys",
        )
    A, B = sys.A, sys.B
    if not sys.analog:
        if sys.dt is None:
            raise ValidationError(
                "a digital system needs its dt (LinearSystem(..., dt=)) to "
                "know its frequencies",
                attr="sys",
            )
        high = min(high, 0.5 / sys.dt)  # the band ends at Nyquist
    f = (np.arange(n_freqs) + 0.5) * high / n_freqs
    # s = j 2 pi f, or z = exp(s dt) for a digital system (x_t = A x_{t-1} + B u_t
    # has |H| = |(zI - A)^-1 B| on the unit circle)
    s = 2j * np.pi * f if sys.analog else np.exp(2j * np.pi * f * sys.dt)
    I = np.eye(sys.state_d)
    H = np.array([np.linalg.solve(si * I - A, B) for si in s])  # (freqs, state_d, input_d)
    cov = np.real(np.einsum("fik,fjk->ij", H, H.conj())) / n_freqs * rms**2
    return (cov + cov.T) / 2


def state_rms(sys, high, rms=1.0, n_freqs=2000):
    """Steady-state RMS of each state for white-noise input up to ``high`` Hz:
    the square root of the diagonal of `state_covariance` (same arguments).

    Returns
    -------
    ndarray
        RMS of each of the ``state_d`` states.

    Examples
    --------
    >>> np.round(state_rms(nengo.Lowpass(1.0), high=0.01), 3)  # a slow input passes
    array([0.999])
    """
    return np.sqrt(np.diag(state_covariance(sys, high, rms=rms, n_freqs=n_freqs)))


def normalize(sys, scales):
    """The similarity transform :math:`x' = T x,\\ T = \\mathrm{diag}(1 / s)`.

    The result has :math:`A' = T A T^{-1},\\ B' = T B,\\ C' = C T^{-1}` and
    the same ``D``, hence the same input-output behaviour; its state is the
    original state divided by ``scales``.

    Parameters
    ----------
    sys : LinearSystem or tuple
    scales : array_like
        Positive magnitude of each state (e.g. a multiple of `state_rms`).

    Returns
    -------
    LinearSystem
    """
    sys = _as_system(sys)
    scales = np.asarray(scales, dtype=float)
    if scales.shape != (sys.state_d,) or not np.all(
        np.isfinite(scales) & (scales > 0)
    ):
        raise ValidationError(
            f"must be {sys.state_d} positive finite numbers", attr="scales"
        )
    A, B, C, D = sys.ss
    T = 1.0 / scales
    return LinearSystem(
        (T[:, None] * A * scales[None, :], T[:, None] * B, C * scales[None, :], D),
        analog=sys.analog,
        method=sys.method,
    )
