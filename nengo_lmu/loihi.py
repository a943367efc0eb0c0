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
  ``target="loihi"``; ``benchmarks/results/psdigits_spiking.json``, mean ±
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

import warnings

import nengo
import nengo_loihi
import numpy as np
from nengo.exceptions import BuildError, ValidationError
from nengo_loihi.builder import Model
from nengo_loihi.decode_neurons import OnOffDecodeNeurons

from nengo_lmu.measure import simulate_sequences
from nengo_lmu.loihi_limits import (  # noqa: F401  (part of this module's API)
    CHIP_NEURON_TYPES,
    LOIHI_DECODE_TAU,
    MAX_COMPARTMENTS,
    min_decoded_transform,
)
from nengo_lmu.networks.memory import LegendreMemory
from nengo_lmu.params import FiniteNumberParam, check_param
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

#: `Simulator`'s ``decode_tau`` (the Lowpass after host input spikes and
#: decode neurons) when the network needs no other.
INPUT_TAU = 0.001


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
        super().__init__(pairs_per_dim=1, dt=dt, is_input=True)
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
    decode_tau : float, optional
        nengo-loihi's ``model.decode_tau``: the Lowpass on host input spikes,
        but also after the decode neurons of every decoded connection
        between chip ensembles (and the default compartment filter). None:
        `INPUT_TAU` (1 ms) when ``network`` has no decoded chip-to-chip
        connection, so that only host input is affected; else
        ``LOIHI_DECODE_TAU`` (5 ms, nengo-loihi's own), which such
        connections were designed for. A value that contradicts a
        `.LegendreMemory` mapped through decode neurons (``target="loihi"``,
        ``weights=False``: its recurrence was mapped for 5 ms) is a
        BuildError.
    **kwargs
        Passed to `nengo_loihi.Simulator`. A ``model`` given here is used as
        it is, so ``decode_tau`` must then be None (a ValidationError
        otherwise).

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

    def __init__(self, network, dt=0.001, decode_tau=None, **kwargs):
        if kwargs.get("model") is None:
            kwargs["model"] = self.model_for(network, dt, decode_tau)
        elif decode_tau is not None:
            raise ValidationError(
                "is ignored when a model is given: set model.decode_tau instead "
                "(Simulator.model_for makes one), or leave out model",
                attr="decode_tau",
            )
        super().__init__(network, dt=dt, **kwargs)

    @staticmethod
    def model_for(network, dt=0.001, decode_tau=None):
        """The `nengo_loihi.builder.Model` that `Simulator` builds ``network`` into."""
        decode_tau = check_param(
            FiniteNumberParam("decode_tau", low=0, optional=True), decode_tau
        )
        needed = [
            mem
            for mem in network.all_networks
            if isinstance(mem, LegendreMemory)
            and mem.n_neurons is not None
            and mem.target == "loihi"
            and not mem.weights
        ]
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
        model = Model(dt=dt)
        model.node_neurons = RectifiedInputNeurons(dt=dt)
        model.decode_tau = decode_tau
        return model


def host_to_chip_connections(network, chip=None):
    """Connections from host Nodes into chip ensembles (or their neurons):
    the values nengo-loihi spike-encodes on the host. A passthrough Node fed
    only from chip ensembles is not on the host (nengo-loihi removes it)."""
    chip = chip_ensembles(network) if chip is None else chip
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
        The input node (of ``network``); its output is replaced in the copy.
    sequences : array_like
        Shape ``(n_sequences, n_samples, node.size_out)``.
    dt : float, optional
        Time-step, one sample per step.

    Returns
    -------
    float
        The largest magnitude (at least a tiny positive number).
    """
    conns = host_to_chip_connections(network)
    if not conns:
        return np.finfo(float).tiny
    # into neurons the pre value itself is sent; into an ensemble, W f(x) / radius
    scales = []
    for c in conns:
        if isinstance(c.post_obj, nengo.Ensemble):
            if isinstance(getattr(c.transform, "init", None), nengo.dists.Distribution):
                raise ValidationError(
                    f"{c}: its transform is still a Distribution; give trained "
                    "(frozen) weights",
                    attr="transform",
                    obj=c,
                )
            scales.append(_transform(c) / c.post_obj.radius)
        else:
            scales.append(None)
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

    Returns
    -------
    list of nengo.Ensemble
        The ensembles that were given a block shape.
    """
    import nengo_loihi  # noqa: PLC0415

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
    (not Direct, not marked ``on_chip = False``)."""
    return {
        ens
        for ens in network.all_ensembles
        if _on_chip(network, ens) and not isinstance(ens.neuron_type, nengo.Direct)
    }


def decoded_chip_connections(network, chip=None):
    """Connections between chip ensembles that go through decode neurons
    (decoded from an Ensemble, not neuron-to-neuron weights), also through
    passthrough Nodes (which nengo-loihi removes between chip objects)."""
    chip = chip_ensembles(network) if chip is None else chip
    onward = {}
    for conn in network.all_connections:
        onward.setdefault(conn.pre_obj, []).append(conn)

    def reaches_chip(obj, seen):
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


def check(network, input_range=1.0):
    """Check ``network`` against Loihi's limits before building it.

    Raises an error naming the first object that breaks a limit, the limit,
    and the fix:

    * an on-chip ensemble of a neuron type the chip lacks (ValidationError,
      ``neuron_type``);
    * an ensemble over 1024 neurons without a `nengo_loihi.BlockShape`
      (BuildError; use `configure`);
    * a connection between on-chip ensembles with a synapse other than
      ``nengo.Lowpass`` or None (ValidationError, ``synapse``);
    * a decoded connection between chip ensembles whose transform is below
      `min_decoded_transform` (BuildError: the weight-exponent failure);
    * a host-to-chip connection from a Node whose transform, for inputs of
      magnitude up to ``input_range``, exceeds the post ensemble's radius
      (ValidationError, ``transform``): the on/off input encoding saturates.

    Parameters
    ----------
    network : nengo.Network
    input_range : float, optional
        Largest expected magnitude of each Node output feeding the chip.
    """
    chip = chip_ensembles(network)
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
        if ens.n_neurons > MAX_COMPARTMENTS and block_shape is None:
            raise BuildError(
                f"{ens}: {ens.n_neurons} neurons exceed the {MAX_COMPARTMENTS} "
                "compartments of one Loihi core; split it with nengo_loihi.BlockShape "
                "(nengo_lmu.loihi.configure(network) does this)"
            )

    for conn in network.all_connections:
        pre, post = conn.pre_obj, conn.post_obj
        pre_ens, post_ens = base_object(pre), base_object(post)
        if pre_ens in chip and post_ens in chip:
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
                smallest = np.abs(_transform(conn)).max()
                limit = min_decoded_transform(pre.n_neurons)
                if smallest < limit:
                    raise BuildError(
                        f"{conn}: transform {smallest:.3g} is below "
                        f"{limit:.3g}, the smallest that Loihi's 8-bit weights with a "
                        f"shared exponent can take through decode neurons from "
                        f"{pre.n_neurons} neurons ('Could not find appropriate weight "
                        "exponent'); use neuron-to-neuron weights "
                        "(solver=nengo.solvers.LstsqL2(weights=True)), realise it as "
                        "(a + m) - m over two connections, or drop it"
                    )
        elif isinstance(pre, nengo.Node) and post_ens in chip:
            if isinstance(post, nengo.Ensemble):
                peak = np.abs(_transform(conn)).sum(axis=1).max() * input_range
                if peak > post.radius * (1 + 1e-9):
                    raise ValidationError(
                        f"{conn}: inputs up to {input_range:g} reach {peak:.3g}, beyond "
                        f"the radius {post.radius:g} of {post}; Loihi's on/off input "
                        "neurons saturate there. Scale the transform down (e.g. split "
                        "it over parallel connections) or raise the radius",
                        attr="transform",
                        obj=conn,
                    )


def _transform(conn):
    T = conn.transform
    init = getattr(T, "init", 1.0)
    M = np.asarray(init, dtype=float)
    if M.ndim < 2:
        M = M * np.eye(conn.size_out, conn.size_mid) if M.ndim == 0 else np.diag(M)
    return M
