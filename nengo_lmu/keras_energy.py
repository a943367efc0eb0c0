"""keras-lmu's layers in keras-spiking's energy estimates.

keras-spiking's ``ModelEnergy`` counts a layer it does not know as nothing
(with a warning): a keras-lmu model's memory and hidden cell cost zero.
`register_keras_lmu` registers keras-lmu's ``LMU``, ``LMUFeedforward`` and
``RNN(LMUCell)`` through keras-spiking's public ``ModelEnergy.register_layer``,
so that ``ModelEnergy(model).summary()`` counts them. Call it once, before
making the ``ModelEnergy``; nothing is registered on import.

The counts follow keras-spiking's conventions: ``connections`` are the
multiply-accumulates of one step (times the sequence length where the
input's time axis has a fixed length, as keras-spiking counts a ``Dense``
over a fixed time axis), ``neurons`` the hidden cell's nonlinear units. Per
step, with :math:`q` = ``order``, :math:`d` = ``memory_d``, :math:`n_x`
inputs:

* the memory's input kernel, :math:`n_\\text{enc} d` (:math:`n_\\text{enc}
  = n_x`, plus the hidden units with ``hidden_to_memory``), its recurrent
  kernel with ``memory_to_memory``, :math:`d q \\cdot d`, and the update
  :math:`\\bar{A} m + \\bar{B} u`, :math:`d (q^2 + q)`;
* the hidden cell's kernels (a ``Dense`` cell: its kernel), and its units as
  neurons where its activation is not linear.

``LMUFeedforward`` computes its memory by a convolution over the whole
sequence (FFT or raw); it is counted as the step-by-step update it equals,
what a device running the model step by step does. Without
``return_sequences``, its hidden cell (without state) runs on the last step
only, and is counted once where the sequence length is fixed.
"""

import numpy as np
import tensorflow as tf


def _cell_counts(cell, input_d):
    """``(connections, neurons, spiking)`` of one step of an LMUCell's (or an
    LMUFeedforward's) memory and hidden cell, for ``input_d`` inputs."""
    d, q = cell.memory_d, cell.order
    hidden = cell.hidden_cell
    enc_d = input_d + (getattr(cell, "hidden_to_memory", False) and _units(hidden))
    memory = (
        (enc_d * d if cell.kernel is not None else 0)
        + (d * q * d if getattr(cell, "memory_to_memory", False) else 0)
        + d * (q * q + q)
    )
    return memory, _hidden_counts(hidden)


def _units(hidden):
    return hidden.units if hasattr(hidden, "units") else int(np.sum(hidden.output_size))


def _hidden_counts(hidden):
    """``(connections, neurons, spiking)`` of one step of a hidden cell."""
    if hidden is None:
        return 0, 0, True
    connections = int(
        sum(np.prod(w.shape) for w in hidden.weights if len(w.shape) >= 2)
    )
    activation = getattr(hidden, "activation", None)
    linear = activation in (None, "linear", tf.keras.activations.linear)
    return connections, 0 if linear else _units(hidden), linear


def node_layer(node):
    """The layer of a Keras node (keras-spiking's own accessor)."""
    from keras_spiking import compat  # pylint: disable=import-outside-toplevel

    return compat.node_layer(node)


def _steps(node):
    """The fixed length of the node's input sequence, or None."""
    shape = node.input_shapes
    shape = shape[0] if isinstance(shape, list) else shape
    return shape[1]


def _input_d(node):
    shape = node.input_shapes
    shape = shape[0] if isinstance(shape, list) else shape
    return int(shape[-1])


def _stats(cell, node, hidden_every_step):
    memory, (hidden, neurons, spiking) = _cell_counts(cell, _input_d(node))
    steps = _steps(node)
    if steps is None:  # per step, as keras-spiking counts an unknown time axis
        return {"connections": int(memory + hidden), "neurons": int(neurons),
                "spiking": spiking}
    hidden_steps = steps if hidden_every_step else 1
    return {
        "connections": int(steps * memory + hidden_steps * hidden),
        "neurons": int(hidden_steps * neurons),
        "spiking": spiking,
    }


def lmucell_rnn_stats(node):
    """keras-spiking stats of ``tf.keras.layers.RNN(LMUCell)``; other RNNs
    are left to keras-spiking's fallback (nothing, with its warning)."""
    import keras_lmu  # pylint: disable=import-outside-toplevel
    from keras_spiking import ModelEnergy  # pylint: disable=import-outside-toplevel

    layer = node_layer(node)
    if not isinstance(layer.cell, keras_lmu.LMUCell):
        return ModelEnergy.layer_stats_computers[tf.keras.layers.Layer](node)
    return _stats(layer.cell, node, hidden_every_step=True)


def lmu_feedforward_stats(node):
    """keras-spiking stats of ``keras_lmu.LMUFeedforward``."""
    layer = node_layer(node)
    stateful = layer.hidden_cell is not None and hasattr(layer.hidden_cell, "state_size")
    return _stats(layer, node, hidden_every_step=layer.return_sequences or stateful)


def lmu_stats(node):
    """keras-spiking stats of ``keras_lmu.LMU``: those of the layer it built
    (``LMUFeedforward`` or ``RNN(LMUCell)``)."""
    import keras_lmu  # pylint: disable=import-outside-toplevel

    inner = node_layer(node).layer
    if isinstance(inner, keras_lmu.LMUFeedforward):
        stateful = inner.hidden_cell is not None and hasattr(inner.hidden_cell, "state_size")
        return _stats(inner, node, hidden_every_step=inner.return_sequences or stateful)
    return _stats(inner.cell, node, hidden_every_step=True)


def register_keras_lmu():
    """Register keras-lmu's layers with keras-spiking's ``ModelEnergy``.

    ``LMU``, ``LMUFeedforward`` and ``RNN`` (whose ``LMUCell`` it counts;
    any other cell keeps keras-spiking's fallback) through
    ``ModelEnergy.register_layer``. Calling it again changes nothing.

    Examples
    --------
    >>> import keras_lmu, keras_spiking
    >>> register_keras_lmu()
    >>> inp = tf.keras.Input((10, 1))
    >>> out = keras_lmu.LMU(1, order=4, theta=10, hidden_cell=None,
    ...                     memory_to_memory=True)(inp)
    >>> energy = keras_spiking.ModelEnergy(tf.keras.Model(inp, out))
    >>> energy.layer_stats[energy.model.layers[1]]["connections"]  # 10 (1 + 4 + 16 + 4)
    250
    """
    import keras_lmu  # pylint: disable=import-outside-toplevel
    from keras_spiking import ModelEnergy  # pylint: disable=import-outside-toplevel

    known = ModelEnergy.layer_stats_computers
    for cls, stats in (
        (keras_lmu.LMU, lmu_stats),
        (keras_lmu.LMUFeedforward, lmu_feedforward_stats),
        (tf.keras.layers.RNN, lmucell_rnn_stats),
    ):
        if known.get(cls) is not stats:
            ModelEnergy.register_layer(cls)(stats)
