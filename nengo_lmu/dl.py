"""NengoDL support: a native TensorFlow implementation of `.LinearSystem`.

Importing this module (which a NengoDL build of a `.LinearSystem` does, see
`nengo_lmu.builders`) teaches `nengo_dl.Simulator` to run
every `.LinearSystem` (the process of a `nengo.Node`, the synapse of a
`nengo.Connection` or `nengo.Probe`) as TensorFlow ops: batched over the minibatch, merged across
systems of the same shape, differentiable, and without NengoDL's Python
fallback for generic processes. The reference simulator is unaffected.

A `.TimeScaledSystem` (whose time-scale ``s`` is an input, so that a
connection weight feeding it is trained like any other) gets its own operator
type, `SimTimeScaledSystem`, built by `TimeScaledSystemBuilder` (see it for
the cost of a trainable ``s``).

How it hooks into NengoDL 3.6
-----------------------------
NengoDL's documented table of process implementations,
``nengo_dl.process_builders.SimProcessBuilder.TF_PROCESS_IMPL``, cannot be
used: ``SimProcessBuilder.mergeable`` raises ``NotImplementedError`` for any
process in that table other than ``Lowpass`` and ``LinearFilter``, which
happens as soon as a network holds two systems with the same number of
channels (for instance two `.LegendreMemory` networks). Instead this module
uses NengoDL's two other registries, the ones NengoDL itself uses for
``TensorNode``:

* ``nengo_dl.builder.NengoBuilder.register(LinearSystem)``: in NengoDL builds
  only, a `.LinearSystem` becomes a `SimLinearSystem` operator (a
  `~nengo.builder.processes.SimProcess` with its own operator type);
* ``nengo_dl.builder.Builder.register(SimLinearSystem)``: those operators are
  built, and merged, by `LinearSystemBuilder`.

NengoDL's optional ``transitive_planner`` only accepts the operator types it
lists, so it does not work with this operator; the default ``tree_planner``,
``greedy_planner`` and ``noop_planner`` do.

One more registration replaces NengoDL's builder of ``DotInc`` and ``DotSet``
(the product of every connection's weights) with `DotIncBuilder`, NengoDL's
own builder with one case made cheaper: a lone product of fixed weights,
which NengoDL computes by transposing the input, multiplying and transposing
back, becomes one matrix product. The results are the same (tested against
NengoDL's builder, outputs and gradients); in a TensorFlow profile of the
LMU's step-by-step training step, those transposes had taken more time than
the products themselves (``benchmarks/train_speed.py`` times the steps). It
applies to every network NengoDL builds once this module is imported; so
does the consequence that NengoDL's ``transitive_planner``, which lists the
builder types it knows, no longer accepts any network with a connection
(its assertion names the missing builder type).
"""

import warnings

import nengo_dl
import numpy as np
import tensorflow as tf
from nengo.builder import Signal
from nengo.builder.operator import DotInc
from nengo.builder.processes import SimProcess
from nengo.exceptions import BuildError, ValidationError
from nengo.params import BoolParam
from nengo_dl.builder import Builder, NengoBuilder, OpBuilder
from nengo_dl.op_builders import DotSet

from nengo_lmu.params import (
    FiniteNumberParam,
    IntegerParam,
    check_float_dtype,
    check_network,
    check_param,
)
from nengo_lmu.system import LinearSystem, TimeScaledSystem


class SimLinearSystem(SimProcess):
    """Simulate a `.LinearSystem` (the operator NengoDL builds with it).

    Same signals and semantics as `~nengo.builder.processes.SimProcess`
    (whose ``make_step`` it keeps); a distinct type so that NengoDL builds it
    with `LinearSystemBuilder`. A system without state (``state_d == 0``) has
    no state signal.
    """


@NengoBuilder.register(LinearSystem)
def build_linear_system(model, system, sig_in=None, sig_out=None, mode="set"):
    """Build a `.LinearSystem` into a NengoDL model as a `SimLinearSystem`.

    The same as Nengo's ``build_process`` (and called wherever that would be,
    with the same arguments), except for the operator type.
    """
    return _build_system(model, system, sig_in, sig_out, mode, SimLinearSystem)


def build_system(model, system, sig_in=None, sig_out=None, mode="set"):
    """Build a `.LinearSystem` or `.TimeScaledSystem` into a NengoDL model."""
    if isinstance(system, TimeScaledSystem):
        return build_time_scaled_system(model, system, sig_in, sig_out, mode)
    return build_linear_system(model, system, sig_in, sig_out, mode)


