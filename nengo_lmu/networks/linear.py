"""Any linear system realised by recurrent ensembles (NEF principle 3)."""

import inspect
import warnings

import nengo
import numpy as np
from nengo.exceptions import ValidationError
from nengo.neurons import NeuronTypeParam
from nengo.params import BoolParam, EnumParam, StringParam

from nengo_lmu.loihi_limits import (
    CHIP_NEURON_TYPES,
    LOIHI_DECODE_TAU,
    MAX_RECURRENT_TRANSFORM,
    LargeTransformWarning,
    min_decoded_transform,
)
from nengo_lmu.mapping import ss2sim, ss2sim_input_derivatives
from nengo_lmu.params import FiniteNumberParam, FiniteSynapseParam, IntegerParam, ParamsInState
from nengo_lmu.realizers import RMS, Realizer
from nengo_lmu.system import LinearSystem, TimeScaledSystem, check_window

#: L2 regularisation of the recurrent decoders / weights (relative to the
#: largest activity; Nengo's default is 0.1). In a recurrent network the static
#: decoding distortion is integrated by the loop, so less regularisation wins
#: over the extra spike noise it lets through, down to where that noise
#: dominates: 0.01 did clearly better than Nengo's default on the delay
#: networks of benchmarks/delay_network.py and benchmarks/loihi_delay_network.py,
#: and slightly better than a smaller value on the first (no results file
#: holds these comparisons).
DECODER_REG = 0.01

#: Neuron-to-neuron copies of a Loihi host input carry at most this many
#: input RMS each (`NeuralRealization`): host values beyond the radius saturate.
INPUT_RMS_PER_COPY = 3


def loop_synapse(synapse, simulator, weights):
    """The synapse a recurrence through ``synapse`` really sees.

    On Loihi (``simulator="loihi"``) a decoded connection (``weights=False``)
    passes through decode neurons, which add nengo-loihi's
    ``Lowpass(LOIHI_DECODE_TAU)``.
    """
    if simulator == "loihi" and not weights:
        return synapse.combine(nengo.Lowpass(LOIHI_DECODE_TAU))
    return synapse


def _derivative(j, h):
    """The synapse :math:`s^j h(s)`."""
    return nengo.LinearFilter(np.r_[1.0, np.zeros(j)], h.den)


