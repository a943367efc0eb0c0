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


def test_swap_activations_apply_to_the_hidden_neurons():
    # as NengoDL swaps its own layers' activations (elu is otherwise refused)
    model = keras_model(keras_lmu.LMU(1, 4, 8.0, dense(activation="elu"),
                                      return_sequences=True), train=False)
    swaps = {tf.keras.activations.elu: nengo.LIFRate()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        conv = nengo_dl.Converter(model, temporal_model=True, swap_activations=swaps)
    (lmu,) = [n for n in conv.net.all_networks if isinstance(n, nengo_lmu.LMU)]
    assert lmu.hidden_neuron_type is swaps[tf.keras.activations.elu]
    # NengoDL warns of a swap no layer used
    assert not [w for w in caught if "swap_activations" in str(w.message)]


def nested_model():
    tf.keras.utils.set_random_seed(0)
    inner_in = tf.keras.Input((T, D))
    inner = tf.keras.Model(inner_in, keras_lmu.LMU(1, 4, 8.0, dense())(inner_in))
    inp = tf.keras.Input((T, D))
    return tf.keras.Model(inp, tf.keras.layers.Dense(3)(inner(inp)))


def sequential_model():
    tf.keras.utils.set_random_seed(0)
    return tf.keras.Sequential([tf.keras.Input((T, D)), keras_lmu.LMU(1, 4, 8.0, dense()),
                                tf.keras.layers.Dense(3)])


@pytest.mark.parametrize("make", [nested_model, sequential_model])
def test_sequence_model_of_nested_and_sequential_models(make):
    # the LMU inside a nested model returns every step too, and the copy of
    # a Sequential model is functional, so converter.inputs[seq.input] (as
    # the docs write it) finds its input; the last step is the model's output
    model = make()
    x = data(7)
    expected = model.predict(x, verbose=0)
    seq, conv = convert(model)
    with nengo_dl.Simulator(conv.net, dt=1.0, minibatch_size=BATCH, progress_bar=False) as sim:
        out = sim.predict({conv.inputs[seq.input]: x}, verbose=0)[conv.outputs[seq.output]]
    np.testing.assert_allclose(out[:, -1], expected, atol=1e-5 * np.abs(expected).max())


def test_trained_theta_is_converted():
    # the outputs match (test above); here: the window training moved is the
    # converted one, not the initial 12 steps
    model = keras_model(LAYERS["LMU, trained theta, euler, sigmoid"]())
    _, conv = convert(model)
    (lmu,) = [n for n in conv.net.all_networks if isinstance(n, nengo_lmu.LMU)]
    assert abs(lmu.theta - 12.0) > 1e-3 and lmu.memory.method == "euler"
    assert not lmu.memory.trainable_theta


def test_converted_memory_counts_steps():
    # issue 25's model: at dt=1 the converted memory is keras-lmu's; at
    # NengoDL's default dt the same matrices would stand for a window 1000
    # times longer (58% off at the last step), so building there is refused
    tf.keras.utils.set_random_seed(0)
    inp = tf.keras.Input((T, D))
    model = tf.keras.Model(inp, keras_lmu.LMU(
        2, 8, 20.0, tf.keras.layers.SimpleRNNCell(5), return_sequences=True)(inp))
    x = data(5)
    expected = model.predict(x, verbose=0)
    conv = nengo_dl.Converter(model, temporal_model=True)
    inp, probe = conv.inputs[model.input], conv.outputs[model.output]
    with nengo_dl.Simulator(conv.net, dt=1.0, minibatch_size=BATCH, progress_bar=False) as sim:
        out = sim.predict({inp: x}, verbose=0)[probe]
    np.testing.assert_allclose(out, expected, atol=1e-5 * np.abs(expected).max())
    bits = nengo.rc.get("precision", "bits")
    try:
        with pytest.raises(nengo.exceptions.BuildError,
                           match="bound to dt=1, but the simulator's dt is 0.001"):
            nengo_dl.Simulator(conv.net, minibatch_size=BATCH, progress_bar=False)
    finally:  # a failed NengoDL build leaves nengo's precision at 32 bits
        nengo.rc.set("precision", "bits", bits)


def test_to_spiking_keeps_the_converted_answer():
    # to_spiking rebuilds each LMU for held samples (here 5 steps of 1 ms per
    # keras-lmu step) and leaves the neurons' rates (neuron_type=None): the
    # outputs are Keras's, memory bias (a constant input beside the LMU) included
    from nengo_lmu.spiking import to_spiking  # noqa: PLC0415

    model = keras_model(keras_lmu.LMU(1, 4, 8.0, dense(), input_to_hidden=True, use_bias=True,
                                      bias_initializer="ones", return_sequences=True),
                        train=False)
    x = data(6)
    expected = model.predict(x, verbose=0)
    seq, conv = convert(model)
    inp, probe = conv.inputs[seq.input], conv.outputs[seq.output]
    rate = to_spiking(conv.net, 0.005, neuron_type=None)
    out, _ = rate.run(nengo.Simulator, rate.find(inp, conv.net), x[:2],
                      rate.find(probe, conv.net))
    np.testing.assert_allclose(out, expected[:2], atol=1e-5 * np.abs(expected).max())


def test_converted_model_runs_spiking_and_on_loihi():
    from nengo_lmu.loihi import Simulator as LoihiSimulator  # noqa: PLC0415
    from nengo_lmu.spiking import to_spiking  # noqa: PLC0415

    model = keras_model(LAYERS["RNN(LMUCell), Dense, input_to_hidden"]())
    x = data(3)
    expected = model.predict(x, verbose=0)
    seq, conv = convert(model)
    inp, probe = conv.inputs[seq.input], conv.outputs[seq.output]

    def error(conversion, simulator):
        """The largest error of the last 5 outputs, relative to Keras's peak."""
        out, _ = conversion.run(simulator, conversion.find(inp, conv.net), x[:1],
                                conversion.find(probe, conv.net), seed=0)
        return np.abs(out[0, -5:] - expected[0, -5:]).max() / np.abs(expected[0]).max()

    # A spiking approximation of the rate network (exact before the spikes:
    # test_to_spiking_keeps_the_converted_answer), 50 ms per step, rates
    # calibrated. Its error is spike noise, and on Loihi also the chip's
    # discretisation: 0.14 on nengo, 0.22 on the emulator when written.
    # The bound, 0.3, sits between those and the control below, a memory
    # window twice as long (the wrong time-scale, in small): 0.46.
    bound = 0.3
    spiking = to_spiking(conv.net, 0.05, calibration=(inp, x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for simulator in (nengo.Simulator, LoihiSimulator):
            assert error(spiking, simulator) < bound, simulator
        # the control: the same rates (no calibration run, which a memory
        # bound to dt=1 refuses at dt_train=0.5), each window doubled
        wrong = to_spiking(conv.net, 0.05, dt_train=0.5,
                           scale_firing_rates=spiking.scale_firing_rates)
        assert error(wrong, nengo.Simulator) > bound


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