def _build_system(model, system, sig_in, sig_out, mode, op_type, extra_state=None):
    """Add an ``op_type`` operator for ``system``; ``extra_state``: more state."""
    # a short label: str(system) prints all of its matrices
    label = (
        f"{type(system).__name__}(state_d={system.state_d}, "
        f"input_d={system.input_d}, output_d={system.output_d})"
    )
    if sig_in is None:
        raise BuildError(f"{label} needs an input signal")
    if sig_out is None:
        sig_out = Signal(shape=sig_in.shape, name=f"{sig_in.name}.{label}")

    # make_state also checks that the system fits these signal shapes
    state_init = system.make_state(
        sig_in.shape, sig_out.shape, model.dt, dtype=sig_out.dtype
    )
    state = {}
    for name, value in state_init.items():
        if value.size > 0:
            state[name] = Signal(value, name=f"{label}.{name}")
            model.sig[system]["_state_" + name] = state[name]
    for name, sig in (extra_state or {}).items():
        state[name] = sig
        model.sig[system]["_state_" + name] = sig

    model.add_op(
        op_type(system, sig_in, sig_out, model.time, mode=mode, state=state, tag=label)
    )
    return sig_out


@Builder.register(SimLinearSystem)
class LinearSystemBuilder(OpBuilder):
    """Build a group of merged `SimLinearSystem` operators.

    Operators merge when their systems have the same shapes (``n`` states,
    ``k`` inputs, ``p`` outputs) and are applied to the same number ``c`` of
    channels (see `mergeable`); the ``G`` ops' discretised matrices are
    stacked, transposed, into ``(G, n, n)``, ``(G, k, n)``, ``(G, n, p)`` and
    ``(G, k, p)`` constants (the leading ``G`` is dropped when ``G = 1``).

    The channels and the minibatch of ``b`` items are folded into the rows of
    the transposed state :math:`X^T`, shape ``(G, b * c, n)``, so one step is

    .. math::

        X_t^T = X_{t-1}^T \\bar{A}^T + U_t^T \\bar{B}^T,
        \\qquad Y_t^T = X_t^T C^T + U_t^T D^T.

    The state update is one (batched, if ``G > 1``) matrix product: for the
    usual single LMU memory, ``(b * c, n)`` by ``(n, n)``, with the
    :math:`\\bar{B}` term a broadcast product when ``k = 1``; for ``k > 1``,
    :math:`[X^T, U^T]` times the stacked :math:`[\\bar{A}^T; \\bar{B}^T]`.
    The output products are skipped when ``C = I, D = 0`` (`.LegendreMemory`)
    and the :math:`D` term when ``D = 0``. NengoDL stores the state signal as
    ``(b, G * n, c)``, so for ``c > 1`` it is transposed on the way in and out
    (measured faster than a broadcast ``A @ X`` over the batch).
    """

    def _combine_signals(self, signals):
        """The merged ops' shapes and signals (shared by every system builder).

        Sets ``n_ops``, ``state_d``, ``input_d``, ``output_d``, ``channels``
        (each op's input holds ``channels * input_d`` values, then the
        system's ``extra_inputs``), ``input_data``, ``output_data``,
        ``state_data`` (with state) and ``mode``.
        """
        op0 = self.ops[0]
        self.n_ops = len(self.ops)
        self.state_d = op0.process.state_d
        self.input_d = op0.process.input_d
        self.output_d = op0.process.output_d
        extra = op0.process.extra_inputs
        self.channels = (op0.input.shape[0] - extra) // self.input_d
        for op in self.ops:
            assert self.mergeable(op, op0)
        assert op0.input.shape == (self.channels * self.input_d + extra,)
        assert op0.output.shape == (self.channels * self.output_d,)

        self.input_data = signals.combine([op.input for op in self.ops])
        self.output_data = signals.combine([op.output for op in self.ops])
        if self.state_d > 0:
            self.state_data = signals.combine([op.state["X"] for op in self.ops])
            assert self.state_data.shape == (self.n_ops * self.state_d, self.channels)
        self.mode = "inc" if op0.mode == "inc" else "update"

    def build_pre(self, signals, config):
        super().build_pre(signals, config)
        self._combine_signals(signals)

        # discretise each system with the simulator's time-step (in float64)
        systems = [op.process.discretize(signals.dt_val) for op in self.ops]
        AT, BT, CT, DT = (
            np.stack([np.asarray(M, dtype=np.float64).T for M in mats])
            for mats in zip(*(s.ss for s in systems))
        )
        self.identity_output = (
            self.state_d == self.output_d
            and np.array_equal(CT, np.broadcast_to(np.eye(self.state_d), CT.shape))
            and not np.any(DT)
        )

        def constant(M):
            return tf.constant(M[0] if self.n_ops == 1 else M, dtype=signals.dtype)

        if self.state_d > 0:
            self.AT = constant(AT)
            self.BT = constant(BT) if self.input_d == 1 else None
            self.ABT = (
                None if self.input_d == 1 else constant(np.concatenate([AT, BT], 1))
            )
        self.CT = None if self.identity_output or self.state_d == 0 else constant(CT)
        self.DT = constant(DT) if np.any(DT) else None

    def _to_rows(self, x, size):
        """Signal data ``(b, G * c * size)`` as rows ``(G, b * c, size)``."""
        b, c, g = x.shape[0], self.channels, self.n_ops
        if g == 1:
            return tf.reshape(x, (b * c, size))
        x = tf.transpose(tf.reshape(x, (b, g, c, size)), (1, 0, 2, 3))
        return tf.reshape(x, (g, b * c, size))

    def _from_rows(self, x, b, size):
        """Inverse of `._to_rows`."""
        c, g = self.channels, self.n_ops
        if g == 1:
            return tf.reshape(x, (b, c * size))
        x = tf.transpose(tf.reshape(x, (g, b, c, size)), (1, 0, 2, 3))
        return tf.reshape(x, (b, g * c * size))

    def _state_to_rows(self, x):
        """State signal ``(b, G * n, c)`` as rows ``(G, b * c, n)``."""
        b, n, c, g = x.shape[0], self.state_d, self.channels, self.n_ops
        if c == 1:
            return self._to_rows(x, n)
        if g == 1:
            return tf.reshape(tf.transpose(x, (0, 2, 1)), (b * c, n))
        x = tf.transpose(tf.reshape(x, (b, g, n, c)), (1, 0, 3, 2))
        return tf.reshape(x, (g, b * c, n))

    def _state_from_rows(self, x, b):
        """Inverse of `._state_to_rows`."""
        n, c, g = self.state_d, self.channels, self.n_ops
        if c == 1:
            return tf.reshape(x, (b, g * n, 1))
        if g == 1:
            return tf.transpose(tf.reshape(x, (b, c, n)), (0, 2, 1))
        x = tf.transpose(tf.reshape(x, (g, b, c, n)), (1, 0, 3, 2))
        return tf.reshape(x, (b, g * n, c))

    def build_step(self, signals):
        b = signals.minibatch_size
        u = self._to_rows(signals.gather(self.input_data), self.input_d)

        x = None
        if self.state_d > 0:
            x = self._state_to_rows(signals.gather(self.state_data))
            if self.input_d == 1:
                # B^T is a row: a broadcast product is cheaper than a matmul
                x = tf.matmul(x, self.AT) + u * self.BT
            else:
                x = tf.matmul(tf.concat([x, u], axis=-1), self.ABT)
        self._write_state_and_output(signals, x, u, b)

    def _write_state_and_output(self, signals, x, u, b):
        """Scatter the new state ``x`` (as rows; None without state) and the
        output ``y = C x + D u``."""
        y = None
        if x is not None:
            signals.scatter(self.state_data, self._state_from_rows(x, b))
            y = x if self.identity_output else tf.matmul(x, self.CT)
        if self.DT is not None and not self.identity_output:
            yd = tf.matmul(u, self.DT)
            y = yd if y is None else y + yd
        if y is None:  # no state and D = 0
            y = tf.zeros(u.shape[:-1].concatenate([self.output_d]), dtype=signals.dtype)
        signals.scatter(
            self.output_data, self._from_rows(y, b, self.output_d), mode=self.mode
        )

    @staticmethod
    def mergeable(x, y):
        """Whether ``x`` can join the group of `SimLinearSystem` ops ``y`` is in.

        Their systems need the same shapes, and their signals the same shapes
        and update mode (NengoDL has already checked the signals' dtypes and
        the number of signals).
        """
        return (
            x.process.state_d == y.process.state_d
            and x.process.input_d == y.process.input_d
            and x.process.output_d == y.process.output_d
            and x.input.shape == y.input.shape
            and x.output.shape == y.output.shape
            and x.mode == y.mode
        )