class NeuralRealization:
    """How a (normalised) system is laid out in ensembles: the one neural code path.

    Holds the principle-3 transforms of ``sys`` for ``synapse`` at ``dt``
    (`.ss2sim`), and `build` lays out one 1-D ensemble per state: input
    connections :math:`B'` (plus the input-derivative terms of a
    multi-pole loop, for an analog system), recurrent connections
    :math:`A'` through ``synapse``, and the decoded state, :math:`h * (A'
    \\hat{x} + B' u)`, into a node through ``readout_synapse`` with its own
    compensation (the state one step, ``dt``, late). Both `LinearNetwork`
    and the neural `.LegendreMemory` are built by it.
    """

    def __init__(self, sys, synapse, dt, simulator="nengo", weights=False,
                 readout_synapse=None):
        self.sys, self.synapse, self.weights = sys, synapse, weights
        self.simulator = simulator
        loop = loop_synapse(synapse, simulator, weights)
        self.mapped = ss2sim(sys, loop, dt=dt)
        # on Loihi the post block's single filter is the largest tau it receives:
        # with weights, the recurrence sets it to tau and the input must come
        # unfiltered; through decode neurons it is 5 ms and the host filters first
        self.input_synapse = None if simulator == "loihi" and weights else synapse
        self.input_terms = self._derivatives(loop, synapse)
        if readout_synapse is None:
            readout, self.readout_mapped = loop, self.mapped
        else:
            readout = loop_synapse(readout_synapse, simulator, weights)
            try:
                self.readout_mapped = ss2sim(sys, readout, dt=dt)
            except ValidationError as e:  # name the argument the user gave
                raise ValidationError(str(e.args[0]), attr="readout_synapse") from None
        self.readout_synapse = readout
        self.readout_terms = self._derivatives(readout, readout)
        largest = float(np.abs(self.mapped.A).max())
        if simulator == "loihi" and largest > MAX_RECURRENT_TRANSFORM:
            warnings.warn(
                f"recurrent transforms up to {largest:.3g} (> {MAX_RECURRENT_TRANSFORM:g}): "
                "Loihi's 8-bit weights will cost much of this network's accuracy. "
                "They grow with the synapse's time constant against the system's "
                "and, normalised by RMS, with how unevenly the expected input "
                "excites the states: a shorter synapse, a wider input band, or a "
                "balanced basis (nengo_lmu.realizers.Balanced) keeps them small",
                LargeTransformWarning,
            )

    def _derivatives(self, mapped_for, synapse):
        """``[(B'_j, s^j h(s)), j >= 1]``: the input-derivative terms (analog only)."""
        if not self.sys.analog:
            return []
        return [
            (Bj, _derivative(j, synapse))
            for j, Bj in enumerate(ss2sim_input_derivatives(self.sys, mapped_for))
            if j > 0
        ]

    def build(self, u, x, n_neurons, neuron_type, input_rms, labels, radii=None,
              **ensemble_kwargs):
        """Ensembles realising the system from input ``u`` into the state node ``x``.

        ``u`` and ``x`` are Nengo objects (or views) of ``input_d`` and
        ``state_d`` dimensions; ``labels[i]`` labels state ``i``'s ensemble
        and ``radii[i]`` (if given) is its radius. Returns the ensembles.
        """
        Ap, Bp = self.mapped.A, self.mapped.B
        Ao, Bo = self.readout_mapped.A, self.readout_mapped.B
        siso = Bp.shape[1] == 1
        solver = nengo.solvers.LstsqL2(weights=self.weights, reg=DECODER_REG)
        if radii is not None:
            ensemble_kwargs = [dict(ensemble_kwargs, radius=r) for r in radii]
        else:
            ensemble_kwargs = [ensemble_kwargs] * len(labels)
        ens = [
            nengo.Ensemble(n_neurons, 1, neuron_type=neuron_type, label=label, **kw)
            for label, kw in zip(labels, ensemble_kwargs)
        ]
        for i, post in enumerate(ens):
            b = Bp[i, 0] if siso else Bp[i : i + 1]
            copies = self._input_copies(Bp[i], input_rms)
            for _ in range(copies if np.any(Bp[i]) else 0):
                nengo.Connection(u, post, transform=b / copies, synapse=self.input_synapse)
            for Bj, syn in self.input_terms:  # the chip adds the 5 ms Lowpass
                if np.any(Bj[i]):
                    nengo.Connection(
                        u, post, transform=Bj[i, 0] if siso else Bj[i : i + 1], synapse=syn
                    )
            for j, pre in enumerate(ens):
                for a in self._split_recurrent(Ap[i, j], n_neurons) if Ap[i, j] else ():
                    nengo.Connection(pre, post, transform=a, synapse=self.synapse, solver=solver)
            # the state (on the host): by default what the ensembles receive
            nengo.Connection(post, x, transform=Ao[:, i : i + 1], synapse=self.readout_synapse)
        nengo.Connection(u, x, transform=Bo, synapse=self.readout_synapse)
        for Bj, syn in self.readout_terms:
            nengo.Connection(u, x, transform=Bj, synapse=syn)
        return ens

    def _split_recurrent(self, a, n_neurons):
        """On Loihi, a decoded connection goes through its own decode neurons,
        whose weight exponent search fails when all its weights are tiny
        (`nengo_lmu.loihi_limits.min_decoded_transform`). Realise a small transform
        ``a`` as ``(a + m) - m`` over two connections, each of magnitude >= m."""
        if self.simulator != "loihi" or self.weights:
            return [a]
        m = min_decoded_transform(n_neurons)
        if abs(a) >= m:
            return [a]
        sign = 1.0 if a >= 0 else -1.0
        return [a + sign * m, -sign * m]

    def _input_copies(self, b, input_rms):
        """Loihi encodes host input with on/off neurons of at most one spike per
        step: values beyond the radius saturate. Split an input transform ``b``
        (one state's row) over parallel connections so each carries at most
        ``INPUT_RMS_PER_COPY`` input RMS on every input at once."""
        if self.simulator != "loihi":
            return 1
        return max(1, int(np.ceil(np.sum(np.abs(b)) * INPUT_RMS_PER_COPY * input_rms)))


