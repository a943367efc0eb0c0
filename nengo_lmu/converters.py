"""keras-lmu models into Nengo, through `nengo_dl.Converter`.

Importing this module registers a `nengo_dl.converter.LayerConverter` for
each keras-lmu 0.7 layer (``keras_lmu.LMU``, ``keras_lmu.LMUFeedforward``,
and ``tf.keras.layers.RNN`` of a ``keras_lmu.LMUCell``), so that
``nengo_dl.Converter(model, temporal_model=True)`` turns each into a
`.LMU` network holding the layer's weights (trained window included):

.. code-block:: python

   import nengo_lmu.converters

   converter = nengo_dl.Converter(nengo_lmu.converters.sequence_model(model),
                                  temporal_model=True)

A keras-lmu window ``theta`` counts steps, so each converted memory is
bound to ``dt=1`` (as `.lmu_model` networks train): a simulator with another
``dt`` refuses to build it (`~nengo.exceptions.BuildError` naming both)
rather than run the memory at the wrong speed. `.to_spiking` (with its
default ``dt_train=1``) rebuilds the memories with the window mapped onto
presentation time, for a simulator of any ``dt``.

The Nengo network outputs every step: `sequence_model` copies a model whose
LMU layers return only the last step into one whose layers return all of
them (the last step is the original's output). What has no Nengo equivalent
(a hidden cell other than ``Dense``, ``SimpleRNNCell`` or None, an
activation other than ReLU, tanh or sigmoid, a layer option that changes the
computation, an ``LMUFeedforward`` built for sequences of unknown length,
whose impulse response stops at 5 theta, an ``RNN`` of another cell) is
refused with a ``TypeError`` naming the layer and the option, whatever
``allow_fallback`` says: NengoDL's fallback, a ``TensorNode`` calling the
Keras layer, cannot run these layers one step at a time. Dropout and
regularisers, which change only training, convert with
``inference_only=True``. The converter's ``swap_activations`` apply to the
hidden neurons as to NengoDL's own layers; its ``scale_firing_rates`` and
``synapse`` are refused for a layer with hidden neurons (`.to_spiking`
makes those spiking, with its own). ``LMUFeedforward(conv_mode="raw")``
truncates its impulse response (``truncate_ir``); the converted memory is
exact, so outputs differ by about ``truncate_ir`` unless it is None.
"""

import keras_lmu
import nengo
import numpy as np
import tensorflow as tf
from nengo.exceptions import BuildError, ValidationError
from nengo.params import Parameter, StringParam
from nengo_dl.converter import Converter, LayerConverter

from nengo_lmu.networks.lmu import LMU
from nengo_lmu.params import check_param
from nengo_lmu.system import LinearSystem

#: The time-step a converted memory is bound to: keras-lmu steps its memory
#: once per sample, with ``theta`` in samples.
STEP_DT = 1.0

#: Keras activations of a hidden cell, and the Nengo neuron type of each.
ACTIVATIONS = {
    tf.keras.activations.relu: nengo.RectifiedLinear(),
    tf.nn.relu: nengo.RectifiedLinear(),
    tf.keras.activations.tanh: nengo.Tanh(tau_ref=1.0),
    tf.nn.tanh: nengo.Tanh(tau_ref=1.0),
    tf.keras.activations.sigmoid: nengo.Sigmoid(tau_ref=1.0),
    tf.nn.sigmoid: nengo.Sigmoid(tau_ref=1.0),
}

#: keras-lmu layer options that change only training: converted with
#: ``inference_only=True``, refused otherwise.
TRAINING_ONLY = ("dropout", "recurrent_dropout", "kernel_regularizer",
                 "recurrent_regularizer", "bias_regularizer")


def _cell_of(layer):
    """The layer that holds the weights: an LMUCell (RNN or LMU of one) or an
    LMUFeedforward."""
    if isinstance(layer, keras_lmu.LMU):
        layer = layer.layer
    return layer.cell if isinstance(layer, tf.keras.layers.RNN) else layer


