"""SpikingConversion.run(sequential=True): sequences one after another, each
from rest, against the side-by-side copies (issue 26)."""

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.spiking import to_spiking

from helpers import assert_refuses  # tests/helpers.py
from test_spiking import classifier  # tests/test_spiking.py


def both(conv, net, sequences, **kwargs):
    """The outputs of ``sequences`` run side by side and one after another."""
    side = conv.run(nengo.Simulator, net.inp, sequences, net.probe, parallel=len(sequences),
                    progress_bar=False, **kwargs)[0]
    seq = conv.run(nengo.Simulator, net.inp, sequences, net.probe, parallel=1,
                   sequential=True, progress_bar=False, **kwargs)[0]
    return side, seq


def test_sequential_rate_run_equals_side_by_side(rng):
    """Rate neurons and a sampled exact memory (reset by its advance): the
    only difference left is the output filter's residue after the rest,
    e^-8 of the last output (REST_DECAYS)."""
    net = classifier(input_to_hidden=True)
    conv = to_spiking(net, 0.01, neuron_type=None)
    sequences = rng.uniform(-1, 1, size=(3, 12, 1))
    side, seq = both(conv, net, sequences)
    assert np.abs(side).max() > 0.1
    assert np.allclose(seq, side, atol=1e-3 * np.abs(side).max())
    # and it is not trivially so: without the reset, sequences 2 and 3 start
    # from the end of the one before
    assert not np.allclose(side[1], side[0], atol=1e-2)


def test_sequential_neural_memory_is_reset(rng):
    """A neural memory's neurons are inhibited between sequences: run second,
    after another sequence, a sequence differs from its run alone as much as
    it does run first (the neural noise between two runs: relative RMS
    0.15-0.17 measured), where back to back (no rest) the first sequence,
    a constant that fills the window, carries over."""
    net = classifier()
    conv = to_spiking(net, 0.01, neuron_type=None,
                      memory_kwargs=dict(n_neurons=100, synapse=nengo.Lowpass(0.02)))
    a, b = rng.uniform(-1, 1, size=(10, 1)), np.full((10, 1), 0.9)

    def run(x, **kwargs):
        return conv.run(nengo.Simulator, net.inp, x, net.probe, progress_bar=False,
                        **kwargs)[0]

    alone = run(a[None])[0]

    def error(out):
        return np.sqrt(np.mean((out - alone) ** 2) / np.mean(alone**2))

    first = error(run(np.stack([a, b]), sequential=True)[0])
    after_reset = error(run(np.stack([b, a]), sequential=True)[1])
    no_reset = error(run(np.stack([b, a]), sequential=True, rest_time=0)[1])
    assert after_reset < 1.25 * first
    assert no_reset > 1.5 * after_reset


def test_sequential_cost_is_per_sequence(rng):
    """Run one after another, each sequence is one inference (its rest,
    samples and read-out), however the sequences are shared among copies:
    one copy running all three, two copies (two and one), three (one each)."""
    net = classifier()
    conv = to_spiking(net, 0.01)
    x = rng.uniform(-1, 1, size=(3, 6, 1))
    costs = [conv.run(nengo.Simulator, net.inp, x, net.probe, parallel=p, sequential=True,
                      progress_bar=False)[1] for p in (1, 2, 3)]
    side = conv.run(nengo.Simulator, net.inp, x, net.probe, parallel=3,
                    progress_bar=False)[1]
    rest = conv._rest_presentations(True, None)
    for cost in costs:
        assert cost.inferences == 3 and cost.steps == costs[0].steps
        assert cost.steps == side.steps + rest * 10 + (10 - side.steps % 10) % 10
        assert cost.total("neuron_updates") == cost.steps * 20  # the 20 hidden neurons


def test_sequential_refusals(rng):
    net = classifier()
    conv = to_spiking(net, 0.01, neuron_type=None)
    x = rng.uniform(-1, 1, size=(2, 5, 1))
    run = conv.run
    assert_refuses(lambda: run(nengo.Simulator, net.inp, x, net.probe, rest_time=0.1),
                   ValidationError, "rest_time")
    assert_refuses(lambda: run(nengo.Simulator, net.inp, x, net.probe, sequential=True,
                               rest_time=-1.0), ValidationError, "rest_time")
    assert_refuses(lambda: run(nengo.Simulator, net.inp, x, net.probe, sequential="yes"),
                   ValidationError, "sequential")
    continuous = to_spiking(net, 0.01, neuron_type=None, memory_kwargs=dict(sample_period=None))
    assert_refuses(lambda: continuous.run(nengo.Simulator, net.inp, x, net.probe,
                                          sequential=True), ValidationError, "sequential")
