"""Preparing networks for nengo-loihi (1.1) and its emulator.

nengo-loihi runs Ensembles of `nengo.LIF` or `nengo.SpikingRectifiedLinear`
(and their rate versions, spiking) on the chip; everything else stays on the
host. What matters for an accurate recurrent network such as
`.LegendreMemory`:

* **One filter per block.** A chip ensemble's compartments have a single
  Lowpass input filter: the largest ``tau`` of the connections into it.
* **Decode neurons.** A decoded ensemble-to-ensemble connection runs its
  decoded value through on/off decode neurons, filtered by the connection's
  synapse, then by ``model.decode_tau = 5 ms`` into the post ensemble: the
  recurrence sees the double exponential. Neuron-to-neuron weights
  (``solver=LstsqL2(weights=True)``) avoid decode neurons (and their noise).
* **8-bit weights.** Each block's weights are scaled by a shared exponent;
  when all the weights into a block are tiny, no exponent keeps the
  threshold in range: ``BuildError: Could not find appropriate weight
  exponent``. For a decoded connection this happens when its transform times
  the decoders is small (`min_decoded_transform`).
* **Host input** is spike-encoded by on/off neurons of at most one spike per
  step: a value beyond the post ensemble's radius saturates. nengo-loihi's
  pair fires at ``500 (1 ± x)`` Hz, so even a zero input arrives as two
  500 Hz trains whose beats are noise; its chip side is filtered by the same
  5 ms ``decode_tau``, a lag that a sample held for 20 ms cannot hide.
  `Simulator` encodes host values with `RectifiedInputNeurons` (no
  baseline) and a 1 ms ``decode_tau``: on psDigits (``to_spiking`` at its
  defaults, 20 ms per pixel, calibrated on the training images for
  ``simulator="loihi"``; ``benchmarks/results/psdigits_spiking.json``, mean ±
  population standard deviation over 5 seeds) the emulator scores
  97.2 ± 0.6 % through `Simulator` (all 448 test digits, read after its
  ``latency_steps`` too), as the rate network does, against 94.4 ± 1.0 % on
  plain `nengo_loihi.Simulator` (the first 100).
* **Whole-step spike periods.** Loihi resets the voltage to zero on a
  spike, so a neuron fires at ``1 / ceil(1 / J)`` spikes per step: above a
  few hundred hertz its tuning curve is a coarse staircase, below it spike
  noise grows. `MEMORY_KWARGS` tunes a neural memory in between (150-200 Hz).
* **1024 compartments per core**; `nengo_loihi.BlockShape` splits a larger
  ensemble over cores (`configure`).

This module needs nengo-loihi (``pip install nengo-lmu[loihi]``).
"""

import dataclasses
import warnings

import nengo
import nengo_loihi
import numpy as np
from nengo.exceptions import BuildError, ValidationError
from nengo.params import BoolParam, EnumParam
from nengo_loihi.builder import Model
from nengo_loihi.decode_neurons import OnOffDecodeNeurons
from nengo_loihi.hardware import HAS_NXSDK

from nengo_lmu.measure import check_input_node, check_sequences, simulate_sequences
from nengo_lmu.loihi_limits import (  # noqa: F401  (part of this module's API)
    CHIP_NEURON_TYPES,
    INPUT_TAU,
    LOIHI_DECODE_TAU,
    MAX_COMPARTMENTS,
    min_decoded_transform,
)
from nengo_lmu.networks.memory import LegendreMemory
from nengo_lmu.params import (
    FiniteNumberParam,
    IntegerParam,
    check_network,
    check_param,
    check_seed,
)
from nengo_lmu.paths import base_object

#: The tuning `nengo_loihi.set_defaults` gives ensembles, passed explicitly so
#: a network does not depend on whether it was called.
ENSEMBLE_KWARGS = dict(
    max_rates=nengo.dists.Uniform(100, 120), intercepts=nengo.dists.Uniform(-1.0, 0.5)
)


#: Tuning for the ensembles of a neural `.LegendreMemory` on Loihi: max rates
#: of 150-200 Hz, spike periods of 5-7 steps, which Loihi's whole-step
#: periods still resolve finely (at 300-400 Hz, 3-4 steps, the tuning curves
#: are coarse staircases), with less spike noise than nengo-loihi's 100-120 Hz.
MEMORY_TUNING = dict(
    max_rates=nengo.dists.Uniform(150, 200), intercepts=nengo.dists.Uniform(-1.0, 0.5)
)

#: `.LegendreMemory` arguments for a neural memory on Loihi: `MEMORY_TUNING`,
#: and states filling more of each radius (``radius_rms=2.5``), which pays
#: where spike noise dominates. On Voelker's thesis delay network (order 3,
#: theta 0.1 s, 3 x 128 LIF, tau 10 ms;
#: benchmarks/results/loihi_delay_network.json, mean +- population std over
#: 5 seeds) window NRMSE on the emulator 0.087 +- 0.009, against
#: 0.156 +- 0.019 with nengo-loihi's tuning (published: 0.145-0.151). Of the
#: radius_rms values tried at 150-200 Hz, 2.5 did best: fewer RMS per radius
#: saturate and grow less stable, more lose resolution.
MEMORY_KWARGS = dict(ensemble_kwargs=MEMORY_TUNING, radius_rms=2.5)


