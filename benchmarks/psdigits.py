"""psDigits: a rate LMU trained through NengoDL, test accuracy over several seeds.

psDigits is scikit-learn's 8x8 digits as 64-step pixel sequences in a fixed
random order (`nengo_lmu.datasets.ps_digits`): the offline analogue of
psMNIST. The model is the paper's psMNIST cell at a smaller size: an LMU
(``input_to_hidden``, tanh hidden layer) and a dense readout of the final
hidden state. Each seed draws new initial weights and a new train/test split;
the pixel permutation is fixed.

Usage::

    python benchmarks/psdigits.py [--seeds 0 1 2 3 4] [--epochs 60] [--parallel]
                                  [--params DIR] [--tiny] [--results DIR]

Writes ``benchmarks/results/psdigits.json`` (and each seed's trained
parameters to ``benchmarks/out/`` for the spiking benchmarks). With
``--parallel`` the same model trains through `nengo_lmu.parallel` (the
memory of the whole sequence at once; the cell is feed-forward) and its
frozen network is tested in NengoDL: ``psdigits_parallel.json`` (no
parameters are saved: ``--params`` serves the step-by-step runs).
"""

import os
import pathlib
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import nengo_dl  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import nengo_lmu  # noqa: E402
import nengo_lmu.dl  # noqa: E402
from common import (  # noqa: E402
    Distinct, argument_parser, check_folder, folder_path, parse_args, positive_int,
    random_seed, write_results)
from nengo_lmu.datasets import ps_digits  # noqa: E402

HERE = pathlib.Path(__file__).parent
MODEL = dict(units=128, order=64, theta=64.0, input_to_hidden=True)
#: ``--tiny``: one seed, one epoch of a 16-unit, order-8 model on 256 digits,
#: tested on 64 (whole minibatches)
TINY = dict(seeds=[0], epochs=1, model=dict(MODEL, units=16, order=8), examples=(256, 64))


def build(seed, neuron_type=None, model=None):
    kwargs = dict(MODEL if model is None else model)
    if neuron_type is not None:
        kwargs["hidden_neuron_type"] = neuron_type
    return nengo_lmu.lmu_model(
        10, seed=seed, settings=dict(stateful=False, keep_history=False), **kwargs
    )


def split(seed, batch, examples=None):
    """The seed's train/test split, and how many of each fill whole minibatches
    (at most ``examples = (train, test)``)."""
    x_train, y_train, x_test, y_test = ps_digits(split_seed=seed)
    n = len(x_train) // batch * batch
    n_test = len(x_test) // batch * batch
    if examples is not None:
        n, n_test = min(n, examples[0]), min(n_test, examples[1])
    return x_train, y_train, x_test, y_test, n, n_test


def figures(seed, result, train_accuracy, n_test, seconds):
    """One run's entry of the results file."""
    return {
        "seed": seed,
        "test_accuracy": float(result["probe_accuracy"]),
        "train_accuracy": float(train_accuracy[-1]),
        "test_examples": n_test,
        "train_seconds": seconds,
    }