class DotIncBuilder(nengo_dl.op_builders.DotIncBuilder):
    r"""NengoDL's `~nengo.builder.operator.DotInc` builder, one product cheaper.

    A group of one operator whose ``A`` (e.g. a connection's weights) is not
    minibatched and whose ``X`` is: :math:`Y \mathrel{+}= X A^T` as a single
    ``tf.matmul(X, A, transpose_b=True)`` of the ``(batch, a1)`` input and
    the ``(a0, a1)`` weights, where NengoDL transposes ``X`` to ``(1, a1,
    batch)``, multiplies and transposes back (three ops, and their
    gradients, per connection and step). Every other group is NengoDL's.
    """

    def build_pre(self, signals, config):
        super().build_pre(signals, config)
        self.single = (
            len(self.ops) == 1
            and not self.A_data.minibatched
            and self.X_data.minibatched
        )
        if self.single:
            self.A_matrix = self.A_data.reshape(self.A_data.shape[1:])  # (a0, a1)
            self.X_rows = self.X_data.reshape(self.X_data.shape[1:])  # (a1,)

    def build_step(self, signals):
        if not self.single:
            return super().build_step(signals)
        A = signals.gather(self.A_matrix)
        X = signals.gather(self.X_rows)  # (batch, a1)
        signals.scatter(self.Y_data, tf.matmul(X, A, transpose_b=True), mode=self.mode)
        return None


with warnings.catch_warnings():
    # replacing NengoDL's builder is the point (see the module's docstring)
    warnings.filterwarnings("ignore", message=r"Operator .* already has a builder")
    Builder.register(DotInc)(DotIncBuilder)
    Builder.register(DotSet)(DotIncBuilder)


