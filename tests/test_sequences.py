"""Sequences of any length and width: the unroll is chosen, or leading zeros padded."""

import nengo
import nengo_dl
import numpy as np
import pytest
import tensorflow as tf
from nengo.exceptions import ValidationError

from nengo_lmu import lmu_model
from nengo_lmu.dl import RECOMMENDED_UNROLL, prepare_sequences, unroll_for
from nengo_lmu.spiking import to_spiking


@pytest.mark.parametrize(
    "steps, unroll",
    [(784, 16), (150, 15), (24, 24), (5, 5), (1460, 20), (251, None), (427, None)],
)
def test_unroll_for(steps, unroll):
    assert unroll_for(steps) == unroll
    if unroll is not None:
        assert steps % unroll == 0


def test_prepare_sequences_pads_only_where_needed(rng):
    x = rng.uniform(-1, 1, size=(3, 150, 2))
    unroll, same = prepare_sequences(x)
    assert unroll == 15 and np.array_equal(same, x)

    x = rng.uniform(-1, 1, size=(3, 251, 2))
    y = rng.uniform(-1, 1, size=(3, 251, 4))
    unroll, xp, yp = prepare_sequences(x, y)
    assert unroll == RECOMMENDED_UNROLL and xp.shape == (3, 256, 2) and yp.shape == (3, 256, 4)
    assert not np.any(xp[:, :5]) and np.array_equal(xp[:, 5:], x)
    assert not np.any(yp[:, :5]) and np.array_equal(yp[:, 5:], y)


@pytest.mark.parametrize("shape", [(251, 1), (0, 10, 1), (2, 251)])
def test_prepare_sequences_checks_shape(shape):
    with pytest.raises(ValidationError) as info:
        prepare_sequences(np.zeros(shape))
    assert info.value.attr == "x"
    with pytest.raises(ValidationError) as info:
        prepare_sequences(np.zeros((2, 251, 1)), np.zeros((2, 250, 1)))
    assert info.value.attr == "targets"


@pytest.mark.parametrize("flag", ["hidden_to_memory", "hidden_to_hidden"])
def test_padding_refused_where_inexact(flag):
    net = lmu_model(3, units=4, order=4, theta=10.0, **{flag: True})
    with pytest.raises(ValidationError) as info:
        prepare_sequences(np.zeros((2, 251, 1)), network=net)
    assert info.value.attr == flag
    prepare_sequences(np.zeros((2, 250, 1)), network=net)  # no padding: fine
    # series of different lengths are padded too (to 250 steps): refused alike
    with pytest.raises(ValidationError) as info:
        prepare_sequences([np.zeros((250, 1)), np.zeros((240, 1))], network=net)
    assert info.value.attr == flag


def test_series_of_different_lengths_end_on_the_last_step(rng):
    # a list of series of different lengths (NumPy alone refuses to stack
    # them) is padded in front to the longest, as ucr pads the archive's,
    # and then for the unroll: every series ends on the last step
    lengths = [251, 240, 7]
    x = [rng.uniform(-1, 1, size=(n, 3)) for n in lengths]
    y = [rng.randint(5, size=(n, 1)) for n in lengths]
    unroll, xp, yp = prepare_sequences(x, y)
    assert unroll == RECOMMENDED_UNROLL and xp.shape == (3, 256, 3)
    assert yp.shape == (3, 256, 1) and yp.dtype == y[0].dtype
    for i, n in enumerate(lengths):
        assert np.array_equal(xp[i, 256 - n :], x[i]) and not np.any(xp[i, : 256 - n])
        assert np.array_equal(yp[i, 256 - n :], y[i]) and not np.any(yp[i, : 256 - n])
    # a length with a divisor near the unroll needs no more than the ragged
    # padding; series of one length are the plain array
    unroll, xp = prepare_sequences([np.ones((150, 1)), np.ones((100, 1))])
    assert unroll == 15 and xp.shape == (2, 150, 1) and not np.any(xp[1, :50])
    unroll, xp = prepare_sequences([np.ones((150, 1)), np.ones((150, 1))])
    assert unroll == 15 and np.array_equal(xp, np.ones((2, 150, 1)))
    # univariate series as 1-D arrays (a list, or an object array of them),
    # the natural shape of a univariate archive, are one dimension each
    series = [rng.uniform(-1, 1, size=n) for n in (150, 100)]
    for given in (series, np.array(series, dtype=object)):
        unroll, xp = prepare_sequences(given)
        assert unroll == 15 and xp.shape == (2, 150, 1)
        assert np.array_equal(xp[1, 50:, 0], series[1]) and not np.any(xp[1, :50])


