"""Paths to objects inside nested Nengo networks.

A path survives ``network.copy()``: the copy of an object sits at the same
path in the copied network, which is how a converted or measured copy finds
the objects a user named in the original.
"""

import warnings

import nengo


def index_of(network, obj):
    """Path to ``obj`` inside ``network``: network indices, then kind and index."""
    for kind in ("ensembles", "nodes", "connections", "probes", "networks"):
        items = getattr(network, kind)
        for i, item in enumerate(items):
            if item is obj:
                return ((kind, i),)
    for i, sub in enumerate(network.networks):
        try:
            return (("networks", i),) + index_of(sub, obj)
        except KeyError:
            continue
    raise KeyError(f"{obj} is not in {network}")


def object_at(network, index):
    """The object at path ``index`` (from `index_of`) in ``network``."""
    obj = network
    for kind, i in index:
        obj = getattr(obj, kind)[i]
    return obj


def base_object(obj):
    """The Node or Ensemble behind ``obj``: a slice's object, neurons' ensemble."""
    obj = obj.obj if isinstance(obj, nengo.base.ObjView) else obj
    return obj.ensemble if isinstance(obj, nengo.ensemble.Neurons) else obj


def counterpart(obj, network, other):
    """``obj`` of ``network`` as it is in ``other``, a copy of ``network``:
    the object at the same path, sliced or as neurons like ``obj``."""
    if isinstance(obj, nengo.base.ObjView):
        return counterpart(obj.obj, network, other)[obj.slice]
    if isinstance(obj, nengo.ensemble.Neurons):
        return counterpart(obj.ensemble, network, other).neurons
    return object_at(other, index_of(network, obj))


def copy_network(network, add_to_container=False):
    """``network.copy()``, without nengo 3.2's warning for every passthrough Node.

    Nengo 3.2 restores a copied passthrough Node's ``size_out`` before its
    ``output`` and warns that it overwrites it (with the same value); that
    warning says nothing about the network, so it is silenced here only.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="'Node.size_out' is being overwritten", category=UserWarning
        )
        return network.copy(add_to_container=add_to_container)
