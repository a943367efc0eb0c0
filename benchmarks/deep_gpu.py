"""Deep LMUs on the GPU: a parallel stack of feed-forward LMUs against keras-lmu's.

For each depth (1, 2, 3 layers of the same width, order and window), the
time of one training step (``train_on_batch``: forward, gradient and Adam
update of one minibatch, a classification of the last step) of

* ``nengo_lmu_parallel``: `nengo_lmu.parallel.parallel_model` of an
  ``lmu_model(layers=[...])`` stack (every layer but the last over the whole
  sequence in blocks, the last by the single last-step contraction);
* ``keras_lmu``: keras-lmu 0.7's ``LMUFeedforward`` layers stacked, the
  same shape (its FFT convolution over the whole sequence in every layer);

timed round-robin (each round times every model once, the median of
``--rounds`` rounds), with the ratio of the two medians of the same run
(``nengo_lmu_parallel_over_keras_lmu``: ours over keras-lmu's). It runs on
the GPU TensorFlow finds (its name is recorded), else on the CPU.

Usage::

    python benchmarks/deep_gpu.py [--rounds 5] [--batch 64] [--tiny] [--results DIR]

Writes ``benchmarks/results/deep_gpu.json``.
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

#: every layer: ReLU units, order, window (in steps); steps per sequence
MODEL = dict(units=128, order=32, theta=250.0, steps=1000, n_out=10)
DEPTHS = [1, 2, 3]
#: training steps timed together (their mean is one timing)
REPEATS = 3
#: ``--tiny``: short sequences, a small model, two depths, one round of one step
TINY = dict(model=dict(units=8, order=4, theta=8.0, steps=16, n_out=3), depths=[1, 2],
            batch=2, repeats=1)


def parallel_stack(depth, m):
    import nengo_lmu  # noqa: PLC0415
    from nengo_lmu.parallel import parallel_model  # noqa: PLC0415

    net = nengo_lmu.lmu_model(
        m["n_out"], seed=0, settings=dict(stateful=False, keep_history=False),
        layers=[{}] * depth, units=m["units"], order=m["order"], theta=m["theta"],
        hidden_neuron_type=nengo.RectifiedLinear(),
    )
    return parallel_model(net, m["steps"], return_sequences=False)


def keras_stack(depth, m):
    import keras_lmu  # noqa: PLC0415

    inp = x = tf.keras.Input((m["steps"], 1))
    for k in range(depth):
        x = keras_lmu.LMUFeedforward(
            memory_d=1, order=m["order"], theta=m["theta"],
            hidden_cell=tf.keras.layers.Dense(m["units"], activation="relu"),
            return_sequences=k < depth - 1,
        )(x)
    return tf.keras.Model(inp, tf.keras.layers.Dense(m["n_out"])(x))


def time_depths(depths, m, batch, rounds, repeats):
    rng = np.random.RandomState(0)
    x = rng.randn(batch, m["steps"], 1).astype("float32")
    y = rng.randint(m["n_out"], size=batch)
    out = {}
    for depth in depths:
        tf.keras.utils.set_random_seed(0)
        made = {"nengo_lmu_parallel": parallel_stack(depth, m), "keras_lmu": keras_stack(depth, m)}
        for model in made.values():
            model.compile(optimizer=tf.optimizers.Adam(1e-3),
                          loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True))
        median, times = time_training_steps(made, x, y, rounds, repeats)
        out[str(depth)] = {
            "seconds_per_step": median,
            "all_seconds_per_step": times,
            "nengo_lmu_parallel_over_keras_lmu":
                median["nengo_lmu_parallel"] / median["keras_lmu"],
        }
        print(f"{depth} layer(s):", {k: f"{v * 1e3:.2f} ms" for k, v in median.items()},
              f"ours / keras-lmu {out[str(depth)]['nengo_lmu_parallel_over_keras_lmu']:.3f}",
              flush=True)
    return out


def device_name():
    """The GPU TensorFlow runs on (its name where TensorFlow knows it), else "CPU"."""
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "CPU"
    details = tf.config.experimental.get_device_details(gpus[0])
    return f"GPU: {details.get('device_name', gpus[0].name)} ({len(gpus)} visible)"


def arguments(argv=None):
    """The command line (``argv``, by default ``sys.argv``), checked."""
    parser = argument_parser(__doc__)
    parser.add_argument("--rounds", type=positive_int, default=5)
    parser.add_argument("--batch", type=positive_int, default=64)
    return parse_args(parser, argv, tiny_overrides=["--rounds", "--batch"])


def main():
    args = arguments()
    started = time.time()
    if args.tiny:
        m, depths, batch, repeats, rounds = (TINY["model"], TINY["depths"], TINY["batch"],
                                             TINY["repeats"], 1)
    else:
        m, depths, batch, repeats, rounds = MODEL, DEPTHS, args.batch, REPEATS, args.rounds
    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, TensorFlow "
                   f"{tf.__version__}",
        "device": device_name(),
        "config": dict(model=m, depths=depths, batch=batch, rounds=rounds,
                       steps_per_timing=repeats, tiny=bool(args.tiny)),
        "depths": time_depths(depths, m, batch, rounds, repeats),
        "seconds": time.time() - started,
    }
    write_results("deep_gpu", results, args.results)


if __name__ == "__main__":
    main()