def test_ragged_padding_leaves_a_feed_forward_lmu_exact():
    # the last output of a padded short series is that of the series alone
    # (the memory at rest through the zeros; an LMU without hidden biases)
    net = lmu_model(2, seed=1, units=6, order=4, theta=8.0, input_d=2,
                    hidden_neuron_type=nengo.RectifiedLinear())
    net.lmu.hidden.bias = np.zeros(6)
    rng = np.random.RandomState(0)
    x = [rng.uniform(-1, 1, size=(n, 2)) for n in (20, 13)]
    unroll, xp = prepare_sequences(x, network=net)

    def run(u):
        with net:
            net.inp.output = nengo.processes.PresentInput(u, 1.0)
        with nengo.Simulator(net, dt=1.0, progress_bar=False) as sim:
            sim.run_steps(len(u))
        return sim.data[net.probe][-1]

    assert xp.shape == (2, 20, 2)
    assert np.allclose(run(xp[1]), run(x[1]), atol=1e-12)
    assert not np.allclose(run(xp[1]), run(xp[1][::-1]), atol=1e-3)  # can fail


def model(input_d, seed=0):
    net = lmu_model(
        3, seed=seed, units=16, order=8, theta=40.0, input_d=input_d,
        hidden_neuron_type=nengo.RectifiedLinear(), input_to_hidden=True,
    )
    with net:
        nengo_dl.configure_settings(keep_history=False)
    return net


def test_odd_length_multidimensional_trains_and_converts(rng):
    # a 6-dimensional series of prime length (251 steps): padded to 256 for
    # NengoDL, trained a few steps, frozen, converted (rate, held samples)
    x = rng.uniform(-1, 1, size=(32, 251, 6))
    labels = rng.randint(3, size=32)
    net = model(6)
    unroll, xp = prepare_sequences(x, network=net)
    assert xp.shape == (32, 256, 6)
    tf.random.set_seed(0)
    with nengo_dl.Simulator(
        net, dt=1.0, minibatch_size=16, unroll_simulation=unroll, progress_bar=False
    ) as sim:
        sim.compile(
            optimizer=tf.optimizers.Adam(1e-3),
            loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        sim.fit(xp, {net.probe: labels[:, None, None]}, epochs=1, verbose=0)
        padded = sim.predict(xp[:16], verbose=0)[net.probe][:, -1]
        sim.freeze_params(net)
    # the unpadded sequences give the same last outputs (the memory was at rest)
    with nengo_dl.Simulator(
        net, dt=1.0, minibatch_size=16, unroll_simulation=1, progress_bar=False
    ) as sim:
        plain = sim.predict(x[:16], verbose=0)[net.probe][:, -1]
    assert np.allclose(padded, plain, atol=1e-5)  # float32 over 251 steps

    # converted to held input (10 steps per sample), rate neurons: exact again
    conv = to_spiking(net, presentation_time=0.01, neuron_type=None)
    node, probe = conv.find(net.inp, net), conv.find(net.probe, net)
    outputs, _ = conv.run(nengo.Simulator, node, x[:2], probe, parallel=2)
    assert np.allclose(outputs[:, -1], plain[:2], atol=1e-4)
