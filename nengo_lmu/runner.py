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
from nengo.utils.progress import NoProgressBar

from nengo_lmu.measure import check_sequences
from nengo_lmu.metrics import fan_out, spike_count
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
            progress_bar, f"Running {plural(len(sequences))}", len(sequences) * run_length
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
