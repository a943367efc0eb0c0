"""Error measures and spiking costs shared by the library, tests, examples, demo
and benchmarks."""

import nengo
import numpy as np
from nengo.exceptions import ValidationError
from nengo.params import BoolParam

from nengo_lmu.params import check_param


def nrmse(x, ref, center=False):
    """Normalised root-mean-square error of ``x`` against ``ref``.

    .. math:: \\sqrt{\\langle (x - r)^2 \\rangle / \\langle r^2 \\rangle},

    pooled over every element (time steps and dimensions); with ``center``,
    over the reference's variance :math:`\\langle (r - \\bar{r})^2 \\rangle`
    instead (the usual NRMSE of time-series prediction, where a constant
    prediction of the mean scores 1).

    ``x`` and ``ref`` must have the same shape (nothing is broadcast: an
    ``(n, 1)`` array against an ``(n,)`` one would compare every step with
    every other) and be finite. A reference that is zero everywhere (with
    ``center``, constant) has no scale to normalise by, and is refused with
    a `~nengo.exceptions.ValidationError` naming ``ref``.

    Examples
    --------
    >>> nrmse(np.array([1.0, 1.0]), np.array([2.0, 0.0]))
    0.7071067811865476
    """
    center = check_param(BoolParam("center"), center)
    x, ref = _finite_array(x, "x"), _finite_array(ref, "ref")
    if x.shape != ref.shape:
        raise ValidationError(
            f"must have the shape of ref, {ref.shape} (got {x.shape}); reshape one "
            "of them (nothing is broadcast)",
            attr="x",
        )
    if x.size == 0:
        raise ValidationError("must not be empty", attr="x")
    # (a constant's computed variance can round to a tiny nonzero value)
    if not (np.ptp(ref) > 0 if center else np.any(ref)):
        raise ValidationError(
            ("is constant: its variance, the scale of the centred NRMSE, is 0"
             if center else "is zero everywhere: the NRMSE has no scale"),
            attr="ref",
        )
    scale = np.mean((ref - ref.mean()) ** 2) if center else np.mean(ref**2)
    return float(np.sqrt(np.mean((x - ref) ** 2) / scale))


def _finite_array(value, attr):
    """``value`` as a finite float array (a ValidationError naming ``attr``)."""
    try:
        if value is None or np.iscomplexobj(value):
            raise TypeError(f"got {type(value).__name__} values")
        value = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValidationError(f"must be an array of numbers ({err})", attr=attr) from err
    if not np.all(np.isfinite(value)):
        raise ValidationError("must be finite (has NaN or infinity)", attr=attr)
    return value


def fan_out(network, ensemble):
    """Synapses one spike of ``ensemble`` meets, averaged over its neurons.

    Each outgoing connection counts the post neurons (decoded or not, a spike
    reaches every neuron of a post ensemble), or, into a node, the nonzero
    weights of the neuron's column, followed through passthrough nodes to the
    synapses behind them.
    """
    per_neuron = np.zeros(ensemble.n_neurons)
    for conn in network.all_connections:
        pre = conn.pre_obj
        if pre is ensemble or getattr(pre, "ensemble", None) is ensemble:
            per_neuron += _synapses(network, conn, ensemble.n_neurons)
    return float(per_neuron.mean())


def _synapses(network, conn, n_pre):
    """Synapses per pre element (neuron or dimension) reached through ``conn``."""
    post = getattr(conn.post_obj, "ensemble", conn.post_obj)
    if isinstance(post, nengo.Ensemble):
        return np.full(n_pre, post.n_neurons, dtype=float)
    if isinstance(conn.transform, nengo.transforms.NoTransform):
        weights = np.eye(conn.size_out, conn.size_in)
    else:
        weights = conn.transform.sample(rng=np.random.RandomState(0))
    if weights is None or weights.ndim != 2 or weights.shape[1] != n_pre:
        return np.full(n_pre, float(conn.post.size_in))
    if post.output is None:  # passthrough: what each of its dimensions reaches
        onward = np.zeros(post.size_in)
        for out in network.all_connections:
            if out.pre_obj is post:
                onward += _synapses(network, out, post.size_in)
        behind = np.where(onward > 0, onward, 1.0)  # a dead end counts itself
        post_weight = np.zeros(post.size_in)
        post_weight[conn.post_slice] = behind[conn.post_slice]
        return (np.abs(weights) > 0).T.astype(float) @ post_weight[conn.post_slice]
    return np.count_nonzero(weights, axis=0).astype(float)


def spike_count(sim, probe):
    """Spikes in a probe of ``Ensemble.neurons`` (each spike is ``amplitude / dt``)."""
    ens = probe.target.ensemble
    amplitude = getattr(ens.neuron_type, "amplitude", 1.0)
    return float(np.sum(sim.data[probe]) * sim.dt / amplitude)


def synaptic_events(network, sim, ensembles, probes):
    """Synaptic events of ``ensembles`` over a run: spikes times `fan_out`.

    ``probes`` are probes of each ensemble's ``neurons`` (in ``sim``).
    """
    return float(
        sum(spike_count(sim, p) * fan_out(network, e) for e, p in zip(ensembles, probes))
    )
