"""Conversion of a trained (rate, step-based) LMU network to spiking inference.

The bridge is the hold argument: the memory is discretised by zero-order hold,
which is exact for input held constant over each step. So a memory with window
:math:`k \\theta` whose input holds each sample for :math:`k` simulator steps
lands, at the end of every presentation, on exactly the states the trained
network had after the corresponding step. The hidden layer of an LMU without
hidden or memory recurrence reads only the current sample and memory, so it
is exact there too; spiking neurons then approximate it, and their filtered
output is read at the end of each presentation.

An exact memory goes further: it takes one step per presentation
(`.SampledSystem`), so the hidden layer sees the trained state for the whole
presentation rather than a state moving towards it, and after the last
sample it holds still, so that the last output can be averaged over as long
a window as the spike noise needs (`SpikingConversion.run`).
"""

import sys
import warnings

import nengo
import numpy as np
from nengo.exceptions import ValidationError
from nengo.neurons import NeuronTypeParam
from nengo.params import EnumParam
from nengo.utils.progress import NoProgressBar

from nengo_lmu.measure import check_sequences, simulate_sequences
from nengo_lmu.metrics import fan_out, spike_count
from nengo_lmu.networks.lmu import LMU
from nengo_lmu.networks.memory import LegendreMemory
from nengo_lmu.params import FiniteNumberParam, FiniteSynapseParam, IntegerParam, check_param
from nengo_lmu.paths import base_object, copy_network, counterpart, index_of, object_at
from nengo_lmu.progress import as_progress_bar, tracker
from nengo_lmu.system import whole_steps

#: rate neuron type -> spiking counterpart with the same mean output
SPIKING_EQUIVALENTS = {
    nengo.RectifiedLinear: nengo.SpikingRectifiedLinear,
    nengo.LIFRate: nengo.LIF,
}


def spiking_equivalent(neuron_type, scale=1.0):
    """The spiking neuron type whose mean output equals ``neuron_type``'s rate.

    Parameters
    ----------
    neuron_type : nengo.neurons.NeuronType
        A rate type with a spiking counterpart (``RectifiedLinear``,
        ``LIFRate``) or an already spiking type (returned unchanged).
    scale : float
        For ``RectifiedLinear``: spike ``scale`` times faster with amplitude
        ``1 / scale`` (the caller multiplies the input current by ``scale``),
        so the mean output is unchanged and more spikes carry it.
    """
    neuron_type = check_param(NeuronTypeParam("neuron_type"), neuron_type)
    scale = check_param(FiniteNumberParam("scale", low=0, low_open=True), scale)
    if neuron_type.spiking:
        return neuron_type
    for rate_type, spiking_type in SPIKING_EQUIVALENTS.items():
        if type(neuron_type) is rate_type:  # exact type: subclasses may differ
            kwargs = {
                name: getattr(neuron_type, name)
                for name in ("tau_rc", "tau_ref", "min_voltage")
                if hasattr(neuron_type, name) and hasattr(spiking_type, name)
            }
            amplitude = neuron_type.amplitude
            if rate_type is nengo.RectifiedLinear:
                amplitude = amplitude / scale
            return spiking_type(amplitude=amplitude, **kwargs)
    raise ValidationError(
        f"{type(neuron_type).__name__} has no spiking counterpart; train the "
        "hidden layer with nengo.RectifiedLinear() or nengo.LIFRate() to convert it",
        attr="hidden_neuron_type",
    )


def check_synapse(synapse, attr="synapse"):
    """``synapse`` as a `~nengo.synapses.Synapse` (a number: a ``Lowpass``
    time constant, finite and not negative) or None.

    Examples
    --------
    >>> check_synapse(0.005)
    Lowpass(tau=0.005)
    """
    return check_param(FiniteSynapseParam(attr, optional=True), synapse)


def synapse_delay(synapse):
    """Mean delay of ``synapse``'s impulse response (its group delay at DC).

    For :math:`H(s) = N(s) / D(s)` it is :math:`D'(0)/D(0) - N'(0)/N(0)`:
    ``tau`` for ``Lowpass(tau)``, ``2 tau`` for ``Alpha(tau)``, 0 for None.
    A filtered signal lags a slowly changing input by this much.

    Examples
    --------
    >>> synapse_delay(nengo.Lowpass(0.004)), synapse_delay(nengo.Alpha(0.01))
    (0.004, 0.02)
    """
    synapse = check_synapse(synapse)
    if synapse is None:
        return 0.0
    if not isinstance(synapse, nengo.LinearFilter) or not synapse.analog:
        raise ValidationError(
            f"the delay of {synapse!r} is not known: give an analog "
            "nengo.LinearFilter, or an explicit read_delay",
            attr="synapse",
        )

    def d_log(poly):  # P'(0) / P(0); coefficients in descending powers
        poly = np.atleast_1d(poly)
        return poly[-2] / poly[-1] if len(poly) > 1 else 0.0

    return float(d_log(synapse.den) - d_log(synapse.num))


class SimulatorMismatchWarning(UserWarning):
    """A conversion runs on another simulator than the one its firing rates
    were set for (`to_spiking`'s ``simulator``)."""


def simulator_kind(simulator):
    """``"loihi"`` for nengo-loihi's simulator (and subclasses, such as
    `nengo_lmu.loihi.Simulator`), ``"nengo"`` for ``nengo.Simulator`` and
    ``nengo_dl.Simulator`` (whose spiking neurons follow their rate curves
    as the reference simulator's do), None for anything else.

    Examples
    --------
    >>> simulator_kind(nengo.Simulator)
    'nengo'
    """
    if not isinstance(simulator, type):
        return None
    kinds = [("loihi", "nengo_loihi"), ("nengo", "nengo_dl"), ("nengo", "nengo")]
    for kind, module in kinds:
        package = sys.modules.get(module)  # imported, if its Simulator is given
        if package is not None and issubclass(simulator, package.Simulator):
            return kind
    return None