def train(seed, epochs, batch=64, lr=3e-3, neuron_type=None, save=None, model=None,
          examples=None):
    """Train one model; returns its figures and the network, trained values frozen in.

    ``model``: `nengo_lmu.lmu_model` arguments (default `MODEL`); ``examples``:
    at most (train, test) digits, whole minibatches (default: all of them).
    """
    x_train, y_train, x_test, y_test, n, n_test = split(seed, batch, examples)
    net = build(seed, neuron_type, model)
    # the seed reproduces the run: the network's seed draws the initial weights,
    # and NengoDL reseeds TensorFlow's global generator (minibatch shuffling)
    # with the simulator's seed, the network's + 1, as it builds; this covers
    # any TensorFlow draw made before that build
    tf.random.set_seed(seed)
    with nengo_dl.Simulator(
        net,
        dt=1.0,
        minibatch_size=batch,
        unroll_simulation=nengo_lmu.dl.RECOMMENDED_UNROLL,
        progress_bar=False,
    ) as sim:
        schedule = tf.keras.optimizers.schedules.CosineDecay(lr, epochs * (n // batch))
        sim.compile(
            optimizer=tf.optimizers.Adam(schedule),
            loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        start = time.perf_counter()
        history = sim.fit(
            {net.inp: x_train[:n]},
            {net.probe: y_train[:n, None, None]},
            epochs=epochs,
            verbose=0,
        )
        seconds = time.perf_counter() - start
        result = sim.evaluate(
            {net.inp: x_test[:n_test]}, {net.probe: y_test[:n_test, None, None]}, verbose=0
        )
        if save is not None:
            sim.save_params(save)
        sim.freeze_params(net)
    return net, figures(seed, result, history.history["probe_accuracy"], n_test, seconds)


def train_parallel(seed, epochs, batch=64, lr=3e-3, model=None, examples=None):
    """`train`, through `nengo_lmu.parallel` (the model is feed-forward): the
    same network, data, optimizer and schedule; the trained weights frozen
    into the network, whose test accuracy NengoDL then measures."""
    from nengo_lmu.parallel import freeze_params, parallel_model  # noqa: PLC0415

    x_train, y_train, x_test, y_test, n, n_test = split(seed, batch, examples)
    net = build(seed, model=model)
    tf.keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    keras_model = parallel_model(net, x_train.shape[1], return_sequences=False)
    schedule = tf.keras.optimizers.schedules.CosineDecay(lr, epochs * (n // batch))
    keras_model.compile(
        optimizer=tf.optimizers.Adam(schedule),
        loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = keras_model.fit(x_train[:n], y_train[:n], batch_size=batch, epochs=epochs,
                              verbose=0)
    seconds = time.perf_counter() - start
    freeze_params(keras_model, net)
    with nengo_dl.Simulator(net, dt=1.0, minibatch_size=batch, progress_bar=False) as sim:
        sim.compile(loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True),
                    metrics=["accuracy"])
        result = sim.evaluate(
            {net.inp: x_test[:n_test]}, {net.probe: y_test[:n_test, None, None]}, verbose=0
        )
    return net, figures(seed, result, history.history["accuracy"], n_test, seconds)


def arguments(argv=None):
    """The command line (``argv``, by default ``sys.argv``), checked."""
    parser = argument_parser(__doc__)
    parser.add_argument("--seeds", type=random_seed, nargs="+", action=Distinct,
                        default=[0, 1, 2, 3, 4])
    parser.add_argument("--epochs", type=positive_int, default=60)
    parser.add_argument(
        "--params", metavar="DIR", type=folder_path, default=HERE / "out",
        help="folder for each seed's trained parameters (default: benchmarks/out)",
    )
    parser.add_argument(
        "--parallel", action="store_true",
        help="train through nengo_lmu.parallel (writes psdigits_parallel.json)",
    )
    args = parse_args(parser, argv, tiny_overrides=["--seeds", "--epochs"])
    check_folder(parser, "--params", args.params)
    return args


def main():
    args = arguments()
    model, examples = MODEL, None
    if args.tiny:
        args.seeds, args.epochs = TINY["seeds"], TINY["epochs"]
        model, examples = TINY["model"], TINY["examples"]

    args.params.mkdir(parents=True, exist_ok=True)
    runs = []
    for seed in args.seeds:
        if args.parallel:
            _, run = train_parallel(seed, args.epochs, model=model, examples=examples)
        else:
            _, run = train(seed, args.epochs, save=args.params / f"psdigits_seed{seed}",
                           model=model, examples=examples)
        runs.append(run)
        print(
            f"seed {seed}: test accuracy {run['test_accuracy']:.4f} "
            f"(train {run['train_accuracy']:.4f}, {run['train_seconds']:.0f} s)",
            flush=True,
        )
    acc = np.array([r["test_accuracy"] for r in runs])
    summary = {
        "model": model,
        "epochs": args.epochs,
        "test_accuracy_mean": float(acc.mean()),
        "test_accuracy_std": float(acc.std()),
        "test_accuracy_min": float(acc.min()),
        "runs": runs,
    }
    print(
        f"psDigits test accuracy over {len(runs)} seeds: {acc.mean():.4f} "
        f"+- {acc.std():.4f} (min {acc.min():.4f})"
    )
    if args.parallel:
        summary["training"] = "nengo_lmu.parallel (last step, Eq. 25)"
    write_results("psdigits_parallel" if args.parallel else "psdigits", summary, args.results)


if __name__ == "__main__":
    main()