def _refusal(layer, converter):
    """Why ``layer`` cannot convert (a message naming layer and option), or None."""
    name = layer.name
    if not converter.temporal_model:
        return f"{name}: keras-lmu layers convert with nengo_dl.Converter(temporal_model=True)"
    if isinstance(layer, tf.keras.layers.RNN):
        if not isinstance(layer.cell, keras_lmu.LMUCell):
            return f"{name}: an RNN of {type(layer.cell).__name__}, not of a keras_lmu.LMUCell"
        for option in ("return_state", "go_backwards", "stateful", "time_major"):
            if getattr(layer, option, False):
                return f"{name}: {option}=True has no Nengo equivalent"
    if not getattr(layer, "return_sequences", False):
        return (f"{name}: return_sequences=False; the Nengo network outputs every step: "
                "convert nengo_lmu.converters.sequence_model(model) (its last step is "
                "this layer's output)")
    cell = _cell_of(layer)
    if cell is None:
        return f"{name}: not built; call the model once before converting it"
    if isinstance(cell, keras_lmu.LMUCell) and cell.trainable_theta:
        theta_inv = float(tf.keras.backend.get_value(cell.theta_inv))
        if not theta_inv > 0:
            return (f"{name}: the trained theta_inv is {theta_inv} (an endless window); "
                    "no memory realises it")
    if isinstance(cell, keras_lmu.LMUFeedforward) and _steps(layer) is None:
        return (f"{name}: an LMUFeedforward built for sequences of unknown length "
                "truncates its impulse response at 5 theta; give its Input a length")
    reason = _training_option(cell, converter, f"{name}:")
    if reason:
        return reason
    hidden = cell.hidden_cell
    if hidden is None:
        return None
    kinds = (tf.keras.layers.Dense, tf.keras.layers.SimpleRNNCell)
    if type(hidden) not in kinds:
        return (f"{name}: hidden_cell {type(hidden).__name__} has no Nengo equivalent "
                "(Dense, SimpleRNNCell or None convert)")
    if _neuron_type(hidden.activation, converter) is None:
        activation = getattr(hidden.activation, "__name__", type(hidden.activation).__name__)
        return (f"{name}: hidden_cell activation {activation} has no "
                "neuron type (relu, tanh and sigmoid convert, and what swap_activations "
                "maps to a nengo NeuronType)")
    rates = converter.scale_firing_rates
    if isinstance(rates, dict):
        rates = rates.get(layer)
    for option, value in (("scale_firing_rates", rates), ("synapse", converter.synapse)):
        if value is not None:
            return (f"{name}: {option}={value!r} is not applied to a keras-lmu layer's "
                    "hidden neurons: convert without it, and make the network spiking "
                    "with nengo_lmu.spiking.to_spiking (its scale_firing_rates and synapse)")
    return _training_option(hidden, converter, f"{name}: hidden_cell")


def _neuron_type(activation, converter):
    """The neuron type of a hidden cell's ``activation`` (None: none), after the
    converter's ``swap_activations`` (of the activation, then of its neuron
    type), as NengoDL applies them to its own layers."""
    swapped = converter.swap_activations.get(activation, activation)
    if isinstance(swapped, nengo.neurons.NeuronType):
        neuron_type = swapped
    else:
        neuron_type = ACTIVATIONS.get(swapped)
    if neuron_type is None:
        return None
    return converter.swap_activations.get(neuron_type, neuron_type)


def _training_option(layer, converter, where):
    """The refusal of an option of ``layer`` that changes only training
    (`TRAINING_ONLY`, activity regularisers), unless ``inference_only``."""
    if converter.inference_only:
        return None
    for option in TRAINING_ONLY + ("activity_regularizer",):
        value = getattr(layer, option, None)
        if value:
            return (f"{where} {option}={value!r} changes training, which NengoDL would "
                    "not reproduce; convert with inference_only=True")
    return None


def _steps(layer):
    """The sequence length ``layer`` was built for (None: unknown)."""
    try:
        return layer.input_shape[1]
    except (AttributeError, RuntimeError):  # called on several shapes
        return None


def _array(variable):
    return None if variable is None else np.array(tf.keras.backend.get_value(variable),
                                                  dtype=float)


