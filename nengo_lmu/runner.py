"""Running a converted network: each sequence's samples held, outputs read.

`SpikingConversion` is what `.to_spiking` returns: the converted network and
what its conversion decided (presentation time, time-scale, firing rates,
host-input scales), with `~SpikingConversion.run`, which holds each sample of
a sequence for the presentation time (`HeldSamples`, counted in simulator
steps), reads the probe at the end of each presentation and counts the
spikes of every spiking population.
"""

import sys
import warnings

import nengo
import numpy as np
from nengo.exceptions import ValidationError
from nengo.params import BoolParam
from nengo.utils.progress import NoProgressBar

from nengo_lmu.cost import CostProbes, conversion_cost
from nengo_lmu.measure import check_sequences
from nengo_lmu.metrics import fan_out
from nengo_lmu.params import FiniteNumberParam, IntegerParam, check_param
from nengo_lmu.paths import copy_network, index_of, object_at
from nengo_lmu.progress import plural, tracker
from nengo_lmu.system import whole_steps


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
        The firing-rate scale of the hidden layers it applies to
        (``RectifiedLinear`` made spiking; `to_spiking`'s
        ``scale_firing_rates``), given or derived from the calibration data,
        where they share one (a network of one LMU, or one number given);
        where each has its own (`rate_scales`), the smallest of them, the
        busiest layer's; 1 where it applies to none.
    rate_scales : tuple of float
        Each converted LMU's firing-rate scale, in the order of `lmus`: its
        hidden neurons fire this many times faster than the trained rates,
        with spikes this many times smaller (the mean output is unchanged);
        1 where it does not apply. Given back to `to_spiking` as
        ``scale_firing_rates``, they give the same rates.
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
        The firing rate, in Hz, that each LMU's largest hidden activity on
        the calibration data was mapped to (``PEAK_RATES[simulator]``); None
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
        rate_scales=None,
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
        if rate_scales is None:
            rate_scales = [scale_firing_rates] * len(lmus)
        self.rate_scales = tuple(float(scale) for scale in rate_scales)
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
        sequential=False,
        rest_time=None,
        **sim_kwargs,
    ):
        """Run each sequence and read ``probe`` at the end of each presentation.

        Sequences run ``parallel`` at a time, in as many copies of the network
        side by side in one simulator (no simulator needs to reset; one build
        serves them all). With ``sequential``, as a deployment meets them:
        one after another in each of ``parallel`` copies (one simulator, one
        build), every sequence after ``rest_time`` in which the input is zero
        and every memory returns to rest: a sampled exact memory is reset
        (its ``advance`` below -0.5, `.SampledSystem`), a neural one's
        neurons are inhibited (a strong negative input into each, from a
        host node, as Gaurav, Stewart & Yi (2023) reset their memory on
        Loihi) while its states decay through their synapses, and every
        filter decays. Both modes give each sequence the same start, so
        their outputs agree to the filters' decay over ``rest_time`` (and the
        spike noise).

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
        sequential : bool, optional
            Run the sequences one after another in each copy (see above).
            Refused for a network with an exact memory that runs
            continuously (one not fed the held samples, such as an upper
            layer of a stack), which cannot return to rest.
        rest_time : float, optional
            ``sequential`` only: seconds of rest before each sequence,
            rounded up to whole presentations; 0 runs the sequences back to
            back, each from where the last left off. None: `REST_DECAYS`
            times the slowest time constant of the network's synapses, and
            at least one presentation (in which memories reset).
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
        cost : nengo_lmu.cost.InferenceCost
            What one sequence cost, measured over the whole run of each (its
            read window included) and averaged: per stage (each LMU's
            ``"memory"`` and ``"hidden"``, and the ``"readout"``) the spikes,
            synaptic operations, neuron updates, host-to-chip values and
            spikes, chip-to-host spikes and host arithmetic of the network
            as nengo-loihi splits it (`nengo_lmu.cost.conversion_cost`),
            latency, chip resources where the simulator is nengo-loihi's, and
            ``cost.energy(device)`` in joules (keras-spiking's figures); its
            ``summary()`` prints it. It is also the mapping this returned
            before: ``cost[k]`` for the converted LMU ``k`` (index in
            ``lmus``) holds the mean number of spikes per sequence of its
            hidden layer, ``"hidden"``, and of its memory's neurons,
            ``"memory"`` (where it has spiking neurons), and the synaptic
            events they cause (spikes times outgoing synapses,
            ``"hidden_synaptic_events"``, ``"memory_synaptic_events"``), so
            ``outputs, spikes = conv.run(...)`` reads as it always did.
        """
        if not callable(simulator):
            raise ValidationError(
                f"must be a simulator class such as nengo.Simulator (got {simulator!r})",
                attr="simulator",
            )
        self._check_simulator(simulator, sim_kwargs)
        node = self._resolve(node, nengo.Node, "node")
        probe = self._resolve(probe, nengo.Probe, "probe")
        for lmu in self.lmus:
            dropped = {lmu.memory.output, lmu.memory.state}
            if getattr(lmu, "memory_state_dropped", False) and (
                getattr(probe.target, "obj", probe.target) in dropped
            ):
                raise ValidationError(
                    f"reads {lmu}'s memory state, which this conversion does not "
                    "decode (its memory feeds the hidden layer on the chip, and "
                    "nothing read the state when it was converted): probe it in the "
                    "network before converting, so that it is kept",
                    attr="probe",
                )
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
        outputs = [None] * len(sequences)
        measured, built = None, None
        n_samples = sequences.shape[1]
        rest = self._rest_presentations(sequential, rest_time)
        if sequential:
            # each copy runs its sequences (every parallel-th) one after another
            per_sequence = (rest + n_samples + extra) * steps
            groups = [
                [list(range(k, len(sequences), parallel)) for k in range(parallel)
                 if k < len(sequences)]
            ]
            run_length = per_sequence * len(groups[0][0])
        else:
            per_sequence = 0
            groups = [
                [[i] for i in range(start, min(start + parallel, len(sequences)))]
                for start in range(0, len(sequences), parallel)
            ]
            run_length = steps * n_samples + delay + window - 1
        progress = tracker(
            progress_bar, f"Running {plural(len(sequences))}",
            sum(len(group) for group in groups) * run_length,
        )
        # a shown bar hears from each simulator about ten times (whole presentations)
        shown = not isinstance(progress.progress_bar, NoProgressBar)
        piece = steps * max(1, run_length // steps // 10) if shown else run_length
        with progress:
            for group in groups:
                with nengo.Network(seed=self.network.seed) as batch:
                    copies = [copy_network(self.network, True) for _ in group]
                    cost_probes = []
                    for copy, indices in zip(copies, group):
                        self._present(copy, sequences[indices], rest, extra,
                                      node_index, sampled)
                        cost_probes.append(CostProbes(copy))
                with simulator(batch, **sim_kwargs) as sim:
                    for done in range(0, run_length, piece):
                        sim.run_steps(min(piece, run_length - done))
                        progress.total_progress.step(
                            min(piece, run_length - done) * len(group)
                        )
                built = built or (getattr(sim, "model", None), copies)
                for copy, probes, indices in zip(copies, cost_probes, group):
                    data = sim.data[object_at(copy, probe_index)]
                    for j, i in enumerate(indices):
                        ends = (np.arange(1, n_samples + 1) + rest) * steps - 1
                        ends += j * per_sequence
                        ends[-1] += delay
                        out = data[ends]
                        out[-1] = data[ends[-1] : ends[-1] + window].mean(axis=0)
                        outputs[i] = out
                    # one inference per sequence (a sequential copy: each with its rest)
                    read = probes.read(sim, onto=self.network, runs=len(indices),
                                       steps=per_sequence if sequential else None)
                    measured = read if measured is None else measured + read
        n = len(sequences)
        cost = conversion_cost(self, measured, sequences.shape[1], simulator, *built)
        for (lmu_index, part), (idx, per_spike) in populations.items():
            count = sum(measured.spikes[object_at(self.network, i)].sum() for i in idx) / n
            entry = cost.spikes.setdefault(lmu_index, {})
            entry[part] = float(count)
            entry[f"{part}_synaptic_events"] = float(count * per_spike)
        return np.array(outputs), cost

    def _check_simulator(self, simulator, sim_kwargs):
        """Warn where ``simulator`` is not the one the firing rates were set
        for; refuse nengo-loihi's ``target`` given to another simulator."""
        kind = simulator_kind(simulator)
        chip = [lmu for lmu in self.lmus if getattr(lmu, "memory_kernel_on_chip", None)]
        if chip and kind == "loihi" and not hasattr(simulator, "model_for"):
            raise ValidationError(
                f"{chip[0]}'s memory feeds its hidden layer on the chip, read out for "
                "the 1 ms host-input filter of nengo_lmu.loihi.Simulator; "
                f"{simulator.__name__} filters host inputs by 5 ms: run it on "
                "nengo_lmu.loihi.Simulator",
                attr="simulator",
            )
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

    def _present(self, copy, sequences, rest, extra, node_index, sampled):
        """Give ``copy`` its ``sequences``, one after another: each after
        ``rest`` presentations of rest (zero input, memories reset), then
        its samples, then its last sample ``extra`` more times (held on while
        the last output is read)."""
        samples, advance, gate = [], [], []
        for sequence in sequences:
            samples += [np.zeros((rest, sequence.shape[1])), sequence]
            samples += [sequence[-1:]] * extra
            advance += [-1.0] * min(rest, 1) + [0.0] * (rest - 1) * (rest > 0)
            advance += [1.0] * len(sequence) + [0.0] * extra
            gate += [1.0] * rest + [0.0] * (len(sequence) + extra)
        object_at(copy, node_index).output = HeldSamples(
            np.concatenate(samples), self.presentation_time
        )
        for index in sampled:  # take every sample, then hold still
            object_at(copy, index).output = HeldSamples(
                np.array(advance)[:, None], self.presentation_time
            )
        ensembles = [
            object_at(copy, index_of(self.network, ens))
            for lmu in self.lmus
            for ens in getattr(lmu.memory, "state_ensembles", [])
        ]
        if rest and ensembles:  # (in the batch, beside the copy: not part of it)
            inhibit = nengo.Node(
                HeldSamples(np.array(gate)[:, None], self.presentation_time),
                label="memory reset",
            )
            for ens in ensembles:
                nengo.Connection(
                    inhibit, ens.neurons, transform=-_inhibition(ens), synapse=None
                )

    def _rest_presentations(self, sequential, rest_time):
        """Presentations of rest before each sequence: 0 side by side."""
        check_param(BoolParam("sequential"), sequential)
        if not sequential:
            if rest_time is not None:
                raise ValidationError(
                    "applies to sequential runs (sequential=True)", attr="rest_time"
                )
            return 0
        continuous = [
            lmu for lmu in self.lmus
            if lmu.memory.n_neurons is None and lmu.memory.sample_period is None
        ]
        if continuous:
            raise ValidationError(
                f"{continuous[0]}'s exact memory runs continuously (it is not fed "
                "the held samples themselves), and cannot return to rest between "
                "sequences: run them side by side (sequential=False)",
                attr="sequential",
            )
        if rest_time is None:  # at least the one presentation that resets
            rest_time = max(REST_DECAYS * _slowest_decay(self.network),
                            self.presentation_time)
        rest_time = check_param(FiniteNumberParam("rest_time", low=0), rest_time)
        return int(np.ceil(rest_time / self.presentation_time - 1e-9))


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


#: Presentation times over which `SpikingConversion.run` averages the last
#: output by default, where the memories hold still after the last sample.
#: The spike noise of that output falls with the window (a neuron's spike
#: count over it is exact to within one spike); each presentation time more
#: costs as much simulated time per sequence.
READ_WINDOW = 5


#: `SpikingConversion.run`'s default rest between sequences run one after
#: another, in multiples of the network's slowest synaptic time constant:
#: what a filter still holds after it, :math:`e^{-8} \\approx 3 \\cdot 10^{-4}`.
REST_DECAYS = 8


def _slowest_decay(network):
    """The slowest time constant of ``network``'s synapses, its probes'
    included (seconds): of a linear filter,
    :math:`1 / \\min |\\mathrm{Re}\\, p|` over its poles."""
    slowest = 0.0
    for syn in [c.synapse for c in network.all_connections] + [
        p.synapse for p in network.all_probes
    ]:
        if isinstance(syn, nengo.LinearFilter) and syn.analog and len(np.atleast_1d(syn.den)) > 1:
            rates = -np.real(np.roots(syn.den))
            if np.all(rates > 0):
                slowest = max(slowest, float(1.0 / rates.min()))
    return slowest


def _inhibition(ens):
    """``(n_neurons, 1)`` weights that silence ``ens``: a unit input into its
    neurons (which Nengo scales by each neuron's gain) of twice its largest
    input current at its radius, over its smallest gain, from its gains and
    biases (drawn from its distributions, with a seed of their own, if need
    be: an estimate of the built ones), so every neuron stays below
    threshold."""
    rng = np.random.RandomState(0)
    n = ens.n_neurons

    def sample(value):
        if isinstance(value, nengo.dists.Distribution):
            return value.sample(n, rng=rng)
        return np.broadcast_to(np.asarray(value, dtype=float), (n,))

    if ens.gain is not None and ens.bias is not None:
        gain, bias = sample(ens.gain), sample(ens.bias)
    else:
        gain, bias = ens.neuron_type.gain_bias(sample(ens.max_rates), sample(ens.intercepts))
    current = np.abs(gain) + np.abs(bias)
    return np.full((n, 1), 2.0 * float(current.max()) / float(np.abs(gain).min()))


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
