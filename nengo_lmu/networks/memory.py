"""The Legendre memory as a Nengo network: exact, or realised with neurons."""

import nengo
import numpy as np
from nengo.exceptions import ValidationError
from nengo.neurons import NeuronTypeParam
from nengo.params import BoolParam, EnumParam, IntParam, NumberParam, StringParam
from nengo.synapses import SynapseParam

from nengo_lmu.legendre import legendre_memory
from nengo_lmu.loihi_limits import LOIHI_DECODE_TAU, min_decoded_transform
from nengo_lmu.params import ParamsInState
from nengo_lmu.mapping import normalize, ss2sim, ss2sim_input_derivatives, state_rms
from nengo_lmu.system import DISCRETIZATION_METHODS, LinearSystem, TimeScaledSystem


#: Default ``radius_rms``: how many state RMS fit into an ensemble's radius.
#: Fewer saturate the ensembles on input peaks, more cost resolution; 3.5 did
#: best of the values tried on the delay network (benchmarks/delay_network.py;
#: no results file holds that comparison).
RMS_PER_RADIUS = 3.5

#: L2 regularisation of the recurrent decoders / weights (relative to the
#: largest activity; Nengo's default is 0.1). In a recurrent memory the static
#: decoding distortion is integrated by the loop, so less regularisation wins
#: over the extra spike noise it lets through, down to where that noise
#: dominates: 0.01 did clearly better than Nengo's default on the delay
#: networks of benchmarks/delay_network.py and benchmarks/loihi_delay_network.py,
#: and slightly better than a smaller value on the first (no results file
#: holds these comparisons).
DECODER_REG = 0.01