class ConvertLMU(LayerConverter):
    """keras-lmu's layers as a `.LMU` with the layer's weights.

    ``u = [x, h_{t-1}] K + b + m_{t-1} R`` (keras-lmu's ``kernel``,
    ``bias``, ``recurrent_kernel``) becomes the LMU's encoders (``K``
    split into input and hidden rows, transposed), a constant input of ``b``
    and its memory encoders; the hidden cell's ``kernel`` splits into the
    memory and input kernels, a SimpleRNN's ``recurrent_kernel`` is the
    hidden kernel, the cell's bias the hidden neurons' bias. The window is
    the layer's (trained) ``theta``, fixed, in steps: the memory's ``state``
    node steps it as a ``StepMemory``, bound to ``dt=1``. What cannot convert
    is refused (``convertible``), never handed to NengoDL's fallback
    (``allow_fallback = False``).
    """

    has_weights = True
    #: NengoDL's fallback (a TensorNode calling the Keras layer) fails on
    #: keras-lmu's layers, later and naming something else: refuse instead
    allow_fallback = False

    @classmethod
    def convertible(cls, layer, converter):
        reason = _refusal(layer, converter)
        return reason is None, reason

    def convert(self, node_id):
        cell = _cell_of(self.layer)
        input_d = int(self.input_shape(node_id)[-1])
        memory_d, order = cell.memory_d, cell.order
        mem = memory_d * order
        recurrent = isinstance(cell, keras_lmu.LMUCell)
        hidden_to_memory = recurrent and cell.hidden_to_memory
        memory_to_memory = recurrent and cell.memory_to_memory
        theta = float(cell.theta)  # trained, for a trainable_theta LMUCell
        hidden = cell.hidden_cell
        units = None if hidden is None else hidden.units
        K = _array(cell.kernel)
        if K is None:  # no input kernel: the input (and hidden) feed u directly
            K = np.eye(input_d + (units if hidden_to_memory else 0), memory_d)
        kwargs = dict(
            input_d=input_d, memory_d=memory_d, method=cell.discretizer,
            hidden_to_memory=hidden_to_memory, memory_to_memory=memory_to_memory,
            input_encoders_init=K[:input_d].T,
        )
        if hidden_to_memory:
            kwargs["hidden_encoders_init"] = K[input_d:].T
        if memory_to_memory:
            kwargs["memory_encoders_init"] = _array(cell.recurrent_kernel).T
        with_input = cell.input_to_hidden and hidden is not None
        if hidden is None:
            kwargs["hidden_neuron_type"] = None
        else:
            W = _array(hidden.kernel)
            kwargs.update(
                hidden_neuron_type=_neuron_type(hidden.activation, self.converter),
                memory_kernel_init=W[:mem].T,
                input_to_hidden=cell.input_to_hidden,
                hidden_to_hidden=isinstance(hidden, tf.keras.layers.SimpleRNNCell),
            )
            if with_input:
                kwargs["input_kernel_init"] = W[mem:].T
            if kwargs["hidden_to_hidden"]:
                kwargs["hidden_kernel_init"] = _array(hidden.recurrent_kernel).T
        lmu = LMU(units or 1, order, theta, label=self.layer.name, **kwargs)
        # the memory steps once per sample, as keras-lmu's does, and only there
        lmu.memory.state.output = StepMemory(lmu.memory.system, self.layer.name)
        if hidden is not None and hidden.use_bias:
            lmu.hidden.bias = _array(hidden.bias)
        self.add_connection(node_id, lmu.input)
        if cell.bias is not None:  # keras-lmu's memory bias: a constant input
            # beside the LMU, not in it: `.to_spiking` rebuilds an LMU from its
            # parameters, and connections from outside follow it
            one = nengo.Node([1.0], label=f"{self.layer.name}.bias")
            nengo.Connection(one, lmu.memory.input, transform=_array(cell.bias)[:, None],
                             synapse=None)
        if hidden is None and cell.input_to_hidden:  # keras-lmu outputs [m, x]
            out = nengo.Node(size_in=mem + input_d, label=f"{self.layer.name}.output")
            nengo.Connection(lmu.output, out[:mem], synapse=None)
            self.add_connection(node_id, out[mem:])
            return out
        return lmu.output


