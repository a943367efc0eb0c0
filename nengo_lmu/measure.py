"""Measurements of a network on data: what its signals reach on given sequences.

Deployment choices that depend on the data (how to scale host inputs into
Loihi's range, how fast spiking neurons must fire) are derived from these
measurements on the training set, not from constants.
"""

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.params import FiniteNumberParam, check_network, check_param
from nengo_lmu.paths import copy_network, counterpart


def check_sequences(sequences, node=None, attr="sequences"):
    """``sequences`` as a float array ``(n_sequences, n_samples, node.size_out)``
    (any number of dimensions without a ``node``), finite.

    The one check of sequence data (`simulate_sequences`, `channel_encoders`,
    `.retained_energy`, `nengo_lmu.dl.prepare_sequences`, `.parallel_model`'s
    ``fit``): anything
    else raises a `~nengo.exceptions.ValidationError` naming ``attr``.
    Series of different lengths are refused here; pad them first
    (`nengo_lmu.dl.prepare_sequences` pads with leading zeros).
    """
    size = "n_dimensions" if node is None else node.size_out
    shape = f"(n_sequences, n_samples, {size})"
    try:
        sequences = np.asarray(sequences)
        if not np.iscomplexobj(sequences):
            sequences = np.asarray(sequences, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValidationError(
            f"must be an array of numbers of shape {shape} ({err}); for series of "
            "different lengths, give nengo_lmu.dl.prepare_sequences a list of "
            "arrays, each (n_samples, dimensions) or (n_samples,): it pads them "
            "with leading zeros",
            attr=attr,
        ) from err
    if np.iscomplexobj(sequences):
        raise ValidationError(
            f"must be real numbers of shape {shape} (got complex values, whose "
            "imaginary part would be dropped)",
            attr=attr,
        )
    if sequences.ndim != 3 or 0 in sequences.shape or (
        node is not None and sequences.shape[2] != size
    ):
        raise ValidationError(
            f"must have shape {shape}"
            f"{'' if node is None else f' for {node}'} (got {sequences.shape})",
            attr=attr,
        )
    if not np.all(np.isfinite(sequences)):
        raise ValidationError("must be finite (has NaN or infinity)", attr=attr)
    return sequences


def simulate_sequences(network, node, sequences, targets, dt=1.0):
    """Run ``network`` on each sequence from rest; yield what ``targets`` output.

    A copy of ``network`` (the original is untouched) is built once on the
    reference simulator; ``node`` gives one sample per step of ``dt``, and
    the simulator is reset before each sequence.

    Parameters
    ----------
    network : nengo.Network
    node : nengo.Node
        The input node (of ``network``).
    sequences : array_like
        Shape ``(n_sequences, n_samples, node.size_out)``.
    targets : list
        Objects of ``network`` to probe without a synapse (Nodes, Ensembles,
        ``Ensemble.neurons``, or slices of them).
    dt : float, optional

    Yields
    ------
    list of ndarray
        For each sequence, each target's output, ``(n_samples, size)``.
    """
    dt = check_param(FiniteNumberParam("dt", low=0, low_open=True), dt)
    _check_in_network(network, node, targets)
    sequences = check_sequences(sequences, node)
    copy = copy_network(network)
    feed = counterpart(node, network, copy)
    current = {"u": sequences[0]}
    feed.output = _Replay(current, dt)

    with copy:
        probes = [nengo.Probe(counterpart(t, network, copy), synapse=None) for t in targets]
    with nengo.Simulator(copy, dt=dt, progress_bar=False) as sim:
        for u in sequences:
            current["u"] = u
            sim.reset()
            sim.run_steps(len(u))
            yield [sim.data[p] for p in probes]


def check_input_node(network, node):
    """``node`` if it is a Node of ``network`` without input, else a
    ValidationError naming ``node`` and what to pass."""
    inputs = [n for n in network.all_nodes if n.size_in == 0]
    hint = (
        f"; the Nodes of {network} without input: "
        + ", ".join(map(str, inputs[:3]))
        + (f" and {len(inputs) - 3} more" if len(inputs) > 3 else "")
        if inputs
        else f"; {network} has no Node without input"
    )
    if not isinstance(node, nengo.Node):
        raise ValidationError(
            f"must be a nengo.Node (the input of {network}), not {node!r}{hint}", attr="node"
        )
    if node not in network.all_nodes:
        raise ValidationError(
            f"{node} is not in {network} (for a converted copy, find its "
            f"counterpart with SpikingConversion.find){hint}",
            attr="node",
        )
    if node.size_in > 0:
        raise ValidationError(
            f"{node} takes input (size_in={node.size_in}); the sequences replace "
            f"the output of a Node without input{hint}",
            attr="node",
        )
    return node


def _check_in_network(network, node, targets):
    """Refuse a ``node`` or ``targets`` that are not objects of ``network``."""
    check_network(network)
    check_input_node(network, node)
    if not isinstance(targets, (list, tuple)):
        raise ValidationError(
            f"must be a list of objects to probe (got {targets!r})", attr="targets"
        )
    members = set(network.all_nodes) | set(network.all_ensembles)
    for target in targets:
        obj = getattr(target, "obj", target)  # a slice: its object
        obj = getattr(obj, "ensemble", obj)  # Ensemble.neurons: its ensemble
        if obj not in members:
            raise ValidationError(
                f"{target!r} is not a Node, Ensemble or Ensemble.neurons of {network}",
                attr="targets",
            )


class _Replay:
    """Node output: sample ``i`` of the current sequence on step ``i``."""

    def __init__(self, current, dt):
        self.current = current
        self.dt = dt

    def __call__(self, t):
        u = self.current["u"]
        return u[min(int(round(t / self.dt)) - 1, len(u) - 1)]


def peak_magnitudes(network, node, sequences, targets, dt=1.0):
    """The largest ``|value|`` of each dimension of each target over ``sequences``.

    Returns
    -------
    list of ndarray
        One array of the target's size per target (see `simulate_sequences`).

    Examples
    --------
    >>> with nengo.Network() as net:
    ...     inp = nengo.Node(np.zeros(2))
    ...     out = nengo.Node(size_in=2)
    ...     _ = nengo.Connection(inp, out, transform=[[2, 0], [0, -1]], synapse=None)
    >>> peak_magnitudes(net, inp, [[[1, 3], [-2, 0]]], [out])
    [array([4., 3.])]
    """
    peaks = None
    for outputs in simulate_sequences(network, node, sequences, targets, dt):
        found = [np.abs(x).max(axis=0) for x in outputs]
        peaks = found if peaks is None else [np.maximum(p, f) for p, f in zip(peaks, found)]
    return peaks


def memory_covariance(network, node, sequences, memory, dt=1.0):
    """:math:`E[m m^T]` of ``memory``'s Legendre states over ``sequences``.

    The mean, over every step of every sequence (run from rest) and every
    channel, of the outer product of the states: the covariance (about
    zero) that `.LegendreMemory` ``state_covariance`` takes, so that a
    reduced memory keeps the states this data moves.

    Parameters
    ----------
    network : nengo.Network
    node : nengo.Node
        The input node (of ``network``).
    sequences : array_like
        ``(n_sequences, n_samples, node.size_out)``, e.g. training inputs.
    memory : LegendreMemory
        A memory of ``network`` (an LMU's ``memory``).
    dt : float, optional

    Returns
    -------
    ndarray
        ``(memory.order, memory.order)``.
    """
    # (imported here: the networks import nengo_lmu.legendre, which imports this)
    from nengo_lmu.networks.memory import LegendreMemory  # noqa: PLC0415

    if not isinstance(memory, LegendreMemory):
        raise ValidationError(
            f"must be a LegendreMemory of the network, e.g. lmu.memory (got {memory!r})",
            attr="memory",
        )
    total, count = 0.0, 0
    for (m,) in simulate_sequences(network, node, sequences, [memory.output], dt):
        moment, n = state_moment(m, memory.order)
        total, count = total + moment, count + n
    return total / count


def state_moment(states, order):
    """``(sum of m m^T, count)`` over every step and channel of a memory's
    output ``states``, ``(steps, channels * order)`` channel-major: the sum
    whose mean is `memory_covariance`."""
    m = np.asarray(states).reshape(-1, order)  # (steps * channels, order)
    return m.T @ m, len(m)


def channel_encoders(sequences):
    """Input encoders that give each input dimension its own memory channel,
    at unit variance: :math:`e_x = \\mathrm{diag}(1 / \\sigma_j)`.

    :math:`\\sigma_j` is the population standard deviation of dimension
    :math:`j` over every series and step of ``sequences`` (the training
    inputs, padding included), so that no dimension's memory starts out
    dominated by the units its data happens to be in. Pass the result as
    ``input_encoders_init`` of an `.LMU` (or `.lmu_model`) with ``memory_d``
    equal to ``input_d``. A dimension that never varies keeps the scale 1:
    its memory is the same for every series whatever the scale.

    Parameters
    ----------
    sequences : array_like
        Shape ``(n_sequences, n_samples, input_d)``.

    Returns
    -------
    ndarray
        Shape ``(input_d, input_d)``.

    Examples
    --------
    >>> channel_encoders([[[1.0, 10.0], [-1.0, -10.0]]])
    array([[1. , 0. ],
           [0. , 0.1]])
    """
    samples = check_sequences(sequences)
    samples = samples.reshape(-1, samples.shape[2])
    # (a constant's computed std can round to a tiny nonzero value)
    varies = np.ptp(samples, axis=0) > 0
    return np.diag(1 / np.where(varies, samples.std(axis=0), 1.0))
