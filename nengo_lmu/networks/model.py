"""An LMU (or a stack of them) with a dense readout, set up for training through NengoDL."""

import collections.abc
import inspect

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.networks.lmu import LMU
from nengo_lmu.params import IntegerParam, check_param, check_seed

#: The arguments a layer specification of `lmu_model` may hold: `.LMU`'s,
#: and `nengo.Network`'s (``label``, ``seed``)
LAYER_ARGS = frozenset(
    set(inspect.signature(LMU).parameters) - {"kwargs"}
    | set(inspect.signature(nengo.Network).parameters) - {"add_to_container"}
)

#: Arguments every layer specification must give (directly or through
#: `lmu_model`'s shared ``**lmu_kwargs``)
REQUIRED_LAYER_ARGS = ("units", "order", "theta")


def lmu_model(n_out, seed=None, settings=None, layers=None, **lmu_kwargs):
    """A network to train through NengoDL: input, `.LMU` (or a stack), dense readout, probe.

    The `.LMU` [1]_ is one, or with ``layers`` several, stacked: layer
    :math:`k`'s output (its hidden state :math:`h^{(k)}_t`, or its memory
    without a hidden layer) is layer :math:`k+1`'s input
    :math:`x^{(k+1)}_t` at the same step, so its memory reads
    :math:`u^{(k+1)}_t = e_x^{(k+1)T} h^{(k)}_t` [2]_. The readout is a
    dense connection from the last LMU's output to ``n_out`` values,
    initialised with NengoDL's Glorot-uniform distribution, ``U(±sqrt(6 /
    (fan_in + fan_out)))``. NengoDL's settings
    (`nengo_lmu.dl.configure_settings`) are made on the returned network, so
    it must be the top-level one.

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
    layers : list of dict, optional
        One dict of `.LMU` arguments per layer, first (reading the input)
        to last (read by the readout), e.g. ``[dict(units=64, order=16,
        theta=40.0), dict(units=64, order=8, theta=10.0)]``. Each is
        applied over ``**lmu_kwargs``, which then hold what the layers
        share. Only the first layer's ``input_d`` is free (the input
        node's size); every other layer's is the size of the output it
        reads, and a different one is refused. None (default): one LMU of
        ``**lmu_kwargs``, exactly as ``layers=[{}]``.
    **lmu_kwargs
        Arguments of `.LMU` (``units``, ``order``, ``theta``, ...) of the
        one LMU, or shared by every layer; ``input_d`` is the input node's
        size.

    Returns
    -------
    nengo.Network
        With attributes ``inp`` (the input node, zeros: NengoDL feeds it),
        ``lmus`` (the LMUs, first to last), ``lmu`` (the last one, which the
        readout reads: the only one without ``layers``), ``out`` (the
        readout node), ``readout`` (the connection into it) and ``probe``
        (on ``out``).

    Notes
    -----
    A stack of feed-forward LMUs (no ``hidden_to_memory``,
    ``memory_to_memory`` or ``hidden_to_hidden``) keeps what one such LMU
    has: each layer's memory is a convolution of its input, so the stack
    trains without stepping through time (`nengo_lmu.parallel`), and its
    memories are exact for held samples (`nengo_lmu.spiking.to_spiking`).
    Depth lets later layers remember features of the input rather than the
    input itself: a short window over a deep layer can see as far back as
    the windows below it add up to.

    References
    ----------
    .. [1] Voelker, A. R., Kajić, I., and Eliasmith, C. (2019). Legendre Memory
       Units: Continuous-time representation in recurrent neural networks.
       NeurIPS 32.
    .. [2] Chilkuri, N. R. and Eliasmith, C. (2021). Parallelizing Legendre
       Memory Unit training. ICML.

    Examples
    --------
    >>> import nengo_lmu
    >>> net = nengo_lmu.lmu_model(
    ...     10, seed=0, layers=[dict(theta=20.0), dict(theta=10.0, order=4)],
    ...     units=16, order=8)
    >>> [(lmu.input_d, lmu.order, lmu.theta) for lmu in net.lmus]
    [(1, 8, 20.0), (16, 4, 10.0)]
    >>> net.lmu is net.lmus[-1]
    True
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
    deep = layers is not None
    specs = _layer_specs(layers, lmu_kwargs) if deep else [dict(lmu_kwargs)]
    # (checked before the input node is made from it)
    input_d = check_param(IntegerParam("input_d", low=1), specs[0].get("input_d", 1))
    with nengo.Network(seed=seed) as net:
        nengo_lmu.dl.configure_settings(**settings)
        net.inp = nengo.Node(np.zeros(input_d))
        net.lmus, source = [], net.inp
        for k, spec in enumerate(specs):
            if deep:
                spec = _check_layer(k, spec, source.size_out)
                spec.setdefault("label", f"LMU {k}" if len(specs) > 1 else "LMU")
                try:
                    lmu = LMU(**spec)
                except ValidationError as e:  # say which layer
                    raise ValidationError(f"layers[{k}]: {e.args[0]}", attr=e.attr,
                                          obj=e.obj) from None
            else:
                lmu = LMU(**spec)
            nengo.Connection(source, lmu.input, synapse=None)
            net.lmus.append(lmu)
            source = lmu.output
        net.lmu = net.lmus[-1]
        net.out = nengo.Node(size_in=n_out)
        net.readout = nengo.Connection(
            net.lmu.output, net.out, transform=nengo_dl.dists.Glorot(), synapse=None
        )
        net.probe = nengo.Probe(net.out)
    return net


def _layer_specs(layers, shared):
    """Each layer's `.LMU` arguments: ``shared`` updated by its own dict
    (``shared``'s ``input_d`` goes to the first layer only)."""
    if isinstance(layers, (str, bytes, collections.abc.Mapping)) or not isinstance(
        layers, collections.abc.Sequence
    ):
        raise ValidationError(
            "must be a list of dicts of LMU arguments, one per layer "
            f"(got {layers!r})",
            attr="layers",
        )
    if not layers:
        raise ValidationError("must hold at least one layer (got an empty list)",
                              attr="layers")
    shared = dict(shared)
    input_d = shared.pop("input_d", None)
    specs = []
    for k, layer in enumerate(layers):
        if not isinstance(layer, collections.abc.Mapping):
            raise ValidationError(
                f"layers[{k}] must be a dict of LMU arguments (got {layer!r})",
                attr="layers",
            )
        unknown = sorted(set(shared) - LAYER_ARGS) or sorted(set(layer) - LAYER_ARGS)
        if unknown:
            raise ValidationError(
                f"{unknown[0]!r} is not an argument of LMU (in "
                f"{'layers[%d]' % k if unknown[0] in layer else 'the shared arguments'})",
                attr="layers",
            )
        spec = dict(shared)
        if k == 0 and input_d is not None:
            spec["input_d"] = input_d
        spec.update(layer)
        specs.append(spec)
    return specs


def _check_layer(k, spec, source_d):
    """Layer ``k``'s arguments, its ``input_d`` the size ``source_d`` of what
    it reads (refused by name if it gives another)."""
    spec = dict(spec)
    for name in REQUIRED_LAYER_ARGS:
        if name not in spec:
            raise ValidationError(
                f"layers[{k}] has no {name} (give it there, or to lmu_model for "
                "every layer)",
                attr=name,
            )
    if k > 0:
        given = spec.get("input_d", source_d)
        if isinstance(given, (bool, np.bool_)) or given != source_d:
            raise ValidationError(
                f"layers[{k}] reads layers[{k - 1}]'s output, {source_d} values a "
                f"step (its units, or memory_d * order without a hidden layer); "
                f"leave input_d out (got {given!r})",
                attr="input_d",
            )
        spec["input_d"] = source_d
    return spec
