"""State-space linear time-invariant systems as Nengo synapses and processes."""

import warnings

import numpy as np
import scipy.signal
from nengo.exceptions import BuildError, ValidationError
from nengo.params import BoolParam, EnumParam, NdarrayParam
from nengo.processes import Process
from nengo.synapses import LinearFilter, Synapse

from nengo_lmu.params import FiniteNumberParam, IntegerParam, check_param

DISCRETIZATION_METHODS = ("zoh", "euler", "bilinear")


class UnstableSystemWarning(UserWarning):
    """A `.LinearSystem` has a pole outside the stable region."""


class LinearSystem(Synapse):
    """A multiple-input, multiple-output LTI system in state-space form.

    Analog systems are :math:`\\dot{x} = A x + B u,\\ y = C x + D u`; digital
    ones (``analog=False``) apply their matrices once per time-step. Either
    way, a simulation step is

    .. math::

        x_t = \\bar{A} x_{t-1} + \\bar{B} u_t, \\qquad y_t = C x_t + D u_t,

    so the current input enters the state immediately (as in keras-lmu and
    in `nengo.LinearFilter` without passthrough). An analog system is
    discretised with the simulator's ``dt`` at build time; ``method`` picks
    :math:`\\bar{A}, \\bar{B}` as `scipy.signal.cont2discrete` does, treating
    :math:`u_t` as held over :math:`(t - dt, t]`:

    * ``"zoh"``: exact for such held input;
    * ``"euler"``: :math:`\\bar{A} = I + dt A,\\ \\bar{B} = dt B`;
    * ``"bilinear"``: the trapezoidal rule, :math:`\\bar{A} = (I - \\frac{dt}{2}
      A)^{-1} (I + \\frac{dt}{2} A),\\ \\bar{B} = (I - \\frac{dt}{2} A)^{-1} dt B`.

    :math:`C` and :math:`D` are left unchanged.

    The system is a `nengo.synapses.Synapse`, so it works as the synapse of a
    `nengo.Connection` (whose input and output sizes agree) and as the
    process of a `nengo.Node`. It is applied to ``c`` independent channels
    when the signal has ``c * input_d`` inputs and ``c * output_d`` outputs,
    channel-major (channel ``i`` occupies ``[i * input_d:(i + 1) * input_d]``
    of the input). A SISO system on a ``d``-dimensional connection thus
    filters each dimension independently, like `nengo.Lowpass`.

    Parameters
    ----------
    sys : tuple or LinearSystem or nengo.LinearFilter
        ``(A, B, C, D)`` state-space matrices; a ``(num, den)`` transfer
        function (SISO, causal); or a system to copy (its ``analog`` wins,
        and its ``method`` unless one is given).
        1-D ``B`` and ``C`` are read as a column and a row; a scalar ``D``
        of zero stands for the zero matrix.
    analog : bool
        Whether ``sys`` is continuous-time (True) or digital (False).
    method : {"zoh", "euler", "bilinear"}, optional
        How an analog system is discretised; None (default): the copied
        system's method, else ``"zoh"``.
    dt : float, optional
        Digital systems only: the time-step the matrices were made for (as
        in `scipy.signal.dlti`; `discretize` records it). A simulator with
        another ``dt`` refuses to build the system (`~nengo.exceptions.BuildError`)
        instead of running it at the wrong speed. None: any ``dt``.
    window : float, optional
        Analog systems only: the span of past input the state describes
        (a Legendre memory's ``theta``). A time-step longer than it
        (`check_dt`, at build time, and `discretize`) is refused with a
        `~nengo.exceptions.BuildError`: the state would describe less than
        one step of input. None (default): no such limit.
    known_stable : bool, optional
        True where the system is stable by construction (a Legendre memory
        is, for every order): the constructor then skips its check of the
        poles, an eigen-decomposition of ``A`` whose cost grows as
        :math:`n^3` (minutes for ``n`` in the ten thousands), and
        `is_stable` answers True. Its ``"zoh"`` and ``"bilinear"``
        discretisations are known stable too. Default False: the poles are
        checked, and an unstable system warns (`UnstableSystemWarning`).
    **kwargs
        Passed to `nengo.synapses.Synapse` (``default_dt``, ``seed``).

    Attributes
    ----------
    A, B, C, D : ndarray
        The state-space matrices, shapes ``(n, n), (n, k), (p, n), (p, k)``.
    analog : bool
        Whether the system is continuous-time.
    method : str
        Discretisation method.
    dt : float or None
        The time-step a digital system is bound to.
    window : float or None
        The analog system's window (no time-step may exceed it).
    known_stable : bool
        Whether the system is stable by construction (poles not checked).

    Examples
    --------
    A first-order system equal to ``nengo.Lowpass(0.1)``:

    >>> sys = LinearSystem(([[-10.0]], [[10.0]], [[1.0]], [[0.0]]))
    >>> sys.state_d, sys.input_d, sys.output_d
    (1, 1, 1)
    """

    A = NdarrayParam("A", shape=("*", "*"), readonly=True)
    B = NdarrayParam("B", shape=("*", "*"), readonly=True)
    C = NdarrayParam("C", shape=("*", "*"), readonly=True)
    D = NdarrayParam("D", shape=("*", "*"), readonly=True)
    analog = BoolParam("analog", readonly=True)
    method = EnumParam("method", values=DISCRETIZATION_METHODS, readonly=True)
    dt = FiniteNumberParam("dt", low=0, low_open=True, optional=True, readonly=True)
    window = FiniteNumberParam(
        "window", low=0, low_open=True, optional=True, readonly=True
    )
    known_stable = BoolParam("known_stable", readonly=True)

    def __init__(
        self, sys, analog=True, method=None, dt=None, window=None, known_stable=None,
        **kwargs,
    ):
        if isinstance(sys, LinearSystem):
            analog = sys.analog
            method = sys.method if method is None else method
            dt = sys.dt if dt is None else dt
            window = sys.window if window is None else window
            known_stable = sys.known_stable if known_stable is None else known_stable
            sys = sys.ss
        elif isinstance(sys, LinearFilter):
            analog = sys.analog
            sys = (sys.num, sys.den)
        A, B, C, D = _as_ss(sys)
        k, p = B.shape[1], C.shape[0]
        super().__init__(default_size_in=k, default_size_out=p, **kwargs)
        self.A, self.B, self.C, self.D = A, B, C, D
        self.analog = analog
        self.method = "zoh" if method is None else method
        if dt is not None and analog:
            raise ValidationError(
                "only a digital system (analog=False) is bound to a time-step; an "
                "analog one is discretised with the simulator's dt",
                attr="dt",
                obj=self,
            )
        self.dt = dt
        if window is not None and not analog:
            raise ValidationError(
                "only an analog system has a window; a digital one is bound to "
                "its time-step (dt)",
                attr="window",
                obj=self,
            )
        self.window = window
        self.known_stable = False if known_stable is None else known_stable
        if not self.known_stable:
            self._warn_if_unstable()

    @property
    def sys(self):
        """The matrices ``(A, B, C, D)`` (as passed to the constructor)."""
        return self.ss

    @property
    def ss(self):
        """The state-space matrices ``(A, B, C, D)``."""
        return self.A, self.B, self.C, self.D

    @property
    def state_d(self):
        """Number of state variables ``n``."""
        return self.A.shape[0]

    @property
    def input_d(self):
        """Number of inputs ``k``."""
        return self.B.shape[1]

    @property
    def output_d(self):
        """Number of outputs ``p``."""
        return self.C.shape[0]

    @property
    def poles(self):
        """Eigenvalues of ``A``."""
        return np.linalg.eigvals(self.A) if self.state_d else np.zeros(0)

    def is_stable(self):
        """Whether every pole is strictly stable.

        Analog: :math:`\\mathrm{Re}(\\lambda) < 0`; digital: :math:`|\\lambda| < 1`.
        True without computing the poles for a ``known_stable`` system.
        """
        if self.known_stable:
            return True
        return bool(np.all(self._pole_margin() < 0))

    def _pole_margin(self):
        """Signed distance of each pole beyond the stability boundary."""
        return self.poles.real if self.analog else np.abs(self.poles) - 1

    def unstable_poles(self):
        """The poles beyond the stability boundary (none: an empty array).

        Beyond by more than rounding (``1e-10`` relative to ``A``'s largest
        entry for an analog system, ``1e-10`` for a digital one): a pole
        on the boundary (an integrator) is not among them. None are
        computed for a ``known_stable`` system.
        """
        if self.state_d == 0 or self.known_stable:
            return np.zeros(0, dtype=complex)
        scale = 1.0 if not self.analog else max(1.0, np.abs(self.A).max())
        poles = self.poles
        margin = poles.real if self.analog else np.abs(poles) - 1
        return poles[margin > 1e-10 * scale]

    def _warn_if_unstable(self):
        unstable = self.unstable_poles()
        if len(unstable):
            kind = "Re(pole) > 0" if self.analog else "|pole| > 1"
            warnings.warn(
                f"{type(self).__name__} is unstable ({kind} for poles "
                f"{unstable}); its state will grow without bound",
                UnstableSystemWarning,
            )

    def discretize(self, dt, method=None):
        """The digital system that steps this one by ``dt``.

        Parameters
        ----------
        dt : float
            Time-step, in seconds.
        method : {"zoh", "euler", "bilinear"}, optional
            Defaults to ``self.method``.

        Returns
        -------
        LinearSystem
            ``(A_bar, B_bar, C, D)`` with ``analog=False``, bound to ``dt``
            (its ``dt`` attribute); ``self`` if the system is already digital
            (after checking that it may run at ``dt``).
        """
        if not self.analog:
            self.check_dt(dt)
            return self
        method = self._check_discretization(dt, method)
        self.check_dt(dt)
        A, B, C, D = self.ss
        if self.state_d > 0:
            Ad, Bd, _, _, _ = scipy.signal.cont2discrete(
                (A, B, C, D), dt, method=method
            )
        else:
            Ad, Bd = A, B
        return LinearSystem(
            (Ad, Bd, C, D), analog=False, dt=dt,
            known_stable=self._discretization_known_stable(method),
        )

    def _discretization_known_stable(self, method):
        """Whether discretising by ``method`` keeps known stability: ZOH
        (:math:`e^{A dt}`) and the bilinear transform map the open left
        half-plane into the unit disc; Euler does not."""
        return self.known_stable and method in ("zoh", "bilinear")

    def _describe(self):
        """How errors name this system (its matrices are too long to print)."""
        return f"{type(self).__name__}(state_d={self.state_d})"

    def _default_dt(self):
        """``dt`` for `filt` and `impulse`: the bound one, else ``default_dt``."""
        return self.default_dt if self.dt is None else self.dt

    def runs_at(self, dt):
        """Whether the system may step by ``dt``: analog, unbound, or bound to
        ``dt`` (relative tolerance 1e-9)."""
        return self.analog or self.dt is None or bool(np.isclose(dt, self.dt, rtol=1e-9, atol=0))

    def check_dt(self, dt):
        """Refuse a time-step this system cannot run at.

        Raises `~nengo.exceptions.BuildError` naming both time-steps when
        this system is digital, bound to a ``dt`` (see the ``dt``
        parameter) and ``dt`` differs from it (`runs_at`); or when it is
        analog with a ``window`` shorter than ``dt``. Every simulator calls
        it when it builds the system (`make_state`).
        """
        if self.analog and self.window is not None and shorter_than_step(self.window, dt):
            raise BuildError(
                f"{self._describe()} has a window (theta) of {self.window:g}, shorter "
                f"than the simulator's time-step dt={dt:g}: its state would describe "
                f"{self.window / dt:.3g} of a step of input. Make the window at "
                f"least dt={dt:g}, or run the simulator with dt <= {self.window:g} "
                "(theta and dt are in the same unit: seconds, or steps with dt=1)"
            )
        if self.runs_at(dt):
            return
        raise BuildError(
            f"{self._describe()} is bound to dt={self.dt:g}, but the "
            f"simulator's dt is {dt:g}: each of its steps would stand for {dt:g} s "
            f"instead of {self.dt:g} s. Make it with dt={dt:g}, or run the "
            f"simulator with dt={self.dt:g}"
        )

    def _check_discretization(self, dt, method):
        """The method to use (``self.method`` if None), with ``dt``, checked."""
        method = self.method if method is None else method
        if method not in DISCRETIZATION_METHODS:
            raise ValidationError(
                f"must be one of {DISCRETIZATION_METHODS} (got {method!r})",
                attr="method",
                obj=self,
            )
        _check_step(dt, self)
        return method

    #: Inputs after the channels' ``c * input_d`` (a time-scale, in a subclass).
    extra_inputs = 0

    def _check_shapes(self, shape_in, shape_out):
        """Number of channels the system is applied to for these signal shapes."""
        (size_in,) = shape_in if len(shape_in) == 1 else (None,)
        (size_out,) = shape_out if len(shape_out) == 1 else (None,)
        k, p, e = self.input_d, self.output_d, self.extra_inputs
        if (
            size_in is None
            or size_out is None
            or size_in <= e
            or (size_in - e) % k
            or size_out % p
            or (size_in - e) // k != size_out // p
        ):
            extra = f" + {e}" if e else ""
            raise ValidationError(
                f"{type(self).__name__} with {k} input(s) and {p} output(s) "
                f"cannot map shape {shape_in} to shape {shape_out}: it is applied "
                f"to c channels, with c*{k}{extra} inputs and c*{p} outputs",
                attr="shape",
                obj=self,
            )
        return (size_in - e) // k

    def make_state(self, shape_in, shape_out, dt, dtype=None, y0=0):
        """The state ``X``, shape ``(state_d, channels)``, initially zero."""
        if np.any(np.asarray(y0) != 0):
            raise ValidationError(
                "only a zero initial output is supported", attr="y0", obj=self
            )
        self.check_dt(dt)
        dtype = np.dtype(np.float64 if dtype is None else dtype)
        if dtype.kind != "f":
            raise ValidationError(
                f"only float data types are supported (got {dtype})",
                attr="dtype",
                obj=self,
            )
        channels = self._check_shapes(shape_in, shape_out)
        return {"X": np.zeros((self.state_d, channels), dtype=dtype)}

    def make_step(self, shape_in, shape_out, dt, rng, state):
        """Step function ``y_t = step(t, u_t)`` of the discretised system."""
        channels = self._check_shapes(shape_in, shape_out)
        X = state["X"]
        Ad, Bd, C, D = (
            np.asarray(M, dtype=X.dtype) for M in self.discretize(dt).ss
        )
        k, p = self.input_d, self.output_d

        if channels == 1:

            def step_linearsystem(t, u):
                X[:, 0] = Ad @ X[:, 0] + Bd @ u
                return C @ X[:, 0] + D @ u

        else:

            def step_linearsystem(t, u):
                U = u.reshape(channels, k).T
                X[...] = Ad @ X + Bd @ U
                return (C @ X + D @ U).T.reshape(channels * p)

        return step_linearsystem

    def filt(self, x, dt=None, axis=0, y0=0, copy=True, filtfilt=False):
        """Filter ``x`` offline with this system (same steps as in a simulation).

        Parameters
        ----------
        x : array_like
            The signal; time runs along ``axis``. Each sample holds
            ``c * input_d`` values (any shape for a SISO system).
        dt : float, optional
            Time-step; if None, the system's own ``dt`` (digital systems bound
            to one), else ``default_dt``.
        axis : int, optional
            The time axis.
        y0 : 0
            Only a zero initial output is supported.
        copy : bool, optional
            Unused; the result is always a new array.
        filtfilt : bool, optional
            Filter forward then backward (square systems only).

        Returns
        -------
        ndarray
            The output, with ``c * output_d`` values per sample.
        """
        dt = _check_step(self._default_dt() if dt is None else dt, self)
        x = _signal(x, self)
        if x.ndim == 0:
            raise ValidationError(
                "must have a time axis (got a scalar)", attr="x", obj=self
            )
        x = np.moveaxis(x, axis, 0)
        sample_shape = x.shape[1:]
        siso = self.input_d == self.output_d == 1
        if self.input_d == 1 and sample_shape == ():
            sample_shape = (1,)  # a scalar signal is one channel
        if not siso and len(sample_shape) != 1:
            raise ValidationError(
                f"each sample must be 1-D for a system with {self.input_d} input(s) "
                f"and {self.output_d} output(s) (got shape {sample_shape})",
                attr="x",
                obj=self,
            )
        if filtfilt and self.input_d != self.output_d:
            raise ValidationError(
                "filtfilt needs as many outputs as inputs", attr="filtfilt", obj=self
            )
        u = x.reshape(len(x), int(np.prod(sample_shape, dtype=int)))
        channels = u.shape[1] // self.input_d
        shape_in, shape_out = (u.shape[1],), (channels * self.output_d,)
        state = self.make_state(shape_in, shape_out, dt, dtype=u.dtype, y0=y0)
        step = self.make_step(shape_in, shape_out, dt, rng=None, state=state)
        y = np.array([step(i * dt, ui) for i, ui in enumerate(u)]).reshape(
            len(u), shape_out[0]
        )  # an empty signal (no samples) gives an empty output
        if filtfilt:  # backwards, continuing from the final state (as Nengo does)
            y = np.array([step((len(y) - 1 - i) * dt, yi) for i, yi in enumerate(y[::-1])])
            y = y[::-1].reshape(len(u), shape_out[0])
        out_shape = x.shape[1:] if siso else shape_out
        return np.moveaxis(y.reshape((len(x),) + out_shape), 0, axis)

    def impulse(self, n, dt=None):
        """Response to a unit impulse over ``n`` steps.

        The impulse is ``1 / dt`` on the first step for an analog system (unit
        area, so the result approximates the continuous impulse response) and
        1 for a digital one.

        Returns
        -------
        ndarray
            Shape ``(n,)`` for a SISO system, else ``(n, output_d, input_d)``.
        """
        n = check_param(IntegerParam("n", low=1), n, self)
        dt = self._default_dt() if dt is None else dt
        k = self.input_d
        u = np.zeros((n, k * k))
        u[0] = np.eye(k).ravel() / (dt if self.analog else 1.0)
        y = self.filt(u, dt=dt).reshape(n, k, self.output_d).transpose(0, 2, 1)
        return y[:, 0, 0] if k == self.output_d == 1 else y


