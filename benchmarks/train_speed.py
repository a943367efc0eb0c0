"""Training speed of a psMNIST-shaped LMU: nengo_lmu in NengoDL against its peers.

Time per training step (one minibatch of 784-step sequences, order 256,
212 hidden units, memory_d 1, Adam, sparse cross-entropy) of

1. ``nengo_lmu``: `nengo_lmu.LMU` in `nengo_dl.Simulator`;
2. ``nengo_dl_example``: the network of
   ``nengo_dl.benchmarks.lmu(784, 1, native_nengo=True)``, NengoDL's LMU
   example built from Nengo objects;
3. ``keras_lmu``: keras-lmu's ``RNN(LMUCell)``, if keras-lmu is installed
   (a benchmark-only peer: ``pip install --no-deps keras-lmu==0.7.0``).

nengo_lmu is timed with the NengoDL settings we recommend for LMUs (the noop
planner and noop signal sorter, ``unroll_simulation=16``), and with NengoDL's
defaults, whose tree planner groups the LMU's operators into a slower
schedule (the results file holds both); NengoDL's example runs as published.

Three cell configurations: ``paper`` is keras-lmu's psMNIST example
(input_to_hidden, a SimpleRNN-like hidden layer with hidden->hidden weights
and bias); ``full`` switches every connection on, as NengoDL's example does;
``feedforward`` (input_to_hidden, a Dense ReLU hidden layer, no recurrence)
is the configuration that trains in parallel: ``nengo_lmu_parallel``
(`nengo_lmu.parallel.parallel_model`, last step only) against keras-lmu's
``RNN(LMUCell)``, its ``LMUFeedforward`` (``keras_lmu_fft``,
``keras_lmu_raw``) and nengo_lmu step by step in NengoDL. ``--configs``
times some of them only; the other configurations' figures in the results
file are kept (``configs_timed_together`` says which were timed in one run).
With ``feedforward``, also the end-to-end time of one epoch (build, compile,
fit; median of 3 rounds) of psDigits and of a 1000-step task, for the
parallel path, NengoDL step by step, and keras-lmu's RNN and fft forms.
The models are timed round-robin (each round times every model once) so that
machine load affects them alike; the median over rounds is reported, and ratios
against keras-lmu measured in the same run.

Usage::

    python benchmarks/train_speed.py [--batch 32 100] [--rounds 3] [--steps 4]
                                     [--threads INTER,INTRA] [--tiny] [--results DIR]

``--threads`` sets TensorFlow's inter- and intra-op thread pools for every
model alike (default: TensorFlow's choice). On the 2-core CPU machine,
``2,1`` made both nengo_lmu and keras-lmu faster per step than TensorFlow's
default, whose step times also jumped between runs.

``--tiny`` shrinks the sequences to 32 steps and nengo_lmu's and keras-lmu's
cells to order 8 and 8 units (NengoDL's example keeps its own 212 units and
order 256), one batch of 4, one round of one step: that it runs, not its times.

Writes ``benchmarks/results/train_speed.json``.
"""

import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import nengo  # noqa: E402
import nengo_dl  # noqa: E402
import nengo_dl.benchmarks  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import nengo_lmu  # noqa: E402
import nengo_lmu.dl  # noqa: E402
from common import (  # noqa: E402
    Distinct, argument_parser, parse_args, positive_int, read_results, thread_pools,
    write_results)

#: sequence length, memory order and hidden units of the timed models
SIZE = dict(steps=784, order=256, units=212)
CLASSES = 10
UNROLL = nengo_lmu.dl.RECOMMENDED_UNROLL
#: ``--tiny`` (see above); its steps must be a multiple of UNROLL
TINY = dict(size=dict(steps=32, order=8, units=8), batch=[4], rounds=1, steps=1)

CONFIGS = {
    "paper": dict(input_to_hidden=True, hidden_to_hidden=True),
    "full": dict(
        hidden_to_memory=True,
        memory_to_memory=True,
        input_to_hidden=True,
        hidden_to_hidden=True,
    ),
}
#: the feed-forward configuration (input_to_hidden, a Dense ReLU hidden layer),
#: which trains in parallel: nengo_lmu.parallel (last step only, Eq. 25)
#: against keras-lmu's RNN(LMUCell) and LMUFeedforward (fft and raw), and
#: nengo_lmu step by step
FEEDFORWARD = dict(input_to_hidden=True)
ALL_CONFIGS = ("paper", "full", "feedforward")


def compile_args():
    return dict(
        optimizer=tf.optimizers.Adam(1e-3),
        loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True),
    )