class SpikingConversion:
    """A trained network converted for inference with held input samples.

    Made by `to_spiking`.

    Attributes
    ----------
    network : nengo.Network
        The converted copy (the original is untouched).
    original : nengo.Network or None
        The network it was converted from: `find` and `run` map its objects
        to their copies.
    presentation_time : float
        Simulated time each input sample is held for.
    dt : float
        The simulator time-step it was converted for (`run`'s default):
        ``presentation_time`` is a whole number of them.
    time_scale : float
        ``presentation_time / dt_train``: every memory's theta was multiplied
        by this.
    lmus : list of LMU
        The converted LMUs, in the copy.
    scale_firing_rates : float
        The ``scale_firing_rates`` used (given, or derived from the
        calibration data).
    input_scales : list of dict
        Per converted LMU, ``{kernel name: s}``: the host values its hidden
        layer receives were divided by ``s`` (their peak magnitudes on the
        calibration data) and the kernel multiplied by it; empty without
        calibration.
    output_lag : float
        The mean delay of the synapse on the hidden layers' output
        (`synapse_delay`): how far the converted network's output lags
        the held input. `run` reads the last output this much later.
    simulator : {"nengo", "loihi"}
        The simulator it was converted for (`to_spiking`'s ``simulator``).
    peak_rate : float or None
        The firing rate, in Hz, that the largest hidden activity on the
        calibration data was mapped to (``PEAK_RATES[simulator]``); None
        where ``simulator`` set nothing (``scale_firing_rates`` given, or no
        calibration): such a conversion is the same for either simulator, and
        `run` does not warn.
    """

    def __init__(
        self,
        network,
        presentation_time,
        time_scale,
        lmus,
        output_lag=0.0,
        scale_firing_rates=1.0,
        input_scales=None,
        dt=0.001,
        original=None,
        simulator="nengo",
        peak_rate=None,
    ):
        self.network = network
        self.original = original
        self.simulator = simulator
        self.peak_rate = peak_rate
        self.presentation_time = presentation_time
        self.dt = dt
        self.time_scale = time_scale
        self.lmus = lmus
        self.output_lag = output_lag
        self.scale_firing_rates = scale_firing_rates
        self.input_scales = [{} for _ in lmus] if input_scales is None else input_scales

    def find(self, obj, original=None):
        """The copy of ``obj``, an object of the ``original`` network (by
        default the one this was converted from)."""
        original = self.original if original is None else original
        if not isinstance(original, nengo.Network):
            raise ValidationError(
                f"must be the network that was converted (got {original!r})",
                attr="original",
            )
        try:
            index = index_of(original, obj)
        except KeyError:
            raise ValidationError(
                f"{obj!r} is not an object of {original}", attr="obj"
            ) from None
        return object_at(self.network, index)

    def _resolve(self, obj, kind, attr):
        """``obj`` if a ``kind`` of the converted network, its copy if one of
        the original; else refused, naming ``attr``."""
        if isinstance(obj, kind):
            for network in (self.network, self.original):
                try:
                    if network is not None:
                        return object_at(self.network, index_of(network, obj))
                except KeyError:  # not in it
                    continue
        raise ValidationError(
            f"must be a nengo.{kind.__name__} of the converted network "
            "(conv.find(obj, original)) or of the network it was converted from "
            f"(got {obj!r})",
            attr=attr,
        )

    def run(
        self,
        simulator,
        node,
        sequences,
        probe,
        parallel=1,
        read_delay=None,
        read_window=None,
        progress_bar=True,
        **sim_kwargs,
    ):
        """Run each sequence and read ``probe`` at the end of each presentation.

        Sequences run ``parallel`` at a time, in as many copies of the network
        side by side in one simulator (no simulator needs to reset; one build
        serves them all).

        Filtered spikes lag what they encode, so the last sample is held on
        for ``read_delay`` and the last output read then (a continuous memory
        runs on for that time: a fraction ``read_delay / (presentation_time *
        n_samples)`` of a window as long as the sequence); every other output
        is read at the end of its presentation, where the next sample begins.
        By default ``read_delay`` is `output_lag` plus the simulator's
        ``latency_steps`` (0 if it has none; 2 steps for
        `nengo_lmu.loihi.Simulator`, from host input through a chip layer to
        host output). Read at the end of the last presentation instead, the
        last output has not yet seen the last sample through the filters,
        which costs accuracy where the answer is read from it (psDigits).

        Where every converted memory takes samples (exact memories do,
        `.LegendreMemory` ``sample_period``), they hold still after the last
        sample (their ``advance`` is 0), so the hidden layer keeps answering
        the last sample, and the last output is the mean of ``probe`` over
        ``read_window`` seconds from that point: the spike noise of the one
        output read for a whole sequence falls as the window grows, for
        ``read_window`` more simulated time per sequence. A memory that runs
        continuously (neural) moves on, so there the last output is one
        reading.

        A conversion whose firing rates were set for one simulator
        (`peak_rate`) warns, with a `SimulatorMismatchWarning`, when run on
        the other: ``nengo_loihi.Simulator`` (or `nengo_lmu.loihi.Simulator`)
        for a conversion made for ``"nengo"``, and ``nengo.Simulator`` or
        ``nengo_dl.Simulator`` for one made for ``"loihi"``.

        Parameters
        ----------
        simulator : callable
            A simulator class, e.g. ``nengo.Simulator`` or
            ``nengo_loihi.Simulator`` (with ``target="sim"``, nengo-loihi's
            choice of its emulator, in ``sim_kwargs``).
        node : nengo.Node
            The input node: of the converted network (`find`), or of the
            original, which is mapped to its copy.
        sequences : array_like
            Shape ``(n_sequences, n_samples, size_out)``.
        probe : nengo.Probe
            Probe to read, of the converted network or the original (mapped).
        parallel : int, optional
            Sequences simulated at once.
        read_delay : float, optional
            Seconds after the end of the last presentation at which the last
            output is read (less than ``presentation_time``); None for the
            default above.
        read_window : float, optional
            Seconds over which the last output is averaged (see above); None
            for `READ_WINDOW` presentation times with sampled memories and 0
            otherwise. More than one step where any memory is continuous is
            refused.
        progress_bar : bool or nengo.utils.progress.ProgressBar, optional
            Progress over all the sequences, as ``nengo.Simulator`` takes it
            (True: the default bar, shown once a run looks longer than a
            second; False or None: none); off a terminal, a few lines
            (`nengo_lmu.progress`). The simulators themselves show none. To
            report within a group of ``parallel`` sequences, a shown bar
            runs each simulator in about ten pieces of whole presentations
            (``run_steps`` again, continuing where it stopped).
        **sim_kwargs
            Passed to ``simulator``. ``dt`` defaults to `dt`, the one
            converted for; ``presentation_time`` must be a whole number of
            steps of it.

        Returns
        -------
        outputs : ndarray
            ``(n_sequences, n_samples, probe size)``: the probe's value at
            the end of each presentation, the last ``read_delay`` later (and
            averaged over ``read_window``).
        spikes : dict
            For each converted LMU (by index in ``lmus``): the mean number of
            spikes per sequence of its hidden layer, ``"hidden"``, and of its
            memory's neurons, ``"memory"`` (0 for an exact memory), and the
            synaptic events they cause (spikes times outgoing synapses), over
            the whole run of each sequence, its read window included.
        """
        if not callable(simulator):
            raise ValidationError(
                f"must be a simulator class such as nengo.Simulator (got {simulator!r})",
                attr="simulator",
            )
        self._check_simulator(simulator, sim_kwargs)
        node = self._resolve(node, nengo.Node, "node")
        probe = self._resolve(probe, nengo.Probe, "probe")
        sequences = check_sequences(sequences, node)
        parallel = check_param(IntegerParam("parallel", low=1), parallel)
        sim_kwargs.setdefault("dt", self.dt)
        sim_kwargs["progress_bar"] = False  # one bar over all sequences: run's own
        dt = sim_kwargs["dt"] = check_param(
            FiniteNumberParam("dt", low=0, low_open=True), sim_kwargs["dt"]
        )
        steps = presentation_steps(self.presentation_time, dt)
        latency = getattr(simulator, "latency_steps", 0) * dt
        default_delay = read_delay is None
        if default_delay:
            read_delay = self.output_lag + latency
        read_delay = check_param(FiniteNumberParam("read_delay", low=0), read_delay)
        delay = int(round(read_delay / dt))
        if delay >= steps:
            source = (
                f" (the default: the output_lag {self.output_lag:g} s of the synapse "
                f"given to to_spiking, plus the simulator's latency {latency:g} s; "
                "convert with a shorter synapse or a longer presentation_time, or "
                "give a shorter read_delay)"
                if default_delay
                else ""
            )
            raise ValidationError(
                f"{read_delay:g} s is not shorter than the presentation_time "
                f"({self.presentation_time:g} s){source}",
                attr="read_delay",
            )
        sampled = [
            index_of(self.network, lmu.memory.advance)
            for lmu in self.lmus
            if lmu.memory.sample_period is not None
        ]
        held = len(sampled) == len(self.lmus)
        if read_window is None:
            read_window = READ_WINDOW * self.presentation_time if held else 0.0
        read_window = check_param(FiniteNumberParam("read_window", low=0), read_window)
        window = max(int(round(read_window / dt)), 1)
        if window > 1 and not held:
            raise ValidationError(
                "needs memories that hold still after the last sample (exact ones, "
                "which to_spiking makes take samples); a continuous memory moves "
                "on, so its last output is one reading: leave read_window out",
                attr="read_window",
            )
        # presentations of the last sample held on: the read and its window
        extra = max(1, -(-(delay + window - 1) // steps))
        node_index = index_of(self.network, node)
        probe_index = index_of(self.network, probe)
        populations = _spiking_populations(self.network, self.lmus)
        outputs = []
        counts = {key: 0.0 for key in populations}
        run_length = steps * sequences.shape[1] + delay + window - 1
        progress = tracker(
            progress_bar, f"Running {_count(len(sequences))}", len(sequences) * run_length
        )
        # a shown bar hears from each simulator about ten times (whole presentations)
        shown = not isinstance(progress.progress_bar, NoProgressBar)
        piece = steps * max(1, sequences.shape[1] // 10) if shown else run_length
        with progress:
            for start in range(0, len(sequences), parallel):
                group = sequences[start : start + parallel]
                with nengo.Network(seed=self.network.seed) as batch:
                    copies = [copy_network(self.network, True) for _ in group]
                    spike_probes = []
                    for copy, sequence in zip(copies, group):
                        self._hold(object_at(copy, node_index), sequence, extra)
                        for index in sampled:  # take every sample, then hold still
                            object_at(copy, index).output = HeldSamples(
                                np.repeat([[1.0], [0.0]], [len(sequence), extra], axis=0),
                                self.presentation_time,
                            )
                        spike_probes.append(
                            {
                                key: [nengo.Probe(object_at(copy, i).neurons) for i in idx]
                                for key, (idx, _) in populations.items()
                            }
                        )
                with simulator(batch, **sim_kwargs) as sim:
                    for done in range(0, run_length, piece):
                        sim.run_steps(min(piece, run_length - done))
                        progress.total_progress.step(
                            min(piece, run_length - done) * len(group)
                        )
                for copy, probes in zip(copies, spike_probes):
                    data = sim.data[object_at(copy, probe_index)]
                    ends = np.arange(1, group.shape[1] + 1) * steps - 1
                    ends[-1] += delay
                    out = data[ends]
                    out[-1] = data[ends[-1] : ends[-1] + window].mean(axis=0)
                    outputs.append(out)
                    for key, plist in probes.items():
                        counts[key] += sum(spike_count(sim, p) for p in plist)
        n = len(sequences)
        spikes = {}
        for (lmu_index, part), (_, per_spike) in populations.items():
            entry = spikes.setdefault(lmu_index, {})
            entry[part] = counts[(lmu_index, part)] / n
            entry[f"{part}_synaptic_events"] = counts[(lmu_index, part)] / n * per_spike
        return np.array(outputs), spikes

    def _check_simulator(self, simulator, sim_kwargs):
        """Warn where ``simulator`` is not the one the firing rates were set
        for; refuse nengo-loihi's ``target`` given to another simulator."""
        kind = simulator_kind(simulator)
        if kind == "nengo" and "target" in sim_kwargs:
            raise ValidationError(
                "is an argument of nengo-loihi's Simulator (e.g. 'sim', its "
                f"emulator), which {simulator.__name__} does not take; the simulator "
                "a conversion is for is to_spiking(..., simulator='nengo' or 'loihi')",
                attr="target",
            )
        if self.peak_rate is None or kind is None or kind == self.simulator:
            return
        warnings.warn(
            SimulatorMismatchWarning(
                f"this conversion was made for {self.simulator} (to_spiking(..., "
                f"simulator={self.simulator!r}): hidden neurons firing at up to "
                f"{self.peak_rate:g} Hz, PEAK_RATES[{self.simulator!r}]) but runs on "
                f"{simulator.__module__}.{simulator.__qualname__}, a {kind} simulator; "
                f"convert with to_spiking(..., simulator={kind!r}) for the rates "
                f"that suit {kind} (see nengo_lmu.spiking.PEAK_RATES)"
            ),
            stacklevel=3,
        )

    def _hold(self, node, sequence, extra):
        # the last sample ``extra`` more times: held on while the last output is read
        node.output = HeldSamples(
            np.concatenate([sequence] + [sequence[-1:]] * extra), self.presentation_time
        )


class HeldSamples(nengo.Process):
    """Each of ``samples`` held for ``presentation_time``, counted in simulator steps.

    `nengo.processes.PresentInput` computes the sample from the simulated time
    ``t``; at 32-bit precision (NengoDL leaves ``nengo.rc`` there when one of
    its builds fails) ``t`` lands beside a sample's boundary and a sample comes
    a step early or late, which a sampled memory, taking its sample on the
    first step of each presentation, turns into a wrong answer. This counts
    steps instead (the count resets with the simulator), at any precision.
    After the last sample it starts again from the first, as PresentInput does.

    Parameters
    ----------
    samples : (n, size) array_like
        The samples, in order.
    presentation_time : float
        How long each is held: a whole number of the simulator's steps.
    """

    def __init__(self, samples, presentation_time, **kwargs):
        self.samples = np.asarray(samples, dtype=float)
        self.presentation_time = presentation_time
        super().__init__(default_size_in=0, default_size_out=self.samples.shape[1], **kwargs)

    def make_state(self, shape_in, shape_out, dt, dtype=None):
        return {"step": np.zeros(1, dtype=np.int64)}

    def make_step(self, shape_in, shape_out, dt, rng, state):
        steps = presentation_steps(self.presentation_time, dt)
        samples, count = self.samples, state["step"]

        def step_heldsamples(t):
            sample = samples[(count[0] // steps) % len(samples)]
            count[0] += 1
            return sample

        return step_heldsamples


def to_spiking(
    network,
    presentation_time,
    dt_train=1.0,
    neuron_type="spiking",
    scale_firing_rates=None,
    synapse=None,
    memory_kwargs=None,
    calibration=None,
    simulator="nengo",
    dt=0.001,
    progress_bar=True,
    **renamed,
):
    """Convert a trained LMU network for inference with held input samples.

    Every `.LMU` in a copy of ``network`` is rebuilt, with its trained
    weights, so that each input sample can be held for ``presentation_time``:

    * its memory window becomes ``theta * presentation_time / dt_train``
      (exact at the end of each presentation, by zero-order hold: a memory
      discretised otherwise is refused), realised by neurons when the
      original was or ``memory_kwargs`` asks for it (e.g.
      ``dict(n_neurons=200)``, see `.LegendreMemory`), else kept exact;
      an exact memory that reads the held samples themselves (every
      connection into the LMU's input without a synapse and from outside
      any LMU, and no recurrence) is stepped once per presentation
      (``sample_period=presentation_time``: the trained state held for the
      whole presentation; ``memory_kwargs=dict(sample_period=None)`` keeps
      it continuous), any other runs continuously;
    * its hidden neurons become spiking (``"spiking"``: the counterpart of
      their rate type, see `spiking_equivalent`), or ``neuron_type`` if given
      a `~nengo.neurons.NeuronType`, or stay as they are with ``None``;
    * its output connection gets ``synapse``, which filters the spikes.

    Connections and probes attached to an LMU follow it to the rebuilt one.

    Parameters
    ----------
    network : nengo.Network
        The trained network, containing one or more LMUs. The trained values
        must be in it: after NengoDL training, ``sim.freeze_params(network)``.
    presentation_time : float
        Simulated seconds each input sample is held for.
    dt_train : float, optional
        The time-step the network was trained with (1 for keras-lmu's step
        convention, ``theta`` in steps).
    neuron_type : "spiking" or NeuronType or None, optional
        The hidden neurons' new type.
    scale_firing_rates : float, optional
        For ``RectifiedLinear`` hidden layers: fire this many times faster,
        with spikes this many times smaller (the mean output is unchanged,
        its spike noise falls). None (default): with ``calibration``, so
        that the largest hidden activity on the calibration data fires at
        ``PEAK_RATES[simulator]``; without it, 1. A value other than 1 for a
        network without such a layer is refused.
    synapse : nengo.synapses.Synapse or float, optional
        Filter on the hidden layer's output (a float: a ``Lowpass`` time
        constant), whose mean delay (`synapse_delay`) must be finite.
        Default: ``Lowpass`` of `OUTPUT_TAU_FRACTION` of the presentation time: long enough to
        average many spikes, short enough that the last output, read after
        its lag (`SpikingConversion.run`), still falls within the held last
        sample. A longer filter smooths more spike noise; every other output,
        read at the end of its presentation, then mixes in more of the
        previous sample.
    memory_kwargs : dict, optional
        Arguments of the rebuilt `.LegendreMemory` (e.g. ``n_neurons``),
        over the original memory's own neural configuration (kept when it
        was neural; ``n_neurons=None`` makes the rebuilt memory exact).
    calibration : tuple, optional
        ``(node, sequences)``: the input node of ``network`` and (a sample
        of) the training inputs, ``(n, n_samples, node.size_out)``. The
        trained network is run on them (reference simulator, ``dt_train``)
        to measure what the conversion must carry: the largest magnitude of
        each value an LMU's hidden layer receives from the host (memory
        states, and inputs with ``input_to_hidden``) and the largest hidden
        activity. Each such value is then scaled into [-1, 1] on the host
        and the scale folded into the hidden layer's weights (exact: the
        hidden input is unchanged), because Loihi's host-to-chip link
        carries at most one spike per step and clips beyond 1
        (`nengo_lmu.loihi.HostInputSaturationWarning`); and the hidden
        firing rates are set from the activity (``scale_firing_rates``).
        Data that moves none of an LMU's hidden neurons away from its
        activity with no input by at least `CALIBRATION_MIN_DRIVE` of the
        layer's peak (all zeros, say, which leaves the memory at rest, or
        data scaled nearly to zero) measures only the biases, so it is
        refused.
    simulator : {"nengo", "loihi"} or simulator class, optional
        The simulator the converted network is for, which sets the firing
        rates derived from ``calibration`` (`PEAK_RATES`): the reference
        simulator's spiking neurons follow their rate curve at any rate, so
        faster is better there; Loihi's do not (see `PEAK_RATES`). A class
        counts as its kind (`simulator_kind`): ``nengo_lmu.loihi.Simulator``
        is ``"loihi"``, as in `SpikingConversion.run`, which warns when run
        on the other kind. (nengo-loihi's own ``target``, e.g. ``"sim"`` for
        its emulator, is an argument of its Simulator: give it to
        `SpikingConversion.run`.)
    dt : float, optional
        The time-step of the simulator the converted network is for (the
        default of `SpikingConversion.run`; a neural memory is built for
        it). ``presentation_time`` must be a whole number of these steps.
    progress_bar : bool or nengo.utils.progress.ProgressBar, optional
        Progress of the calibration run over its sequences, as
        `SpikingConversion.run` takes it (`nengo_lmu.progress`).

    Returns
    -------
    SpikingConversion

    Notes
    -----
    Refused, because the conversion would not reproduce the trained network:
    a memory discretised with ``method="euler"`` or ``"bilinear"`` (only
    zero-order hold is exact for a held sample; ``method`` names it), and,
    because holding a sample does not hold their contribution, an
    LMU with ``hidden_to_memory``, ``memory_to_memory`` or
    ``hidden_to_hidden`` when samples are held for more than one step (their
    inputs would change within a presentation, unlike in training). Also
    refused: weights still given as Distributions (not trained, or not
    frozen), since rebuilding would draw them anew.

    The `SpikingConversion` keeps ``network`` as its ``original``, so its
    `~SpikingConversion.run` takes the original's input node and probe as
    well as their copies.
    """
    if "target" in renamed:
        raise ValidationError(
            "is now called simulator: the simulator the conversion is for, "
            "to_spiking(..., simulator='nengo' or 'loihi'); nengo-loihi's own target "
            "(e.g. 'sim', its emulator) goes to conv.run(nengo_lmu.loihi.Simulator, "
            "..., target='sim')",
            attr="target",
        )
    if renamed:
        raise TypeError(
            f"to_spiking() got an unexpected keyword argument {next(iter(renamed))!r}"
        )
    progress_bar = as_progress_bar(progress_bar)
    if not isinstance(network, nengo.Network):
        raise ValidationError(
            f"must be a nengo.Network containing LMUs (got {network!r})", attr="network"
        )
    presentation_time = check_param(
        FiniteNumberParam("presentation_time", low=0, low_open=True), presentation_time
    )
    dt = check_param(FiniteNumberParam("dt", low=0, low_open=True), dt)
    presentation_steps(presentation_time, dt)
    dt_train = check_param(FiniteNumberParam("dt_train", low=0, low_open=True), dt_train)
    scale_firing_rates = check_param(
        FiniteNumberParam("scale_firing_rates", low=0, low_open=True, optional=True),
        scale_firing_rates,
    )
    if isinstance(neuron_type, str):
        if neuron_type != "spiking":
            raise ValidationError(
                f"must be 'spiking', a NeuronType or None (got {neuron_type!r})",
                attr="neuron_type",
            )
    else:
        neuron_type = check_param(
            NeuronTypeParam("neuron_type", optional=True), neuron_type
        )
        if isinstance(neuron_type, nengo.Direct):
            raise ValidationError(
                "Direct mode has no neurons to carry the hidden layer's weights: "
                "give a neuron type, 'spiking', or None to keep the trained one",
                attr="neuron_type",
            )
    if memory_kwargs is not None and not isinstance(memory_kwargs, dict):
        raise ValidationError(
            f"must be a dict of LegendreMemory arguments (got {memory_kwargs!r})",
            attr="memory_kwargs",
        )
    simulator = check_param(
        EnumParam("simulator", values=tuple(PEAK_RATES)),
        simulator_kind(simulator) or simulator,
    )
    time_scale = presentation_time / dt_train
    originals = [n for n in network.all_networks if isinstance(n, LMU)]
    if not originals:
        hint = (
            ": it is one; convert the network that contains it and its input node"
            if isinstance(network, LMU)
            else ""
        )
        raise ValidationError(
            f"contains no nengo_lmu.LMU to convert{hint}", attr="network"
        )
    for lmu in originals:
        _check_convertible(lmu, time_scale)

    synapse = check_synapse(synapse)
    if synapse is None:
        synapse = nengo.Lowpass(OUTPUT_TAU_FRACTION * presentation_time)
    peaks = _calibrate(network, originals, calibration, dt_train, progress_bar)
    scaled = [lmu for lmu in originals if _takes_rate_scale(lmu, neuron_type)]
    peak_rate = None
    if scale_firing_rates is None:
        # a neuron's rate is its output over its amplitude
        rates = [
            peaks[lmu]["hidden"] / lmu.hidden_neuron_type.amplitude
            for lmu in scaled
            if peaks.get(lmu, {}).get("hidden")
        ]
        peak_rate = PEAK_RATES[simulator] if rates else None
        scale_firing_rates = peak_rate / max(rates) if rates else 1.0
    elif scale_firing_rates != 1 and not scaled:
        raise ValidationError(
            "only applies to RectifiedLinear hidden layers made spiking "
            "(neuron_type='spiking'); this network has none to scale",
            attr="scale_firing_rates",
        )
    copy = copy_network(network)
    lmus, input_scales = [], []
    inside = {id(obj) for lmu in originals for obj in lmu.all_objects}
    for original in originals:
        old = object_at(copy, index_of(network, original))
        sampled = _takes_held_samples(network, original, inside)
        new = _rebuild(
            old, time_scale, neuron_type, scale_firing_rates, synapse, memory_kwargs,
            presentation_time if sampled else None, dt,
        )
        input_scales.append(_scale_host_inputs(new, peaks.get(original, {})))
        _replace(copy, old, new)
        lmus.append(new)
    spiking = any(lmu.hidden is not None and lmu.hidden_neuron_type.spiking for lmu in lmus)
    lag = synapse_delay(synapse) if spiking else 0.0
    if not np.isfinite(lag):
        raise ValidationError(
            f"{synapse!r} never settles (its mean delay is infinite), so the "
            "spiking output would not follow the input",
            attr="synapse",
        )
    return SpikingConversion(
        copy,
        presentation_time,
        time_scale,
        lmus,
        output_lag=lag,
        scale_firing_rates=scale_firing_rates,
        input_scales=input_scales,
        dt=dt,
        original=network,
        simulator=simulator,
        peak_rate=peak_rate,
    )


def presentation_steps(presentation_time, dt):
    """Simulator steps of ``dt`` per presentation of a sample.

    Refuses a ``presentation_time`` that is not a whole number of steps, at
    least one (`.system.whole_steps`): a sample is held for whole steps (and
    a sampled memory steps once per presentation).

    Examples
    --------
    >>> presentation_steps(0.02, 0.001)
    20
    """
    return whole_steps(presentation_time, dt, attr="presentation_time")


#: Hidden firing rate, in Hz of the spiking network, that the largest hidden
#: activity on the calibration data is mapped to (``to_spiking(calibration=
#: ..., simulator=...)`` with ``scale_firing_rates=None``), per simulator.
#:
#: * ``"nengo"``: one spike per 1 ms step, Loihi's ceiling (so the network
#:   also runs on the chip unclipped). Faster rates carry less spike noise.
#: * ``"loihi"``: half of it. A Loihi neuron resets its voltage to zero at
#:   a spike, losing what it had beyond the threshold, so with an input of
#:   :math:`J` per step it fires every :math:`\lceil 1/J \rceil` steps:
#:   from a few hundred hertz on, fast neurons fire markedly slower than the
#:   trained rate curve asks, an error no averaging removes; slower rates
#:   keep it small and leave spike noise, which the averaged last output
#:   (`READ_WINDOW`) reduces, down to where it dominates. Of the peaks
#:   swept on the emulator on three UCR/UEA problems
#:   (``benchmarks/results/loihi_rates.json``), half the ceiling agreed
#:   with the rate network best or as well as any on each of them, with
#:   half the synaptic events; a quarter of it came closer to the rate
#:   network's outputs on two but classified the third worse.
PEAK_RATES = {"nengo": 1000.0, "loihi": 500.0}

#: Presentation times over which `SpikingConversion.run` averages the last
#: output by default, where the memories hold still after the last sample.
#: The spike noise of that output falls with the window (a neuron's spike
#: count over it is exact to within one spike); each presentation time more
#: costs as much simulated time per sequence.
READ_WINDOW = 5

#: Default output filter of `to_spiking`, as a fraction of the presentation
#: time (8 ms for 20 ms). The last output is read this much after its
#: sample's presentation ends (plus the simulator's latency), still within
#: the held last sample.
OUTPUT_TAU_FRACTION = 0.4


def _takes_rate_scale(lmu, neuron_type):
    """Whether ``scale_firing_rates`` applies to ``lmu``: a RectifiedLinear
    hidden layer made spiking (``neuron_type="spiking"``)."""
    return (
        neuron_type == "spiking"
        and lmu.hidden is not None
        and type(lmu.hidden_neuron_type) is nengo.RectifiedLinear
    )


def _calibrate(network, originals, calibration, dt_train, progress_bar=False):
    """Per original LMU: peak |memory output|, |input| (with input_to_hidden)
    and hidden activity, measured on ``calibration = (node, sequences)``.

    The peaks are those of the response to the data only where the data
    drives the hidden layer: each LMU with one must have a hidden neuron
    whose activity on the data differs from the one it has with no input
    (all-zero sequences) by `CALIBRATION_MIN_DRIVE` of the layer's peak. Otherwise (data that leaves the memory at
    rest, or silences every neuron) the hidden rates measured are those of
    the biases, or none, and the data is refused.
    """
    if calibration is None:
        return {}
    try:
        node, sequences = calibration
    except (TypeError, ValueError):
        raise ValidationError(
            "must be (input node, training sequences)", attr="calibration"
        ) from None
    if not isinstance(node, nengo.Node) or node not in network.all_nodes:
        raise ValidationError(
            f"its node must be a Node of the network (got {node!r})", attr="calibration"
        )
    sequences = check_sequences(sequences, node)
    targets, where = [], []
    for lmu in originals:
        if lmu.hidden is None:
            continue
        targets.append(lmu.memory.output)
        where.append((lmu, "memory"))
        if lmu.input_to_hidden:
            targets.append(lmu.input)
            where.append((lmu, "input"))
        targets.append(lmu.hidden.neurons)
        where.append((lmu, "hidden"))
    if not targets:
        return {}
    # the first run is the network at rest: no input
    rest = np.zeros((1,) + sequences.shape[1:])
    runs = simulate_sequences(
        network, node, np.concatenate([rest, sequences]), targets, dt=dt_train
    )
    found, driven = None, set()
    progress = tracker(
        progress_bar, f"Calibrating on {_count(len(sequences))}", len(sequences) + 1
    )
    with progress:
        at_rest = next(runs)
        progress.total_progress.step()
        for outputs in runs:
            peaks = [np.abs(x).max(axis=0) for x in outputs]
            found = peaks if found is None else [np.maximum(p, f) for p, f in zip(found, peaks)]
            for (lmu, part), x, x0 in zip(where, outputs, at_rest):
                if part == "hidden" and _drives(x, x0):
                    driven.add(lmu)
            progress.total_progress.step()
    for lmu, _ in where:
        if lmu not in driven:
            raise ValidationError(
                f"its sequences move none of {lmu}'s hidden neurons away from the "
                "activity they have with no input by at least "
                f"{CALIBRATION_MIN_DRIVE:.0%} of the layer's peak (all-zero or "
                "near-zero data does not; nor does data that silences them all), "
                "so they measure neither the hidden "
                "firing rates (scale_firing_rates would come from the biases "
                "alone) nor the range of what the hidden layer receives: give (a "
                "sample of) the training inputs",
                attr="calibration",
            )
    peaks = {}
    for (lmu, part), peak in zip(where, found):
        peaks.setdefault(lmu, {})[part] = float(peak.max()) if part == "hidden" else peak
    return peaks


#: The least change of hidden activity, as a share of the layer's peak, by
#: which calibration data must move some hidden neuron away from its activity
#: at rest: data that moves none by more measures the biases, not the data
#: (all-zero data moves none; data scaled down by 1e-9 moves them by 1e-9).
CALIBRATION_MIN_DRIVE = 0.01


def _drives(x, x0):
    """Whether some hidden activity in ``x`` (on data) is nonzero and differs
    from ``x0`` (at rest) by at least `CALIBRATION_MIN_DRIVE` of the larger
    peak: a neuron the data silences gives no rate to measure."""
    peak = max(np.abs(x).max(), np.abs(x0).max())
    moved = np.abs(x - x0) >= CALIBRATION_MIN_DRIVE * peak
    return peak > 0 and bool(np.any((x != 0) & moved))


def _count(n, what="sequence"):
    return f"{n} {what}{'' if n == 1 else 's'}"


class _Scale:
    """Node function ``x * factors`` (a function, so nengo-loihi keeps it on the host)."""

    def __init__(self, factors):
        self.factors = np.asarray(factors, dtype=float)

    def __call__(self, t, x):
        return x * self.factors


def _scale_host_inputs(lmu, peaks):
    """Scale what ``lmu``'s hidden layer receives from the host into [-1, 1].

    For the memory and input kernels: ``pre -> Node(x / s) -> hidden``, with
    the kernel ``W diag(s)``, ``s`` the peak magnitude of each dimension
    (dimensions that never move keep ``s = 1``). Returns ``{kernel name:
    s}``.
    """
    scales = {}
    for name, part in (("memory_kernel", "memory"), ("input_kernel", "input")):
        conn, peak = getattr(lmu, name), peaks.get(part)
        if conn is None or peak is None:
            continue
        s = np.where(peak > 0, peak, 1.0)
        W = np.asarray(conn.transform.init, dtype=float)
        with lmu:
            scaler = nengo.Node(_Scale(1.0 / s), size_in=len(s), label=f"{name} scale")
            nengo.Connection(conn.pre, scaler, synapse=None)
        with nengo.Network(add_to_container=False):
            scaled = nengo.Connection(
                scaler,
                conn.post,
                transform=nengo.transforms.Dense(W.shape, init=W * s[None, :]),
                synapse=conn.synapse,
                add_to_container=False,
            )
        lmu.connections[lmu.connections.index(conn)] = scaled
        setattr(lmu, name, scaled)
        scales[name] = s
    return scales


def _check_convertible(lmu, time_scale):
    if lmu.memory.method != "zoh":
        raise ValidationError(
            f"{lmu}'s memory is discretised with method={lmu.memory.method!r}: "
            "only zero-order hold ('zoh') is exact for a sample held over several "
            "steps, so the converted memory would not reproduce the trained one. "
            "Train with method='zoh' (the default)",
            attr="method",
            obj=lmu,
        )
    if lmu.memory.trainable_matrices:
        raise ValidationError(
            f"{lmu}'s memory has trainable_matrices: its fine-tuned digital "
            "matrices are no longer a continuous Legendre memory, which holding "
            "samples for longer needs. Convert a memory trained with "
            "trainable_theta instead",
            attr="trainable_matrices",
            obj=lmu,
        )
    if np.isclose(time_scale, 1.0):
        return
    for flag in ("hidden_to_memory", "memory_to_memory", "hidden_to_hidden"):
        if getattr(lmu, flag):
            raise ValidationError(
                f"{lmu} uses {flag}: with samples held for more than one step "
                "(presentation_time != dt_train), its recurrent input would change "
                "within a presentation, unlike in training, so the conversion would "
                f"not be faithful. Train without {flag}, or keep "
                "presentation_time == dt_train",
                attr=flag,
                obj=lmu,
            )


WEIGHTS = (
    "input_encoders",
    "hidden_encoders",
    "memory_encoders",
    "input_kernel",
    "hidden_kernel",
    "memory_kernel",
)


def _trained(conn, name, lmu):
    """The array a trained connection holds (refusing undrawn Distributions)."""
    init = conn.transform.init
    if isinstance(init, nengo.dists.Distribution):
        raise ValidationError(
            f"{lmu}.{name} still holds a Distribution, not trained values: call "
            "sim.freeze_params(network) after training (or give arrays)",
            attr="network",
        )
    return np.array(init, dtype=float)


def _rebuild(old, time_scale, neuron_type, scale, synapse, memory_kwargs,
             sample_period, dt):
    """A new LMU like ``old``, stretched in time, with the hidden type converted."""
    kwargs = {
        f"{name}_init": _trained(getattr(old, name), name, old)
        for name in WEIGHTS
        if getattr(old, name) is not None
    }
    hidden_type = old.hidden_neuron_type
    current_scale = scale if _takes_rate_scale(old, neuron_type) else 1.0
    if old.hidden is not None and neuron_type is not None:
        if isinstance(neuron_type, str):  # "spiking"
            hidden_type = spiking_equivalent(hidden_type, scale)
        else:
            hidden_type = neuron_type
    with nengo.Network(add_to_container=False):  # added to its parent later
        new = LMU(
            old.units,
            old.order,
            old.memory.trained_theta() * time_scale,  # theta / s if learned
            input_d=old.input_d,
            memory_d=old.memory_d,
            hidden_neuron_type=hidden_type,
            hidden_to_memory=old.hidden_to_memory,
            memory_to_memory=old.memory_to_memory,
            input_to_hidden=old.input_to_hidden,
            hidden_to_hidden=old.hidden_to_hidden,
            method=old.memory.method,
            memory_kwargs=_memory_config(
                old.memory, time_scale, memory_kwargs, sample_period, dt
            ),
            label=old.label,
            seed=old.seed,
            add_to_container=False,
            **kwargs,
        )
    if old.hidden is not None:
        new.hidden.gain = np.asarray(old.hidden.gain, dtype=float) * current_scale
        new.hidden.bias = np.asarray(old.hidden.bias, dtype=float) * current_scale
        if hidden_type.spiking:
            for conn in new.connections:
                # (Ensemble.neurons makes a new Neurons object on each access)
                pre = conn.pre_obj
                if getattr(pre, "ensemble", None) is new.hidden and conn.post_obj is new.output:
                    conn.synapse = synapse
    return new


#: `.LegendreMemory` arguments that configure a neural memory (its ``dt`` is
#: the deployment simulator's, so it is not carried over from training)
NEURAL_MEMORY_ARGS = ("n_neurons",) + LegendreMemory.NEURAL_ONLY_ARGS


def _takes_held_samples(network, lmu, inside):
    """Whether ``lmu``'s memory can take one sample per presentation.

    Only where it reads the held samples themselves: every connection into
    ``lmu.input`` without a synapse and from outside every LMU (a filtered
    input, or another LMU's spiking output, still moves when the sample
    begins, and a sampled memory would read it then), and no recurrence
    (with ``presentation_time == dt_train``), which would go on while the
    memory holds still. ``inside``: the ids of every LMU's objects.
    """
    if lmu.hidden_to_memory or lmu.memory_to_memory or lmu.hidden_to_hidden:
        return False
    return all(
        conn.synapse is None and id(base_object(conn.pre_obj)) not in inside
        for conn in network.all_connections
        if conn.post_obj is lmu.input
    )


def _memory_config(memory, time_scale, memory_kwargs, sample_period, dt):
    """The rebuilt memory's arguments: the original's neural configuration
    (its input band stretched by ``time_scale``, as its window is, and
    mapped for the simulator's ``dt``), updated by ``memory_kwargs``;
    ``n_neurons=None`` there makes it exact. An exact
    one takes one sample per ``sample_period`` (the presentation time; None
    where it is not fed held samples, see `_takes_held_samples`) unless
    ``memory_kwargs`` says None."""
    memory_kwargs = dict(memory_kwargs or {})
    if memory.n_neurons is None or (
        "n_neurons" in memory_kwargs and memory_kwargs["n_neurons"] is None
    ):
        config = {}
    else:
        config = {name: getattr(memory, name) for name in NEURAL_MEMORY_ARGS}
        if config["input_high"] is not None:
            config["input_high"] = config["input_high"] / time_scale
    if "simulator" in memory_kwargs and "weights" not in memory_kwargs:
        config.pop("weights", None)  # the new simulator's own default
    config.update(memory_kwargs)
    if config.get("n_neurons", 1) is None:
        config.pop("n_neurons")
    if config.get("n_neurons") is not None:
        config.setdefault("dt", dt)  # the simulator's, not training's
    period = config.get("sample_period")
    if period is not None and not np.isclose(period, sample_period or 0.0):
        raise ValidationError(
            f"sample_period={period:g} would step the memory at other times than "
            "the samples, whose stretched window is exact for one step per "
            "presentation: leave it out, or give None for a continuous memory"
            + ("" if sample_period else " (this LMU is not fed held samples)"),
            attr="memory_kwargs",
        )
    if "n_neurons" not in config and sample_period is not None:
        config.setdefault("sample_period", sample_period)
    return config


def _replace(root, old, new):
    """Put ``new`` in ``old``'s place; connections and probes to it follow."""
    parent = next(n for n in [root] + root.all_networks if old in n.networks)
    parent.networks[parent.networks.index(old)] = new
    inside = set(old.all_objects) | {old.input, old.output}

    def moved(obj):
        """``obj``'s counterpart in ``new`` (same place in the structure)."""
        return counterpart(obj, old, new) if base_object(obj) in inside else obj

    for net in [root] + [n for n in root.all_networks if n not in inside]:
        if net is new or net in new.all_networks:
            continue
        for i, conn in enumerate(net.connections):
            if base_object(conn.pre) in inside or base_object(conn.post) in inside:
                with nengo.Network(add_to_container=False):
                    net.connections[i] = nengo.Connection(
                        moved(conn.pre),
                        moved(conn.post),
                        transform=conn.transform,
                        synapse=conn.synapse,
                        function=conn.function,
                        solver=conn.solver,
                        eval_points=conn.eval_points,
                        scale_eval_points=conn.scale_eval_points,
                        label=conn.label,
                        seed=conn.seed,
                        add_to_container=False,
                    )
        for i, probe in enumerate(net.probes):
            if base_object(probe.target) in inside:
                net.probes[i] = nengo.Probe(
                    moved(probe.target),
                    attr=probe.attr,
                    sample_every=probe.sample_every,
                    synapse=probe.synapse,
                    solver=probe.solver,
                    label=probe.label,
                    seed=probe.seed,
                    add_to_container=False,
                )


def _spiking_populations(network, lmus):
    """Where the spiking ensembles of each LMU are, and their fan-out.

    Returns ``{(lmu index, "hidden" or "memory"): (ensemble paths, synapses
    per spike)}``; synapses per spike counts, for each outgoing connection,
    the post neurons (or, for a node, its dimensions), averaged over the
    ensembles.
    """
    found = {}
    for k, lmu in enumerate(lmus):
        parts = {
            "hidden": [lmu.hidden] if lmu.hidden is not None else [],
            "memory": list(getattr(lmu.memory, "state_ensembles", [])),
        }
        for part, ensembles in parts.items():
            ensembles = [e for e in ensembles if e.neuron_type.spiking]
            if not ensembles:
                continue
            per_spike = np.mean([fan_out(network, e) for e in ensembles])
            found[(k, part)] = ([index_of(network, e) for e in ensembles], per_spike)
    return found