#: nengo-loihi's targets: its emulator (``"sim"``; ``"simreal"`` without
#: Loihi's discretisation) and the chip itself (``"loihi"``, with NxSDK).
TARGETS = ("sim", "simreal", "loihi")


def _check_dt(dt):
    return check_param(FiniteNumberParam("dt", low=0, low_open=True), dt)


def _check_target(target):
    """nengo-loihi's ``target``, refused by name where it cannot run."""
    if target is None:  # nengo-loihi's default: the chip with NxSDK, else the emulator
        return None
    target = check_param(EnumParam("target", values=TARGETS), target)
    if target == "loihi" and not HAS_NXSDK:
        raise ValidationError(
            "'loihi' (the chip) needs Intel's NxSDK, which is not installed; "
            "the targets available here are 'sim' (the emulator) and 'simreal' "
            "(the emulator without Loihi's discretisation)",
            attr="target",
        )
    return target


class HostInputSaturationWarning(UserWarning):
    """A host value sent to the chip exceeded the one spike per step the link carries."""


class _WatchedInputNeurons(nengo.SpikingRectifiedLinear):
    """The host side of `RectifiedInputNeurons`: warns when it saturates.

    Loihi takes at most one spike per input axon and step, so a current
    beyond one spike per step is lost: the encoded value is clipped at the
    link's range. The first such step of a simulator is reported with a
    `HostInputSaturationWarning`, instead of clipping without a word.
    """

    def __init__(self, warned, **kwargs):
        super().__init__(**kwargs)
        self._warned = warned  # shared by a simulator's input neurons (mutable)

    def step(self, dt, J, output, voltage):
        if not self._warned["done"] and np.any(J * dt > 1 + 1e-9):
            self._warned["done"] = True
            warnings.warn(
                # as the excess: a peak just over 1 would read "1" to 3 digits
                f"a host value sent to the chip reached 1 + {J.max() * dt - 1:.3g}, "
                "beyond the host-to-chip range of 1: Loihi takes one spike per step, so it "
                "is clipped. Scale the inputs into [-1, 1] (to_spiking(calibration="
                "...) does it for an LMU from training data; host_input_range "
                "measures a network's range)",
                HostInputSaturationWarning,
            )
        super().step(dt, J, output, voltage)


class RectifiedInputNeurons(OnOffDecodeNeurons):
    """Host-to-chip spike encoding without a baseline.

    For each dimension, an "on" neuron fires at ``rate * max(x, 0)`` and an
    "off" neuron at ``rate * max(-x, 0)`` (integrate-and-fire, so the spike
    count tracks the integral of ``x``: a sigma-delta code), with ``rate =
    1 / dt``: one spike per step at ``|x| = 1``, the most Loihi takes per
    input axon; beyond it the value is clipped, with a
    `HostInputSaturationWarning` (once per simulator). Unlike nengo-loihi's
    default (``rate / 2 * (1 ± x)``), nothing fires for ``x = 0`` and a
    small ``x`` costs few spikes, carrying little noise.

    Set as a `nengo_loihi.builder.Model`'s ``node_neurons`` (`Simulator` does).
    """

    def __init__(self, dt=0.001):
        super().__init__(pairs_per_dim=1, dt=_check_dt(dt), is_input=True)
        self.gain = self.rate * np.ones(2)  # on, off
        self.bias = np.zeros(2)
        self._warned = {"done": False}  # one warning for all host-to-chip links

    def get_ensemble(self, dim, add_to_container=True):
        ens = super().get_ensemble(dim, add_to_container=add_to_container)
        ens.neuron_type = _WatchedInputNeurons(
            self._warned, initial_state={"voltage": nengo.dists.Choice([0])}
        )
        return ens