class SimTimeScaledSystem(SimProcess):
    """Simulate a `.TimeScaledSystem` (the operator NengoDL builds with it).

    Like `SimLinearSystem`, with its own type (and so its own builder,
    `TimeScaledSystemBuilder`: NengoDL never merges it with a
    `SimLinearSystem`). Besides the system's state ``X`` it has, unless the
    method is ``"euler"``, a cache of the last discretisation: ``"s"``, the
    time-scale it was computed at, and ``"ABT"``, :math:`[\\bar{A}^T;
    \\bar{B}^T]` at that ``s``; both are shared by the minibatch.
    """


@NengoBuilder.register(TimeScaledSystem)
def build_time_scaled_system(model, system, sig_in=None, sig_out=None, mode="set"):
    """Build a `.TimeScaledSystem` into a NengoDL model as a `SimTimeScaledSystem`.

    Called wherever Nengo's ``build_process`` would be. The discretisation
    cache starts as the pair :math:`s = 0`, :math:`[\\bar{A}^T; \\bar{B}^T]
    = [I; 0]` (the exact discretisation at :math:`s = 0`, which the
    builder refuses), so the first step computes it.
    """
    extra_state = {}
    n, k = system.state_d, system.input_d
    if n > 0 and system.method != "euler":
        label = f"{type(system).__name__}(state_d={n}, input_d={k})"
        s = Signal(np.zeros(1), name=f"{label}.cache_s")
        abt = Signal(np.eye(n + k, n), name=f"{label}.cache_ABT")
        # one cache for the whole minibatch (the time-scale must be the same
        # for every item, see TimeScaledSystemBuilder): NengoDL makes state
        # signals minibatched unless they already say otherwise
        s.minibatched = abt.minibatched = False
        extra_state = {"s": s, "ABT": abt}
    return _build_system(
        model, system, sig_in, sig_out, mode, SimTimeScaledSystem, extra_state
    )


