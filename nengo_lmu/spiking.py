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

This module rebuilds the network (`to_spiking`); running the result is
`nengo_lmu.runner`'s (`SpikingConversion`), measuring the calibration data
`nengo_lmu.calibration`'s. ``nengo_lmu.spiking`` offers all three (`__all__`).
"""

import nengo
import numpy as np
from nengo.exceptions import ValidationError
from nengo.neurons import NeuronTypeParam
from nengo.params import EnumParam

from nengo_lmu.calibration import (
    CALIBRATION_MIN_DRIVE,
    calibrate,
    scale_host_inputs,
)
from nengo_lmu.networks.lmu import LMU
from nengo_lmu.loihi_limits import INPUT_TAU
from nengo_lmu.mapping import ss2sim
from nengo_lmu.networks.linear import DECODER_REG
from nengo_lmu.networks.memory import LegendreMemory
from nengo_lmu.params import FiniteNumberParam, FiniteSynapseParam, check_param
from nengo_lmu.paths import base_object, copy_network, counterpart, index_of, object_at
from nengo_lmu.progress import as_progress_bar, plural
from nengo_lmu.runner import (
    READ_WINDOW,
    HeldSamples,
    SimulatorMismatchWarning,
    SpikingConversion,
    presentation_steps,
    simulator_kind,
)


#: The conversion's API: `to_spiking` and what it returns and uses, from the
#: modules of the runner (`nengo_lmu.runner`) and calibration
#: (`nengo_lmu.calibration`) too.
__all__ = [
    "CALIBRATION_MIN_DRIVE",
    "OUTPUT_TAU_FRACTION",
    "PEAK_RATES",
    "READ_WINDOW",
    "HeldSamples",
    "SimulatorMismatchWarning",
    "SpikingConversion",
    "check_synapse",
    "presentation_steps",
    "simulator_kind",
    "spiking_equivalent",
    "synapse_delay",
    "to_spiking",
]

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
    scale_firing_rates : float or sequence of float, optional
        For ``RectifiedLinear`` hidden layers: fire this many times faster,
        with spikes this many times smaller (the mean output, which the
        readout or the next layer reads, is unchanged; its spike noise
        falls). A float applies to every such layer; a sequence gives one
        scale per LMU, in the order of `SpikingConversion.lmus` (that of
        ``network.all_networks``: a `.lmu_model` stack's first layer first),
        1 for an LMU without such a layer. None (default): with
        ``calibration``, each LMU its own, so that its largest hidden
        activity on the calibration data fires at ``PEAK_RATES[simulator]``
        (a stack's layers differ in activity, and a layer scaled by another's
        would fire slower, with more spike noise, than it needs); without
        it, 1. A scale other than 1 for a network (or an LMU) without such a
        layer is refused.
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
        was neural; ``n_neurons=None`` makes the rebuilt memory exact). With
        ``reduced_order`` (a memory of fewer states, whose transforms stay
        within a chip's range at any order) and ``calibration``, the memory
        is balanced against the covariance of its states on the calibration
        data (unless ``state_covariance`` is given); a reduced original
        keeps its own reduction, the one its readout was trained on.
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
        firing rates are set from each LMU's activity (``scale_firing_rates``).
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
    given = _check_rate_scales(scale_firing_rates, originals, neuron_type)
    peaks = calibrate(network, originals, calibration, dt_train, progress_bar)
    scales, peak_rate = _rate_scales(given, originals, neuron_type, peaks, simulator)
    copy = copy_network(network)
    lmus, input_scales = [], []
    inside = {id(obj) for lmu in originals for obj in lmu.all_objects}
    for original, scale in zip(originals, scales):
        old = object_at(copy, index_of(network, original))
        sampled = _takes_held_samples(network, original, inside)
        new = _rebuild(
            old, time_scale, neuron_type, scale, synapse, memory_kwargs,
            presentation_time if sampled else None, dt,
            peaks.get(original, {}).get("covariance"),
        )
        _replace(copy, old, new)
        _memory_into_hidden(copy, new)
        input_scales.append(scale_host_inputs(new, peaks.get(original, {})))
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
        scale_firing_rates=_shared_scale(scales, originals, neuron_type),
        rate_scales=scales,
        input_scales=input_scales,
        dt=dt,
        original=network,
        simulator=simulator,
        peak_rate=peak_rate,
    )


#: Hidden firing rate, in Hz of the spiking network, that each LMU's largest
#: hidden activity on the calibration data is mapped to (``to_spiking(
#: calibration=..., simulator=...)`` with ``scale_firing_rates=None``), per
#: simulator.
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


def _check_rate_scales(scale_firing_rates, originals, neuron_type):
    """``scale_firing_rates`` checked: None, one positive finite scale, or a
    list of them, one per LMU of ``originals`` (1 for an LMU it does not
    apply to, `_takes_rate_scale`); a scale other than 1 where none applies
    is refused."""
    attr = "scale_firing_rates"
    if scale_firing_rates is None:
        return None
    scaled = [_takes_rate_scale(lmu, neuron_type) for lmu in originals]
    try:
        ndim = np.ndim(scale_firing_rates)
    except ValueError:  # ragged
        ndim = None
    if ndim == 0:
        scale = check_param(
            FiniteNumberParam(attr, low=0, low_open=True), scale_firing_rates
        )
        if scale != 1 and not any(scaled):
            raise ValidationError(
                "only applies to RectifiedLinear hidden layers made spiking "
                "(neuron_type='spiking'); this network has none to scale",
                attr=attr,
            )
        return scale
    if ndim != 1:
        raise ValidationError(
            "must be a number, or a sequence of numbers, one per LMU "
            f"(got {scale_firing_rates!r})",
            attr=attr,
        )
    if len(scale_firing_rates) != len(originals):
        raise ValidationError(
            f"has {plural(len(scale_firing_rates), 'scale')} for "
            f"{plural(len(originals), 'LMU')}: give "
            "one per LMU, in the order of network.all_networks (that of the "
            "conversion's lmus), or one number for all",
            attr=attr,
        )
    scales = []
    for k, (lmu, scale, takes) in enumerate(zip(originals, scale_firing_rates, scaled)):
        try:
            scale = check_param(FiniteNumberParam(attr, low=0, low_open=True), scale)
        except ValidationError as error:
            raise ValidationError(
                f"[{k}] (for {lmu}): {error.args[0]}", attr=attr
            ) from None
        if scale != 1 and not takes:
            raise ValidationError(
                f"[{k}] is {scale:g}, but {lmu} has no RectifiedLinear hidden layer "
                "made spiking (neuron_type='spiking') to scale: give 1 for it",
                attr=attr,
            )
        scales.append(float(scale))
    return scales


def _rate_scales(given, originals, neuron_type, peaks, simulator):
    """Each LMU's firing-rate scale, and the peak rate it was derived for.

    ``given`` (checked, `_check_rate_scales`): a list is each LMU's, a
    number every scaled LMU's. None: each scaled LMU with a measured hidden
    peak (``peaks``, `.calibrate`) gets ``PEAK_RATES[simulator]`` over its
    own peak rate (a neuron's rate is its output over its amplitude), so
    that every layer of a stack reaches the peak rate, whatever its
    activity; the rest 1. The peak rate is None unless it set some scale.
    An LMU the scale does not apply to gets 1."""
    if isinstance(given, list):
        return given, None
    scaled = [_takes_rate_scale(lmu, neuron_type) for lmu in originals]
    if given is not None:
        return [float(given) if takes else 1.0 for takes in scaled], None
    scales, peak_rate = [], None
    for lmu, takes in zip(originals, scaled):
        peak = peaks.get(lmu, {}).get("hidden") if takes else None
        if peak:
            peak_rate = PEAK_RATES[simulator]
            scales.append(peak_rate / (peak / lmu.hidden_neuron_type.amplitude))
        else:
            scales.append(1.0)
    return scales, peak_rate


def _shared_scale(scales, originals, neuron_type):
    """`SpikingConversion.scale_firing_rates`: the smallest scale of the LMUs
    it applies to (their one scale where they share it: one LMU, or a number
    given; derived, the busiest layer's); 1 where it applies to none."""
    applied = [s for s, lmu in zip(scales, originals) if _takes_rate_scale(lmu, neuron_type)]
    return min(applied) if applied else 1.0


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
             sample_period, dt, covariance=None):
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
                old.memory, time_scale, memory_kwargs, sample_period, dt, covariance
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


def _memory_config(memory, time_scale, memory_kwargs, sample_period, dt,
                   covariance=None):
    """The rebuilt memory's arguments: the original's neural configuration
    (its input band stretched by ``time_scale``, as its window is, and
    mapped for the simulator's ``dt``), updated by ``memory_kwargs``;
    ``n_neurons=None`` there makes it exact. An exact
    one takes one sample per ``sample_period`` (the presentation time; None
    where it is not fed held samples, see `_takes_held_samples`) unless
    ``memory_kwargs`` says None.

    A reduced original keeps its reduction (``reduced_order`` and
    ``state_covariance``: the states its readout was trained on); a
    reduction ``memory_kwargs`` asks for without a ``state_covariance``
    balances against ``covariance``, the Legendre states' covariance
    measured on the calibration data (if any): the states kept are those
    the data moves. (The hold argument keeps the states at the samples, so
    the covariance measured in training time holds for the stretched
    memory.)"""
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
    if memory.reduced_order is not None:
        config.update(
            reduced_order=memory.reduced_order, state_covariance=memory.state_covariance
        )
    elif memory_kwargs.get("reduced_order") is not None and covariance is not None:
        config["state_covariance"] = covariance
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


def _memory_into_hidden(root, lmu):
    """Connect a neural memory laid out for Loihi straight into ``lmu``'s hidden layer.

    Through the memory's ``output`` node, what the hidden layer reads would
    cross the host every step (chip to host, then host to chip). Instead each
    state ensemble connects to the hidden neurons, carrying
    :math:`W R (A'_o \\hat{x} + B'_o u)` through ``Lowpass(INPUT_TAU)``
    (:math:`W` the trained memory kernel, :math:`R` its ``to_legendre``,
    :math:`(A'_o, B'_o)` the principle-3 read-out for that synapse, `.ss2sim`):
    a decoded connection into neurons, which nengo-loihi makes dense weights
    without decode neurons. On Loihi a block has one synaptic filter, and
    the hidden layer's is that of its host inputs (``INPUT_TAU`` in
    `nengo_lmu.loihi.Simulator`), so the state arrives through it rather
    than through the memory's own readout synapse.
    The ``B'_o`` term reaches the hidden layer from the LMU's input, on the
    host (filtered on the chip, as every host input), folded into the input
    kernel where there is one (so that calibration scales it into the
    host-to-chip link's range with the rest of that kernel). The memory's
    decoded state then goes to the host only where the network reads it
    (a probe or connection on ``memory.output`` or ``memory.state``).

    Returns whether it did: for a neural memory with ``simulator="loihi"``
    and neuron-to-neuron ``weights`` (its default there), mapped at a
    ``dt``, under a hidden layer, fed by the LMU's input alone (no
    ``hidden_to_memory``, ``memory_to_memory``); any other keeps the host
    route. Without ``input_to_hidden`` the LMU gains an input kernel
    (``input_kernel``) carrying that term alone.
    """
    mem = lmu.memory
    neural = getattr(mem, "realization", None)
    if (
        lmu.hidden is None
        or lmu.memory_kernel is None
        or mem.n_neurons is None
        or mem.simulator != "loihi"
        or neural is None
        or mem.dt is None  # an analog mapping: not laid out for the chip's steps
        or not mem.weights  # through decode neurons: the hidden block's filter is 5 ms
        or lmu.hidden_to_memory  # the memory's input is more than its input encoders'
        or lmu.memory_to_memory
    ):
        return False
    W = np.asarray(lmu.memory_kernel.transform.init, dtype=float)
    E = np.asarray(lmu.input_encoders.transform.init, dtype=float)  # (memory_d, input_d)
    q, r = mem.order, mem.state_d
    # the hidden block's one filter is its host inputs' (INPUT_TAU): the
    # state reaches it through that filter, so the read-out is mapped for it
    synapse = nengo.Lowpass(INPUT_TAU)
    readout = ss2sim(neural.sys, synapse, dt=mem.dt)
    Ao, Bo = readout.A, readout.B
    solver = nengo.solvers.LstsqL2(reg=DECODER_REG)
    conns = []
    direct = np.zeros((lmu.units, lmu.input_d))  # the B'_o term, from the LMU's input
    with lmu:
        for c in range(mem.memory_d):
            M = W[:, c * q : (c + 1) * q] @ mem.to_legendre
            for i in range(r):
                conns.append(nengo.Connection(
                    mem.state_ensembles[c * r + i], lmu.hidden.neurons,
                    transform=(M @ Ao[:, i])[:, None], synapse=synapse, solver=solver,
                ))
            direct += (M @ Bo) @ E[c : c + 1]
    # the input term joins the input kernel (which calibration scales into the
    # link's range, with input_to_hidden), or comes in a connection of its own
    if lmu.input_kernel is not None:
        kernel = np.asarray(lmu.input_kernel.transform.init, dtype=float) + direct
        lmu.input_kernel.transform = nengo.transforms.Dense(kernel.shape, init=kernel)
    else:
        with lmu:
            lmu.input_kernel = nengo.Connection(
                lmu.input, lmu.hidden.neurons,
                transform=nengo.transforms.Dense(direct.shape, init=direct), synapse=None,
            )
    lmu.connections.remove(lmu.memory_kernel)
    lmu.memory_kernel = None
    lmu.memory_kernel_on_chip = conns
    read = {mem.output, mem.state}
    if not any(
        base_object(p.target) in read for p in root.all_probes
    ) and not any(
        base_object(c.pre) in read and c not in mem.connections for c in root.all_connections
    ):
        mem.connections[:] = [
            c for c in mem.connections
            if base_object(c.post) not in read and base_object(c.pre) not in read
        ]
        lmu.memory_state_dropped = True  # SpikingConversion.run refuses probes on it
    return True


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