def shorter_than_step(window, step):
    """Whether ``window`` is shorter than one ``step``, beyond rounding.

    Within a relative ``1e-6`` (a float32 theta, ``0.1 * 3`` against ``0.3``)
    a window of one step is one step.
    """
    return window < step * (1 - 1e-6)


def whole_steps(period, dt, attr="period", obj=None):
    """How many simulator steps of ``dt`` make ``period``: a whole number, at
    least one (to a relative ``1e-6``), or a ValidationError naming ``attr``.

    Examples
    --------
    >>> whole_steps(0.02, 0.001)
    20
    """
    steps = int(round(period / dt))
    if steps < 1 or not np.isclose(steps * dt, period, rtol=1e-6, atol=0):
        raise ValidationError(
            f"{period:g} s is not a whole number (at least one) of the "
            f"simulator's dt={dt:g} s steps",
            attr=attr,
            obj=obj,
        )
    return steps


def check_window(window, step, attr="theta", step_name="dt", obj=None):
    """Refuse a window shorter than one step (`shorter_than_step`), naming ``attr``.

    Examples
    --------
    >>> check_window(0.1 * 3, 0.3)  # one step, to rounding
    >>> check_window(1e-4, 0.001)
    Traceback (most recent call last):
    ...
    nengo.exceptions.ValidationError: theta: 0.0001 is shorter than one step (dt=0.001): the memory would hold less than one sample. Make theta at least 0.001, or dt at most 0.0001
    """
    if shorter_than_step(window, step):
        raise ValidationError(
            f"{window:.10g} is shorter than one step ({step_name}={step:.10g}): the "
            f"memory would hold less than one sample. Make {attr} at least "
            f"{step:.10g}, or {step_name} at most {window:.10g}",
            attr=attr,
            obj=obj,
        )