class LinearNetwork(ParamsInState, nengo.Network):
    """Any stable linear system realised by neurons (NEF principle 3).

    ``sys`` (:math:`\\dot{x} = A x + B u,\\ y = C x + D u`, or its digital
    form stepped once per ``dt``) is first put into the coordinates chosen
    by ``realizer`` (:math:`x' = T x`, e.g. each state normalised by its RMS
    for the expected input, `.RMS`), then mapped onto one 1-D ensemble of
    ``n_neurons`` per state whose recurrent and input connections pass
    through ``synapse`` (`.ss2sim`, exact at ``dt``; on Loihi through
    decode neurons, for the synapse followed by nengo-loihi's 5 ms decode
    Lowpass). ``output`` is :math:`y` in the original coordinates, one step
    (``dt``) late: :math:`C T^{-1} \\hat{x}' + D u` with the decoded state
    :math:`\\hat{x}'` of ``state`` and ``D u`` delayed by one step
    (``synapse=0``) to match it.

    Parameters
    ----------
    sys : LinearSystem or tuple
        The system: analog, or digital (``analog=False``) with ``dt`` its
        time-step. Must be stable, with at least one state.
    n_neurons : int
        Neurons per state.
    synapse : nengo.LinearFilter, optional
        Synapse of the recurrent and input connections (default
        ``nengo.Lowpass(0.1)``); analog, with a constant numerator (a
        Lowpass, Alpha, double exponential, ...). On Loihi a Lowpass.
    dt : float or None, optional
        Time-step the mapping is exact for; the simulator's ``dt`` must
        equal it (`~nengo.exceptions.BuildError` otherwise). None maps the
        analog system (analog ``sys`` only).
    realizer : Realizer, optional
        State coordinates (default `.RMS`: each state's radius holds 3.5 of
        its RMS). See `nengo_lmu.realizers`.
    input_high : float, optional
        Band limit of the expected input, in Hz, for the realizer. None:
        the fastest pole's frequency, :math:`\\max |\\lambda| / 2\\pi` (past
        which the system attenuates; for a digital system, of
        :math:`\\log \\lambda / dt`, at most Nyquist).
    input_rms : float, optional
        RMS of each expected input (default 0.5).
    radii : float or array_like, optional
        Radius of each state's ensemble (default 1: the realizer scales the
        states to it).
    neuron_type : nengo.neurons.NeuronType, optional
        Default ``nengo.LIF()``.
    simulator : {"nengo", "loihi"}, optional
        The simulator the network is laid out for: ``"loihi"`` lays it out
        for nengo-loihi (as `.LegendreMemory` does, see `nengo_lmu.loihi`).
        (nengo-loihi's own ``target``, e.g. ``"sim"`` for its emulator, is
        an argument of its simulator: ``nengo_lmu.loihi.Simulator(net,
        target="sim")``.) ``target=`` here, this argument's old name, is
        refused with a `~nengo.exceptions.ValidationError` naming it.
    weights : bool, optional
        Neuron-to-neuron recurrent weights instead of decoders; defaults
        to True for ``simulator="loihi"``.
    readout_synapse : nengo.LinearFilter or float, optional
        Synapse through which ``state`` decodes the ensembles, with its own
        compensation; None: the loop's (see `.LegendreMemory`).
    ensemble_kwargs : dict, optional
        Extra arguments of each `nengo.Ensemble`.
    **kwargs
        Passed to `nengo.Network`.

    Attributes
    ----------
    input, output : nengo.Node
        ``input_d`` inputs, ``output_d`` outputs (original coordinates).
    state : nengo.Node
        The decoded state :math:`\\hat{x}'`, in the realizer's coordinates.
    state_ensembles : list of nengo.Ensemble
        One per state.
    realization : Realization
        The realised system (``realization.sys``) and its transform.
    mapped : LinearSystem
        The principle-3 transforms :math:`(A', B')`.

    Examples
    --------
    A 0.1 s delay (order-4 Legendre) in 400 rate neurons, delaying a step:

    >>> from nengo_lmu import LegendreDelay
    >>> with nengo.Network(seed=0) as net:
    ...     stim = nengo.Node(1.0)
    ...     delay = LinearNetwork(LegendreDelay(0.1, 4), 100, neuron_type=nengo.LIFRate())
    ...     conn = nengo.Connection(stim, delay.input, synapse=None)
    ...     probe = nengo.Probe(delay.output)
    >>> len(delay.state_ensembles), delay.output.size_out
    (4, 1)
    >>> with nengo.Simulator(net, progress_bar=False) as sim:
    ...     sim.run(0.3)
    >>> y = sim.data[probe][:, 0]
    >>> print(f"{y[49]:.1f} at 0.05 s, {y[-1]:.1f} at 0.3 s")  # the step arrives at 0.1 s
    -0.1 at 0.05 s, 1.0 at 0.3 s
    """

    n_neurons = IntegerParam("n_neurons", low=1)
    neuron_type = NeuronTypeParam("neuron_type")
    synapse = FiniteSynapseParam("synapse")
    dt = FiniteNumberParam("dt", low=0, low_open=True, optional=True)
    input_high = FiniteNumberParam("input_high", low=0, low_open=True)
    input_rms = FiniteNumberParam("input_rms", low=0, low_open=True)
    simulator = EnumParam("simulator", values=("nengo", "loihi"))
    weights = BoolParam("weights")
    readout_synapse = FiniteSynapseParam("readout_synapse", optional=True)

    def __init__(
        self,
        sys,
        n_neurons,
        synapse=None,
        dt=0.001,
        realizer=None,
        input_high=None,
        input_rms=0.5,
        radii=1.0,
        neuron_type=None,
        simulator="nengo",
        weights=None,
        readout_synapse=None,
        ensemble_kwargs=None,
        **kwargs,
    ):
        refuse_old_target(kwargs, self)
        kwargs.setdefault("label", "LinearNetwork")
        super().__init__(**kwargs)
        self.sys = _checked_system(sys, dt, self)
        self.n_neurons = n_neurons
        self.synapse = nengo.Lowpass(0.1) if synapse is None else synapse
        self.dt = dt
        self.input_rms = input_rms
        self.input_high = _band(self.sys) if input_high is None else input_high
        self.neuron_type = nengo.LIF() if neuron_type is None else neuron_type
        self.simulator = simulator
        self.weights = (self.simulator == "loihi") if weights is None else weights
        self.readout_synapse = readout_synapse
        if isinstance(self.neuron_type, nengo.Direct) and self.weights:
            raise ValidationError(
                "Direct neurons cannot use neuron-to-neuron weights", "weights", obj=self
            )
        self._check_simulator()
        realizer = RMS() if realizer is None else realizer
        if not isinstance(realizer, Realizer):
            raise ValidationError(
                f"must be a nengo_lmu.realizers.Realizer (got {realizer!r})",
                attr="realizer",
                obj=self,
            )
        self.realization = realizer(self.sys, self.input_high, self.input_rms)
        realized = self.realization.sys
        try:
            radii = np.asarray(radii, dtype=float)
        except (TypeError, ValueError) as e:
            raise ValidationError(
                f"must be positive finite numbers (got {radii!r})", attr="radii", obj=self
            ) from e
        if radii.ndim == 0:
            radii = np.full(realized.state_d, float(radii))
        if radii.shape != (realized.state_d,) or not np.all(
            np.isfinite(radii) & (radii > 0)
        ):
            raise ValidationError(
                f"must be one positive finite number or {realized.state_d} of them (one per "
                f"state of the realised system; got {radii})",
                attr="radii",
                obj=self,
            )
        ensemble_kwargs = check_ensemble_kwargs(
            ensemble_kwargs, self, dict(OWN_ENSEMBLE_ARGS, radius="set it with radii")
        )
        self.realizer = realizer
        realization = NeuralRealization(
            realized, self.synapse, dt, self.simulator, self.weights, self.readout_synapse
        )
        self.mapped = realization.mapped
        with self:
            self.input = nengo.Node(size_in=self.sys.input_d, label="input")
            self.output = nengo.Node(size_in=self.sys.output_d, label="output")
            self.state = state_node(realized.state_d, dt, f"{self}", window=self.sys.window)
            nengo.Connection(self.state, self.output, transform=realized.C, synapse=None)
            if np.any(realized.D):  # one step late, as the state
                nengo.Connection(self.input, self.output, transform=realized.D, synapse=0)
            self.state_ensembles = realization.build(
                self.input,
                self.state,
                self.n_neurons,
                self.neuron_type,
                self.input_rms,
                [f"x[{i}]" for i in range(realized.state_d)],
                radii=radii,
                **ensemble_kwargs,
            )

    def _check_simulator(self):
        if self.simulator != "loihi":
            return
        for name in ("synapse", "readout_synapse"):
            syn = getattr(self, name)
            if syn is not None and not isinstance(syn, nengo.Lowpass):
                raise ValidationError(
                    f"must be a nengo.Lowpass on Loihi, the only synapse nengo-loihi "
                    f"runs on chip (got {syn!r})",
                    attr=name,
                    obj=self,
                )
        if not isinstance(self.neuron_type, CHIP_NEURON_TYPES):
            raise ValidationError(
                f"nengo-loihi runs only {[t.__name__ for t in CHIP_NEURON_TYPES]} on "
                f"chip (got {self.neuron_type!r})",
                attr="neuron_type",
                obj=self,
            )


