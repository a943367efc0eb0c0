"""The Legendre memory: its state-space matrices, readouts and delay system.

The Legendre Memory Unit [1]_ keeps an optimal linear memory of the sliding
window :math:`u(t - \\theta'),\\ \\theta' \\in [0, \\theta]` in ``order`` state
variables :math:`m`, governed by

.. math:: \\theta \\dot{m}(t) = A m(t) + B u(t)

with

.. math::

    a_{ij} = (2i + 1) \\begin{cases} -1 & i < j \\\\
                                   (-1)^{i - j + 1} & i \\ge j \\end{cases},
    \\qquad b_i = (2i + 1) (-1)^i, \\qquad i, j \\in [0, q - 1].

The state is the shifted-Legendre expansion of the window,
:math:`u(t - r\\theta) \\approx \\sum_i \\tilde{P}_i(r) m_i(t)` with
:math:`\\tilde{P}_i(r) = P_i(2r - 1)` (``r = 0`` is now, ``r = 1`` the oldest
point of the window).

References
----------
.. [1] Voelker, A. R., Kajić, I., and Eliasmith, C. (2019). Legendre Memory
   Units: Continuous-time representation in recurrent neural networks.
   NeurIPS 32.
"""

import os

import numpy as np
import scipy.linalg
from nengo.exceptions import ValidationError
from scipy.special import eval_sh_legendre

from nengo_lmu.measure import check_sequences
from nengo_lmu.params import FiniteNumberParam, IntegerParam, check_param
from nengo_lmu.system import LinearSystem, check_window


#: How many ``(order + 1)``-square float64 matrices a Legendre memory needs
#: at once, at most: discretising it (scipy's ``cont2discrete``, whose ZOH is
#: ``expm`` of the ``(order + 1)``-square block matrix) peaks at about 13
#: (traced with ``tracemalloc``; ``tests/test_bad_input_core.py`` checks that
#: this bound holds).
MATRICES_AT_ONCE = 14


def machine_memory():
    """Bytes of memory this machine has for the process, or None if unknown.

    The physical memory, or the container's (cgroup) limit where smaller.
    """
    sizes = []
    try:
        sizes.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):  # not a POSIX system
        pass
    for path in (
        "/sys/fs/cgroup/memory.max",  # cgroup v2 ("max" when unlimited)
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",  # cgroup v1
    ):
        try:
            with open(path, encoding="ascii") as f:
                text = f.read().strip()
        except OSError:
            continue
        if text.isdigit():
            sizes.append(int(text))
    return min(sizes) if sizes else None


def memory_bytes(order):
    """Bytes a Legendre memory of ``order`` needs at once (to discretise it)."""
    return MATRICES_AT_ONCE * 8 * (order + 1) ** 2


def check_order(order, attr="order"):
    """``order`` validated: an integer of at least 1 whose memory fits this machine.

    A memory of order :math:`q` is made of :math:`q \\times q` matrices, and
    discretising it holds `MATRICES_AT_ONCE` of them: an order whose
    `memory_bytes` exceed `machine_memory` cannot be built, and is refused
    (`~nengo.exceptions.ValidationError` naming ``attr``) before any is made.

    Examples
    --------
    >>> check_order(12)
    12
    >>> check_order(10**6)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nengo.exceptions.ValidationError: order: needs ... GiB to build ...
    """
    order = check_param(IntegerParam(attr, low=1), order)
    need, have = memory_bytes(order), machine_memory()
    if have is not None and need > have:
        raise ValidationError(
            f"needs {need / 2**30:.3g} GiB to build and discretise ({MATRICES_AT_ONCE} "
            f"matrices of {order + 1} x {order + 1} float64), more than this "
            f"machine's {have / 2**30:.3g} GiB of memory: use a lower order",
            attr=attr,
        )
    return order