@Builder.register(SimTimeScaledSystem)
class TimeScaledSystemBuilder(LinearSystemBuilder):
    """Build a group of merged `SimTimeScaledSystem` operators.

    The time-scale :math:`s` is the last input of each operator. It arrives
    as a minibatched signal, but it is one parameter of the model (a
    connection weight times a constant), so every row must hold the same
    value: the builder uses the first row and checks (a TensorFlow assertion,
    which fails the run) that the others equal it and that it is positive.
    The gradient is still right: every item's loss depends on the one weight
    :math:`w` only through :math:`s = w \\cdot 1`, and
    :math:`\\partial s_i / \\partial w` is the same for all items, so sending
    the whole minibatch's gradient through row 0 gives the same
    :math:`\\partial L / \\partial w` as sending each item's through its own
    row. (Feeding the constant node different data per item breaks the
    assumption, and the assertion.)

    The step is that of `LinearSystemBuilder` with :math:`[\\bar{A}^T;
    \\bar{B}^T]` a tensor computed from :math:`s`:

    * ``"euler"``: :math:`X^T \\leftarrow X^T + s\\,dt\\,(X^T A^T + U^T B^T)`,
      a product with the constant :math:`A^T` (no extra cost, and no
      matrix to keep per step for the gradient);
    * ``"zoh"``: the top rows of :math:`\\exp(s\\,dt\\,[[A, B], [0, 0]])`
      (``tf.linalg.expm``), and ``"bilinear"``: one ``tf.linalg.solve``.

    ``expm`` is costly: measured on a 2-core CPU at ``theta = 784`` steps,
    it took longer than the step's product with a minibatch of 32, much
    longer at order 256 than at order 64, longer in float64 than in float32
    and longer again when differentiated by TensorFlow; it grows with
    :math:`\\|s\\,dt\\,A\\|` (more squarings). So the
    discretisation is cached: the operator's state holds the last :math:`s`
    and its matrices, and a step recomputes them (in a ``tf.cond``, through
    one ``tf.function`` so that unrolled steps share its graph) only when
    :math:`s` differs from the cached value. With a constant :math:`s` that
    is once per simulation call (once per minibatch in training), unrolled
    or not; the cache is not minibatched, so keeping it costs one
    :math:`(n + k) \\times n` copy per step.

    The gradient with respect to :math:`s` is exact and does not
    differentiate through ``expm`` (a custom gradient): with
    :math:`\\Phi(s) = \\exp(s\\,dt\\,M)`,
    :math:`d\\Phi / ds = dt\\,M \\Phi`, so :math:`d[\\bar{A}^T;
    \\bar{B}^T]/ds = dt\\,([\\bar{A}^T; \\bar{B}^T] A^T + [0; B^T])` (one
    product per step in the backward pass); for ``"bilinear"``, with
    :math:`N = (I - \\frac{s dt}{2} A)^{-1} = (\\bar{A} + I) / 2`,
    :math:`d\\bar{A}/ds = dt\\,N A N` and :math:`d\\bar{B}/ds =
    \\frac{dt}{2} N (A \\bar{B} + 2 B)`. Second derivatives are not
    provided. That product is an :math:`(n + k) \\times n \\times n` one per
    step of the backward pass, and, as for any matrix computed inside the
    simulation loop, TensorFlow keeps :math:`[\\bar{A}^T; \\bar{B}^T]` of
    every step for the backward pass (:math:`(n + k) n` values per step and
    operator group). Measured with ``sim.fit`` (float32, minibatch 32, 784
    steps), ``"zoh"`` cost more per step than ``"euler"``, a little at
    order 64 and much more at order 256. ``"euler"`` keeps no
    matrices and needs no ``expm``, but is stable only while every
    eigenvalue :math:`z` of :math:`s\\,dt\\,A` has :math:`|1 + z| \\le 1` (a
    Legendre memory of order 256 with ``theta = 784`` steps is not): the
    trade-off keras-lmu documents for ``trainable_theta``.

    Operators merge when `LinearSystemBuilder` would merge them and they
    use the same ``method``; each keeps its own :math:`s` (``G`` of them,
    all recomputed when any changes).
    """

    def build_pre(self, signals, config):
        OpBuilder.build_pre(self, signals, config)
        self._combine_signals(signals)
        g, n, k, p = self.n_ops, self.state_d, self.input_d, self.output_d
        self.method = self.ops[0].process.method
        self.cached = n > 0 and self.method != "euler"
        if self.cached:
            self.cache_s = signals.combine([op.state["s"] for op in self.ops])
            self.cache_abt = signals.combine([op.state["ABT"] for op in self.ops])
            assert not self.cache_s.minibatched and not self.cache_abt.minibatched
            assert self.cache_abt.shape == (g * (n + k), n)

        dt = signals.dt_val
        A, B, C, D = (
            np.stack([np.asarray(M, dtype=np.float64) for M in mats])
            for mats in zip(*(op.process.ss for op in self.ops))
        )
        CT, DT = C.transpose(0, 2, 1), D.transpose(0, 2, 1)
        self.identity_output = (
            n == p
            and np.array_equal(CT, np.broadcast_to(np.eye(n), CT.shape))
            and not np.any(DT)
        )

        def constant(M, squeeze=True):
            M = M[0] if squeeze and g == 1 else M
            return tf.constant(M, dtype=signals.dtype)

        if n > 0:
            AT, BT = A.transpose(0, 2, 1), B.transpose(0, 2, 1)
            # dt A^T, dt B^T: the continuous system per unit of s
            self.ATdt = constant(dt * AT, squeeze=not self.cached)
            self.BTdt = constant(dt * BT, squeeze=not self.cached)
            self.ABTdt = constant(dt * np.concatenate([AT, BT], 1))
            if self.method == "zoh":
                M = np.zeros((g, n + k, n + k))
                M[:, :n, :n], M[:, :n, n:] = A, B
                self.Mdt = constant(dt * M, squeeze=False)
            elif self.method == "bilinear":
                self.Adt = constant(dt * A, squeeze=False)
                self.Bdt = constant(dt * B, squeeze=False)
            self.eye = tf.eye(n, dtype=signals.dtype)
            # a tf.function: its graph is built once, not once per unrolled step
            self._discretize_fn = tf.function(self._discretize, autograph=False)
        self.CT = None if self.identity_output or n == 0 else constant(CT)
        self.DT = constant(DT) if np.any(DT) else None

    def _discretize(self, s):
        """:math:`[\\bar{A}^T; \\bar{B}^T]` at time-scales ``s``, ``(G, n + k, n)``."""
        n = self.state_d
        if self.method == "zoh":
            phi = tf.linalg.expm(s[:, None, None] * self.Mdt)
            return tf.transpose(phi[:, :n, :], (0, 2, 1))
        assert self.method == "bilinear"
        h = s[:, None, None] / 2  # with dt: h A = (s dt / 2) A
        # [A_bar, B_bar] = (I - hA)^-1 [I + hA, 2h B]
        rhs = tf.concat([self.eye + h * self.Adt, 2 * h * self.Bdt], axis=2)
        ab = tf.linalg.solve(self.eye - h * self.Adt, rhs)
        return tf.transpose(ab, (0, 2, 1))

    def _derivative(self, abt):
        """:math:`d[\\bar{A}^T; \\bar{B}^T]/ds` given its value ``abt``."""
        n = self.state_d
        if self.method == "zoh":
            return tf.matmul(abt, self.ATdt) + tf.pad(
                self.BTdt, [[0, 0], [n, 0], [0, 0]]
            )
        adT, bdT = abt[:, :n], abt[:, n:]
        NT = (adT + self.eye) / 2
        dadT = tf.matmul(tf.matmul(NT, self.ATdt), NT)
        dbdT = tf.matmul(tf.matmul(bdT, self.ATdt) + 2 * self.BTdt, NT) / 2
        return tf.concat([dadT, dbdT], axis=1)

    def _cached_discretize(self, s, cache_s, cache_abt):
        """`._discretize` from the cache when ``s`` is the cached value."""

        @tf.custom_gradient
        def discretized(s, cache_s, cache_abt):
            abt = tf.cond(
                tf.reduce_all(tf.equal(s, cache_s)),
                lambda: cache_abt,
                lambda: self._discretize_fn(s),
            )

            def grad(d_abt):
                d_s = tf.reduce_sum(d_abt * self._derivative(abt), axis=(1, 2))
                return d_s, None, None

            return abt, grad

        return discretized(s, cache_s, cache_abt)

    def build_step(self, signals):
        b, g, c = signals.minibatch_size, self.n_ops, self.channels
        n, k = self.state_d, self.input_d

        inp = tf.reshape(signals.gather(self.input_data), (b, g, c * k + 1))
        u = self._to_rows(tf.reshape(inp[:, :, : c * k], (b, g * c * k)), k)
        s_all = inp[:, :, c * k]  # (b, G)
        s = s_all[0]
        # plain Assert ops (tf.debugging.assert_* build many more ops per step)
        checks = [
            tf.debugging.Assert(
                tf.reduce_all(s > 0),
                ["TimeScaledSystem: the time-scale s must be positive; got", s],
            )
        ]
        if b > 1:
            checks.append(
                tf.debugging.Assert(
                    tf.reduce_all(tf.equal(s_all, s)),
                    [
                        "TimeScaledSystem: the time-scale s must be the same for "
                        "every item of the minibatch; got",
                        s_all,
                    ],
                )
            )

        x = None
        if n > 0:
            x = self._state_to_rows(signals.gather(self.state_data))
            if not self.cached:  # euler: x + s dt (x A^T + u B^T)
                sdt = s[0] if g == 1 else s[:, None, None]
                if k == 1:
                    dx = tf.matmul(x, self.ATdt) + u * self.BTdt
                else:
                    dx = tf.matmul(tf.concat([x, u], axis=-1), self.ABTdt)
                x = x + sdt * dx
            else:
                cache_abt = tf.reshape(signals.gather(self.cache_abt), (g, n + k, n))
                abt = self._cached_discretize(
                    s, signals.gather(self.cache_s), cache_abt
                )
                signals.scatter(self.cache_s, s)
                signals.scatter(self.cache_abt, tf.reshape(abt, (g * (n + k), n)))
                abt = abt[0] if g == 1 else abt
                if k == 1:  # B^T is a row: a broadcast product is cheaper
                    x = tf.matmul(x, abt[..., :n, :]) + u * abt[..., n:, :]
                else:
                    x = tf.matmul(tf.concat([x, u], axis=-1), abt)
        self._write_state_and_output(signals, x, u, b)
        return checks

    @staticmethod
    def mergeable(x, y):
        """As `LinearSystemBuilder.mergeable`, and the same ``method``."""
        return (
            LinearSystemBuilder.mergeable(x, y)
            and x.process.method == y.process.method
        )