class NengoDLModel:
    """A NengoDL simulator around a psMNIST-shaped network, timed by fit()."""

    def __init__(self, net, batch, unroll=1):
        self.sim = nengo_dl.Simulator(
            net, minibatch_size=batch, unroll_simulation=unroll, progress_bar=False
        )
        self.sim.compile(**compile_args())
        self.batch = batch

    def fit(self, x, y):
        self.sim.fit(x, y[:, None, None], epochs=1, verbose=0)

    def close(self):
        self.sim.close()


def nengo_lmu_net(config, size, recommended=True):
    with nengo.Network(seed=0) as net:
        settings = dict(trainable=None, stateful=False, keep_history=False)
        if recommended:  # nengo_lmu's defaults: noop planner and sorter
            nengo_lmu.dl.configure_settings(**settings)
        else:
            nengo_dl.configure_settings(**settings)
        inp = nengo.Node(np.zeros(1))
        lmu = nengo_lmu.LMU(
            size["units"], size["order"], theta=size["steps"], **CONFIGS[config]
        )
        nengo.Connection(inp, lmu.input, synapse=None)
        out = nengo.Node(size_in=CLASSES)
        nengo.Connection(lmu.output, out, transform=nengo_dl.dists.Glorot(), synapse=None)
        nengo.Probe(out)
    return net


class KerasModel:
    """A Keras model, timed by fit()."""

    def __init__(self, model, batch):
        self.model, self.batch = model, batch
        self.model.compile(**compile_args())

    def fit(self, x, y):
        self.model.fit(x, y, batch_size=self.batch, epochs=1, verbose=0)

    def close(self):
        pass


def keras_classifier(lmu_layer, batch, size):
    """``lmu_layer`` between the sequence input and a dense readout."""
    return KerasModel(tf.keras.Sequential([
        tf.keras.layers.Input((size["steps"], 1), batch_size=batch), lmu_layer,
        tf.keras.layers.Dense(CLASSES),
    ]), batch)


def keras_lmu_model(config, batch, size):
    """keras-lmu's ``RNN(LMUCell)`` of a recurrent configuration (SimpleRNN hidden)."""
    import keras_lmu  # noqa: PLC0415

    flags = CONFIGS[config]
    cell = keras_lmu.LMUCell(
        memory_d=1,
        order=size["order"],
        theta=size["steps"],
        hidden_cell=tf.keras.layers.SimpleRNNCell(size["units"]),
        hidden_to_memory=flags.get("hidden_to_memory", False),
        memory_to_memory=flags.get("memory_to_memory", False),
        input_to_hidden=flags.get("input_to_hidden", False),
    )
    return keras_classifier(tf.keras.layers.RNN(cell), batch, size)


def feedforward_net(size):
    return nengo_lmu.lmu_model(
        CLASSES, seed=0, settings=dict(trainable=None, stateful=False, keep_history=False),
        units=size["units"], order=size["order"], theta=size["steps"],
        hidden_neuron_type=nengo.RectifiedLinear(), **FEEDFORWARD,
    )


def parallel_peer(batch, size):
    """nengo_lmu.parallel's model of the feed-forward network (last step only)."""
    from nengo_lmu.parallel import parallel_model  # noqa: PLC0415

    return KerasModel(
        parallel_model(feedforward_net(size), size["steps"], return_sequences=False), batch
    )


def keras_feedforward(batch, size, layer):
    """keras-lmu's ``RNN(LMUCell)`` (layer "rnn") or ``LMUFeedforward`` (conv
    mode "fft" or "raw") of the feed-forward configuration."""
    import keras_lmu  # noqa: PLC0415

    args = dict(memory_d=1, order=size["order"], theta=size["steps"],
                hidden_cell=tf.keras.layers.Dense(size["units"], activation="relu"),
                **FEEDFORWARD)
    if layer == "rnn":
        lmu = tf.keras.layers.RNN(keras_lmu.LMUCell(**args))
    else:
        lmu = keras_lmu.LMUFeedforward(conv_mode=layer, return_sequences=False, **args)
    return keras_classifier(lmu, batch, size)


def make_feedforward_models(batch, size):
    models = {
        "nengo_lmu_parallel[feedforward]": parallel_peer(batch, size),
        "nengo_lmu[feedforward]": NengoDLModel(feedforward_net(size), batch, unroll=UNROLL),
    }
    try:
        import keras_lmu  # noqa: F401, PLC0415
    except ImportError:
        return models
    for layer in ("rnn", "fft", "raw"):
        name = "keras_lmu[feedforward]" if layer == "rnn" else f"keras_lmu_{layer}[feedforward]"
        models[name] = keras_feedforward(batch, size, layer)
    return models


