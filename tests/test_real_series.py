"""A real UCR/UEA problem end to end: trained, converted, run on the Loihi emulator."""

import nengo
import numpy as np
import pytest

# imported plainly, not importorskip: sktime, nengo-loihi and TensorFlow are
# part of the installed extras, and a broken install must fail this test (the
# only real-series end-to-end one), not skip it
import nengo_loihi  # noqa: F401
import sktime  # noqa: F401
import tensorflow as tf

import nengo_lmu
from nengo_lmu.datasets import ucr
from nengo_lmu.loihi import Simulator
from nengo_lmu.parallel import freeze_params, parallel_model
from nengo_lmu.spiking import to_spiking

#: one worker builds this file's module-scoped fixtures once (``--dist loadgroup``)
pytestmark = pytest.mark.xdist_group(__name__)


@pytest.fixture(scope="module")
def japanese_vowels():
    """A small ReLU LMU trained on JapaneseVowels (12-D series of 7 to 29 steps,
    padded in front), with its rate network's last outputs on the test set."""
    x, y, x_test, y_test = ucr("JapaneseVowels")
    net = nengo_lmu.lmu_model(
        9, seed=0, settings=dict(stateful=False, keep_history=False), units=48,
        order=16, theta=float(x.shape[1]), input_d=12,
        hidden_neuron_type=nengo.RectifiedLinear(), input_to_hidden=True,
    )
    tf.keras.utils.set_random_seed(0)
    model = parallel_model(net, x.shape[1], return_sequences=False)
    model.compile(optimizer=tf.optimizers.Adam(3e-3),
                  loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=16, epochs=30, verbose=0)
    logits = model.predict(x_test, verbose=0)
    freeze_params(model, net)
    return net, x, x_test, y_test, logits


@pytest.mark.parametrize("simulator", ["reference", "emulator"])
def test_japanese_vowels_on_the_emulator(japanese_vowels, simulator):
    net, x, x_test, y_test, logits = japanese_vowels
    rate = logits.argmax(-1)
    assert np.mean(rate == y_test) > 0.85  # the rate network learnt the problem
    n = 30
    kind, make, kwargs = dict(
        reference=("nengo", nengo.Simulator, {}),
        emulator=("loihi", Simulator, dict(target="sim")),
    )[simulator]
    conv = to_spiking(net, 0.02, calibration=(net.inp, x), simulator=kind)
    out, spikes = conv.run(make, conv.find(net.inp, net), x_test[:n],
                           conv.find(net.probe, net), parallel=15, **kwargs)
    last = out[:, -1]
    spread = np.sqrt(np.mean((logits[:n] - logits[:n].mean(0)) ** 2))
    error = np.sqrt(np.mean((last - logits[:n]) ** 2)) / spread
    agreement = np.mean(last.argmax(-1) == rate[:n])
    # measured: reference error 0.0067; emulator 0.43 (0.23 with a 250 Hz
    # peak: it grows with the rate, see PEAK_RATES); both agree with the
    # rate network on 30/30 and get 27/30 right
    limit, agree = dict(reference=(0.02, 30), emulator=(0.55, 28))[simulator]
    assert error < limit and agreement >= agree / n, (error, agreement)
    correct = np.sum(last.argmax(-1) == y_test[:n])
    assert abs(correct - np.sum(rate[:n] == y_test[:n])) <= 30 - agree
    assert spikes[0]["hidden_synaptic_events"] > 0