def refuse_old_target(kwargs, obj):
    """Refuse ``target=`` in a network's ``kwargs``: the old name of its
    ``simulator`` (the layout, "nengo" or "loihi"). ``target`` means only
    nengo-loihi's own simulator flag (``"sim"``, ``"simreal"``, ``"loihi"``),
    as in `.to_spiking`, which refuses its old ``target`` likewise."""
    if "target" in kwargs:
        name = type(obj).__name__
        raise ValidationError(
            f"is now called simulator: the simulator the connections are laid out "
            f"for, {name}(..., simulator='nengo' or 'loihi'); nengo-loihi's own "
            "target (e.g. 'sim', its emulator) goes to its simulator, "
            "nengo_lmu.loihi.Simulator(net, target='sim')",
            attr="target",
            obj=obj,
        )


def _checked_system(sys, dt, obj):
    """``sys`` as a `.LinearSystem` that a `LinearNetwork` can realise at ``dt``."""
    try:
        sys = sys if isinstance(sys, LinearSystem) else LinearSystem(sys)
    except (ValueError, TypeError) as e:
        raise ValidationError(f"must be a LinearSystem or its matrices: {e}", "sys", obj)
    if isinstance(sys, TimeScaledSystem):
        raise ValidationError(
            "a TimeScaledSystem has a time-scale input; realise the system it "
            "scales, at the trained window",
            attr="sys",
            obj=obj,
        )
    if sys.state_d == 0:
        raise ValidationError("has no state to realise", attr="sys", obj=obj)
    if not sys.is_stable():
        raise ValidationError(
            f"must be stable to be realised by neurons (poles {sys.poles})",
            attr="sys",
            obj=obj,
        )
    if not sys.analog and dt is None:
        raise ValidationError(
            "a digital system is realised at its time-step: give dt", attr="dt", obj=obj
        )
    if not sys.runs_at(dt):
        raise ValidationError(
            f"the system is digital with dt={sys.dt:g}, not {dt:g}", attr="dt", obj=obj
        )
    if dt is not None and sys.analog and sys.window is not None:
        check_window(sys.window, dt, attr="sys", obj=obj)
    return sys if sys.analog or sys.dt is not None else LinearSystem(sys, dt=dt)