#: end-to-end epochs (build + compile + fit), feed-forward models: psDigits
#: (scikit-learn's digits as 64-step sequences) and a 1000-step task (random
#: sequences, random labels: the cost, not the learning)
EPOCH_TASKS = {
    "psdigits": dict(steps=64, order=64, units=128, examples=1280, batch=64),
    "1000 steps": dict(steps=1000, order=64, units=128, examples=256, batch=32),
}
TINY_EPOCH_TASKS = {
    "psdigits": dict(steps=64, order=8, units=8, examples=64, batch=32),
    "1000 steps": dict(steps=100, order=8, units=8, examples=32, batch=16),
}


def epoch_data(name, task, rng):
    if name == "psdigits":
        from nengo_lmu.datasets import ps_digits  # noqa: PLC0415

        x, y, _, _ = ps_digits()
        return x[: task["examples"]].astype(np.float32), y[: task["examples"]]
    x = rng.uniform(-1, 1, size=(task["examples"], task["steps"], 1)).astype(np.float32)
    return x, rng.randint(CLASSES, size=task["examples"])


def time_epoch(kind, task, x, y):
    """Seconds to build, compile and fit one epoch of ``kind``."""
    size = dict(steps=task["steps"], order=task["order"], units=task["units"])
    batch = task["batch"]
    start = time.perf_counter()
    if kind == "nengo_lmu_parallel":
        model = parallel_peer(batch, size)
    elif kind == "nengo_lmu":
        model = NengoDLModel(feedforward_net(size), batch,
                             unroll=nengo_lmu.dl.unroll_for(task["steps"]))
    else:  # "keras_lmu" (RNN) or "keras_lmu_fft"
        model = keras_feedforward(batch, size, "rnn" if kind == "keras_lmu" else "fft")
    model.fit(x, y)
    seconds = time.perf_counter() - start
    model.close()
    return seconds


def time_epochs(tasks, rounds, rng):
    """Median end-to-end epoch seconds per task and model, round-robin."""
    kinds = ["nengo_lmu_parallel", "nengo_lmu", "keras_lmu", "keras_lmu_fft"]
    results = {}
    for name, task in tasks.items():
        x, y = epoch_data(name, task, rng)
        times = {k: [] for k in kinds}
        for _ in range(rounds):
            for kind in kinds:
                times[kind].append(time_epoch(kind, task, x, y))
        median = {k: float(np.median(t)) for k, t in times.items()}
        fast = median["nengo_lmu_parallel"]
        results[name] = dict(
            task, seconds=median,
            **{f"{k}_over_nengo_lmu_parallel": median[k] / fast for k in kinds[1:]},
        )
        print(f"epoch, {name}: " + ", ".join(f"{k} {v:.1f} s" for k, v in median.items()))
    return results


def make_models(batch, size, configs):
    models = {}
    if "feedforward" in configs:
        models.update(make_feedforward_models(batch, size))
    for config in (c for c in CONFIGS if c in configs):
        models[f"nengo_lmu[{config}]"] = NengoDLModel(
            nengo_lmu_net(config, size), batch, unroll=UNROLL
        )
        models[f"nengo_lmu[{config}],nengo_dl_defaults"] = NengoDLModel(
            nengo_lmu_net(config, size, recommended=False), batch
        )
    if "full" in configs:
        models["nengo_dl_example[full]"] = NengoDLModel(
            nengo_dl.benchmarks.lmu(size["steps"], 1, native_nengo=True), batch
        )
    try:
        import keras_lmu  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        print("keras-lmu is not installed: skipping the keras-lmu peer")
    else:
        for config in (c for c in CONFIGS if c in configs):
            models[f"keras_lmu[{config}]"] = keras_lmu_model(config, batch, size)
    return models


def time_models(batch, rounds, steps, rng, size=SIZE, configs=ALL_CONFIGS):
    x = rng.uniform(0, 1, size=(batch * steps, size["steps"], 1)).astype(np.float32)
    y = rng.randint(CLASSES, size=batch * steps)
    models = make_models(batch, size, configs)
    for model in models.values():  # warm-up: graph building and compilation
        model.fit(x[:batch], y[:batch])
    times = {name: [] for name in models}
    for r in range(rounds):
        for name, model in models.items():
            start = time.perf_counter()
            model.fit(x, y)
            times[name].append((time.perf_counter() - start) / steps)
        print(f"  batch {batch}, round {r + 1}/{rounds} done")
    for model in models.values():
        model.close()
    return {name: float(np.median(t)) for name, t in times.items()}, times