def _check_step(dt, obj):
    """A time-step: a positive finite number (`~nengo.exceptions.ValidationError`
    naming ``dt`` otherwise)."""
    return check_param(FiniteNumberParam("dt", low=0, low_open=True), dt, obj)


def _signal(x, obj, extra=""):
    """``x`` as a float64 array of finite numbers (refused by name, ``x``)."""
    try:
        x = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValidationError(f"must be numeric{extra} ({e})", attr="x", obj=obj) from e
    if not np.all(np.isfinite(x)):
        raise ValidationError(
            "must be finite: NaN or infinity in the input would fill the state",
            attr="x",
            obj=obj,
        )
    return x


def _as_ss(sys):
    """Validated ``(A, B, C, D)`` float arrays from a state-space or tf tuple."""
    try:
        n_parts = len(sys)
    except TypeError:
        n_parts = None
    if n_parts == 2:
        try:
            num, den = (np.atleast_1d(np.asarray(v, dtype=float)) for v in sys)
        except (TypeError, ValueError) as e:
            raise ValidationError(
                f"(num, den) must be numeric coefficient lists ({e})", attr="sys"
            ) from e
        if num.ndim > 1 or den.ndim > 1:
            raise ValidationError(
                "a (num, den) transfer function takes 1-D coefficient lists "
                "(MIMO systems need (A, B, C, D))",
                attr="sys",
            )
        num, den = np.trim_zeros(num, "f"), np.trim_zeros(den, "f")
        if len(den) == 0:
            raise ValidationError("denominator must not be zero", attr="sys")
        if len(num) > len(den):
            raise ValidationError(
                f"transfer function is non-causal (numerator degree {len(num) - 1} "
                f"> denominator degree {len(den) - 1})",
                attr="sys",
            )
        sys = scipy.signal.tf2ss(num if len(num) else [0.0], den)
    elif n_parts != 4:
        raise ValidationError(
            "must be (A, B, C, D), (num, den), a LinearSystem or a LinearFilter "
            f"(got {type(sys).__name__})",
            attr="sys",
        )

    try:
        A, B, C, D = (np.asarray(M, dtype=float) for M in sys)
    except (TypeError, ValueError) as e:
        raise ValidationError(f"matrices must be numeric arrays ({e})", "sys") from e
    A = A.reshape(0, 0) if A.size == 0 else np.atleast_2d(A)
    n = A.shape[0]
    B = B.reshape(n, -1) if B.ndim < 2 else B
    C = C.reshape(-1, n) if C.ndim < 2 and n > 0 else np.atleast_2d(C)
    p, k = C.shape[0], B.shape[1] if B.ndim == 2 else 0
    if D.size == 1 and D.item() == 0:
        D = np.zeros((p, k))
    D = np.atleast_2d(D)

    for name, M, shape in (
        ("A", A, (n, n)),
        ("B", B, (n, k)),
        ("C", C, (p, n)),
        ("D", D, (p, k)),
    ):
        if M.shape != shape:
            raise ValidationError(
                f"{name} has shape {M.shape}, but A {A.shape}, B {B.shape} and "
                f"C {C.shape} need it to be {shape}",
                attr=name,
            )
        if not np.all(np.isfinite(M)):
            raise ValidationError(f"{name} must be finite", attr=name)
    if k == 0 or p == 0:
        raise ValidationError("the system needs at least one input and output", "sys")
    return A, B, C, D


