"""Validation helpers built on Nengo's parameter descriptors."""

import numbers

import numpy as np
from nengo.exceptions import ValidationError
from nengo.params import IntParam, NumberParam, Parameter
from nengo.synapses import SynapseParam


class FiniteNumberParam(NumberParam):
    """A `~nengo.params.NumberParam` that refuses NaN, infinity and bools by name.

    Nengo's own compares NaN with its bounds and fails with a ``TypeError``
    that names nothing; every number parameter of nengo_lmu (window lengths,
    time steps, rates, ranges) is meaningless unless finite, so each is one
    of these.

    Examples
    --------
    >>> check_param(FiniteNumberParam("theta", low=0, low_open=True), float("nan"))
    Traceback (most recent call last):
    ...
    nengo.exceptions.ValidationError: theta: must be a finite number (got nan)
    """

    def coerce(self, instance, num):
        if isinstance(num, np.ndarray) and num.shape == ():
            num = num.item()
        if isinstance(num, (bool, np.bool_)):  # Python counts True as 1
            raise ValidationError(
                f"must be a number, not a bool (got {num})", attr=self.name, obj=instance
            )
        if isinstance(num, numbers.Number):
            if not np.isfinite(num):
                raise ValidationError(
                    f"must be a finite number (got {num})", attr=self.name, obj=instance
                )
        return super().coerce(instance, num)


class IntegerParam(IntParam):
    """A `~nengo.params.IntParam` that refuses a bool by name (Python counts
    ``True`` as the integer 1; an order, a seed or a count of True is a
    mistake, not a one).

    Examples
    --------
    >>> check_param(IntegerParam("order", low=1), True)
    Traceback (most recent call last):
    ...
    nengo.exceptions.ValidationError: order: must be an integer, not a bool (got True)
    """

    def coerce(self, instance, num):
        if isinstance(num, np.ndarray) and num.shape == ():
            num = num.item()  # e.g. a value read from an .npz file
        if isinstance(num, (bool, np.bool_)):
            raise ValidationError(
                f"must be an integer, not a bool (got {num})", attr=self.name, obj=instance
            )
        return super().coerce(instance, num)


class FiniteSynapseParam(SynapseParam):
    """A `~nengo.synapses.SynapseParam` whose time constants must be finite.

    A number is a ``Lowpass`` time constant, checked by
    `FiniteNumberParam` under this parameter's name (Nengo's own names
    ``Lowpass.tau``, or fails with a ``TypeError`` on NaN); a synapse whose
    ``tau`` is infinite (a filter that never passes anything) is refused too.

    Examples
    --------
    >>> check_param(FiniteSynapseParam("synapse"), 0.005)
    Lowpass(tau=0.005)
    """

    def coerce(self, instance, synapse):
        if isinstance(synapse, numbers.Number) or (
            isinstance(synapse, np.ndarray) and synapse.shape == ()
        ):
            synapse = check_param(FiniteNumberParam(self.name, low=0), synapse, instance)
        tau = getattr(synapse, "tau", None)
        if isinstance(tau, numbers.Number) and not np.isfinite(tau):
            raise ValidationError(
                f"must have a finite time constant (got {synapse!r})",
                attr=self.name,
                obj=instance,
            )
        return super().coerce(instance, synapse)


class TypeParam(Parameter):
    """A parameter whose value must be an instance of ``types``."""

    def __init__(self, name, types, optional=False):
        super().__init__(name, optional=optional, readonly=False)
        self.types = types

    def coerce(self, instance, value):
        self.check_type(instance, value, self.types)
        return super().coerce(instance, value)


#: The largest seed NumPy's ``RandomState`` (and so Nengo) takes.
MAX_SEED = 2**32 - 1


def check_seed(seed, attr="seed", optional=False):
    """A ``RandomState`` seed, ``0 .. MAX_SEED``, or a ValidationError naming ``attr``.

    Examples
    --------
    >>> check_seed(2**32)
    Traceback (most recent call last):
    ...
    nengo.exceptions.ValidationError: seed: Value must be less than or equal to 4294967295 (got 4294967296)
    """
    return check_param(IntegerParam(attr, low=0, high=MAX_SEED, optional=optional), seed)


def check_float_dtype(dtype, attr="dtype"):
    """A floating-point TensorFlow dtype's name (a ValidationError naming ``attr``).

    TensorFlow is imported only when this is called.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    try:
        floating = tf.as_dtype(dtype).is_floating
    except TypeError:
        floating = False
    if not floating:
        raise ValidationError(
            f"must be a floating-point dtype such as 'float32' or 'float64' (got "
            f"{dtype!r}): the memory and its gradient are real-valued",
            attr=attr,
        )
    return tf.as_dtype(dtype).name


def check_network(network, attr="network", optional=False):
    """``network`` if it is a `nengo.Network`, else a ValidationError naming ``attr``."""
    import nengo  # pylint: disable=import-outside-toplevel

    return check_param(TypeParam(attr, nengo.Network, optional=optional), network)


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