class Simulator(nengo_loihi.Simulator):
    """`nengo_loihi.Simulator` with a quieter, faster host-to-chip link.

    Builds with a `nengo_loihi.builder.Model` whose ``node_neurons`` are
    `RectifiedInputNeurons` and whose ``decode_tau`` is ``decode_tau``. All
    other arguments are nengo-loihi's (e.g. ``target="sim"`` for the
    emulator).

    Parameters
    ----------
    network : nengo.Network
    dt : float, optional
        Positive and finite; with LIF neurons on the chip, also within what
        Loihi's 12-bit voltage decay represents, from about ``tau_rc / 8192``
        to ``9 * tau_rc`` (a ValidationError naming the ensemble otherwise).
    decode_tau : float, optional
        nengo-loihi's ``model.decode_tau``: the Lowpass on host input spikes,
        but also after the decode neurons of every decoded connection
        between chip ensembles (and the default compartment filter). None:
        `INPUT_TAU` (1 ms) when ``network`` has no decoded chip-to-chip
        connection, so that only host input is affected; else
        ``LOIHI_DECODE_TAU`` (5 ms, nengo-loihi's own), which such
        connections were designed for. A value that contradicts a
        `.LegendreMemory` mapped through decode neurons (``simulator="loihi"``,
        ``weights=False``: its recurrence was mapped for 5 ms) is a
        BuildError; one longer than Loihi's 12-bit current decay takes at
        ``dt`` (about ``8192 * dt``) a ValidationError.
    target : {None, "sim", "simreal", "loihi"}, optional
        nengo-loihi's: the emulator (``"sim"``, or ``"simreal"`` without
        Loihi's discretisation) or the chip (``"loihi"``, which needs
        Intel's NxSDK: without it, a ValidationError naming ``target``).
        None: the chip if NxSDK is installed, else the emulator.
    seed : int, optional
        In ``[0, 2**32)``; None: ``network.seed + 1``, or random.
    model : nengo_loihi.builder.Model, optional
        Used as it is (`model_for` makes one), so ``decode_tau`` must then be
        None, and ``model.dt`` must equal ``dt`` (a ValidationError
        otherwise).
    precompute : bool, optional
    remove_passthrough : bool, optional
        As in `nengo_loihi.Simulator`.
    hardware_options : dict, optional
        As in `nengo_loihi.Simulator`: for the chip only (on the emulator,
        a ValidationError rather than ignored).
    **kwargs
        Passed to `nengo_loihi.Simulator` (``progress_bar``).

    Notes
    -----
    Host values reach the chip as spikes of at most one per step, so the
    link carries magnitudes up to 1; a larger one is clipped, with a
    `HostInputSaturationWarning`. `host_input_range` measures what a
    network sends on given data, and ``to_spiking(calibration=...)`` scales
    an LMU's host inputs into range from its training data.

    Attributes
    ----------
    latency_steps : int
        Steps from a change of a host input to its first effect on a host
        output through one layer of chip neurons (2: one each way, measured
        on the emulator); `.SpikingConversion.run` reads outputs this much
        later.
    """

    latency_steps = 2

    def __init__(  # pylint: disable=too-many-arguments
        self,
        network,
        dt=0.001,
        decode_tau=None,
        target=None,
        seed=None,
        model=None,
        precompute=None,
        remove_passthrough=True,
        hardware_options=None,
        **kwargs,
    ):
        # nengo_loihi.Simulator.__del__ reads `closed`: set it before anything
        # can fail, so that a refused argument raises one error, not two
        self.closed = True
        network = check_network(network)
        dt = _check_dt(dt)
        target = _check_target(target)
        seed = check_seed(seed, optional=True)
        precompute = check_param(BoolParam("precompute", optional=True), precompute)
        remove_passthrough = check_param(BoolParam("remove_passthrough"), remove_passthrough)
        if hardware_options and (target or ("loihi" if HAS_NXSDK else "sim")) != "loihi":
            raise ValidationError(
                "configures the chip (target='loihi'); the emulator ignores it: leave "
                "it out",
                attr="hardware_options",
            )
        _check_dt_for_chip(network, dt)
        if model is None:
            model = self.model_for(network, dt, decode_tau)
        elif decode_tau is not None:
            raise ValidationError(
                "is ignored when a model is given: set model.decode_tau instead "
                "(Simulator.model_for makes one), or leave out model",
                attr="decode_tau",
            )
        elif not isinstance(model, Model):
            raise ValidationError(
                f"must be a nengo_loihi.builder.Model (Simulator.model_for(network, dt) "
                f"makes one), not {type(model).__name__}",
                attr="model",
            )
        elif model.dt != dt:
            raise ValidationError(
                f"was made for dt={model.dt:g}, not the simulator's dt={dt:g}; make it "
                "with Simulator.model_for(network, dt), or leave out model",
                attr="model",
            )
        try:
            super().__init__(
                network,
                dt=dt,
                target=target,
                seed=seed,
                model=model,
                precompute=precompute,
                remove_passthrough=remove_passthrough,
                hardware_options=hardware_options,
                **kwargs,
            )
        except Exception:
            if hasattr(self, "sims"):
                self.close()  # the host simulators built before the failure
            raise

    @staticmethod
    def model_for(network, dt=0.001, decode_tau=None):
        """The `nengo_loihi.builder.Model` that `Simulator` builds ``network`` into.

        Parameters
        ----------
        network : nengo.Network
        dt : float, optional
        decode_tau : float, optional
            As in `Simulator`; at most what Loihi's 12-bit current decay
            takes at ``dt`` (about ``8192 * dt``), a ValidationError otherwise.

        Returns
        -------
        nengo_loihi.builder.Model
        """
        network = check_network(network)
        dt = _check_dt(dt)
        decode_tau = given = check_param(
            FiniteNumberParam("decode_tau", low=0, optional=True), decode_tau
        )
        needed = [
            mem
            for mem in network.all_networks
            if isinstance(mem, LegendreMemory)
            and mem.n_neurons is not None
            and mem.simulator == "loihi"
            and not mem.weights
        ]
        # a memory feeding its LMU's hidden layer on the chip (to_spiking) is
        # read out for the hidden block's host-input filter, INPUT_TAU
        on_chip = [
            lmu for lmu in network.all_networks if getattr(lmu, "memory_kernel_on_chip", None)
        ]
        wanted = INPUT_TAU if decode_tau is None else decode_tau
        if on_chip and (needed or decoded_chip_connections(network)
                        or not np.isclose(wanted, INPUT_TAU)):
            raise BuildError(
                f"{on_chip[0]}'s memory feeds its hidden layer on the chip, read out "
                f"for the hidden block's filter of {INPUT_TAU * 1000:g} ms (its host "
                "inputs' decode_tau); "
                + (f"decode_tau={decode_tau:g} would detune it: leave it None"
                   if not np.isclose(wanted, INPUT_TAU) else
                   "connections through decode neurons in this network need 5 ms: "
                   "give them neuron-to-neuron weights, or convert without the "
                   "memory on the chip")
            )
        if decode_tau is None:
            decoded = needed or decoded_chip_connections(network)
            decode_tau = LOIHI_DECODE_TAU if decoded else INPUT_TAU
        elif needed and not np.isclose(decode_tau, LOIHI_DECODE_TAU):
            raise BuildError(
                f"{needed[0]} maps its recurrence through decode neurons filtered "
                f"by {LOIHI_DECODE_TAU * 1000:g} ms; decode_tau={decode_tau:g} would "
                "detune it. Leave decode_tau=None, or use weights=True (no decode "
                "neurons)"
            )
        # Loihi's 12-bit current decay: dt / decode_tau below half of 1 / 4096
        # finds no current scaling ("Current (U) scaling is required")
        longest = -dt / np.log1p(-0.5 / 2**12)
        if decode_tau > longest:
            raise ValidationError(
                f"{decode_tau:g} s{' (the default)' if given is None else ''} is longer "
                f"than Loihi's 12-bit current decay can take at dt={dt:g} s (at most "
                f"{longest:.3g} s); use a shorter decode_tau, or a longer dt",
                attr="decode_tau",
            )
        model = Model(dt=dt)
        model.node_neurons = RectifiedInputNeurons(dt=dt)
        model.decode_tau = decode_tau
        return model


