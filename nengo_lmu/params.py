"""Validation helpers built on Nengo's parameter descriptors."""

from nengo.params import Parameter


def check_param(param, value, obj=None):
    """Validate ``value`` with a Nengo `~nengo.params.Parameter` and return it.

    For functions, which have no instance to hold descriptors: the check, the
    coercion and the `~nengo.exceptions.ValidationError` naming the argument
    are exactly those of the parameter.

    Examples
    --------
    >>> from nengo.params import IntParam
    >>> check_param(IntParam("order", low=1), 3)
    3
    """
    return param.coerce(obj, value)


class ParamsInState:
    """Mixin for a `nengo.Network` subclass with `~nengo.params.Parameter` attributes.

    Parameter values live in the descriptors, not in the instance's
    ``__dict__``; ``nengo.Network.__getstate__`` adds back only ``label`` and
    ``seed``. This adds the subclass's own parameters, so that ``net.copy()``
    and pickling keep them (and validate them again on the way in).
    """

    def __getstate__(self):
        state = super().__getstate__()
        for name in dir(type(self)):
            if isinstance(getattr(type(self), name, None), Parameter):
                state[name] = getattr(self, name)
        return state
