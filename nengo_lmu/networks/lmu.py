"""The Legendre Memory Unit cell as a Nengo network."""

import inspect

import nengo
import numpy as np
from nengo.exceptions import ValidationError
from nengo.neurons import NeuronTypeParam
from nengo.params import BoolParam

from nengo_lmu.legendre import machine_memory
from nengo_lmu.networks.memory import LegendreMemory
from nengo_lmu.params import FiniteNumberParam, IntegerParam, ParamsInState


def glorot_normal(fan_in, fan_out):
    """Glorot (Xavier) normal initialisation, std ``sqrt(2 / (fan_in + fan_out))``."""
    return nengo.dists.Gaussian(0.0, np.sqrt(2.0 / (fan_in + fan_out)))


class LMU(ParamsInState, nengo.Network):
    """A Legendre Memory Unit cell [1]_ as a Nengo network.

    With input :math:`x_t`, memory :math:`m_t` and hidden state :math:`h_t`:

    .. math::

        u_t &= e_x^T x_t + e_h^T h_{t-1} + e_m^T m_{t-1} \\\\
        m_t &= \\bar{A} m_{t-1} + \\bar{B} u_t \\\\
        h_t &= f(W_x x_t + W_h h_{t-1} + W_m m_t + b)

    The optional terms are switched on by the flags, which have keras-lmu's
    names and meanings. The hidden layer is an ensemble of ``units`` neurons
    (:math:`f` is their nonlinearity, gain 1, bias :math:`b = 0` initially),
    driven neuron-to-neuron so that every weight above is a plain connection
    transform (trainable in NengoDL). Recurrent terms use ``synapse=0``, Nengo's
    one-step delay. The output is :math:`h_t`, so LMUs stack by connecting one's
    ``output`` to the next one's ``input``.

    Parameters
    ----------
    units : int
        Number of hidden neurons. An LMU whose weight matrices alone would
        not fit in this machine's memory is refused (naming ``units``).
    order : int
        Order of each Legendre memory.
    theta : float
        Memory window, in seconds of simulated time (``dt=1`` makes it steps).
    input_d : int, optional
        Dimensionality of the input :math:`x`.
    memory_d : int, optional
        Number of memory channels (dimensionality of :math:`u`).
    hidden_neuron_type : nengo.neurons.NeuronType or None, optional
        Nonlinearity :math:`f`; default ``nengo.Tanh(tau_ref=1)``, i.e.
        :math:`\\tanh`. None removes the hidden layer: the output is then the
        memory :math:`m_t` (``memory_d * order`` values).
    hidden_to_memory : bool, optional
        Include :math:`e_h^T h_{t-1}` in :math:`u_t`.
    memory_to_memory : bool, optional
        Include :math:`e_m^T m_{t-1}` in :math:`u_t`.
    input_to_hidden : bool, optional
        Include :math:`W_x x_t` in the hidden input.
    hidden_to_hidden : bool, optional
        Include :math:`W_h h_{t-1}` in the hidden input.
    input_encoders_init, hidden_encoders_init, memory_encoders_init : \
            float or array_like or nengo.dists.Distribution, optional
        Initial :math:`e_x` (default 1), :math:`e_h`, :math:`e_m` (default 0),
        as transforms of shape ``(memory_d, size_of_source)``: a finite
        number fills it, an array must have exactly that shape (else a
        `~nengo.exceptions.ValidationError` naming the argument and the shape).
    input_kernel_init, hidden_kernel_init, memory_kernel_init : \
            float or array_like or nengo.dists.Distribution, optional
        Initial :math:`W_x`, :math:`W_h` (default 0) and :math:`W_m` (default
        Glorot normal), shape ``(units, size_of_source)``, checked likewise.
    method : {"zoh", "euler", "bilinear"}, optional
        Discretisation of the memory.
    trainable_theta : bool, optional
        Let NengoDL learn the memory's window (see `.LegendreMemory`).
    memory_kwargs : dict, optional
        More arguments of the `.LegendreMemory` (e.g. ``n_neurons`` for a
        memory realised by neurons, ``trainable_matrices``).
    **kwargs
        Passed to `nengo.Network`.

    Attributes
    ----------
    input : nengo.Node
        The input :math:`x` (``input_d``).
    output : nengo.Node
        :math:`h_t` (``units``), or :math:`m_t` without a hidden layer.
    memory : LegendreMemory
        The memory; ``memory.input`` is :math:`u`.
    hidden : nengo.Ensemble or None
        The hidden neurons.
    input_encoders, hidden_encoders, memory_encoders : nengo.Connection or None
        The connections into :math:`u` (None when switched off).
    input_kernel, hidden_kernel, memory_kernel : nengo.Connection or None
        The connections into the hidden neurons (None when switched off).

    References
    ----------
    .. [1] Voelker, A. R., Kajić, I., and Eliasmith, C. (2019). Legendre Memory
       Units: Continuous-time representation in recurrent neural networks.
       NeurIPS 32.

    Examples
    --------
    >>> import nengo
    >>> with nengo.Network(seed=0) as net:
    ...     stim = nengo.Node(1.0)
    ...     lmu = LMU(units=10, order=4, theta=0.1)
    ...     conn = nengo.Connection(stim, lmu.input, synapse=None)
    ...     probe = nengo.Probe(lmu.output)
    ...     p_memory = nengo.Probe(lmu.memory.output)
    >>> with nengo.Simulator(net, progress_bar=False) as sim:
    ...     sim.run(0.5)
    >>> sim.data[probe].shape
    (500, 10)
    >>> m = sim.data[p_memory]
    >>> np.round(m[-1], 3) + 0  # a constant fills the window: P_0 only
    array([1., 0., 0., 0.])
    >>> W_m = sim.data[lmu.memory_kernel].weights  # h_t = tanh(W_m m_t) here
    >>> np.allclose(sim.data[probe], np.tanh(m @ W_m.T))
    True
    """

    units = IntegerParam("units", low=1)
    order = IntegerParam("order", low=1)
    theta = FiniteNumberParam("theta", low=0, low_open=True)
    input_d = IntegerParam("input_d", low=1)
    memory_d = IntegerParam("memory_d", low=1)
    hidden_neuron_type = NeuronTypeParam("hidden_neuron_type", optional=True)
    hidden_to_memory = BoolParam("hidden_to_memory")
    memory_to_memory = BoolParam("memory_to_memory")
    input_to_hidden = BoolParam("input_to_hidden")
    hidden_to_hidden = BoolParam("hidden_to_hidden")

    def __init__(
        self,
        units,
        order,
        theta,
        input_d=1,
        memory_d=1,
        hidden_neuron_type=nengo.Tanh(tau_ref=1.0),
        hidden_to_memory=False,
        memory_to_memory=False,
        input_to_hidden=False,
        hidden_to_hidden=False,
        input_encoders_init=1.0,
        hidden_encoders_init=0.0,
        memory_encoders_init=0.0,
        input_kernel_init=0.0,
        hidden_kernel_init=0.0,
        memory_kernel_init=None,
        method="zoh",
        trainable_theta=False,
        memory_kwargs=None,
        **kwargs,
    ):
        kwargs.setdefault("label", "LMU")
        super().__init__(**kwargs)
        self.units = units
        self.order = order
        self.theta = theta
        self.input_d = input_d
        self.memory_d = memory_d
        self.hidden_neuron_type = hidden_neuron_type
        self.hidden_to_memory = hidden_to_memory
        self.memory_to_memory = memory_to_memory
        self.input_to_hidden = input_to_hidden
        self.hidden_to_hidden = hidden_to_hidden
        if hidden_neuron_type is None:
            for flag in ("hidden_to_memory", "input_to_hidden", "hidden_to_hidden"):
                if getattr(self, flag):
                    raise ValidationError(
                        "needs a hidden layer, but hidden_neuron_type is None",
                        attr=flag,
                        obj=self,
                    )

        mem_size = memory_d * order
        check_weights_fit(
            self.units, self.order, self.input_d, self.memory_d,
            hidden=hidden_neuron_type is not None,
            hidden_to_memory=self.hidden_to_memory,
            memory_to_memory=self.memory_to_memory,
            input_to_hidden=self.input_to_hidden,
            hidden_to_hidden=self.hidden_to_hidden,
            obj=self,
        )
        inits = {
            name: _check_init(value, shape, name)
            for name, value, shape in (
                ("input_encoders_init", input_encoders_init, (memory_d, input_d)),
                ("hidden_encoders_init", hidden_encoders_init, (memory_d, units)),
                ("memory_encoders_init", memory_encoders_init, (memory_d, mem_size)),
                ("input_kernel_init", input_kernel_init, (units, input_d)),
                ("hidden_kernel_init", hidden_kernel_init, (units, units)),
                (
                    "memory_kernel_init",
                    glorot_normal(mem_size, units)
                    if memory_kernel_init is None
                    else memory_kernel_init,
                    (units, mem_size),
                ),
            )
        }
        if memory_kwargs is not None and not isinstance(memory_kwargs, dict):
            raise ValidationError(
                f"must be a dict of LegendreMemory arguments (got {memory_kwargs!r})",
                attr="memory_kwargs",
                obj=self,
            )
        memory_kwargs = dict(memory_kwargs or {})
        known = set(inspect.signature(LegendreMemory).parameters) - {"kwargs"}
        known |= set(inspect.signature(nengo.Network).parameters)
        for key in sorted(set(memory_kwargs) - known):
            # target: simulator's old name (nengo-loihi's target goes to its simulator)
            hint = (
                " (now called simulator: simulator='nengo' or 'loihi')"
                if key == "target"
                else ""
            )
            raise ValidationError(
                f"{key!r} is not an argument of LegendreMemory{hint}",
                attr="memory_kwargs",
                obj=self,
            )
        own = {"order", "theta", "memory_d", "method", "trainable_theta", "label"}
        for key in sorted(own & set(memory_kwargs)):
            hint = "" if key == "label" else f": pass {key}= to the LMU itself"
            raise ValidationError(
                f"{key!r} is set by the LMU{hint}", attr="memory_kwargs", obj=self
            )
        with self:
            self.input = nengo.Node(size_in=input_d, label="input")
            self.memory = LegendreMemory(
                order,
                theta,
                memory_d=memory_d,
                method=method,
                trainable_theta=trainable_theta,
                label="memory",
                **memory_kwargs,
            )
            u = self.memory.input
            self.input_encoders = _full_connection(
                self.input, u, inits["input_encoders_init"], synapse=None
            )
            self.memory_encoders = (
                _full_connection(
                    self.memory.output, u, inits["memory_encoders_init"], synapse=0
                )
                if memory_to_memory
                else None
            )

            if hidden_neuron_type is None:
                self.hidden = None
                self.hidden_encoders = None
                self.input_kernel = self.hidden_kernel = self.memory_kernel = None
                self.output = nengo.Node(size_in=mem_size, label="output")
                nengo.Connection(self.memory.output, self.output, synapse=None)
                return

            self.hidden = nengo.Ensemble(
                units,
                1,
                neuron_type=hidden_neuron_type,
                gain=np.ones(units),
                bias=np.zeros(units),
                label="hidden",
            )
            h = self.hidden.neurons
            self.hidden_encoders = (
                _full_connection(h, u, inits["hidden_encoders_init"], synapse=0)
                if hidden_to_memory
                else None
            )
            self.memory_kernel = _full_connection(
                self.memory.output,
                h,
                inits["memory_kernel_init"],
                synapse=None,
            )
            self.input_kernel = (
                _full_connection(self.input, h, inits["input_kernel_init"], synapse=None)
                if input_to_hidden
                else None
            )
            self.hidden_kernel = (
                _full_connection(h, h, inits["hidden_kernel_init"], synapse=0)
                if hidden_to_hidden
                else None
            )
            self.output = nengo.Node(size_in=units, label="output")
            nengo.Connection(h, self.output, synapse=None)