def _check_dt_for_chip(network, dt):
    """A ValidationError naming ``dt`` where Loihi cannot represent the voltage
    decay ``dt / tau_rc`` of a chip LIF ensemble (nengo-loihi would fail with
    NaN rates or "Voltage (V) scaling is required")."""
    # nengo-loihi 1.1: 12-bit decays, rounded in steps of 1 / 4095; below half
    # of 1 / 4096 no voltage scaling is found, at 4095 / 4095 tau_rc becomes 0
    for ens in sorted(chip_ensembles(network), key=str):
        if not isinstance(ens.neuron_type, nengo.LIFRate):
            continue
        tau_rc = ens.neuron_type.tau_rc
        shortest = -tau_rc * np.log1p(-0.5 / 2**12)
        longest = -tau_rc * np.log(0.5 / (2**12 - 1))
        decay = -np.expm1(-dt / tau_rc)
        if not 0.5 / 2**12 < decay < 1 - 0.5 / (2**12 - 1):
            raise ValidationError(
                f"{dt:g} s is outside what Loihi's 12-bit voltage decay can take for "
                f"{ens} (LIF, tau_rc={tau_rc:g} s): from {shortest:.3g} to "
                f"{longest:.3g} s. Use a dt in that range, or scale tau_rc with dt",
                attr="dt",
            )


def host_to_chip_connections(network, chip=None):
    """Connections from host Nodes into chip ensembles (or their neurons).

    The values nengo-loihi spike-encodes on the host. A passthrough Node fed
    only from chip ensembles is not on the host (nengo-loihi removes it).

    Parameters
    ----------
    network : nengo.Network
    chip : collection of nengo.Ensemble, optional
        The Ensembles of ``network`` on the chip; None: `chip_ensembles`.

    Returns
    -------
    list of nengo.Connection
    """
    network = check_network(network)
    chip = _chip(network, chip)
    feeding = {}
    for conn in network.all_connections:
        feeding.setdefault(conn.post_obj, []).append(conn.pre_obj)

    def on_host(node):
        pres = feeding.get(node, [])
        return not (
            _is_passthrough(node) and pres and all(base_object(p) in chip for p in pres)
        )

    return [
        conn
        for conn in network.all_connections
        if isinstance(conn.pre_obj, nengo.Node)
        and base_object(conn.post_obj) in chip
        and on_host(conn.pre_obj)
    ]


def host_input_range(network, node, sequences, dt=1.0):
    """The largest magnitude ``network`` sends from the host to the chip.

    Runs ``network`` on the reference simulator (a copy; the original is
    untouched) once per sequence, from rest, with ``node`` giving one sample
    per step of ``dt``, and returns the largest magnitude of what
    nengo-loihi encodes as host-input spikes: the pre value of each
    connection from a Node into chip neurons, and, into a chip ensemble, the
    transformed value over the ensemble's radius. Above 1, the link clips
    (`HostInputSaturationWarning`).

    Give the trained network at its training ``dt`` and (a sample of) the
    training sequences: with an exact, zero-order-hold memory these are the
    values a converted network (`.to_spiking`) sends at the end of each
    presentation. Values beyond the training data's range still saturate
    the link, with a `HostInputSaturationWarning`.

    Parameters
    ----------
    network : nengo.Network
    node : nengo.Node
        The input node: a Node of ``network`` without input (``size_in``
        0); its output is replaced in the copy.
    sequences : array_like
        Shape ``(n_sequences, n_samples, node.size_out)``, finite.
    dt : float, optional
        Time-step, one sample per step; positive and finite.

    Returns
    -------
    float
        The largest magnitude (at least a tiny positive number).
    """
    network = check_network(network)
    node = check_input_node(network, node)
    sequences = check_sequences(sequences, node)
    dt = _check_dt(dt)
    conns = host_to_chip_connections(network)
    if not conns:
        return np.finfo(float).tiny
    # into neurons the pre value itself is sent; into an ensemble, W f(x) / radius
    scales = []
    for c in conns:
        _check_host_transform(c)
        into_ensemble = isinstance(c.post_obj, nengo.Ensemble)
        scales.append(_weights(c) / c.post_obj.radius if into_ensemble else None)
    largest = np.finfo(float).tiny
    outputs = simulate_sequences(network, node, sequences, [c.pre for c in conns], dt)
    for pre_values in outputs:
        for conn, x, W in zip(conns, pre_values, scales):
            if W is not None:
                if conn.function is not None:
                    x = np.array([np.atleast_1d(conn.function(xi)) for xi in x])
                x = x @ W.T
            largest = max(largest, float(np.abs(x).max()))
    return largest