def _band(sys):
    """The fastest pole's frequency, in Hz (a digital system's at most Nyquist)."""
    poles = sys.poles
    if sys.analog:
        return float(np.abs(poles).max() / (2 * np.pi))
    if np.any(poles == 0):  # a pure delay: as fast as the steps
        return 0.5 / sys.dt
    rates = np.abs(np.log(poles.astype(complex))) / sys.dt
    return float(min(rates.max() / (2 * np.pi), 0.5 / sys.dt))


#: `nengo.Ensemble` arguments that a `NeuralRealization` sets itself, and why.
OWN_ENSEMBLE_ARGS = {
    name: "the network sets it (see its own arguments)"
    for name in ("n_neurons", "dimensions", "neuron_type", "label")
}


def check_ensemble_kwargs(ensemble_kwargs, obj, own=None):
    """``ensemble_kwargs`` as a new dict of `nengo.Ensemble` arguments.

    Checked by name (`~nengo.exceptions.ValidationError` naming
    ``ensemble_kwargs``) before any ensemble is made: a dict, of arguments
    `nengo.Ensemble` takes, none of those in ``own`` (default
    `OWN_ENSEMBLE_ARGS`: name, and why the network sets it).
    """
    own = OWN_ENSEMBLE_ARGS if own is None else own
    if ensemble_kwargs is None:
        return {}
    if not isinstance(ensemble_kwargs, dict):
        raise ValidationError(
            f"must be a dict of nengo.Ensemble arguments (got {ensemble_kwargs!r})",
            attr="ensemble_kwargs",
            obj=obj,
        )
    known = set(inspect.signature(nengo.Ensemble.__init__).parameters) - {"self"}
    for key in ensemble_kwargs:
        if key in own or key not in known:
            hint = own.get(key, f"nengo.Ensemble takes {sorted(known - set(own))}")
            raise ValidationError(
                f"{key!r} is not an argument it can pass: {hint}",
                attr="ensemble_kwargs",
                obj=obj,
            )
    return dict(ensemble_kwargs)


