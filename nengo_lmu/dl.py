"""NengoDL support: a native TensorFlow implementation of `.LinearSystem`.

Importing this module (which ``import nengo_lmu`` does whenever NengoDL is
installed) teaches `nengo_dl.Simulator` to run every `.LinearSystem` (the
process of a `nengo.Node`, the synapse of a `nengo.Connection` or
`nengo.Probe`) as TensorFlow ops: batched over the minibatch, merged across
systems of the same shape, differentiable, and without NengoDL's Python
fallback for generic processes. The reference simulator is unaffected.

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
"""

import numpy as np
import tensorflow as tf
from nengo.builder import Signal
from nengo.builder.processes import SimProcess
from nengo.exceptions import BuildError
from nengo_dl.builder import Builder, NengoBuilder, OpBuilder

from nengo_lmu.system import LinearSystem


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

    model.add_op(
        SimLinearSystem(
            system, sig_in, sig_out, model.time, mode=mode, state=state, tag=label
        )
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
    (measured: four times faster than a broadcast ``A @ X`` over the batch).
    """

    def build_pre(self, signals, config):
        super().build_pre(signals, config)

        op0 = self.ops[0]
        self.n_ops = len(self.ops)
        self.state_d = op0.process.state_d
        self.input_d = op0.process.input_d
        self.output_d = op0.process.output_d
        self.channels = op0.input.shape[0] // self.input_d
        for op in self.ops:
            assert self.mergeable(op, op0)
        assert op0.input.shape == (self.channels * self.input_d,)
        assert op0.output.shape == (self.channels * self.output_d,)

        self.input_data = signals.combine([op.input for op in self.ops])
        self.output_data = signals.combine([op.output for op in self.ops])
        if self.state_d > 0:
            self.state_data = signals.combine([op.state["X"] for op in self.ops])
            assert self.state_data.shape == (self.n_ops * self.state_d, self.channels)
        self.mode = "inc" if op0.mode == "inc" else "update"

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

        y = None
        if self.state_d > 0:
            x = self._state_to_rows(signals.gather(self.state_data))
            if self.input_d == 1:
                # B^T is a row: a broadcast product is cheaper than a matmul
                x = tf.matmul(x, self.AT) + u * self.BT
            else:
                x = tf.matmul(tf.concat([x, u], axis=-1), self.ABT)
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
