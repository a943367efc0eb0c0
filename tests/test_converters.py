"""keras-lmu models converted through nengo_dl.Converter, against Keras's own outputs."""

import warnings

import keras_lmu
import nengo
import nengo_dl
import numpy as np
import pytest
import tensorflow as tf

import nengo_lmu
from nengo_lmu.converters import sequence_model
from helpers import Feed, run_reference

T, D, BATCH = 20, 2, 4


def dense(units=6, activation="relu"):
    return tf.keras.layers.Dense(units, activation=activation)


#: keras-lmu layers, each a different weight layout
LAYERS = {
    "RNN(LMUCell), Dense, input_to_hidden": lambda: tf.keras.layers.RNN(
        keras_lmu.LMUCell(2, 5, 10.0, dense(), input_to_hidden=True), return_sequences=True),
    "RNN(LMUCell), SimpleRNN, every flag, memory bias": lambda: tf.keras.layers.RNN(
        keras_lmu.LMUCell(2, 4, 8.0, tf.keras.layers.SimpleRNNCell(5), hidden_to_memory=True,
                          memory_to_memory=True, input_to_hidden=True, use_bias=True,
                          bias_initializer="ones"),
        return_sequences=True),
    "LMUFeedforward, tanh, fft": lambda: keras_lmu.LMUFeedforward(
        2, 5, 10.0, dense(activation="tanh"), input_to_hidden=True, return_sequences=True),
    "LMUFeedforward, SimpleRNN, raw untruncated": lambda: keras_lmu.LMUFeedforward(
        1, 4, 9.0, tf.keras.layers.SimpleRNNCell(4, activation="relu"), conv_mode="raw",
        truncate_ir=None, return_sequences=True),
    "LMU, no hidden, no kernel": lambda: keras_lmu.LMU(
        2, 3, 8.0, None, kernel_initializer=None, return_sequences=True),
    "LMU, no hidden, input_to_hidden": lambda: keras_lmu.LMU(
        1, 3, 8.0, None, input_to_hidden=True, return_sequences=True),
    "LMU, trained theta, euler, sigmoid": lambda: keras_lmu.LMU(
        1, 4, 12.0, dense(activation="sigmoid"), trainable_theta=True, discretizer="euler",
        return_sequences=True),
    "LMU, last step only": lambda: keras_lmu.LMU(
        1, 4, 12.0, dense(), memory_to_memory=True, return_sequences=False),
}


def keras_model(layer, train=True, steps=T):
    tf.keras.utils.set_random_seed(0)
    inp = tf.keras.Input((steps, D))
    model = tf.keras.Model(inp, tf.keras.layers.Dense(3)(layer(inp)))
    if train:  # a few steps: trained weights (and theta) differ from their inits
        model.compile(optimizer=tf.optimizers.Adam(0.01), loss="mse")
        y = np.random.RandomState(1).randn(*((BATCH,) + tuple(model.output.shape[1:])))
        model.fit(data(), y, epochs=3, verbose=0)
    return model


def data(seed=0):
    return np.random.RandomState(seed).randn(BATCH, T, D).astype(np.float32)


def convert(model):
    seq = sequence_model(model)
    return seq, nengo_dl.Converter(seq, temporal_model=True, allow_fallback=False)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_converted_outputs_equal_keras(name):
    model = keras_model(LAYERS[name]())
    x = data(2)
    expected = model.predict(x, verbose=0)
    seq, conv = convert(model)
    inp, probe = conv.inputs[seq.input], conv.outputs[seq.output]
    with nengo_dl.Simulator(conv.net, dt=1.0, minibatch_size=BATCH, progress_bar=False) as sim:
        out = sim.predict({inp: x}, verbose=0)[probe]
    if expected.ndim == 2:  # the last step of the sequence model
        out = out[:, -1]
    assert np.abs(expected).max() > 0.1
    # float32 throughout; keras-lmu's FFT rounds a little more than steps do
    np.testing.assert_allclose(out, expected, atol=1e-5 * max(1.0, np.abs(expected).max()))
    # the reference simulator (float64) runs the same network
    feed = Feed(x[0], 1.0)
    inp.output = feed
    ref = run_reference(conv.net, feed, x[:2], [probe], 1.0)[probe]
    ref = ref if expected.ndim == 3 else ref[:, -1]
    np.testing.assert_allclose(ref, expected[:2], atol=1e-5 * max(1.0, np.abs(expected).max()))


