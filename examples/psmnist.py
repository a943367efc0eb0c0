"""psMNIST with the paper's LMU, trained through NengoDL.

The permuted sequential MNIST task of Voelker, Kajic & Eliasmith (2019): each
28x28 image is fed one pixel per step (784 steps), in a fixed random order,
and classified after the last pixel. The paper's cell: 212 tanh hidden
units, a memory of order 256 over theta = 784 steps, input_to_hidden and
hidden_to_hidden, e_x = 1, e_h = e_m = 0 (published: 97.15 %).

MNIST is used only if Keras already has it cached (``~/.keras/datasets``):
nothing is downloaded. Otherwise the example falls back to psDigits
(scikit-learn's 8x8 digits, 64 steps), with theta = 64, and says so.

Run: python examples/psmnist.py [--quick] [--epochs N]
(--quick: psDigits, a small model, 2 epochs, to check that it all runs.)
"""

import argparse
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import nengo_dl  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import nengo_lmu  # noqa: E402
import nengo_lmu.dl  # noqa: E402
from nengo_lmu.datasets import ps_digits  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--quick", action="store_true", help="psDigits, small model, 2 epochs")
parser.add_argument("--epochs", type=int, default=None)
args = parser.parse_args()


def cached_mnist():
    """MNIST as permuted pixel sequences if Keras has it cached, else None."""
    homes = [os.environ.get("KERAS_HOME"), os.path.expanduser("~/.keras"), "/tmp/.keras"]
    if not any(h and (pathlib.Path(h) / "datasets" / "mnist.npz").exists() for h in homes):
        return None
    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
    order = np.random.RandomState(0).permutation(784)  # the fixed permutation

    def sequences(x):
        return (x.reshape(len(x), 784, 1) / 255.0)[:, order]

    return sequences(x_train), y_train, sequences(x_test), y_test


data = None if args.quick else cached_mnist()
if data is None:
    print("MNIST is not cached locally (and nothing is downloaded): using psDigits"
          if not args.quick else "--quick: using psDigits")
    data = ps_digits()
    units, order = (32, 12) if args.quick else (212, 256)
    epochs = args.epochs or (2 if args.quick else 20)
else:
    print("using MNIST from the Keras cache")
    units, order = 212, 256
    epochs = args.epochs or 10
x_train, y_train, x_test, y_test = data
steps = x_train.shape[1]
theta = float(steps)  # the window spans the whole sequence (784 for MNIST)

# input -> LMU -> dense readout of 10 classes. NengoDL settings for LMUs (noop
# planner and sorter), not stateful between batches, and keep only the last
# step (the one we classify). Hidden: tanh; encoders e_x = 1, e_h = e_m = 0;
# W_m Glorot normal
net = nengo_lmu.lmu_model(
    10, seed=0, settings=dict(stateful=False, keep_history=False),
    units=units, order=order, theta=theta, input_to_hidden=True, hidden_to_hidden=True,
)
inp, probe = net.inp, net.probe

batch = 32 if args.quick else 100
n_train = len(x_train) // batch * batch
n_test = len(x_test) // batch * batch
unroll = nengo_lmu.dl.RECOMMENDED_UNROLL
with nengo_dl.Simulator(
    net, dt=1.0, minibatch_size=batch,
    # unrolling must divide the sequence length
    unroll_simulation=unroll if steps % unroll == 0 else 1,
    progress_bar=False,
) as sim:
    sim.compile(
        optimizer=tf.optimizers.Adam(1e-3 if not args.quick else 3e-3),
        loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    sim.fit({inp: x_train[:n_train]}, {probe: y_train[:n_train, None, None]},
            epochs=epochs, verbose=2)
    result = sim.evaluate({inp: x_test[:n_test]}, {probe: y_test[:n_test, None, None]},
                          verbose=0)
print(f"test accuracy: {result['probe_accuracy']:.4f} "
      f"({units} units, order {order}, theta {theta:g}, {epochs} epochs)")