class LegendreMemory(ParamsInState, nengo.Network):
    """A bank of ``memory_d`` Legendre memories of order ``order``.

    Each input channel :math:`u^{(c)}` drives its own memory

    .. math:: m^{(c)}_t = \\bar{A} m^{(c)}_{t-1} + \\bar{B} u^{(c)}_t,

    where :math:`(\\bar{A}, \\bar{B})` discretise `.legendre_memory` with the
    simulator's ``dt`` at build time. ``theta=784`` simulated with ``dt=1`` is
    keras-lmu's step convention; ``theta=0.784`` with ``dt=0.001`` is the same
    memory in Nengo time. Read delayed inputs out of ``output`` with
    `.legendre_readout`.

    With ``n_neurons`` set, the memory is realised by neurons instead (NEF
    principle 3): one 1-D ensemble of ``n_neurons`` per state and channel,
    representing the state divided by its expected magnitude
    (:math:`x' = x / s`, `.state_rms` for white noise up to ``input_high`` Hz
    of RMS ``input_rms``, times ``radius_rms``, so the radius is used). The recurrent
    and input transforms come from `.ss2sim` for ``synapse``, mapped exactly
    at ``dt``. ``output`` stays in Legendre coordinates (``s x'``), so
    readouts made for the exact memory apply unchanged. It is the
    post-synaptic state itself, :math:`h * (A' \\hat{x}' + B' u)`, decoded
    through the same synapse as the recurrence (or ``readout_synapse``, with
    its own compensation): no extra filter, and the neural memory runs one
    step (``dt``) behind the exact one. The recurrent decoders use L2
    regularisation ``DECODER_REG`` (0.01).

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
    n_neurons : int, optional
        Neurons per state dimension; None (default) for the exact memory.
        The arguments from ``neuron_type`` to ``ensemble_kwargs`` below
        (but ``dt``) configure the neural memory only: an exact memory
        refuses them (`~nengo.exceptions.ValidationError`) rather than
        ignore them.
    neuron_type : nengo.neurons.NeuronType, optional
        Neuron type of the neural memory (default ``nengo.LIF()``).
    synapse : nengo.Lowpass, optional
        Synapse of the recurrent and input connections (a Lowpass: the only
        synapse Loihi has on chip; default ``nengo.Lowpass(0.1)``).
    dt : float or None, optional
        Time-step the neural mapping (and ``trainable_matrices``) is exact
        for; it must be the simulator's ``dt``, or the build fails with a
        `~nengo.exceptions.BuildError` naming both. None maps the analog
        system instead (neural memory only).
    input_high : float, optional
        Expected input band limit, in Hz; defaults to ``1 / theta``.
    input_rms : float, optional
        Expected input RMS (default 0.5).
    radius_rms : float, optional
        Neural memory: each state ensemble's radius, in RMS of its state
        (default ``RMS_PER_RADIUS``, 3.5). Less leaves more saturation on
        input peaks but more resolution, which pays where spike noise
        dominates: Loihi's tuning (see `nengo_lmu.loihi.MEMORY_TUNING`)
        takes 2.5.
    target : {"nengo", "loihi"}, optional
        Default ``"nengo"``. ``"loihi"`` lays the connections out for nengo-loihi (see
        `nengo_lmu.loihi`): the input reaches the chip once per Lowpass it
        must see, and without ``weights`` the recurrence is mapped through
        ``synapse`` followed by the 5 ms decode-neuron Lowpass.
    weights : bool, optional
        Connect neurons to neurons (``solver=LstsqL2(weights=True)``)
        instead of through decoders; on Loihi this avoids decode neurons.
        Defaults to True for ``target="loihi"`` (the more accurate there:
        state NRMSE on the emulator 0.146 ± 0.009 against 0.212 ± 0.027
        through decode neurons, nengo-loihi's tuning, mean ± population
        standard deviation over 5 seeds in
        ``benchmarks/results/loihi_lmu.json``) and False otherwise.
    readout_synapse : nengo.Lowpass or float, optional
        Neural memory: the synapse through which ``output`` decodes the state
        (the ensembles' spikes), with its own principle-3 compensation
        (`.ss2sim` for it at ``dt``), so ``output`` still tracks the memory one
        step late. None (default): the loop's own synapse. A longer one
        smooths spike noise out of ``output`` without touching the loop, up to
        where the compensation (about ``I + tau A``) amplifies it again, so
        it pays up to a point. On the Loihi delay network (``synapse=0.01``,
        ``benchmarks/results/loihi_delay_network.json``, mean ± population
        standard deviation over 5 seeds), the 18.3 ms readout of Voelker's
        thesis gives window NRMSE 0.156 ± 0.019 on the emulator against
        0.210 ± 0.026 with the loop's own synapse.
    ensemble_kwargs : dict, optional
        Extra arguments of each `nengo.Ensemble` (e.g. ``max_rates``).
    trainable_theta : bool, optional
        Let NengoDL learn the window (keras-lmu's ``trainable_theta``): the
        exact memory becomes a `.TimeScaledSystem` whose time-scale ``s``
        (initially 1) is the weight of ``time_scale_conn``; the learned
        window is ``theta / s`` (`trained_theta`).
    trainable_matrices : bool, optional
        Let NengoDL fine-tune :math:`\bar{A}, \bar{B}` directly: the memory
        becomes connections (``A_connections``, ``B_connections``, one pair
        per channel) initialised to the memory discretised at ``dt``, which
        must then be the simulator's time-step (e.g. ``dt=1`` for a window in
        steps).
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
        Exact memory: the node whose process is ``system``. Neural memory:
        the normalised state :math:`x'`, ``memory_d * order`` values.
    state_ensembles : list of nengo.Ensemble
        Neural memory only: the ensemble of each state, channel-major.
    scales : ndarray
        Neural memory only: the magnitude ``s`` of each of the ``order``
        states (``output = s * state``).
    mapped : LinearSystem
        Neural memory only: ``(A', B')`` of the normalised memory.

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

    #: Arguments only a neural memory uses (an exact one refuses them).
    NEURAL_ONLY_ARGS = (
        "neuron_type",
        "synapse",
        "input_high",
        "input_rms",
        "radius_rms",
        "target",
        "weights",
        "ensemble_kwargs",
        "readout_synapse",
    )

    order = IntParam("order", low=1)
    theta = NumberParam("theta", low=0, low_open=True)
    memory_d = IntParam("memory_d", low=1)
    method = EnumParam("method", values=DISCRETIZATION_METHODS)
    n_neurons = IntParam("n_neurons", low=1, optional=True)
    neuron_type = NeuronTypeParam("neuron_type")
    synapse = SynapseParam("synapse")
    dt = NumberParam("dt", low=0, low_open=True, optional=True)
    input_high = NumberParam("input_high", low=0, low_open=True, optional=True)
    input_rms = NumberParam("input_rms", low=0, low_open=True)
    radius_rms = NumberParam("radius_rms", low=0, low_open=True)
    target = EnumParam("target", values=("nengo", "loihi"))
    weights = BoolParam("weights", optional=True)
    readout_synapse = SynapseParam("readout_synapse", optional=True)
    trainable_theta = BoolParam("trainable_theta")
    trainable_matrices = BoolParam("trainable_matrices")

    def __init__(
        self,
        order,
        theta,
        memory_d=1,
        method="zoh",
        n_neurons=None,
        neuron_type=None,
        synapse=None,
        dt=0.001,
        input_high=None,
        input_rms=None,
        radius_rms=None,
        target=None,
        weights=None,
        ensemble_kwargs=None,
        readout_synapse=None,
        trainable_theta=False,
        trainable_matrices=False,
        **kwargs,
    ):
        kwargs.setdefault("label", "LegendreMemory")
        super().__init__(**kwargs)
        self.order = order
        self.theta = theta
        self.memory_d = memory_d
        self.method = method
        self.n_neurons = n_neurons
        given = locals()
        if n_neurons is None:
            for name, value in ((n, given[n]) for n in self.NEURAL_ONLY_ARGS):
                if value is not None:
                    raise ValidationError(
                        "only a neural memory uses it, and this one is exact "
                        "(n_neurons=None): set n_neurons, or leave it out",
                        attr=name,
                        obj=self,
                    )
        self.neuron_type = nengo.LIF() if neuron_type is None else neuron_type
        self.synapse = nengo.Lowpass(0.1) if synapse is None else synapse
        self.dt = dt
        self.input_high = input_high
        self.input_rms = 0.5 if input_rms is None else input_rms
        self.radius_rms = RMS_PER_RADIUS if radius_rms is None else radius_rms
        self.target = "nengo" if target is None else target
        self.weights = (self.target == "loihi") if weights is None else weights
        self.readout_synapse = readout_synapse
        self.ensemble_kwargs = dict(ensemble_kwargs or {})
        self.trainable_theta = trainable_theta
        self.trainable_matrices = trainable_matrices
        for flag in ("trainable_theta", "trainable_matrices"):
            if getattr(self, flag) and n_neurons is not None:
                raise ValidationError(
                    "applies to the exact memory (n_neurons=None), the one that "
                    "is trained; a neural memory realises a trained one",
                    attr=flag,
                    obj=self,
                )
        if trainable_matrices and self.dt is None:
            raise ValidationError(
                "trainable_matrices needs the simulator's dt to discretise the "
                "memory at construction",
                attr="dt",
                obj=self,
            )
        if trainable_theta and trainable_matrices:
            raise ValidationError(
                "trainable_theta and trainable_matrices exclude each other: "
                "training the matrices already trains the time-scale",
                attr="trainable_matrices",
                obj=self,
            )
        if not isinstance(self.synapse, nengo.Lowpass):
            raise ValidationError(
                f"must be a nengo.Lowpass (got {self.synapse!r})", "synapse", obj=self
            )
        if isinstance(self.neuron_type, nengo.Direct) and self.weights:
            raise ValidationError(
                "Direct neurons cannot use neuron-to-neuron weights",
                "weights",
                obj=self,
            )

        A, B = legendre_memory(order, theta)
        self.system = LinearSystem(
            (A, B, np.eye(order), np.zeros((order, 1))), method=method
        )
        with self:
            self.input = nengo.Node(size_in=memory_d, label="input")
            self.output = nengo.Node(size_in=memory_d * order, label="output")
            if trainable_matrices:
                self._build_trainable_matrices()
            elif n_neurons is None:
                self._build_exact()
            else:
                self._build_neural(dict(self.ensemble_kwargs))

    def _build_exact(self):
        d, q = self.memory_d, self.order
        if self.trainable_theta:
            # the time-scale s enters as the last input, through a trainable
            # weight; the effective window is theta / s
            self.system = TimeScaledSystem(self.system)
            size_in = d + 1
        else:
            size_in = d
        self.state = nengo.Node(
            self.system, size_in=size_in, size_out=d * q, label="state"
        )
        nengo.Connection(self.input, self.state[:d], synapse=None)
        nengo.Connection(self.state, self.output, synapse=None)
        if self.trainable_theta:
            self.time_scale = nengo.Node(1.0, label="time_scale")
            self.time_scale_conn = nengo.Connection(
                self.time_scale, self.state[d], transform=1.0, synapse=None
            )

    def _build_trainable_matrices(self):
        """m_t = Abar m_{t-1} + Bbar u_t as connection weights (trainable in NengoDL).

        The state node passes its input through (``_bound_identity``, which
        refuses a simulator of another ``dt``); the recurrence's ``synapse=0``
        is Nengo's one-step delay. ``Abar, Bbar`` discretise the memory at
        ``self.dt``, which must be the simulator's time-step.
        """
        q = self.order
        Ad, Bd, _, _ = self.system.discretize(self.dt).ss
        size = self.memory_d * q
        self.state = nengo.Node(
            _bound_identity(self.dt, f"{self}"), size_in=size, size_out=size, label="state"
        )
        self.A_connections, self.B_connections = [], []
        for c in range(self.memory_d):
            channel = self.state[c * q : (c + 1) * q]
            self.B_connections.append(
                nengo.Connection(self.input[c], channel, transform=Bd, synapse=None)
            )
            self.A_connections.append(
                nengo.Connection(channel, channel, transform=Ad, synapse=0)
            )
        nengo.Connection(self.state, self.output, synapse=None)

    def trained_theta(self, sim=None):
        """The window the memory has learned, ``theta / s`` (``trainable_theta``).

        ``s`` is read from ``sim`` (a simulator that built the memory) or, if
        None, from the network (after ``sim.freeze_params``).
        """
        if not self.trainable_theta:
            return self.theta
        if sim is not None:
            s = sim.data[self.time_scale_conn].weights
        else:
            s = self.time_scale_conn.transform.init
        return self.theta / float(np.squeeze(s))

    @property
    def loop_synapse(self):
        """The synapse the recurrence really sees (with Loihi's decode Lowpass)."""
        if self.target == "loihi" and not self.weights:
            return self.synapse.combine(nengo.Lowpass(LOIHI_DECODE_TAU))
        return self.synapse

    def _build_neural(self, ensemble_kwargs):
        q, tau = self.order, self.synapse.tau
        high = 1.0 / self.theta if self.input_high is None else self.input_high
        self.scales = self.radius_rms * state_rms(self.system, high, rms=self.input_rms)
        normed = normalize(self.system, self.scales)
        loop = self.loop_synapse
        self.mapped = ss2sim(normed, loop, dt=self.dt)
        Ap, Bp = self.mapped.A, self.mapped.B[:, 0]
        # the input terms in u', u'', ... (none for a Lowpass), fed through s^j h(s)
        on_loihi = self.target == "loihi"
        # on Loihi the post block's single filter is the largest tau it receives:
        # with weights, the recurrence sets it to tau and the input must come
        # unfiltered; through decode neurons it is 5 ms and the host filters first
        input_synapse = None if on_loihi and self.weights else self.synapse

        def derivative(j, h):  # s^j h(s)
            return nengo.LinearFilter(np.r_[1.0, np.zeros(j)], h.den)

        derivs = [  # the input terms in u', u'', ... (none for a Lowpass)
            (Bj[:, 0], derivative(j, self.synapse), derivative(j, loop))
            for j, Bj in enumerate(ss2sim_input_derivatives(normed, loop))
            if j > 0
        ]
        solver = nengo.solvers.LstsqL2(weights=self.weights, reg=DECODER_REG)
        # the output decodes the state through its own (compensated) synapse
        readout = self.readout_synapse
        if readout is None:
            readout, out_map = loop, self.mapped
        else:
            if not isinstance(readout, nengo.Lowpass):
                raise ValidationError(
                    f"must be a nengo.Lowpass (got {readout!r})",
                    "readout_synapse",
                    obj=self,
                )
            if self.target == "loihi" and not self.weights:
                readout = readout.combine(nengo.Lowpass(LOIHI_DECODE_TAU))
            out_map = ss2sim(normed, readout, dt=self.dt)
        Ao, Bo = out_map.A, out_map.B[:, 0]
        out_derivs = [
            (Bj[:, 0], derivative(j, readout))
            for j, Bj in enumerate(ss2sim_input_derivatives(normed, readout))
            if j > 0
        ]

        # not a passthrough: nengo-loihi would remove a passthrough node
        # between the chip and the host, and lose the decoded output. Mapped
        # at dt, it refuses a simulator of another dt
        self.state = nengo.Node(
            _identity if self.dt is None else _bound_identity(self.dt, f"{self}"),
            size_in=self.memory_d * q,
            size_out=self.memory_d * q,
            label="state",
        )
        nengo.Connection(
            self.state,
            self.output,
            transform=np.tile(self.scales, self.memory_d),
            synapse=None,
        )
        self.state_ensembles = []
        for c in range(self.memory_d):
            ens = [
                nengo.Ensemble(
                    self.n_neurons,
                    1,
                    neuron_type=self.neuron_type,
                    label=f"x[{c}, {i}]",
                    **ensemble_kwargs,
                )
                for i in range(q)
            ]
            self.state_ensembles.extend(ens)
            u = self.input[c]
            x = self.state[c * q : (c + 1) * q]
            for i in range(q):
                for copy in range(self._input_copies(Bp[i])):
                    nengo.Connection(
                        u,
                        ens[i],
                        transform=Bp[i] / self._input_copies(Bp[i]),
                        synapse=input_synapse,
                    )
                for Bj, syn, _ in derivs:  # the chip adds the 5 ms Lowpass
                    nengo.Connection(u, ens[i], transform=Bj[i], synapse=syn)
                for j in range(q):
                    for a in self._split_recurrent(Ap[i, j]):
                        nengo.Connection(
                            ens[j], ens[i], transform=a, synapse=self.synapse, solver=solver
                        )
                # the state (on the host): by default what the ensembles receive
                nengo.Connection(
                    ens[i], x, transform=Ao[:, i : i + 1], synapse=readout
                )
            nengo.Connection(u, x, transform=Bo[:, None], synapse=readout)
            for Bj, syn in out_derivs:
                nengo.Connection(u, x, transform=Bj[:, None], synapse=syn)

    def _split_recurrent(self, a):
        """On Loihi, a decoded connection goes through its own decode neurons,
        whose weight exponent search fails when all its weights are tiny
        (`nengo_lmu.loihi_limits.min_decoded_transform`). Realise a small transform
        ``a`` as ``(a + m) - m`` over two connections, each of magnitude >= m."""
        if self.target != "loihi" or self.weights:
            return [a]
        m = min_decoded_transform(self.n_neurons)
        if abs(a) >= m:
            return [a]
        sign = 1.0 if a >= 0 else -1.0
        return [a + sign * m, -sign * m]

    def _input_copies(self, b):
        """Loihi encodes host input with on/off neurons of at most one spike per
        step: values beyond the radius saturate. Split a large input transform
        over parallel connections so each carries at most 3 RMS of input."""
        if self.target != "loihi":
            return 1
        return max(1, int(np.ceil(abs(b) * 3 * self.input_rms)))


def _identity(t, x):
    return x


class _TimeStepGuard(LinearSystem):
    """A digital `.LinearSystem` passing each channel through, bound to ``dt``.

    As a `nengo.Node`'s output it is a passthrough that only a simulator of
    time-step ``dt`` builds (`.LinearSystem.check_dt`): the guard of
    transforms that ``owner`` computed for that ``dt``.
    """

    owner = StringParam("owner", readonly=True)

    def __init__(self, dt, owner="network"):
        super().__init__(
            (np.zeros((0, 0)), np.zeros((0, 1)), np.zeros((1, 0)), np.ones((1, 1))),
            analog=False,
            dt=dt,
        )
        self.owner = owner

    def _describe(self):
        return f"{self.owner} (its transforms were computed for one dt)"


def _bound_identity(dt, owner="LegendreMemory"):
    """``_TimeStepGuard`` of ``owner`` for ``dt``."""
    return _TimeStepGuard(dt, owner=owner)