def configure(network, max_block=MAX_COMPARTMENTS):
    """Add nengo-loihi's config to ``network`` and split large ensembles.

    Every ensemble with more than ``max_block`` neurons (and no block shape
    yet) gets ``nengo_loihi.BlockShape((max_block,), (n_neurons,))``. Use a
    smaller ``max_block`` for densely recurrent pools, whose synapses fill a
    core's memory before its compartments do.

    Parameters
    ----------
    network : nengo.Network
    max_block : int, optional
        Most neurons per block: from 1 to the 1024 compartments of a core.

    Returns
    -------
    list of nengo.Ensemble
        The ensembles that were given a block shape.
    """
    network = check_network(network)
    max_block = check_param(IntegerParam("max_block", low=1, high=MAX_COMPARTMENTS), max_block)
    nengo_loihi.add_params(network)
    split = []
    for ens in network.all_ensembles:
        if ens.n_neurons > max_block and network.config[ens].block_shape is None:
            network.config[ens].block_shape = nengo_loihi.BlockShape(
                (max_block,), (ens.n_neurons,)
            )
            split.append(ens)
    return split


def _on_chip(network, ens):
    try:
        return network.config[ens].on_chip is not False
    except (AttributeError, KeyError):  # add_params not called: default on chip
        return True


def chip_ensembles(network):
    """The ensembles of ``network`` that nengo-loihi places on the chip
    (not Direct, not marked ``on_chip = False``).

    Parameters
    ----------
    network : nengo.Network

    Returns
    -------
    set of nengo.Ensemble
    """
    network = check_network(network)
    return {
        ens
        for ens in network.all_ensembles
        if _on_chip(network, ens) and not isinstance(ens.neuron_type, nengo.Direct)
    }


def _chip(network, chip):
    """``chip`` as a set of Ensembles of ``network``; None: `chip_ensembles`."""
    if chip is None:
        return chip_ensembles(network)
    what = (
        f"a collection of Ensembles of {network} (chip_ensembles(network) gives "
        "those nengo-loihi places on the chip)"
    )
    try:
        items = list(chip)
    except TypeError:
        raise ValidationError(f"must be {what}, not {chip!r}", attr="chip") from None
    ensembles = set(network.all_ensembles)
    for item in items:
        if not isinstance(item, nengo.Ensemble) or item not in ensembles:
            raise ValidationError(f"must be {what}; {item!r} is not one", attr="chip")
    return set(items)


def decoded_chip_connections(network, chip=None):
    """Connections between chip ensembles that go through decode neurons.

    Those decoded from an Ensemble (not neuron-to-neuron weights) into
    another ensemble, also through passthrough Nodes (which nengo-loihi
    removes between chip objects); not those into an ensemble's neurons,
    whose decoded weights nengo-loihi applies directly.

    Parameters
    ----------
    network : nengo.Network
    chip : collection of nengo.Ensemble, optional
        The Ensembles of ``network`` on the chip; None: `chip_ensembles`.

    Returns
    -------
    list of nengo.Connection
    """
    network = check_network(network)
    chip = _chip(network, chip)
    onward = {}
    for conn in network.all_connections:
        onward.setdefault(conn.pre_obj, []).append(conn)

    def reaches_chip(obj, seen):
        # into neurons, nengo-loihi applies the decoded weights directly
        # (no decode neurons): only an ensemble's encoders need them
        if isinstance(obj, nengo.ensemble.Neurons):
            return False
        if base_object(obj) in chip:
            return True
        if not _is_passthrough(obj) or obj in seen:
            return False
        seen.add(obj)
        return any(reaches_chip(c.post_obj, seen) for c in onward.get(obj, []))

    return [
        conn
        for conn in network.all_connections
        if isinstance(conn.pre_obj, nengo.Ensemble)
        and conn.pre_obj in chip
        and not conn.solver.weights
        and reaches_chip(conn.post_obj, set())
    ]


def _is_passthrough(obj):
    return isinstance(obj, nengo.Node) and obj.output is None