class _TimeScaleInput(Synapse):
    """Adds the time-scale input to ``default_size_in`` (set once: it is read-only)."""

    def __init__(self, default_size_in=1, **kwargs):
        super().__init__(default_size_in=default_size_in + 1, **kwargs)


class TimeScaledSystem(LinearSystem, _TimeScaleInput):
    """An analog `.LinearSystem` whose speed is an input: a learnable time-scale.

    The system's input has one extra element, a time-scale :math:`s > 0`,
    after the ``c * input_d`` signal inputs, and it steps

    .. math:: \\dot{x} = s\\,(A x + B u), \\qquad y = C x + D u,

    that is, the analog system ``(s A, s B, C, D)``, discretised with the
    simulator's ``dt`` at the current :math:`s` (``method`` as in
    `.LinearSystem`; ``"zoh"`` is :math:`\\exp(s\\,dt\\,[[A, B], [0, 0]])`,
    ``"euler"`` is :math:`\\bar{A} = I + s\\,dt\\,A,\\ \\bar{B} = s\\,dt\\,B`).
    Time runs :math:`s` times faster through the system: for a Legendre
    memory (whose ``A`` and ``B`` carry :math:`1 / \\theta`) the window is
    :math:`\\theta / s`.

    Feeding :math:`s` from a constant ``nengo.Node(1.0)`` through a
    ``nengo.Connection(..., transform=[[1.0]], synapse=None)`` makes it a
    connection weight, which NengoDL trains like any other (see
    `nengo_lmu.dl` for the cost); after ``sim.freeze_params`` the trained
    :math:`s` is that connection's transform.

    Signal shapes: input ``(c * input_d + 1,)``, output ``(c * output_d,)``
    for ``c`` channels, all sharing the one time-scale.

    The reference simulator recomputes the discretisation only when
    :math:`s` changes (compared by value), so a constant :math:`s` costs one
    discretisation per run. :math:`s` is read on every step, so a step in
    :math:`s` changes the dynamics from that step on (the state is kept).
    A non-positive or non-finite :math:`s` raises a `~nengo.exceptions.ValidationError`,
    as does one that shortens a ``window`` (see `.LinearSystem`) below one
    step (:math:`\\mathrm{window} / s < dt`).

    Parameters
    ----------
    sys : tuple or LinearSystem or nengo.LinearFilter
        The analog system at :math:`s = 1` (see `.LinearSystem`); a digital
        one is refused: its time-step is fixed, so it cannot be rescaled.
    analog : bool
        Must be True.
    method : {"zoh", "euler", "bilinear"}, optional
        How the scaled system is discretised (None: as `.LinearSystem`).
    **kwargs
        Passed to `nengo.synapses.Synapse` (``default_dt``, ``seed``).

    Examples
    --------
    A Legendre memory of window 0.2 s, run at half that window:

    >>> import nengo
    >>> from nengo_lmu.legendre import legendre_memory
    >>> A, B = legendre_memory(order=4, theta=0.2)
    >>> system = TimeScaledSystem((A, B, np.eye(4), 0))
    >>> with nengo.Network() as net:
    ...     stim = nengo.Node(1.0)
    ...     scale = nengo.Node(1.0)
    ...     memory = nengo.Node(system, size_in=2, size_out=4)
    ...     _ = nengo.Connection(stim, memory[:1], synapse=None)
    ...     _ = nengo.Connection(scale, memory[1:], transform=[[2.0]], synapse=None)
    ...     probe = nengo.Probe(memory)
    >>> with nengo.Simulator(net, progress_bar=False) as sim:
    ...     sim.run(0.3)

    It is the memory of window 0.1 s:

    >>> A1, B1 = legendre_memory(order=4, theta=0.1)
    >>> short = LinearSystem((A1, B1, np.eye(4), 0)).filt(np.ones(300), dt=0.001)
    >>> np.allclose(sim.data[probe], short)
    True
    >>> np.round(sim.data[probe][-1], 3) + 0  # a constant fills the window: P_0 only
    array([1., 0., 0., 0.])
    """

    extra_inputs = 1  # the time-scale s, after the channels' inputs

    def __init__(self, sys, analog=True, method=None, **kwargs):
        if isinstance(sys, (LinearSystem, LinearFilter)):
            analog = sys.analog
        if not analog:
            raise ValidationError(
                "a digital system cannot be time-scaled (its time-step is fixed); "
                "pass an analog system",
                attr="analog",
                obj=self,
            )
        super().__init__(sys, analog=True, method=method, **kwargs)

    def discretize(self, dt, method=None, s=1.0):
        """The digital system that steps this one by ``dt`` at time-scale ``s``.

        Parameters
        ----------
        dt : float
            Time-step, in seconds.
        method : {"zoh", "euler", "bilinear"}, optional
            Defaults to ``self.method``.
        s : float, optional
            The time-scale (positive).

        Returns
        -------
        LinearSystem
            ``(A_bar, B_bar, C, D)`` of ``(s A, s B, C, D)``, with ``analog=False``.
        """
        s = self._check_scale(s)
        method = self._check_discretization(dt, method)
        Ad, Bd = self._discretize_AB(dt, method, s)
        return LinearSystem(
            (Ad, Bd, self.C, self.D), analog=False, dt=dt,
            known_stable=self._discretization_known_stable(method),
        )

    def _discretize_AB(self, dt, method, s):
        """``(A_bar, B_bar)`` at time-scale ``s`` (arguments already checked)."""
        A, B, C, D = self.ss
        if self.state_d == 0:
            return A, B
        Ad, Bd, _, _, _ = scipy.signal.cont2discrete(
            (s * A, s * B, C, D), dt, method=method
        )
        return Ad, Bd

    def _check_scale(self, s):
        try:
            s = float(s)
        except (TypeError, ValueError) as e:
            raise ValidationError(
                f"time-scale s must be a number (got {s!r})", attr="s", obj=self
            ) from e
        if not (np.isfinite(s) and s > 0):
            raise ValidationError(
                f"time-scale s must be positive and finite (got {s})",
                attr="s",
                obj=self,
            )
        return s


    def make_step(self, shape_in, shape_out, dt, rng, state):
        """Step function ``y_t = step(t, [u_t, s_t])``."""
        channels = self._check_shapes(shape_in, shape_out)
        _check_step(dt, self)
        X = state["X"]
        C, D = (np.asarray(M, dtype=X.dtype) for M in (self.C, self.D))
        k, p, method = self.input_d, self.output_d, self.method
        cache = {"s": None, "Ad": None, "Bd": None}

        def discretized(s):
            if s != cache["s"]:  # recompute only when s changes
                s_checked = self._check_scale(s)
                if self.window is not None and shorter_than_step(self.window / s_checked, dt):
                    raise ValidationError(
                        f"time-scale s={s_checked:g} shortens the window to "
                        f"{self.window:g} / s = {self.window / s_checked:g}, less than "
                        f"one step (dt={dt:g})",
                        attr="s",
                        obj=self,
                    )
                Ad, Bd = self._discretize_AB(dt, method, float(s))
                cache.update(
                    s=s, Ad=np.asarray(Ad, dtype=X.dtype), Bd=np.asarray(Bd, X.dtype)
                )
            return cache["Ad"], cache["Bd"]

        def step_timescaledsystem(t, u):
            Ad, Bd = discretized(u[-1])
            U = u[:-1].reshape(channels, k).T
            X[...] = Ad @ X + Bd @ U
            return (C @ X + D @ U).T.reshape(channels * p)

        return step_timescaledsystem

    def filt(self, x, dt=None, axis=0, y0=0, copy=True, filtfilt=False):
        """Filter ``x`` offline; each sample is ``c * input_d`` inputs then ``s``.

        Parameters are those of `.LinearSystem.filt`, except that every
        sample must be 1-D and ``filtfilt`` is not supported.
        """
        if filtfilt:
            raise ValidationError(
                "filtfilt is not supported for a time-scaled system",
                attr="filtfilt",
                obj=self,
            )
        dt = _check_step(self._default_dt() if dt is None else dt, self)
        x = _signal(x, self)
        if x.ndim != 2:
            raise ValidationError(
                f"each sample must be 1-D: c * {self.input_d} inputs and the "
                f"time-scale (got shape {x.shape[1:]})",
                attr="x",
                obj=self,
            )
        x = np.moveaxis(x, axis, 0)
        shape_in = (x.shape[1],)
        channels = (x.shape[1] - 1) // self.input_d
        shape_out = (channels * self.output_d,)
        state = self.make_state(shape_in, shape_out, dt, dtype=x.dtype, y0=y0)
        step = self.make_step(shape_in, shape_out, dt, rng=None, state=state)
        y = np.array([step(i * dt, xi) for i, xi in enumerate(x)]).reshape(
            len(x), shape_out[0]
        )
        return np.moveaxis(y, 0, axis)

    def impulse(self, n, dt=None, s=1.0):
        """Response to a unit impulse over ``n`` steps at a constant time-scale ``s``.

        As `.LinearSystem.impulse` (the impulse is ``1 / dt``).
        """
        n = check_param(IntegerParam("n", low=1), n, self)
        dt = self._default_dt() if dt is None else dt
        k = self.input_d
        u = np.zeros((n, k * k + 1))
        u[0, :-1] = np.eye(k).ravel() / dt
        u[:, -1] = s
        y = self.filt(u, dt=dt).reshape(n, k, self.output_d).transpose(0, 2, 1)
        return y[:, 0, 0] if k == self.output_d == 1 else y