def check_weights_fit(
    units,
    order,
    input_d=1,
    memory_d=1,
    hidden=True,
    hidden_to_memory=False,
    memory_to_memory=False,
    input_to_hidden=False,
    hidden_to_hidden=False,
    obj=None,
):
    """Refuse, naming ``units``, an `LMU` whose weight matrices alone exceed
    this machine's memory (`.machine_memory`; float64, as Nengo builds them).

    They could not be built; the memory's own matrices are checked by
    `.check_order`. The arguments are those of `LMU` (``hidden``: whether it
    has a hidden layer).
    """
    mem_size = memory_d * order
    sizes = [memory_d * input_d]  # e_x
    if memory_to_memory:
        sizes.append(memory_d * mem_size)
    if hidden:
        sizes += [units * mem_size, 3 * units]  # W_m; gain, bias, state
        sizes += [memory_d * units] if hidden_to_memory else []
        sizes += [units * input_d] if input_to_hidden else []
        sizes += [units * units] if hidden_to_hidden else []
    need, have = 8 * sum(sizes), machine_memory()
    if have is not None and need > have:
        raise ValidationError(
            f"its weights alone need {need / 2**30:.3g} GiB, more than this "
            f"machine's {have / 2**30:.3g} GiB of memory: use fewer units "
            "(or a lower order or memory_d)",
            attr="units",
            obj=obj,
        )