@dataclasses.dataclass(frozen=True)
class CheckReport:
    """What `check` checked of a network, all within Loihi's limits.

    ``str(report)`` says it in a few lines; the attributes hold the figures.

    Attributes
    ----------
    ensembles : int
        Ensembles on the chip (`chip_ensembles`).
    neurons : int
        Their neurons, one compartment each.
    neuron_types : dict of {str: int}
        Chip ensembles per neuron type (types the chip runs,
        ``CHIP_NEURON_TYPES``).
    cores : int
        Cores the chip ensembles take: nengo-loihi puts each block on a core
        of its own, and an ensemble is one block unless its
        `nengo_loihi.BlockShape` splits it. Not counted: the decode neurons
        nengo-loihi adds (a block for each decoded connection between chip
        ensembles, and for each decoded value read from the chip), and a
        core's synapse and axon memory, which nengo-loihi's build checks.
    compartments_per_core : int
        The most compartments of one of those blocks: at most
        ``MAX_COMPARTMENTS``. 0 without chip ensembles.
    host_ensembles : int
        Ensembles that stay on the host (``Direct``, or marked
        ``on_chip = False``).
    chip_connections : int
        Connections from a chip ensemble (or its neurons) straight into one:
        each with a ``nengo.Lowpass`` synapse or none.
    decoded_connections : int
        Of those, the ones decoded from an ensemble through decode neurons
        (not neuron-to-neuron weights).
    weight_margin : float or None
        The smallest, over those decoded connections, of the largest
        ``|transform|`` over `min_decoded_transform` of its pre ensemble: at
        least 1 (8-bit weights with a shared exponent can take them). None
        without decoded connections.
    host_inputs : int
        Connections that send host values to the chip
        (`host_to_chip_connections`), each with a ``Dense`` transform or
        none.
    input_range : float
        The largest magnitude of the host values checked (`check`'s
        ``input_range``).
    usage : dict or None
        With ``check(..., build=True)``, from nengo-loihi's build (decode
        neurons included): ``cores`` (one per block), ``compartments``,
        ``synapses`` (weights in synapse memory), and per core the most
        ``compartments_per_core``, ``synapse_bits_per_core``,
        ``input_axons_per_core`` and ``output_axons_per_core``, each beside
        its limit in ``limits`` (`CORE_LIMITS`). None without a build.
    link_peak : float or None
        The largest value those inputs reach on the host-to-chip link, as a
        fraction of its range (one spike per step): at most 1. Into an
        ensemble, the transformed value over its radius; into neurons, the
        value itself. None without host inputs.
    """

    ensembles: int
    neurons: int
    neuron_types: dict
    cores: int
    compartments_per_core: int
    host_ensembles: int
    chip_connections: int
    decoded_connections: int
    weight_margin: float | None
    host_inputs: int
    input_range: float
    link_peak: float | None
    usage: dict | None = None

    def __str__(self):
        def count(n, what):
            return f"{n} {what}{'' if n == 1 else 's'}"

        types = ", ".join(f"{name}: {n}" for name, n in self.neuron_types.items())
        lines = ["Within Loihi's limits (nengo_lmu.loihi.check):"]
        if self.ensembles:
            lines.append(
                f"  chip: {count(self.ensembles, 'ensemble')} ({types}), "
                f"{count(self.neurons, 'neuron')} on {count(self.cores, 'core')}, "
                f"at most {self.compartments_per_core} of a core's "
                f"{MAX_COMPARTMENTS} compartments each (decode neurons not counted)"
            )
        else:
            lines.append("  chip: no ensembles")
        lines.append(
            f"  host: {count(self.host_ensembles, 'ensemble')} (Direct or on_chip=False)"
        )
        chip = f"  chip to chip: {count(self.chip_connections, 'connection')}"
        if self.chip_connections:
            chip += ", each with a Lowpass synapse or none"
        if self.decoded_connections:
            chip += (
                f"; {self.decoded_connections} decoded, transforms at least "
                f"{self.weight_margin:.3g}x the smallest the 8-bit weights take"
            )
        lines.append(chip)
        host = f"  host to chip: {count(self.host_inputs, 'connection')}"
        if self.host_inputs:
            host += (
                f"; inputs up to {self.input_range:g} use at most "
                f"{100 * self.link_peak:.3g}% of the link's range (one spike per step)"
            )
        lines.append(host)
        if self.usage is not None:
            u, lim = self.usage, self.usage["limits"]
            lines.append(
                f"  built: {count(u['cores'], 'core')}, {u['compartments']} compartments, "
                f"{u['synapses']} synapses; per core at most "
                + ", ".join(
                    f"{u[key + '_per_core']} of {lim[key]} {key.replace('_', ' ')}"
                    for key in CORE_LIMITS
                )
            )
        return "\n".join(lines)


