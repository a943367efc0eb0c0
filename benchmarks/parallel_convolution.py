"""Per-step parallel training: the memory in blocks, by FFT or by direct convolution.

`nengo_lmu.parallel.parallel_model` with ``return_sequences=True`` (a loss on
every step) computes every step's memory as a causal convolution: in blocks
(``"blocks"``, the default: `nengo_lmu.parallel.block_convolution`,
``O(T (L + n) n)``), by FFT (``O(T log T)``) or directly (``O(T^2)``). For
each sequence length, the time of one training step (``train_on_batch``:
forward, gradient and Adam update of one minibatch) of

* ``blocks``, ``fft`` and ``direct``: the same feed-forward ReLU LMU
  (``input_to_hidden``, window = the length), each convolution;
* ``keras_lmu``: keras-lmu 0.7's ``RNN(LMUCell, return_sequences=True)`` of the
  same size, the sequential peer (up to `KERAS_MAX_STEPS` steps);

timed round-robin (each round times every model once, the median of
``--rounds`` rounds), and the ratios of blocks to the others and of each
to keras-lmu of the same run (``X_over_Y``: X's time over Y's).

Usage::

    python benchmarks/parallel_convolution.py [--rounds 3] [--tiny] [--results DIR]

Writes ``benchmarks/results/parallel_convolution.json``.
"""

import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import nengo  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from common import (  # noqa: E402
    argument_parser, parse_args, positive_int, time_training_steps, write_results)
from nengo_lmu.parallel import CONVOLUTIONS  # noqa: E402

MODEL = dict(units=128, order=64, input_d=1, n_out=10, batch=16)
LENGTHS = [100, 250, 500, 1000, 1500, 2000, 3000, 4000, 6000]
#: keras-lmu steps through time: timed up to this length only
KERAS_MAX_STEPS = 2000
#: ``--tiny``: two short lengths, a small model, one round of one step
TINY = dict(model=dict(MODEL, units=8, order=4, batch=2), lengths=[16, 40], repeats=1)


def parallel(steps, convolution, m):
    import nengo_lmu  # noqa: PLC0415
    from nengo_lmu.parallel import parallel_model  # noqa: PLC0415

    net = nengo_lmu.lmu_model(
        m["n_out"], seed=0, units=m["units"], order=m["order"], theta=float(steps),
        input_d=m["input_d"], hidden_neuron_type=nengo.RectifiedLinear(),
        input_to_hidden=True,
    )
    return parallel_model(net, steps, return_sequences=True, convolution=convolution)


def keras_lmu(steps, m):
    import keras_lmu  # noqa: PLC0415

    cell = keras_lmu.LMUCell(
        memory_d=1, order=m["order"], theta=float(steps),
        hidden_cell=tf.keras.layers.Dense(m["units"], activation="relu"),
        hidden_to_memory=False, memory_to_memory=False, input_to_hidden=True,
    )
    inp = tf.keras.Input((steps, m["input_d"]))
    out = tf.keras.layers.Dense(m["n_out"])(
        tf.keras.layers.RNN(cell, return_sequences=True)(inp))
    return tf.keras.Model(inp, out)


def models(steps, m):
    made = {name: parallel(steps, name, m) for name in CONVOLUTIONS}
    if steps <= KERAS_MAX_STEPS:
        made["keras_lmu"] = keras_lmu(steps, m)
    for model in made.values():
        model.compile(optimizer=tf.optimizers.Adam(1e-3),
                      loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True))
    return made


def time_lengths(lengths, m, rounds, repeats):
    rng = np.random.RandomState(0)
    out = {}
    for steps in lengths:
        x = rng.randn(m["batch"], steps, m["input_d"]).astype("float32")
        y = rng.randint(m["n_out"], size=(m["batch"], steps))
        median, times = time_training_steps(models(steps, m), x, y, rounds, repeats)
        out[str(steps)] = entry(median, times)
        print(steps, {k: f"{v * 1e3:.1f} ms" for k, v in median.items()},
              {k: round(v, 2) for k, v in out[str(steps)].items() if "_over_" in k},
              flush=True)
    return out


def entry(median, times):
    e = {"seconds_per_step": median, "all_seconds_per_step": times,
         "fastest": min(median, key=median.get)}
    for name in CONVOLUTIONS[1:]:
        e[f"blocks_over_{name}"] = median["blocks"] / median[name]
    if "keras_lmu" in median:
        for name in CONVOLUTIONS:
            e[f"{name}_over_keras_lmu"] = median[name] / median["keras_lmu"]
    return e


def arguments(argv=None):
    """The command line (``argv``, by default ``sys.argv``), checked."""
    parser = argument_parser(__doc__)
    parser.add_argument("--rounds", type=positive_int, default=3)
    return parse_args(parser, argv, tiny_overrides=["--rounds"])


def main():
    args = arguments()
    started = time.time()
    m, lengths, repeats = (
        (TINY["model"], TINY["lengths"], TINY["repeats"]) if args.tiny
        else (MODEL, LENGTHS, 3))
    rounds = 1 if args.tiny else args.rounds
    device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, TensorFlow "
                   f"{tf.__version__}, {device}",
        "config": dict(model=m, rounds=rounds, steps_per_timing=repeats,
                       keras_max_steps=KERAS_MAX_STEPS, tiny=bool(args.tiny)),
        "lengths": time_lengths(lengths, m, rounds, repeats),
        "seconds": time.time() - started,
    }
    write_results("parallel_convolution", results, args.results)


if __name__ == "__main__":
    main()