#: ``unroll_simulation`` that trained the psMNIST-shaped LMU fastest
#: (benchmarks/train_speed.py; sequence lengths must be a multiple of it).
RECOMMENDED_UNROLL = 16


def configure_settings(**kwargs):
    """`nengo_dl.configure_settings` with defaults that suit LMU networks.

    Call it inside the top-level network, as NengoDL's own. It sets NengoDL's
    noop planner and noop signal sorter unless ``kwargs`` say otherwise: for
    LMUs NengoDL's default tree planner groups operators into a much slower
    schedule, and with the noop sorter and
    ``unroll_simulation=RECOMMENDED_UNROLL`` (a Simulator argument) training
    comes closest to keras-lmu's speed (``benchmarks/train_speed.py`` times
    both settings against keras-lmu; ``benchmarks/results/train_speed.json``).
    Results are the same either way; only the schedule differs.

    Unlike NengoDL's, it refuses a setting NengoDL does not have, or a value
    of the wrong kind (``stateful="no"``), with a
    `~nengo.exceptions.ValidationError` naming the setting.

    TensorFlow's thread pools are a process-wide choice this function leaves
    alone. On a 2-core CPU, ``tf.config.threading.set_inter_op_parallelism_threads(2)``
    and ``set_intra_op_parallelism_threads(1)``, called before TensorFlow
    runs anything, made training steps of the psMNIST-shaped LMU faster than
    TensorFlow's default thread pools, and keras-lmu's alike.

    Examples
    --------
    >>> import nengo
    >>> with nengo.Network() as net:
    ...     configure_settings(stateful=False)
    >>> net.config[net].planner.__name__
    'noop_planner'
    """
    for name, value in kwargs.items():
        _check_setting(name, value)
    kwargs.setdefault("planner", nengo_dl.graph_optimizer.noop_planner)
    kwargs.setdefault("sorter", nengo_dl.graph_optimizer.noop_order_signals)
    if kwargs["planner"] is nengo_dl.graph_optimizer.transitive_planner:
        raise ValidationError(
            "NengoDL's transitive_planner only accepts NengoDL's own operator "
            "builders, not this module's (see its docstring): use the noop "
            "(default here), tree or greedy planner",
            attr="planner",
        )
    nengo_dl.configure_settings(**kwargs)


#: The settings of `nengo_dl.configure_settings` (NengoDL 3.6) and the
#: parameters that check their values.
_SETTINGS = dict(
    trainable=BoolParam("trainable", optional=True),
    keep_history=BoolParam("keep_history"),
    stateful=BoolParam("stateful"),
    use_loop=BoolParam("use_loop"),
    inference_only=BoolParam("inference_only"),
    learning_phase=BoolParam("learning_phase", optional=True),
    lif_smoothing=FiniteNumberParam("lif_smoothing", low=0, low_open=True, optional=True),
    planner=None,
    sorter=None,
    simplifications=None,
    dtype=None,
)


