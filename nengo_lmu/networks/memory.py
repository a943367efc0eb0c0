"""The Legendre memory as a Nengo network: exact, or realised with neurons."""

import nengo
import numpy as np
from nengo.exceptions import ValidationError
from nengo.neurons import NeuronTypeParam
from nengo.params import BoolParam, EnumParam

from nengo_lmu.legendre import legendre_memory
from nengo_lmu.networks.linear import (
    DECODER_REG,  # noqa: F401  (documented here since the memory came first)
    NeuralRealization,
    check_ensemble_kwargs,
    loop_synapse,
    refuse_old_target,
    state_node,
)
from nengo_lmu.params import FiniteNumberParam, FiniteSynapseParam, IntegerParam, ParamsInState
from nengo_lmu.mapping import normalize, state_covariance
from nengo_lmu.realizers import RMS, RMS_PER_RADIUS, Balanced, Realization, check_covariance
from nengo_lmu.system import (
    DISCRETIZATION_METHODS,
    LinearSystem,
    SampledSystem,
    TimeScaledSystem,
    check_window,
)


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
    principle 3), laid out by the code that realises any linear system in a
    `.LinearNetwork` (`.NeuralRealization`, with the `.RMS` realizer), once
    per channel: one 1-D ensemble of ``n_neurons`` per state and channel,
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
        Window length, in seconds of simulated time (in steps with a
        simulator of ``dt=1``). It must be at least one time-step: the
        simulator's ``dt`` (else building fails with a
        `~nengo.exceptions.BuildError` naming both), or ``dt`` or
        ``sample_period`` where they are given for a memory that uses them
        (else a `~nengo.exceptions.ValidationError` on construction).
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
    simulator : {"nengo", "loihi"}, optional
        The simulator the connections are laid out for; default ``"nengo"``.
        ``"loihi"`` lays them out for nengo-loihi (see
        `nengo_lmu.loihi`): the input reaches the chip once per Lowpass it
        must see, and without ``weights`` the recurrence is mapped through
        ``synapse`` followed by the 5 ms decode-neuron Lowpass.
        (nengo-loihi's own ``target``, e.g. ``"sim"`` for its emulator, is
        an argument of its simulator: ``nengo_lmu.loihi.Simulator(net,
        target="sim")``.) ``target=`` here, this argument's old name, is
        refused with a `~nengo.exceptions.ValidationError` naming it.
    weights : bool, optional
        Connect neurons to neurons (``solver=LstsqL2(weights=True)``)
        instead of through decoders; on Loihi this avoids decode neurons.
        Defaults to True for ``simulator="loihi"`` (the more accurate there:
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
    reduced_order : int, optional
        Keep only this many states of each memory (exact or neural): the
        memory balanced and truncated (`.Balanced`: for white noise, or
        against ``state_covariance``), weighing each Legendre state
        by its share of the window, :math:`1 / \\sqrt{2i + 1}` (the
        window's :math:`L^2` norm is :math:`\\sum_i m_i^2 / (2i + 1)`).
        ``output`` still holds the ``order`` Legendre states, reconstructed
        from the kept ones (`to_legendre`), so readouts made for the full
        memory apply. The states kept are those the input moves and the
        window holds; the ones dropped carry what the input rarely has (fast
        detail, for a smooth input). Their transforms stay small, which a
        neural memory on Loihi needs (see ``nengo_lmu.loihi``), and the
        exact reduced memory trains the readout that the neural one will
        serve. None (default): all ``order`` states, in Legendre
        coordinates.
    state_covariance : (order, order) array_like, optional
        With ``reduced_order``: the covariance :math:`E[m m^T]` of the full
        memory's states under the input it will see, e.g. measured on
        training data (`.to_spiking` measures it on its ``calibration``
        data). A neural reduced memory also scales each kept state to its
        RMS under it (times ``radius_rms``). Default None: balanced for
        white noise (a stable truncation with an error bound,
        `.Realization.error_bound`), a neural memory scaling each kept
        state to its own RMS under white noise up to ``input_high`` Hz (of
        ``input_rms``), times ``radius_rms``: every state fills its radius
        alike, so none is left small against its spike noise.
    sample_period : float, optional
        Exact memory: take each input sample as held for ``sample_period``
        seconds (as `nengo.processes.PresentInput` holds it) and step the
        memory once per sample, holding :math:`m_k` for the whole sample
        (`.SampledSystem`): the states are those of the continuous memory
        at the end of each sample, without its motion in between. Stepping
        then depends on the node ``advance`` (1 by default): while it is 0
        the memory holds still. `.to_spiking` sets it (the presentation
        time), so that a spiking layer reads each state for a whole sample.
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
        the normalised state :math:`x'`, ``memory_d * state_d`` values.
    advance : nengo.Node
        Only with ``sample_period``: 1 while the memory takes samples, 0 to
        hold it.
    state_ensembles : list of nengo.Ensemble
        Neural memory only: the ensemble of each state, channel-major.
    scales : ndarray or None
        Neural memory only: the magnitude ``s`` of each of the ``order``
        states (``output = s * state``); None with ``reduced_order``.
    to_legendre : ndarray
        ``(order, state_d)``: each channel's Legendre states from its states
        (``output = to_legendre @ state`` per channel): the identity for an
        exact memory of all ``order`` states, ``diag(scales)`` for a neural
        one.
    state_d : int
        States per channel: ``reduced_order``, or ``order``.
    mapped : LinearSystem
        Neural memory only: ``(A', B')`` of the normalised memory.
    realization : NeuralRealization
        Neural memory only: how its states are laid out in ensembles, and
        read out (``readout_mapped``, ``readout_synapse``).

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
        "simulator",
        "weights",
        "ensemble_kwargs",
        "readout_synapse",
    )

    order = IntegerParam("order", low=1)
    theta = FiniteNumberParam("theta", low=0, low_open=True)
    memory_d = IntegerParam("memory_d", low=1)
    method = EnumParam("method", values=DISCRETIZATION_METHODS)
    n_neurons = IntegerParam("n_neurons", low=1, optional=True)
    neuron_type = NeuronTypeParam("neuron_type")
    synapse = FiniteSynapseParam("synapse")
    dt = FiniteNumberParam("dt", low=0, low_open=True, optional=True)
    input_high = FiniteNumberParam("input_high", low=0, low_open=True, optional=True)
    input_rms = FiniteNumberParam("input_rms", low=0, low_open=True)
    radius_rms = FiniteNumberParam("radius_rms", low=0, low_open=True)
    simulator = EnumParam("simulator", values=("nengo", "loihi"))
    weights = BoolParam("weights", optional=True)
    readout_synapse = FiniteSynapseParam("readout_synapse", optional=True)
    trainable_theta = BoolParam("trainable_theta")
    trainable_matrices = BoolParam("trainable_matrices")
    sample_period = FiniteNumberParam("sample_period", low=0, low_open=True, optional=True)
    reduced_order = IntegerParam("reduced_order", low=1, optional=True)

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
        simulator=None,
        weights=None,
        ensemble_kwargs=None,
        readout_synapse=None,
        trainable_theta=False,
        trainable_matrices=False,
        sample_period=None,
        reduced_order=None,
        state_covariance=None,
        **kwargs,
    ):
        refuse_old_target(kwargs, self)
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
        self.simulator = "nengo" if simulator is None else simulator
        self.weights = (self.simulator == "loihi") if weights is None else weights
        self.readout_synapse = readout_synapse
        self.ensemble_kwargs = check_ensemble_kwargs(ensemble_kwargs, self)
        self.trainable_theta = trainable_theta
        self.trainable_matrices = trainable_matrices
        self.sample_period = sample_period
        if sample_period is not None and (
            n_neurons is not None or trainable_theta or trainable_matrices
        ):
            raise ValidationError(
                "applies to the exact memory with a fixed window (n_neurons=None, "
                "neither trainable_theta nor trainable_matrices): neurons, and "
                "the trained forms, run continuously",
                attr="sample_period",
                obj=self,
            )
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

        self._check_window()
        A, B = legendre_memory(order, theta)
        # stable for every order by construction (no eigen-decomposition);
        # its window refuses a longer simulator step at build time
        self.system = LinearSystem(
            (A, B, np.eye(order), np.zeros((order, 1))),
            method=method,
            window=self.theta,
            known_stable=True,
        )
        self.reduced_order = reduced_order
        self.state_covariance = None
        self.to_legendre = np.eye(order)
        if reduced_order is not None:
            self._reduce(state_covariance)
        elif state_covariance is not None:
            raise ValidationError(
                "applies to a reduced memory: give reduced_order too",
                attr="state_covariance",
                obj=self,
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

    def _check_window(self):
        """Refuse a window shorter than one step where the step is known now.

        A neural or ``trainable_matrices`` memory is made for ``dt``; a
        ``sample_period`` memory steps once per sample. The exact memory
        learns the simulator's ``dt`` only at build time, where its
        ``system`` (whose ``window`` is ``theta``) refuses a longer step.
        """
        step, name = None, None
        if self.sample_period is not None:
            step, name = self.sample_period, "sample_period"
        elif self.dt is not None and (self.n_neurons is not None or self.trainable_matrices):
            step, name = self.dt, "dt"
        if step is not None:
            check_window(self.theta, step, step_name=name, obj=self)

    @property
    def state_d(self):
        """States per channel: ``reduced_order``, or ``order``."""
        return self.order if self.reduced_order is None else self.reduced_order

    def _reduce(self, covariance):
        """Balance the memory against its expected input and keep
        ``reduced_order`` states (see ``reduced_order``); ``system`` becomes
        the reduced one, read out in Legendre coordinates."""
        q, r = self.order, self.reduced_order
        if r > q:
            raise ValidationError(
                f"cannot exceed the order {q} (got {r})", attr="reduced_order", obj=self
            )
        if self.trainable_matrices:
            raise ValidationError(
                "trainable_matrices fine-tunes the Legendre matrices themselves; "
                "a reduced memory keeps other states",
                attr="reduced_order",
                obj=self,
            )
        A, B, _, _ = self.system.ss
        window = LinearSystem(
            (A, B, np.diag(1.0 / np.sqrt(2 * np.arange(q) + 1)), np.zeros((q, 1))),
            method=self.method,
            known_stable=True,
        )
        try:
            balanced = Balanced(r, covariance=covariance)(window)
        except ValidationError as e:  # name the memory's own arguments
            attr = "state_covariance" if e.attr == "covariance" else "reduced_order"
            raise ValidationError(str(e.args[0]), attr=attr, obj=self) from None
        self.state_covariance = None if covariance is None else check_covariance(covariance)
        self.balanced = balanced
        self.to_legendre = balanced.Tinv
        Ar, Br, _, _ = balanced.sys.ss
        self.system = LinearSystem(
            (Ar, Br, balanced.Tinv, np.zeros((q, 1))),
            method=self.method,
            window=self.theta,
            known_stable=True,  # Balanced refuses an unstable truncation
        )

    def _build_exact(self):
        d, q = self.memory_d, self.order
        process, size_in = self.system, d
        if self.trainable_theta:
            # the time-scale s enters as the last input, through a trainable
            # weight; the effective window is theta / s
            self.system = process = TimeScaledSystem(self.system)
            size_in = d + 1
        elif self.sample_period is not None:
            # stepped once per sample while `advance` (the last input) is 1
            process, size_in = SampledSystem(self.system, self.sample_period), d + 1
        self.state = nengo.Node(process, size_in=size_in, size_out=d * q, label="state")
        nengo.Connection(self.input, self.state[:d], synapse=None)
        if self.sample_period is not None:
            self.advance = nengo.Node(1.0, label="advance")
            nengo.Connection(self.advance, self.state[d], synapse=None)
        nengo.Connection(self.state, self.output, synapse=None)
        if self.trainable_theta:
            self.time_scale = nengo.Node(1.0, label="time_scale")
            self.time_scale_conn = nengo.Connection(
                self.time_scale, self.state[d], transform=1.0, synapse=None
            )

    def _build_trainable_matrices(self):
        """m_t = Abar m_{t-1} + Bbar u_t as connection weights (trainable in NengoDL).

        The state node passes its input through (`.state_node`, which
        refuses a simulator of another ``dt``); the recurrence's ``synapse=0``
        is Nengo's one-step delay. ``Abar, Bbar`` discretise the memory at
        ``self.dt``, which must be the simulator's time-step.
        """
        q = self.order
        Ad, Bd, _, _ = self.system.discretize(self.dt).ss
        size = self.memory_d * q
        self.state = state_node(size, self.dt, f"{self}")
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
        return loop_synapse(self.synapse, self.simulator, self.weights)

    def _build_neural(self, ensemble_kwargs):
        """The memory as `.NeuralRealization` lays out any linear system (as a
        `.LinearNetwork` does), once per channel: the `.RMS` realisation of the
        Legendre system (or of its reduced, balanced one: each kept state over
        ``radius_rms`` times its RMS under ``state_covariance``, or else under
        the expected band), read out in Legendre coordinates."""
        q, r = self.order, self.state_d
        if self.reduced_order is None:
            high = 1.0 / self.theta if self.input_high is None else self.input_high
            realization = RMS(self.radius_rms)(self.system, high, self.input_rms)
            self.scales = np.diag(realization.Tinv).copy()
        else:
            b = self.balanced
            if self.state_covariance is not None:  # each state's RMS on the data
                rms = np.sqrt(np.clip(np.diag(b.T @ self.state_covariance @ b.T.T), 0, None))
            else:
                # each state's RMS under the expected band (white noise up to
                # input_high Hz): every ensemble then uses its radius alike.
                # (Scaling all states by one factor, keeping the ratios of their
                # white-noise variances, left the states the band moves less at
                # a fraction of their radii, where spike noise is larger
                # relative to them: tests/test_reduced_memory.py)
                high = 1.0 / self.theta if self.input_high is None else self.input_high
                band = state_covariance(b.sys, high, rms=self.input_rms)
                rms = np.sqrt(np.clip(np.diag(band), 0, None))
            s = self.radius_rms * np.where(rms > 0, rms, 1.0)
            realization = b.then(
                Realization(normalize(b.sys, s), np.diag(1.0 / s), np.diag(s))
            )
            self.scales = None
        self.to_legendre = realization.Tinv
        readout = self.readout_synapse
        if readout is not None and not isinstance(readout, nengo.Lowpass):
            raise ValidationError(
                f"must be a nengo.Lowpass (got {readout!r})", "readout_synapse", obj=self
            )
        neural = NeuralRealization(
            realization.sys, self.synapse, self.dt, self.simulator, self.weights, readout
        )
        self.mapped = neural.mapped
        self.realization = neural
        self.state = state_node(self.memory_d * r, self.dt, f"{self}", window=self.theta)
        self.state_ensembles = []
        for c in range(self.memory_d):
            state = self.state[c * r : (c + 1) * r]
            nengo.Connection(
                state, self.output[c * q : (c + 1) * q], transform=self.to_legendre,
                synapse=None,
            )
            self.state_ensembles.extend(
                neural.build(
                    self.input[c],
                    state,
                    self.n_neurons,
                    self.neuron_type,
                    self.input_rms,
                    [f"x[{c}, {i}]" for i in range(r)],
                    **ensemble_kwargs,
                )
            )