class SampledSystem(Process):
    """A `.LinearSystem` stepped once per sample period, its output held in between.

    For input that holds each sample for ``period`` (as a
    `nengo.processes.PresentInput` does), the system takes one step of
    ``period`` on the first simulator step of each sample, with that
    sample, and outputs ``y_k`` until the next one begins:

    .. math::

        x_k = \\bar{A} x_{k-1} + \\bar{B} u_k, \\qquad y_k = C x_k + D u_k,

    with :math:`\\bar{A}, \\bar{B}` the system discretised at ``period``
    (its ``method``). A continuous-time system stepped continuously lands on
    the same :math:`x_k` at the end of each sample (by zero-order hold), but
    moves from :math:`x_{k-1}` to :math:`x_k` during it; sampled, its output
    is :math:`y_k` for the whole sample.

    The input is the system's ``c * input_d`` inputs followed by one
    *advance* value: a sample with advance > 0.5 steps the system; one with
    advance < -0.5 returns it to rest (state and output zero: a new
    sequence begins); otherwise state and output stay as they are (e.g.
    while the last sample is read out). As a `nengo.Node`'s output,
    ``size_in`` is ``c * input_d + 1``.

    Parameters
    ----------
    system : LinearSystem
        The system (analog, or digital with ``dt == period``).
    period : float
        Seconds per sample: a whole number of the simulator's ``dt``
        (else a ValidationError at build time).
    """

    period = FiniteNumberParam("period", low=0, low_open=True)

    def __init__(self, system, period, **kwargs):
        if not isinstance(system, LinearSystem) or isinstance(system, TimeScaledSystem):
            raise ValidationError(
                f"must be a LinearSystem (not time-scaled; got {system!r})",
                attr="system",
                obj=self,
            )
        self.system = system
        self.period = period
        super().__init__(**kwargs)

    def _inner_shapes(self, shape_in, shape_out):
        inner = (shape_in[0] - 1,)
        self.system._check_shapes(inner, shape_out)
        return inner

    def make_state(self, shape_in, shape_out, dt, dtype=None):
        inner = self._inner_shapes(shape_in, shape_out)
        state = self.system.make_state(inner, shape_out, self.period, dtype=dtype)
        dtype = state["X"].dtype
        state["Y"] = np.zeros(shape_out, dtype=dtype)
        return state

    def make_step(self, shape_in, shape_out, dt, rng, state):
        """Step function ``y = step(t, [u, advance])``."""
        inner = self._inner_shapes(shape_in, shape_out)
        steps = whole_steps(self.period, dt, obj=self)
        take = self.system.make_step(inner, shape_out, self.period, rng, state)
        Y = state["Y"]

        X = state["X"]

        def step_sampledsystem(t, u):
            # the first simulator step of sample k is t = (k * steps + 1) dt
            if int(round(t / dt)) % steps == 1 % steps:
                if u[-1] > 0.5:
                    Y[...] = take(t, u[:-1])
                elif u[-1] < -0.5:
                    X[...] = 0
                    Y[...] = 0
            return Y

        return step_sampledsystem