def _check_setting(name, value):
    """Refuse an unknown NengoDL setting or a value of the wrong kind, by name."""
    if name not in _SETTINGS:
        raise ValidationError(
            f"is not a NengoDL setting (configure_settings takes {sorted(_SETTINGS)})",
            attr=name,
        )
    if _SETTINGS[name] is not None:
        check_param(_SETTINGS[name], value)
    elif name in ("planner", "sorter") and not callable(value):
        raise ValidationError(
            f"must be one of NengoDL's graph_optimizer functions (got {value!r})",
            attr=name,
        )
    elif name == "simplifications" and (
        isinstance(value, str) or not all(callable(f) for f in np.ravel(value))
    ):
        raise ValidationError(
            f"must be a list of NengoDL's simplification functions (got {value!r})",
            attr=name,
        )
    elif name == "dtype":
        check_float_dtype(value, attr=name)


def unroll_for(n_steps, preferred=RECOMMENDED_UNROLL):
    """An ``unroll_simulation`` dividing ``n_steps``, or None if none is near.

    NengoDL needs the unroll to divide the number of steps of the data. This
    is ``n_steps`` itself up to ``2 * preferred`` steps (one unrolled block),
    else the divisor of ``n_steps`` closest to ``preferred`` (the larger on a
    tie) within ``[preferred / 2, 2 * preferred]``, else None (e.g. a prime
    length): then `prepare_sequences` pads instead.

    Examples
    --------
    >>> unroll_for(784), unroll_for(150), unroll_for(24), unroll_for(251)
    (16, 15, 24, None)
    """
    n_steps = _check_int("n_steps", n_steps)
    preferred = _check_int("preferred", preferred)
    low, high = max(1, preferred // 2), 2 * preferred
    if n_steps <= high:  # short: one unrolled block
        return n_steps
    divisors = [d for d in range(low, high + 1) if n_steps % d == 0]
    if not divisors:
        return None
    return min(divisors, key=lambda d: (abs(d - preferred), -d))


def _check_int(name, value, low=1):
    """An integer of at least ``low`` (`.IntegerParam`: not a bool)."""
    return int(check_param(IntegerParam(name, low=low), value))


def prepare_sequences(x, *targets, network=None, preferred=RECOMMENDED_UNROLL):
    """Sequences of any length ready for NengoDL: ``(unroll, x, *targets)``.

    Picks ``unroll_simulation`` with `unroll_for`; where no divisor of the
    length is near ``preferred``, pads every array with leading zeros (along
    the step axis) to a multiple of ``preferred`` and uses that.

    ``x`` may also be a list of series of different lengths, each of shape
    ``(steps_i, dims)``: they are padded with leading zeros to the longest,
    so that every series ends on the last step (as `.datasets.ucr` pads the
    archive's series), before any padding for the unroll. Series ``i`` then
    starts ``steps - steps_i`` steps in, ``steps`` being the returned
    arrays' length.

    Leading zeros are exact for an LMU whose memory starts at rest and stays
    there while its input is zero: its states, and so every output from the
    first real step on, are those of the unpadded sequence. That holds for
    an exact memory without ``hidden_to_memory`` and ``hidden_to_hidden``
    (the hidden layer's bias would make ``h`` nonzero during the padding);
    ``network`` is checked for them (a ValidationError names the flag).
    Outputs of the padded steps themselves are not meaningful: train
    per-step targets only where they are real (pad ``targets`` too, and mask
    or drop the leading part), or train on the last step only.

    Parameters
    ----------
    x : array_like or list of array_like
        Inputs, shape ``(n, steps, dims)``, or a list of ``n`` series of
        shape ``(steps_i, dims)``. Finite numbers.
    *targets : array_like or list of array_like
        Per-step arrays of the same ``(n, steps)`` to pad alike (e.g. targets
        of every step), or, with a list of series, lists of per-step arrays
        of each series' length; arrays for the last step only need no
        padding. Finite numbers.
    network : nengo.Network, optional
        The network the sequences are for (checked as above when padding).
    preferred : int, optional
        The unroll wanted (`RECOMMENDED_UNROLL`).

    Returns
    -------
    unroll : int
    x, *targets : ndarray
        Padded with ``pad`` leading zero steps where needed (``pad = 0``
        otherwise).

    Raises
    ------
    nengo.exceptions.ValidationError
        Naming ``x``, ``targets``, ``network`` or ``preferred`` when one has
        the wrong shape or kind or is not finite; naming a flag of
        ``network`` when padding would change its outputs.

    Examples
    --------
    >>> unroll, x = prepare_sequences(np.ones((2, 251, 1)))
    >>> unroll, x.shape, x[0, :5, 0].tolist()
    (16, (2, 256, 1), [0.0, 0.0, 0.0, 0.0, 0.0])

    Series of different lengths end on the same (last) step:

    >>> unroll, x = prepare_sequences([np.ones((3, 1)), np.ones((5, 1))])
    >>> unroll, x[:, :, 0].tolist()
    (5, [[0.0, 0.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0]])
    """
    from nengo_lmu.measure import check_sequences  # noqa: PLC0415

    preferred = _check_int("preferred", preferred)
    network = check_network(network, optional=True)
    series = _ragged_series(x)
    lengths = None if series is None else [len(item) for item in series]
    if series is not None:
        x = _pad_series(series, max(lengths), "x")
    x = check_sequences(x, attr="x")
    n, steps = x.shape[:2]
    targets = [_check_targets(t, n, steps, lengths) for t in targets]
    unroll = unroll_for(steps, preferred)
    pad = 0 if unroll is not None else -steps % preferred
    if network is not None and (pad or lengths is not None):
        _check_padding_is_exact(network)
    if unroll is not None:
        return (unroll, x, *targets)

    def padded(a):
        zeros = np.zeros((n, pad) + a.shape[2:], dtype=a.dtype)
        return np.concatenate([zeros, a], axis=1)

    return (preferred, padded(x), *(padded(t) for t in targets))


def _ragged_series(x):
    """The series of ``x`` as 2-D arrays ``(steps_i, dims)`` if ``x`` is a list
    (or object array) of series of different lengths, else None; 1-D series
    (a univariate series as ``(steps_i,)``) have one dimension."""
    ragged_array = isinstance(x, np.ndarray) and x.dtype == object and x.ndim == 1
    if not (isinstance(x, (list, tuple)) or ragged_array) or len(x) == 0:
        return None
    try:
        ndims = {np.ndim(item) for item in x}
    except ValueError:  # ragged deeper down: check_sequences says so
        return None
    if ndims == {1}:
        items = [np.asarray(item)[:, None] for item in x]
    elif ndims == {2}:
        items = list(x)
    else:
        return None
    return items if len({len(item) for item in items}) > 1 else None


def _pad_series(items, steps, attr, lengths=None):
    """Stack the series ``items`` into ``(n, steps, ...)``, zeros in front."""
    try:
        arrays = [np.asarray(item) for item in items]
    except ValueError as err:
        raise ValidationError(f"each series must be an array ({err})", attr=attr) from err
    if lengths is not None and [len(a) if a.ndim else None for a in arrays] != lengths:
        raise ValidationError(
            f"with series of different lengths, each per-step array must have its "
            f"series' length, {lengths} (got "
            f"{[a.shape[0] if a.ndim else None for a in arrays]})",
            attr=attr,
        )
    empty = [i for i, a in enumerate(arrays) if a.ndim == 0 or len(a) == 0]
    if empty:
        raise ValidationError(f"series {empty} have no steps", attr=attr)
    tails = sorted({a.shape[1:] for a in arrays})
    if len(tails) > 1:
        raise ValidationError(
            f"series of different lengths must agree in their other dimensions "
            f"(got {tails})",
            attr=attr,
        )
    out = np.zeros((len(arrays), steps) + tails[0], dtype=np.result_type(*arrays))
    for i, a in enumerate(arrays):
        out[i, steps - len(a) :] = a
    return out


def _check_targets(t, n, steps, lengths):
    """A per-step array of ``(n, steps)`` (padded like ``x`` from a list of
    series of ``lengths``), finite."""
    if lengths is not None and isinstance(t, (list, tuple)) and len(t) == n:
        t = _pad_series(t, steps, "targets", lengths)
    try:
        t = np.asarray(t)
    except ValueError as err:
        raise ValidationError(f"must be arrays ({err})", attr="targets") from err
    if t.shape[:2] != (n, steps):
        raise ValidationError(
            f"per-step arrays must share x's (n, steps) = {(n, steps)} "
            f"(got {t.shape})",
            attr="targets",
        )
    if not (np.issubdtype(t.dtype, np.number) or t.dtype == bool):
        raise ValidationError(f"must be numbers (got dtype {t.dtype})", attr="targets")
    if np.issubdtype(t.dtype, np.inexact) and not np.all(np.isfinite(t)):
        raise ValidationError("must be finite (has NaN or infinity)", attr="targets")
    return t


def _check_padding_is_exact(network):
    from nengo_lmu.networks.lmu import LMU  # noqa: PLC0415

    for lmu in (n for n in [network] + network.all_networks if isinstance(n, LMU)):
        for flag in ("hidden_to_memory", "hidden_to_hidden"):
            if getattr(lmu, flag):
                raise ValidationError(
                    f"{lmu} uses {flag}: its hidden state is not at rest during "
                    "leading zero padding, so padded sequences would change its "
                    "outputs. Give sequences whose length has a divisor near the "
                    "unroll (see unroll_for), or pass unroll_simulation=1",
                    attr=flag,
                    obj=lmu,
                )
        if lmu.memory.n_neurons is not None:
            raise ValidationError(
                f"{lmu} has a neural memory, whose neurons are not at rest for a "
                "zero input: padding would change its outputs",
                attr="network",
            )
