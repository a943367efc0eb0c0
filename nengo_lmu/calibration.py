"""Calibration of a conversion on (a sample of) the training inputs.

`.to_spiking` runs the trained network on the calibration data
(`calibrate`) to measure what the converted network must carry: the peak
magnitude of each value an LMU's hidden layer receives from the host, which
`scale_host_inputs` scales into [-1, 1] (Loihi's host-to-chip link clips
beyond it) with the scale folded into the hidden weights, and the peak hidden
activity, from which the hidden firing rates are set.
"""

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.measure import check_sequences, simulate_sequences, state_moment
from nengo_lmu.progress import plural, tracker


#: The least change of hidden activity, as a share of the layer's peak, by
#: which calibration data must move some hidden neuron away from its activity
#: at rest: data that moves none by more measures the biases, not the data
#: (all-zero data moves none; data scaled down by 1e-9 moves them by 1e-9).
CALIBRATION_MIN_DRIVE = 0.01


def calibrate(network, originals, calibration, dt_train, progress_bar=False):
    """Per original LMU with a hidden layer, measured on ``calibration =
    (node, sequences)``: ``{"memory": peak |memory output| per state,
    "input": peak |input| per dimension, "hidden": peak hidden
    activity, "covariance": E[m m^T] of the memory's Legendre states (over
    steps, sequences and channels)}``.

    The peaks are those of the response to the data only where the data
    drives the hidden layer: each LMU with one must have a hidden neuron
    whose activity on the data differs from the one it has with no input
    (all-zero sequences) by `CALIBRATION_MIN_DRIVE` of the layer's peak.
    Otherwise (data that leaves the memory at rest, or silences every
    neuron) the hidden rates measured are those of the biases, or none, and
    the data is refused.
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
        # (with input_to_hidden; and for a memory whose input term the
        # conversion sends the hidden layer directly, `_memory_into_hidden`)
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
    moments = {}  # per LMU: the sum of m m^T over steps and channels, and their count
    progress = tracker(
        progress_bar, f"Calibrating on {plural(len(sequences))}", len(sequences) + 1
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
                if part == "memory":
                    moment, n = state_moment(x, lmu.order)
                    total, count = moments.get(lmu, (0.0, 0))
                    moments[lmu] = (total + moment, count + n)
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
    for lmu, (total, count) in moments.items():
        peaks[lmu]["covariance"] = total / count
    return peaks


def _drives(x, x0):
    """Whether some hidden activity in ``x`` (on data) is nonzero and differs
    from ``x0`` (at rest) by at least `CALIBRATION_MIN_DRIVE` of the larger
    peak: a neuron the data silences gives no rate to measure."""
    peak = max(np.abs(x).max(), np.abs(x0).max())
    moved = np.abs(x - x0) >= CALIBRATION_MIN_DRIVE * peak
    return peak > 0 and bool(np.any((x != 0) & moved))


class _Scale:
    """Node function ``x * factors`` (a function, so nengo-loihi keeps it on the host)."""

    def __init__(self, factors):
        self.factors = np.asarray(factors, dtype=float)

    def __call__(self, t, x):
        return x * self.factors


def scale_host_inputs(lmu, peaks):
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