def arguments(argv=None):
    """The command line (``argv``, by default ``sys.argv``), checked."""
    parser = argument_parser(__doc__)
    parser.add_argument("--batch", type=positive_int, nargs="+", action=Distinct,
                        default=[32, 100])
    parser.add_argument("--rounds", type=positive_int, default=3)
    parser.add_argument("--steps", type=positive_int, default=4,
                        help="training steps per timing")
    parser.add_argument(
        "--threads", type=thread_pools, default=None, metavar="INTER,INTRA",
        help="TensorFlow's thread pools (default: TensorFlow's choice)",
    )
    parser.add_argument("--configs", nargs="+", action=Distinct, default=list(ALL_CONFIGS),
                        choices=ALL_CONFIGS, help="configurations to time")
    return parse_args(parser, argv, tiny_overrides=["--batch", "--rounds", "--steps"])


def main():
    args = arguments()
    size = SIZE
    if args.tiny:
        size, args.batch = TINY["size"], TINY["batch"]
        args.rounds, args.steps = TINY["rounds"], TINY["steps"]
    if args.threads:  # before TensorFlow runs anything
        inter, intra = args.threads
        tf.config.threading.set_inter_op_parallelism_threads(inter)
        tf.config.threading.set_intra_op_parallelism_threads(intra)

    rng = np.random.RandomState(0)
    results = {
        "machine": f"{platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, TensorFlow {tf.__version__}, CPU",
        "model": size,
        "rounds": args.rounds,
        "steps_per_timing": args.steps,
        "tensorflow_threads (inter, intra)": (
            ",".join(map(str, args.threads)) if args.threads else "default"),
        "batches": {},
    }
    for batch in args.batch:
        median, all_times = time_models(
            batch, args.rounds, args.steps, rng, size, args.configs)
        entry = {"seconds_per_step": median, "all_seconds_per_step": all_times}
        for config in args.configs:
            peer = median.get(f"keras_lmu[{config}]")
            if peer:
                entry[f"nengo_lmu_over_keras_lmu[{config}]"] = (
                    median[f"nengo_lmu[{config}]"] / peer
                )
        if "feedforward" in args.configs:
            fast = median["nengo_lmu_parallel[feedforward]"]
            for peer in ("keras_lmu", "keras_lmu_fft", "keras_lmu_raw", "nengo_lmu"):
                if f"{peer}[feedforward]" in median:
                    entry[f"{peer}_over_nengo_lmu_parallel[feedforward]"] = (
                        median[f"{peer}[feedforward]"] / fast
                    )
        if "full" in args.configs:
            entry["nengo_dl_example_over_nengo_lmu[full]"] = (
                median["nengo_dl_example[full]"] / median["nengo_lmu[full]"]
            )
        if "keras_lmu[full]" in median:
            entry["nengo_dl_example_over_keras_lmu[full]"] = (
                median["nengo_dl_example[full]"] / median["keras_lmu[full]"]
            )
        results["batches"][str(batch)] = entry

        print(f"\nbatch {batch}: median seconds per training step")
        for name, t in median.items():
            print(f"  {name:44s} {t:7.3f}")
        for key, value in entry.items():
            if "_over_" in key:
                print(f"  {key:44s} {value:5.2f}x")

    if "feedforward" in args.configs:
        results["epochs"] = time_epochs(
            TINY_EPOCH_TASKS if args.tiny else EPOCH_TASKS, 1 if args.tiny else 3, rng)
    previous = read_results("train_speed", args.results)
    # (files written before "model" was recorded timed the full-size models)
    if set(args.configs) != set(ALL_CONFIGS) and previous and previous.get("model", SIZE) == size:
        # some configurations only: keep the others' figures (each ratio is
        # still between models timed together, in one run)
        for batch, entry in results["batches"].items():
            old = previous["batches"].get(batch, {})
            for key in ("seconds_per_step", "all_seconds_per_step"):
                entry[key] = dict(old.get(key, {}), **entry[key])
            for key, value in old.items():
                entry.setdefault(key, value)
        # the groups timed before, less the configurations this run replaced
        earlier = previous.get("configs_timed_together", [["paper", "full"]])
        earlier = [[c for c in group if c not in args.configs] for group in earlier]
        results["configs_timed_together"] = [g for g in earlier if g] + [
            list(args.configs)
        ]
    else:
        results["configs_timed_together"] = [list(args.configs)]
    print()
    write_results("train_speed", results, args.results)


if __name__ == "__main__":
    main()
