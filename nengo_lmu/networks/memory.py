"""The Legendre memory as a Nengo network."""

import nengo
import numpy as np
from nengo.params import EnumParam, IntParam, NumberParam

from nengo_lmu.legendre import legendre_memory
from nengo_lmu.system import DISCRETIZATION_METHODS, LinearSystem


class LegendreMemory(nengo.Network):
    """A bank of ``memory_d`` Legendre memories of order ``order``.

    Each input channel :math:`u^{(c)}` drives its own memory

    .. math:: m^{(c)}_t = \\bar{A} m^{(c)}_{t-1} + \\bar{B} u^{(c)}_t,

    where :math:`(\\bar{A}, \\bar{B})` discretise `.legendre_memory` with the
    simulator's ``dt`` at build time. ``theta=784`` simulated with ``dt=1`` is
    keras-lmu's step convention; ``theta=0.784`` with ``dt=0.001`` is the same
    memory in Nengo time. Read delayed inputs out of ``output`` with
    `.legendre_readout`.

    Parameters
    ----------
    order : int
        Order of each memory (Legendre polynomials per channel).
    theta : float
        Window length, in seconds of simulated time.
    memory_d : int, optional
        Number of channels (independent memories).
    method : {"zoh", "euler", "bilinear"}, optional
        Discretisation of the continuous memory (see `.LinearSystem`).
    **kwargs
        Passed to `nengo.Network`.

    Attributes
    ----------
    input : nengo.Node
        The ``memory_d`` input channels.
    output : nengo.Node
        The ``memory_d * order`` memory states, channel-major: channel ``c``
        occupies ``[c * order:(c + 1) * order]``.
    system : LinearSystem
        The continuous single-channel memory (``C = I``, ``D = 0``).
    state : nengo.Node
        The node whose process is ``system``.

    Examples
    --------
    >>> import nengo
    >>> with nengo.Network() as net:
    ...     stim = nengo.Node(1.0)
    ...     mem = LegendreMemory(order=4, theta=0.1)
    ...     conn = nengo.Connection(stim, mem.input, synapse=None)
    ...     probe = nengo.Probe(mem.output)
    >>> with nengo.Simulator(net, progress_bar=False) as sim:
    ...     sim.run_steps(500)
    >>> np.round(sim.data[probe][-1], 3) + 0  # a constant fills the window: P_0 only
    array([1., 0., 0., 0.])
    """

    order = IntParam("order", low=1)
    theta = NumberParam("theta", low=0, low_open=True)
    memory_d = IntParam("memory_d", low=1)
    method = EnumParam("method", values=DISCRETIZATION_METHODS)

    def __init__(self, order, theta, memory_d=1, method="zoh", **kwargs):
        kwargs.setdefault("label", "LegendreMemory")
        super().__init__(**kwargs)
        self.order = order
        self.theta = theta
        self.memory_d = memory_d
        self.method = method

        A, B = legendre_memory(order, theta)
        self.system = LinearSystem(
            (A, B, np.eye(order), np.zeros((order, 1))), method=method
        )
        with self:
            self.input = nengo.Node(size_in=memory_d, label="input")
            self.state = nengo.Node(
                self.system, size_in=memory_d, size_out=memory_d * order, label="state"
            )
            self.output = nengo.Node(size_in=memory_d * order, label="output")
            nengo.Connection(self.input, self.state, synapse=None)
            nengo.Connection(self.state, self.output, synapse=None)