def test_trained_theta_is_converted():
    # the outputs match (test above); here: the window training moved is the
    # converted one, not the initial 12 steps
    model = keras_model(LAYERS["LMU, trained theta, euler, sigmoid"]())
    _, conv = convert(model)
    (lmu,) = [n for n in conv.net.all_networks if isinstance(n, nengo_lmu.LMU)]
    assert abs(lmu.theta - 12.0) > 1e-3 and lmu.memory.method == "euler"
    assert not lmu.memory.trainable_theta


def test_converted_model_runs_spiking_and_on_loihi():
    from nengo_lmu.loihi import Simulator as LoihiSimulator  # noqa: PLC0415
    from nengo_lmu.spiking import to_spiking  # noqa: PLC0415

    model = keras_model(LAYERS["RNN(LMUCell), Dense, input_to_hidden"]())
    x = data(3)
    expected = model.predict(x, verbose=0)
    seq, conv = convert(model)
    inp, probe = conv.inputs[seq.input], conv.outputs[seq.output]
    spiking = to_spiking(conv.net, 0.05, calibration=(inp, x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for simulator in (nengo.Simulator, LoihiSimulator):
            out, _ = spiking.run(simulator, spiking.find(inp, conv.net), x[:1],
                                 spiking.find(probe, conv.net))
            # a spiking approximation of the rate network: the last outputs agree
            # to a fraction of their scale (50 ms per step, calibrated rates)
            err = np.abs(out[0, -5:] - expected[0, -5:]).max()
            assert err < 0.35 * np.abs(expected[0]).max(), simulator


@pytest.mark.parametrize(
    "make, kwargs, match",
    [
        (lambda: tf.keras.layers.RNN(keras_lmu.LMUCell(1, 4, 8.0, tf.keras.layers.LSTMCell(4)),
                                     return_sequences=True),
         {}, "hidden_cell LSTMCell"),
        (lambda: keras_lmu.LMU(1, 4, 8.0, dense(activation="elu"), return_sequences=True),
         {}, "hidden_cell activation elu"),
        (lambda: keras_lmu.LMU(1, 4, 8.0, dense(), dropout=0.2, return_sequences=True),
         {}, "dropout=0.2 .*inference_only=True"),
        (lambda: tf.keras.layers.RNN(keras_lmu.LMUCell(1, 4, 8.0, dense()),
                                     return_sequences=True, go_backwards=True),
         {}, "go_backwards=True"),
        (lambda: keras_lmu.LMU(1, 4, 8.0, dense(), return_sequences=False),
         {"sequence": False}, "return_sequences=False.*sequence_model"),
        (lambda: tf.keras.layers.RNN(tf.keras.layers.SimpleRNNCell(4), return_sequences=True),
         {}, "not of a keras_lmu.LMUCell"),
        (lambda: keras_lmu.LMU(1, 4, 8.0, dense(), return_sequences=True),
         {"temporal": False}, "temporal_model=True"),
        (lambda: keras_lmu.LMU(1, 4, 8.0, tf.keras.layers.Dense(
            4, activation="relu", activity_regularizer="l2"), return_sequences=True),
         {}, "activity_regularizer.*inference_only=True"),
        (lambda: keras_lmu.LMUFeedforward(1, 4, 8, dense(), return_sequences=True),
         {"steps": None}, "unknown length"),
    ],
)
def test_what_cannot_convert_is_refused(make, kwargs, match):
    model = keras_model(make(), train=False, steps=kwargs.get("steps", T))
    if kwargs.get("sequence", True):
        model = sequence_model(model)
    layer_name = model.layers[1].name
    with pytest.raises(TypeError, match=f"{layer_name}: .*{match}"):
        nengo_dl.Converter(model, temporal_model=kwargs.get("temporal", True),
                           allow_fallback=False)


def test_dropout_converts_for_inference():
    model = keras_model(keras_lmu.LMU(1, 4, 8.0, dense(), dropout=0.2, return_sequences=True))
    x = data(4)
    expected = model.predict(x, verbose=0)
    conv = nengo_dl.Converter(model, temporal_model=True, allow_fallback=False,
                              inference_only=True)
    with nengo_dl.Simulator(conv.net, dt=1.0, minibatch_size=BATCH, progress_bar=False) as sim:
        out = sim.predict({conv.inputs[model.input]: x}, verbose=0)[conv.outputs[model.output]]
    np.testing.assert_allclose(out, expected, atol=1e-5 * max(1.0, np.abs(expected).max()))


def test_import_alone_does_not_need_keras_lmu():
    # keras-lmu is an extra: nengo_lmu imports without touching it
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    code = ("import sys; import nengo_lmu, nengo_lmu.spiking, nengo_lmu.parallel; "
            "print('keras_lmu' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"
