"""Validation helpers built on Nengo's parameter descriptors."""


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