def _full_connection(pre, post, init, synapse):
    """A dense connection whose ``(post, pre)`` transform starts at ``init``
    (a scalar, filled in; an array; or a Distribution: see `_check_init`)."""
    shape = (post.size_in, pre.size_out)
    if not isinstance(init, nengo.dists.Distribution) and init.ndim == 0:
        init = np.full(shape, float(init))
    return nengo.Connection(
        pre, post, transform=nengo.transforms.Dense(shape, init=init), synapse=synapse
    )


def _check_init(init, shape, name):
    """The initial value ``init`` (the argument ``name``) of a ``shape`` transform.

    A Distribution is returned as it is; otherwise a finite float scalar, or
    an array of exactly ``shape``. Anything else is refused by name
    (`~nengo.exceptions.ValidationError`), with the shape it needs.
    """
    if isinstance(init, nengo.dists.Distribution):
        return init
    if init is None:
        raise ValidationError(
            f"must be a number, an array of shape {shape} or a "
            "nengo.dists.Distribution (got None)",
            attr=name,
        )
    try:
        array = np.asarray(init, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    if array is None or isinstance(init, (str, bytes)):
        raise ValidationError(
            f"must be a number, an array of shape {shape} or a "
            f"nengo.dists.Distribution (got {init!r})",
            attr=name,
        )
    if array.ndim != 0 and array.shape != shape:
        raise ValidationError(
            f"must be a number or an array of shape {shape} (got shape {array.shape})",
            attr=name,
        )
    if not np.all(np.isfinite(array)):
        raise ValidationError("must be finite (got NaN or infinity)", attr=name)
    return array