def state_node(size, dt, owner, window=None):
    """The node the decoded state arrives in.

    Not a passthrough: nengo-loihi would remove a passthrough node between
    the chip and the host, and lose the decoded output. For transforms
    mapped at ``dt`` it refuses a simulator of another ``dt``; for analog
    transforms (``dt=None``) with a ``window``, a simulator step longer than
    the window (`.LinearSystem.check_dt`).
    """
    if dt is None and window is None:
        process = _identity
    else:
        process = _TimeStepGuard(dt, owner=owner, window=None if dt else window)
    return nengo.Node(process, size_in=size, size_out=size, label="state")


def _identity(t, x):
    return x


class _TimeStepGuard(LinearSystem):
    """A `.LinearSystem` passing each channel through, bound to ``dt``.

    As a `nengo.Node`'s output it is a passthrough that only a simulator of
    time-step ``dt`` builds (`.LinearSystem.check_dt`): the guard of
    transforms that ``owner`` computed for that ``dt``. With ``dt=None`` it
    is analog, and guards a ``window`` instead (no simulator step longer).
    """

    owner = StringParam("owner", readonly=True)

    def __init__(self, dt, owner="network", window=None):
        super().__init__(
            (np.zeros((0, 0)), np.zeros((0, 1)), np.zeros((1, 0)), np.ones((1, 1))),
            analog=dt is None,
            dt=dt,
            window=window,
        )
        self.owner = owner

    def _describe(self):
        if self.analog:
            return self.owner
        return f"{self.owner} (its transforms were computed for one dt)"
