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
  step: a value beyond the post ensemble's radius saturates.
* **1024 compartments per core**; `nengo_loihi.BlockShape` splits a larger
  ensemble over cores (`configure`).
"""

import nengo
import numpy as np
from nengo.exceptions import BuildError, ValidationError

#: Neuron types nengo-loihi 1.1 runs on the chip.
CHIP_NEURON_TYPES = (nengo.LIF, nengo.SpikingRectifiedLinear)

#: Compartments in one Loihi core.
MAX_COMPARTMENTS = 1024

#: The tuning `nengo_loihi.set_defaults` gives ensembles, passed explicitly so
#: a network does not depend on whether it was called.
ENSEMBLE_KWARGS = dict(
    max_rates=nengo.dists.Uniform(100, 120), intercepts=nengo.dists.Uniform(-1.0, 0.5)
)


def min_decoded_transform(n_neurons):
    """Smallest safe ``|transform|`` of a 1-D decoded connection on Loihi.

    Measured with nengo-loihi 1.1 (100-120 Hz, intercepts in [-1, 0.5]): a
    100-neuron SpikingRectifiedLinear ensemble builds with 0.06 and fails
    with 0.04 (LIF: 0.04 and 0.03); decoders shrink as ``1 / n_neurons``, so
    the limit grows with it. This returns ``0.08 * n_neurons / 100``, with a
    margin.
    """
    return 0.08 * n_neurons / 100


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
    chip = {
        ens
        for ens in network.all_ensembles
        if _on_chip(network, ens) and not isinstance(ens.neuron_type, nengo.Direct)
    }
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
        pre_ens = pre.ensemble if isinstance(pre, nengo.ensemble.Neurons) else pre
        post_ens = post.ensemble if isinstance(post, nengo.ensemble.Neurons) else post
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