def check(network, input_range=1.0, build=False, dt=0.001):
    """Check ``network`` against Loihi's limits before building it.

    Raises an error naming the first object that breaks a limit, the limit,
    and the fix:

    * an on-chip ensemble of a neuron type the chip lacks (ValidationError,
      ``neuron_type``);
    * an ensemble over 1024 neurons without a `nengo_loihi.BlockShape`, or
      with blocks over 1024 neurons (BuildError; use `configure`);
    * a connection between on-chip ensembles with a synapse other than
      ``nengo.Lowpass`` or None (ValidationError, ``synapse``);
    * a decoded connection between chip ensembles whose transform is below
      `min_decoded_transform` (BuildError: the weight-exponent failure);
    * a host-to-chip connection (`host_to_chip_connections`) with a
      transform other than ``nengo.Dense`` (BuildError: nengo-loihi sends
      only those), or, for values of magnitude up to ``input_range``, one
      whose transform exceeds the post ensemble's radius, or, into neurons
      (which receive the values themselves), any with ``input_range`` over
      1 (ValidationError, ``transform``): the on/off input encoding
      saturates.

    A transform still given as a `nengo.dists.Distribution`, whose weights
    are not known before the build, is a ValidationError (``transform``).

    Parameters
    ----------
    network : nengo.Network
    input_range : float, optional
        Largest expected magnitude of each value a host Node sends to the
        chip (after the connection's function, if it has one); positive and
        finite.
    build : bool, optional
        Also build the network as `Simulator` would (nengo-loihi's model,
        with Loihi's discretisation; no simulation) and measure each core
        against `CORE_LIMITS`: compartments, synapse memory, input and output
        axons (``usage`` in the report). A block over one of them is a
        BuildError naming the limit and the fix. Slower: the build solves
        every decoder.
    dt : float, optional
        The simulator's time-step, for ``build``.

    Returns
    -------
    CheckReport
        What was checked, and how close to each limit it came; its ``str``
        is a short summary.

    Examples
    --------
    >>> with nengo.Network() as net:
    ...     ens = nengo.Ensemble(100, 1)
    ...     _ = nengo.Connection(nengo.Node(0.5), ens)
    >>> print(check(net))  # doctest: +NORMALIZE_WHITESPACE
    Within Loihi's limits (nengo_lmu.loihi.check):
      chip: 1 ensemble (LIF: 1), 100 neurons on 1 core, at most 100 of a
        core's 1024 compartments each (decode neurons not counted)
      host: 0 ensembles (Direct or on_chip=False)
      chip to chip: 0 connections
      host to chip: 1 connection; inputs up to 1 use at most 100% of the
        link's range (one spike per step)
    """
    network = check_network(network)
    input_range = check_param(
        FiniteNumberParam("input_range", low=0, low_open=True), input_range
    )
    chip = chip_ensembles(network)
    cores, compartments, types = 0, 0, {}
    for ens in chip:
        if not isinstance(ens.neuron_type, CHIP_NEURON_TYPES):
            raise ValidationError(
                f"{ens}: {type(ens.neuron_type).__name__} neurons cannot run on "
                "Loihi (on-chip types: LIF, SpikingRectifiedLinear); use one of "
                "those, or mark the ensemble off-chip (config[ens].on_chip = False)",
                attr="neuron_type",
                obj=ens,
            )
        block_shape = None
        try:
            block_shape = network.config[ens].block_shape
        except (AttributeError, KeyError):
            pass
        if block_shape is None and ens.n_neurons > MAX_COMPARTMENTS:
            raise BuildError(
                f"{ens}: {ens.n_neurons} neurons exceed the {MAX_COMPARTMENTS} "
                "compartments of one Loihi core; split it with nengo_loihi.BlockShape "
                "(nengo_lmu.loihi.configure(network) does this)"
            )
        if block_shape is not None and block_shape.block_size > MAX_COMPARTMENTS:
            raise BuildError(
                f"{ens}: its nengo_loihi.BlockShape {block_shape.shape} puts "
                f"{block_shape.block_size} neurons on one core, over its "
                f"{MAX_COMPARTMENTS} compartments; use smaller blocks "
                "(nengo_lmu.loihi.configure(network, max_block) sets them)"
            )
        name = type(ens.neuron_type).__name__
        types[name] = types.get(name, 0) + 1
        if block_shape is None:
            cores, compartments = cores + 1, max(compartments, ens.n_neurons)
        else:
            cores += block_shape.n_splits
            compartments = max(compartments, block_shape.block_size)

    chip_connections, margins = 0, []
    for conn in network.all_connections:
        pre = conn.pre_obj
        if base_object(pre) in chip and base_object(conn.post_obj) in chip:
            chip_connections += 1
            if conn.synapse is not None and not isinstance(conn.synapse, nengo.Lowpass):
                raise ValidationError(
                    f"{conn}: Loihi synapses between chip ensembles are Lowpass only "
                    f"(got {conn.synapse!r}); use nengo.Lowpass, and map the dynamics "
                    "for it (nengo_lmu.mapping.ss2sim)",
                    attr="synapse",
                    obj=conn,
                )
            decoded = isinstance(pre, nengo.Ensemble) and not conn.solver.weights
            if decoded:
                largest = np.abs(_weights(conn)).max()
                limit = min_decoded_transform(pre.n_neurons)
                if largest < limit:
                    raise BuildError(
                        f"{conn}: transform {largest:.3g} is below "
                        f"{limit:.3g}, the smallest that Loihi's 8-bit weights with a "
                        f"shared exponent can take through decode neurons from "
                        f"{pre.n_neurons} neurons ('Could not find appropriate weight "
                        "exponent'); use neuron-to-neuron weights "
                        "(solver=nengo.solvers.LstsqL2(weights=True)), realise it as "
                        "(a + m) - m over two connections, or drop it"
                    )
                margins.append(largest / limit)

    inputs = host_to_chip_connections(network, chip)
    peaks = []
    for conn in inputs:
        _check_host_transform(conn)
        post = conn.post_obj
        if not isinstance(post, nengo.Ensemble) and input_range > 1 + 1e-9:
            # into neurons the values themselves are sent; the chip applies the weights
            raise ValidationError(
                f"{conn}: inputs up to {input_range:g} are sent to chip neurons as they "
                "are, beyond 1, the most the host-to-chip link carries (one spike per "
                "step). Scale the values sent down (e.g. the connection's function) "
                "and the transform up by as much",
                attr="transform",
                obj=conn,
            )
        if isinstance(post, nengo.Ensemble):
            peak = np.abs(_weights(conn)).sum(axis=1).max() * input_range
            if peak > post.radius * (1 + 1e-9):
                raise ValidationError(
                    f"{conn}: inputs up to {input_range:g} reach {peak:.3g}, beyond "
                    f"the radius {post.radius:g} of {post}; Loihi's on/off input "
                    "neurons saturate there. Scale the transform down (e.g. split "
                    "it over parallel connections) or raise the radius",
                    attr="transform",
                    obj=conn,
                )
            peaks.append(peak / post.radius)
        else:
            peaks.append(input_range)

    usage = _core_usage(network, dt) if check_param(BoolParam("build"), build) else None
    return CheckReport(
        usage=usage,
        ensembles=len(chip),
        neurons=sum(ens.n_neurons for ens in chip),
        neuron_types=dict(sorted(types.items())),
        cores=cores,
        compartments_per_core=compartments,
        host_ensembles=len(network.all_ensembles) - len(chip),
        chip_connections=chip_connections,
        decoded_connections=len(margins),
        weight_margin=float(min(margins)) if margins else None,
        host_inputs=len(inputs),
        input_range=input_range,
        link_peak=float(max(peaks)) if peaks else None,
    )