def legendre_memory(order, theta):
    """Continuous-time state-space matrices ``(A, B)`` of the Legendre memory.

    The returned matrices already include :math:`1 / \\theta`, i.e. the memory
    is :math:`\\dot{m} = A m + B u`.

    Parameters
    ----------
    order : int
        Number of Legendre polynomials (state variables), :math:`q \\ge 1`,
        small enough for the memory to fit this machine (`check_order`).
    theta : float
        Length of the window, in seconds (or in steps when simulating with
        ``dt=1``). Must be positive.

    Returns
    -------
    A : (order, order) ndarray
    B : (order, 1) ndarray

    Examples
    --------
    >>> A, B = legendre_memory(order=3, theta=1.0)
    >>> A
    array([[-1., -1., -1.],
           [ 3., -3., -3.],
           [-5.,  5., -5.]])
    >>> B.ravel()
    array([ 1., -3.,  5.])
    """
    order = check_order(order)
    theta = check_param(FiniteNumberParam("theta", low=0, low_open=True), theta)

    i = np.arange(order)[:, None]
    j = np.arange(order)[None, :]
    scale = (2 * i + 1) / theta
    A = scale * np.where(i < j, -1.0, (-1.0) ** (i - j + 1))
    B = scale * (-1.0) ** i
    return A, B


def legendre_readout(order, r):
    """Decoders that read the delayed input ``u(t - r * theta)`` out of the memory.

    ``m @ legendre_readout(order, r).T`` approximates :math:`u(t - r\\theta)`,
    using the shifted Legendre polynomials :math:`\\tilde{P}_i(r) = P_i(2r - 1)`
    of `scipy.special.eval_sh_legendre`.

    Parameters
    ----------
    order : int
        Order of the memory.
    r : float or array_like
        Relative delay(s) in :math:`[0, 1]` (0 is now, 1 is ``theta`` ago).

    Returns
    -------
    ndarray
        Shape ``(order,)`` for scalar ``r``; ``(len(r), order)`` otherwise.

    Examples
    --------
    >>> legendre_readout(3, 1.0)  # the oldest point of the window
    array([1., 1., 1.])
    >>> legendre_readout(3, [0.0, 0.5])
    array([[ 1. , -1. ,  1. ],
           [ 1. ,  0. , -0.5]])
    """
    order = check_param(IntegerParam("order", low=1), order)  # no square matrix: any order fits
    try:
        r = np.asarray(r, dtype=float)
    except (TypeError, ValueError) as e:
        raise ValidationError(f"must be a number or 1-D numbers in [0, 1] ({e})", "r") from e
    if r.ndim > 1:
        raise ValidationError(f"must be a scalar or 1-D (got shape {r.shape})", "r")
    if not np.all(np.isfinite(r)) or np.any((r < 0) | (r > 1)):
        raise ValidationError("must lie in [0, 1]", "r")
    return eval_sh_legendre(np.arange(order), r[..., None])


