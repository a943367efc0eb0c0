"""Deploy a trained LMU on the nengo-loihi emulator.

Train a small LMU on psDigits through NengoDL with a ``RectifiedLinear``
hidden layer (it has a spiking counterpart that Loihi runs), freeze the
trained weights into the network, convert it with
`nengo_lmu.spiking.to_spiking` (each pixel held for 20 ms; the memory's
window stretched to match, exactly by zero-order hold; calibrated on the
training images for Loihi), check it against
Loihi's limits (`nengo_lmu.loihi.check`), and run it on the emulator
(`nengo_lmu.loihi.Simulator`, nengo-loihi's simulator with a quieter, faster
host-to-chip link, ``target="sim"``).

Run: python examples/loihi_deploy.py [--quick]
"""

import argparse
import os
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import nengo  # noqa: E402
import nengo_dl  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import nengo_lmu  # noqa: E402
import nengo_lmu.dl  # noqa: E402
import nengo_lmu.loihi  # noqa: E402
from nengo_lmu.datasets import ps_digits  # noqa: E402
from nengo_lmu.spiking import to_spiking  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--quick", action="store_true", help="fewer epochs and test digits")
args = parser.parse_args()
epochs, n_digits = (4, 8) if args.quick else (30, 100)

x_train, y_train, x_test, y_test = ps_digits()
net = nengo_lmu.lmu_model(  # input -> LMU -> dense readout of 10 classes
    10, seed=0, settings=dict(stateful=False, keep_history=False),
    units=32, order=12, theta=64.0, input_to_hidden=True,
    hidden_neuron_type=nengo.RectifiedLinear(),
)
inp, probe = net.inp, net.probe

# 1. train (rate neurons, one pixel per step: dt = 1)
with nengo_dl.Simulator(net, dt=1.0, minibatch_size=64,
                        unroll_simulation=nengo_lmu.dl.RECOMMENDED_UNROLL,
                        progress_bar=False) as sim:
    sim.compile(optimizer=tf.optimizers.Adam(3e-3),
                loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True))
    sim.fit({inp: x_train[:1280]}, {probe: y_train[:1280, None, None]},
            epochs=epochs, verbose=0)
    rate = sim.predict({inp: x_test[:64]}, verbose=0)[probe][:n_digits, -1]
    sim.freeze_params(net)  # the trained values into the network itself

# 2. convert: pixels held 20 ms, SpikingRectifiedLinear hidden neurons,
#    calibrated on the training images for Loihi: what the host sends to the
#    chip scaled into its range, firing rates from the hidden activity
conv = to_spiking(net, presentation_time=0.02, calibration=(inp, x_train[:1280]),
                  simulator=nengo_lmu.loihi.Simulator)
# raises, naming the fix, if a limit is broken; else says what it checked
print(nengo_lmu.loihi.check(conv.network))

# 3. run on the emulator, n_digits copies side by side in one simulator: the
#    same test digits as the rate network's above
with warnings.catch_warnings():
    # nengo-loihi's build chatter; nengo_lmu's own warnings (a host value
    # clipped at the chip's range, say) still show
    warnings.filterwarnings("ignore", module="nengo_loihi")
    # (and its emulator's NaN placeholders, cast to integers before it fills them)
    warnings.filterwarnings("ignore", "invalid value encountered in cast", RuntimeWarning)
    # the original network's node and probe: run maps them to their copies
    outputs, spikes = conv.run(
        nengo_lmu.loihi.Simulator, inp, x_test[:n_digits], probe,
        parallel=n_digits, target="sim",
    )
y = y_test[:n_digits]
pred = outputs[:, -1].argmax(-1)
print(f"{n_digits} test digits: rate accuracy {np.mean(rate.argmax(-1) == y):.3f}, "
      f"Loihi emulator accuracy {np.mean(pred == y):.3f}, "
      f"agreement {np.mean(pred == rate.argmax(-1)):.3f}")
print(f"hidden spikes per digit: {spikes[0]['hidden']:.0f}, "
      f"synaptic events: {spikes[0]['hidden_synaptic_events']:.0f}")