class StepMemory(LinearSystem):
    """A converted layer's memory: ``system`` discretised at ``dt=1``, bound to it.

    keras-lmu steps its memory once per sample with the window ``theta`` in
    samples; the same matrices stepped at another ``dt`` would stand for
    another window (at ``dt=0.001``, a thousand times longer). A simulator
    of another ``dt`` refuses to build it (`~nengo.exceptions.BuildError`
    naming both, and the way out).

    Parameters
    ----------
    system : LinearSystem
        The analog memory (`.LegendreMemory`'s ``system``).
    layer : str
        The name of the Keras layer it came from.
    """

    layer = StringParam("layer", readonly=True)

    def __init__(self, system, layer):
        super().__init__(system.discretize(STEP_DT))
        self.layer = layer

    def check_dt(self, dt):
        if not self.runs_at(dt):
            raise BuildError(
                f"the memory of keras-lmu layer {self.layer!r} counts its window in "
                f"steps, so it is bound to dt={self.dt:g}, but the simulator's dt is "
                f"{dt:g}: run the converted network with dt={self.dt:g} (e.g. "
                "nengo_dl.Simulator(converter.net, dt=1.0)), or convert it with "
                "nengo_lmu.spiking.to_spiking (dt_train=1, its default), which maps "
                "each step onto a presentation time"
            )


for _layer in (keras_lmu.LMU, keras_lmu.LMUFeedforward, tf.keras.layers.RNN):
    Converter.register(_layer)(ConvertLMU)


class KerasModelParam(Parameter):
    """A functional or ``Sequential`` ``tf.keras.Model`` with its inputs defined
    (what Keras copies and NengoDL converts), refusing anything else by name."""

    def coerce(self, instance, model):
        self.check_type(instance, model, tf.keras.Model)
        if model is not None and model.inputs is None:
            raise ValidationError(
                f"{model.name!r} has no defined inputs (a subclassed model, or a "
                "Sequential one never built): give a functional or Sequential model "
                "built on a tf.keras.Input",
                attr=self.name,
                obj=instance,
            )
        return super().coerce(instance, model)


def sequence_model(model):
    """A copy of ``model`` whose keras-lmu layers return every step.

    Its weights are ``model``'s, so its last step is ``model``'s output; the
    layers after a last-step-only LMU layer then apply at every step (as
    Keras layers on the last axis do), inside nested models too. What
    `nengo_dl.Converter` with ``temporal_model=True`` needs. The copy is a
    functional model (also of a ``Sequential`` one), so that
    ``converter.inputs[copy.input]`` and ``converter.outputs[copy.output]``
    find its input and output.

    Parameters
    ----------
    model : tf.keras.Model
        A functional or ``Sequential`` model with its inputs defined (Keras
        copies only those); anything else is refused
        (`~nengo.exceptions.ValidationError`).

    Returns
    -------
    tf.keras.Model
        The functional copy.
    """
    model = check_param(KerasModelParam("model"), model)

    def clone(layer):
        if isinstance(layer, tf.keras.Model):  # a nested model: its layers too
            return tf.keras.models.clone_model(layer, clone_function=clone)
        config = layer.get_config()
        if isinstance(layer, (keras_lmu.LMU, keras_lmu.LMUFeedforward)) or (
            isinstance(layer, tf.keras.layers.RNN) and isinstance(layer.cell, keras_lmu.LMUCell)
        ):
            config["return_sequences"] = True
        return type(layer).from_config(config)

    with tf.keras.utils.custom_object_scope(
        {"LMUCell": keras_lmu.LMUCell, "LMU": keras_lmu.LMU,
         "LMUFeedforward": keras_lmu.LMUFeedforward}
    ):
        copy = tf.keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    # functional, so that converter.inputs[copy.input] finds the input
    # (NengoDL converts a Sequential model into a functional one of new tensors)
    return tf.keras.Model(copy.inputs, copy.outputs, name=copy.name)