def retained_energy(sequences, order, theta=None, dt=1.0, method="zoh"):
    """The share of the sequences' energy that a Legendre memory keeps.

    A memory of ``order`` states started at rest ends a sequence
    :math:`u_0 \\ldots u_{T-1}` in the state :math:`m = \\sum_j H_j u_{T-1-j}`
    (:math:`H_j = \\bar{A}^j \\bar{B}`, its impulse response), so the part of
    the sequence that state determines is its projection :math:`P u` onto the
    span of the columns of :math:`H`. This returns
    :math:`\\sum \\|P u\\|^2 / \\sum \\|u\\|^2` over every sequence and input
    dimension, each dimension as if it had a memory of its own (a memory
    of fewer channels than the input has dimensions sees a mix, which this
    does not describe): 1 for a memory that keeps the sequences whole, about
    ``order / T`` for white noise, the baseline to read it against. It says
    how much of a sequence the state holds, not whether the part a task
    needs is in it. A window as long as the sequences keeps
    little of a broadband signal at any affordable order; the memory then
    needs a higher order, or a shorter ``theta`` with a readout on every
    step.

    Parameters
    ----------
    sequences : array_like
        Shape ``(n_sequences, steps, dims)``: the data the memory will see
        (e.g. the training set), each sequence ending on its last step.
    order : int
        Order of the memory.
    theta : float, optional
        Its window, in the same time unit as ``dt`` and at least ``dt``;
        default ``steps * dt`` (the whole sequence).
    dt : float, optional
        Time step of the sequences.
    method : {"zoh", "euler", "bilinear"}, optional
        Discretisation of the memory.

    Returns
    -------
    float
        In ``[0, 1]``. Directions of :math:`H` below `scipy.linalg.orth`'s
        tolerance (a high order's states nearly dependent) are not counted.

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> noise = rng.normal(size=(100, 200, 1))
    >>> print(f"{retained_energy(noise, order=20):.2f}")  # about 20 / 200
    0.10

    Five cycles of a sine in the window, kept from about ``order = 16`` on
    (about :math:`\\pi` states per cycle in the window):

    >>> wave = np.sin(2 * np.pi * 5 * np.linspace(0, 1, 200))[None, :, None]
    >>> [round(retained_energy(wave, order=q), 2) for q in (8, 10, 16, 32)]
    [0.15, 0.3, 0.91, 1.0]
    """
    sequences = check_sequences(sequences)
    n, steps, dims = sequences.shape
    energy = np.sum(sequences**2)
    if energy == 0:
        raise ValidationError("are all zero: they have no energy to keep", attr="sequences")
    order = check_order(order)
    dt = check_param(FiniteNumberParam("dt", low=0, low_open=True), dt)
    theta = steps * dt if theta is None else theta
    theta = check_param(FiniteNumberParam("theta", low=0, low_open=True), theta)
    check_window(theta, dt)
    A, B = legendre_memory(order, theta)
    memory = LinearSystem(
        (A, B, np.eye(order), np.zeros((order, 1))), method=method, known_stable=True
    )
    H = memory.discretize(dt).impulse(steps).reshape(steps, order)
    # unit columns: the same span, better conditioned for orth's SVD
    basis = scipy.linalg.orth(H / np.linalg.norm(H, axis=0))
    u = sequences[:, ::-1].transpose(0, 2, 1).reshape(n * dims, steps)  # u_{T-1-j}
    return float(np.sum((u @ basis) ** 2) / energy)


class LegendreDelay(LinearSystem):
    """The SISO Legendre delay: a rational approximation of :math:`e^{-\\theta s}`.

    It is the Legendre memory read out at ``r = 1``
    (:math:`C = \\tilde{P}(1) = (1, \\ldots, 1)`, :math:`D = 0`): a
    Padé-like approximant of the pure delay whose error shrinks quickly with
    ``order`` for frequencies below about ``order / (2 theta)``. Its
    ``window`` is ``theta`` (a simulator step longer than the delay is
    refused at build time) and it is ``known_stable`` (see `.LinearSystem`).

    Parameters
    ----------
    theta : float
        Delay, in seconds. Must be positive.
    order : int
        Order of the approximation (number of state variables).
    **kwargs
        Passed to `.LinearSystem` (e.g. ``method``).

    Attributes
    ----------
    theta : float
        Delay, in seconds.
    order : int
        Order of the approximation.

    Examples
    --------
    >>> import numpy as np
    >>> delay = LegendreDelay(theta=0.1, order=6)
    >>> y = delay.filt(np.ones(1000), dt=0.001)
    >>> print(f"{y[50]:.2f} at 0.05 s, {y[300]:.4f} at 0.3 s")  # a step, delayed by 0.1 s
    0.09 at 0.05 s, 1.0000 at 0.3 s
    """

    theta = FiniteNumberParam("theta", low=0, low_open=True, readonly=True)
    order = IntegerParam("order", low=1, readonly=True)

    def __init__(self, theta, order, **kwargs):
        A, B = legendre_memory(order, theta)
        kwargs.setdefault("window", theta)
        kwargs.setdefault("known_stable", True)
        super().__init__((A, B, np.ones((1, order)), np.zeros((1, 1))), **kwargs)
        self.theta = theta
        self.order = order