#: What one Loihi core holds, as nengo-loihi 1.1 checks it when it builds a
#: block (``nengo_loihi.block``): `check` (``build=True``) reports each.
CORE_LIMITS = {
    "compartments": nengo_loihi.block.MAX_COMPARTMENTS,
    "synapse_bits": nengo_loihi.block.MAX_SYNAPSE_BITS,
    "input_axons": nengo_loihi.block.MAX_IN_AXONS,
    "output_axons": nengo_loihi.block.MAX_OUT_AXONS,
}


def _core_usage(network, dt):
    """Build ``network`` as `Simulator` would (nengo-loihi's Model, with
    Loihi's discretisation) and measure every block against `CORE_LIMITS`;
    a block over one is a BuildError naming the limit and the fix."""
    model = Simulator.model_for(network, dt=dt)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nengo-loihi's notes on rounding
            model.build(network, discretize=True)
    except BuildError as e:
        text = str(e)
        if "exceeded max" not in text:
            raise
        raise BuildError(
            f"{text}: one Loihi core cannot hold this block. Split the ensemble "
            "over more cores (nengo_lmu.loihi.configure(network, max_block=...) "
            "with smaller blocks: a dense recurrent pool fills a core's synapse "
            "memory before its compartments), or use fewer neurons (a neural "
            "memory: fewer n_neurons, or a smaller reduced_order)"
        ) from e
    most = dict.fromkeys(CORE_LIMITS, 0)
    for block in model.blocks:
        found = dict(
            compartments=block.compartment.n_compartments,
            synapse_bits=sum(s.bits() for s in block.synapses),
            input_axons=sum(s.n_axons for s in block.synapses),
            output_axons=sum(a.axon_slots() for a in block.axons),
        )
        most = {key: max(most[key], int(found[key])) for key in most}
    usage = dict(
        cores=len(model.blocks),
        compartments=int(sum(b.compartment.n_compartments for b in model.blocks)),
        synapses=int(sum(s.size() for b in model.blocks for s in b.synapses)),
        limits=dict(CORE_LIMITS),
    )
    usage.update({f"{key}_per_core": value for key, value in most.items()})
    return usage


def _weights(conn):
    """The weights of ``conn``'s transform: its matrix (``Dense``, no
    transform, ``Sparse`` made dense), or a convolution's kernel."""
    T = conn.transform
    if isinstance(T, nengo.transforms.NoTransform):
        init = 1.0
    else:
        init = T.init
        if isinstance(init, nengo.transforms.SparseMatrix):
            init = init.data if isinstance(init.data, nengo.dists.Distribution) else init
    if isinstance(init, nengo.dists.Distribution):
        raise ValidationError(
            f"{conn}: its transform is still a Distribution ({init!r}), whose weights "
            "are not known before the build; give the weights (trained, or sampled: "
            "e.g. Dense(shape, init=dist.sample(*shape, rng=rng)))",
            attr="transform",
            obj=conn,
        )
    if hasattr(init, "toarray"):  # nengo.transforms.SparseMatrix, scipy.sparse
        return np.asarray(init.toarray(), dtype=float)
    M = np.asarray(init, dtype=float)
    if isinstance(T, (nengo.Dense, nengo.transforms.NoTransform)) and M.ndim < 2:
        M = M * np.eye(conn.size_out, conn.size_mid) if M.ndim == 0 else np.diag(M)
    return M


def _check_host_transform(conn):
    """A BuildError for a host-to-chip connection with a transform nengo-loihi
    cannot send (it sends ``Dense`` or no transforms only)."""
    if not isinstance(conn.transform, (nengo.Dense, nengo.transforms.NoTransform)):
        raise BuildError(
            f"{conn}: nengo-loihi sends only Dense transforms from the host to the "
            f"chip, not {type(conn.transform).__name__}; compute it on the host (in "
            "the Node, or a Node between) and send the result through a Dense "
            "transform"
        )
