"""Issue 25's sweep of nengo_lmu.converters: each bad input refused by name.

A keras-lmu layer that cannot convert is refused with a ``TypeError`` naming
the layer and the option whatever ``allow_fallback`` says (NengoDL's
fallback, a TensorNode calling the Keras layer, failed later, naming
something else), as are the converter's spiking options, which an LMU's
hidden neurons would ignore; a model sequence_model cannot copy is a
``ValidationError`` naming ``model``; a converted memory run at another
``dt`` than the steps it counts is a ``BuildError`` naming both.
"""

import warnings

import keras_lmu
import nengo
import nengo_dl
import numpy as np
import pytest
import tensorflow as tf
from nengo.exceptions import BuildError, ValidationError

from nengo_lmu.converters import sequence_model
from helpers import assert_refuses

T, D = 6, 2
LAYER = "mem"  # the name of the keras-lmu layer under test


def dense(activation="relu", **kwargs):
    return tf.keras.layers.Dense(4, activation=activation, **kwargs)


def lmu(hidden=None, **kwargs):
    """A small keras_lmu.LMU named LAYER, returning every step by default."""
    kwargs.setdefault("return_sequences", True)
    return keras_lmu.LMU(1, 3, 4.0, dense() if hidden is None else hidden, name=LAYER,
                         **kwargs)


def rnn(hidden=None, cell=None, **kwargs):
    """A tf.keras.layers.RNN named LAYER, of an LMUCell unless ``cell`` is given."""
    cell = cell or keras_lmu.LMUCell(1, 3, 4.0, dense() if hidden is None else hidden)
    return tf.keras.layers.RNN(cell, return_sequences=True, name=LAYER, **kwargs)


def model(layer, steps=T, batch=None):
    tf.keras.utils.set_random_seed(0)
    inp = tf.keras.Input((steps, D), batch_size=batch)
    return tf.keras.Model(inp, tf.keras.layers.Dense(3)(layer(inp)))


def convert(make, **kwargs):
    """A call converting ``make()``'s model as the docs do (allow_fallback left
    at NengoDL's default, True)."""
    kwargs.setdefault("temporal_model", True)
    return lambda: nengo_dl.Converter(make(), **kwargs)


def negative_theta():
    m = model(lmu(trainable_theta=True))
    m.get_layer(LAYER).layer.cell.theta_inv.assign(-1.0)
    return m


class Subclassed(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.lmu = lmu()

    def call(self, x):
        return self.lmu(x)


def subclassed():
    m = Subclassed()
    m(np.zeros((1, T, D), dtype=np.float32))
    return m


def simulate(simulator, dt):
    """A call building a converted model in ``simulator`` at ``dt``."""

    def call():
        conv = nengo_dl.Converter(model(lmu()), temporal_model=True)
        bits = nengo.rc.get("precision", "bits")
        try:
            with simulator(conv.net, dt=dt, progress_bar=False):
                pass
        finally:  # a failed NengoDL build leaves nengo's precision at 32 bits
            nengo.rc.set("precision", "bits", bits)

    return call


#: (id, call, error, name): an unconvertible layer (NengoDL's default
#: allow_fallback=True, as the docs convert), a model sequence_model cannot
#: copy, a converted memory at another dt
ROWS = [
    ("LSTM hidden cell", convert(lambda: model(rnn(tf.keras.layers.LSTMCell(4)))),
     TypeError, "hidden_cell"),
    ("GRU hidden cell", convert(lambda: model(lmu(tf.keras.layers.GRUCell(4)))),
     TypeError, "hidden_cell"),
    ("elu activation", convert(lambda: model(lmu(dense("elu")))),
     TypeError, "activation elu"),
    ("linear activation", convert(lambda: model(lmu(dense(None)))),
     TypeError, "activation linear"),
    ("activation given as a layer", convert(lambda: model(lmu(dense(tf.keras.layers.ReLU())))),
     TypeError, "activation ReLU"),
    ("go_backwards", convert(lambda: model(rnn(go_backwards=True))),
     TypeError, "go_backwards"),
    ("return_state", convert(lambda: model(lambda x: rnn(return_state=True)(x)[0])),
     TypeError, "return_state"),
    ("stateful", convert(lambda: model(rnn(stateful=True), batch=2)),
     TypeError, "stateful"),
    ("RNN of another cell", convert(lambda: model(rnn(cell=tf.keras.layers.SimpleRNNCell(4)))),
     TypeError, "LMUCell"),
    ("last step only", convert(lambda: model(lmu(return_sequences=False))),
     TypeError, "return_sequences"),
    ("temporal_model=False", convert(lambda: model(lmu()), temporal_model=False),
     TypeError, "temporal_model"),
    ("dropout", convert(lambda: model(lmu(dropout=0.2))),
     TypeError, "dropout"),
    ("hidden recurrent_dropout",
     convert(lambda: model(lmu(tf.keras.layers.SimpleRNNCell(4, recurrent_dropout=0.1)))),
     TypeError, "recurrent_dropout"),
    ("kernel_regularizer", convert(lambda: model(lmu(kernel_regularizer="l2"))),
     TypeError, "kernel_regularizer"),
    ("hidden activity_regularizer", convert(lambda: model(lmu(dense(activity_regularizer="l2")))),
     TypeError, "activity_regularizer"),
    ("LMUFeedforward of unknown length",
     convert(lambda: model(keras_lmu.LMUFeedforward(1, 3, 4, dense(), name=LAYER,
                                                    return_sequences=True), steps=None)),
     TypeError, "unknown length"),
    ("trained theta_inv negative", convert(negative_theta),
     TypeError, "theta_inv"),
    # NengoDL applies these to its own neuron layers; to_spiking to an LMU's
    ("scale_firing_rates", convert(lambda: model(lmu()), scale_firing_rates=100),
     TypeError, "scale_firing_rates"),
    ("synapse", convert(lambda: model(lmu()), synapse=0.005),
     TypeError, "synapse"),
    ("sequence_model of a string", lambda: sequence_model("str"), ValidationError, "model"),
    ("sequence_model of None", lambda: sequence_model(None), ValidationError, "model"),
    ("sequence_model of a layer", lambda: sequence_model(dense()), ValidationError, "model"),
    ("sequence_model of an array", lambda: sequence_model(np.zeros((2, T, D))),
     ValidationError, "model"),
    ("sequence_model of a subclassed model", lambda: sequence_model(subclassed()),
     ValidationError, "model"),
    ("sequence_model of an unbuilt Sequential",
     lambda: sequence_model(tf.keras.Sequential([lmu(), dense()])), ValidationError, "model"),
    # keras-lmu counts theta in steps: at NengoDL's default dt the memory
    # would run a thousand times too slowly
    ("NengoDL at its default dt", simulate(nengo_dl.Simulator, 0.001), BuildError, "dt=1"),
    ("nengo at dt=0.5", simulate(nengo.Simulator, 0.5), BuildError, "dt=1"),
]


@pytest.mark.parametrize("call, error, name", [row[1:] for row in ROWS],
                         ids=[row[0] for row in ROWS])
def test_bad_input_is_refused(call, error, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # keras-lmu's own (unknown length)
        raised = assert_refuses(call, error, name)
    if error is TypeError:  # NengoDL's refusal, led by the layer's name
        assert str(raised).startswith(f"{LAYER}: "), raised
    if error is BuildError:  # names both time-steps, and the layer
        assert "simulator's dt is 0." in str(raised) and f"'{LAYER}'" in str(raised)
