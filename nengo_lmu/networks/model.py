"""An LMU with a dense readout, set up for training through NengoDL."""

import collections.abc

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.networks.lmu import LMU
from nengo_lmu.params import IntegerParam, check_param, check_seed


def lmu_model(n_out, seed=None, settings=None, **lmu_kwargs):
    """A network to train through NengoDL: input, `.LMU`, dense readout, probe.

    The readout is a dense connection from the LMU's output (its hidden
    layer, or memory without one) to ``n_out`` values, initialised with
    NengoDL's Glorot-uniform distribution, ``U(±sqrt(6 / (fan_in +
    fan_out)))``. NengoDL's settings (`nengo_lmu.dl.configure_settings`) are
    made on the returned network, so it must be the top-level one.

    Parameters
    ----------
    n_out : int
        Readout size (classes, or regression targets).
    seed : int, optional
        Seed of the network (and so of every initial weight), in
        ``0 .. 2**32 - 1`` (NumPy's seeds).
    settings : dict, optional
        Keyword arguments of `nengo_lmu.dl.configure_settings` (which
        refuses unknown ones by name); default ``dict(stateful=False)``. Add
        ``keep_history=False`` when only the last step is trained on
        (classification).
    **lmu_kwargs
        Arguments of `.LMU` (``units``, ``order``, ``theta``, ...); its
        ``input_d`` is also the input node's size.

    Returns
    -------
    nengo.Network
        With attributes ``inp`` (the input node, zeros: NengoDL feeds it),
        ``lmu``, ``out`` (the readout node), ``readout`` (the connection into
        it) and ``probe`` (on ``out``).
    """
    import nengo_dl  # noqa: PLC0415  (the readout's initialisation)

    import nengo_lmu.dl  # noqa: PLC0415

    n_out = check_param(IntegerParam("n_out", low=1), n_out)
    seed = check_seed(seed, optional=True)
    if settings is None:
        settings = dict(stateful=False)
    elif isinstance(settings, collections.abc.Mapping):
        settings = dict(settings)
    else:
        raise ValidationError(
            "must be a dict of keyword arguments of nengo_lmu.dl.configure_settings "
            f"(got {settings!r})",
            attr="settings",
        )
    # (checked before the input node is made from it)
    check_param(IntegerParam("input_d", low=1), lmu_kwargs.get("input_d", 1))
    with nengo.Network(seed=seed) as net:
        nengo_lmu.dl.configure_settings(**settings)
        net.inp = nengo.Node(np.zeros(lmu_kwargs.get("input_d", 1)))
        net.lmu = LMU(**lmu_kwargs)
        nengo.Connection(net.inp, net.lmu.input, synapse=None)
        net.out = nengo.Node(size_in=n_out)
        net.readout = nengo.Connection(
            net.lmu.output, net.out, transform=nengo_dl.dists.Glorot(), synapse=None
        )
        net.probe = nengo.Probe(net.out)
    return net
