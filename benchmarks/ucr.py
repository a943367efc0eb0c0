"""Real time series from the UCR/UEA archive: NengoDL training to the Loihi emulator.

For each dataset (read offline through `nengo_lmu.datasets.ucr`) and seed:

* a ReLU LMU (``input_to_hidden``; window = the series length, memory order
  ``min(order, steps)``) trained through NengoDL on the default train split,
  sequences prepared by `nengo_lmu.dl.prepare_sequences` (unroll chosen, or
  leading zeros), rate accuracy on the whole test split;
* keras-lmu 0.7's ``RNN(LMUCell)`` of the same size (Dense ReLU hidden cell,
  ``input_to_hidden``), trained on the same data with the same optimiser,
  batch and epochs in the same run; the training wall time of both
  (build, compile and fit), and their ratio;
* the same model trained in parallel (`nengo_lmu.parallel`, the same
  data, optimiser, batch and epochs): its accuracy and training time;
* the NengoDL-trained network converted by `nengo_lmu.spiking.to_spiking`
  at its defaults (``--presentation`` s per sample, calibrated on the
  training inputs: host values scaled into Loihi's range, firing rates from
  the hidden activity for the simulator it is converted for, ``simulator``;
  the memory sampled once per presentation, the last output averaged over
  `READ_WINDOW` presentations), run spiking on the reference simulator
  (converted for ``"nengo"``) and on the nengo-loihi emulator
  (`nengo_lmu.loihi.Simulator`, converted for ``"loihi"``) on
  ``--test`` test series (all of them by default; a subset is spread evenly
  over the test split, `test_subset`), with synaptic events per series.

With ``--per-step`` every peer is trained on the label at every step (the
loss of each step, averaged) and classifies a series by its readout averaged
over the series, rate and spiking alike (``readout: "mean"``), instead of by
the readout after the last step (``"last"``): the configuration for problems
whose class shows anywhere in a series (an activity) rather than in its
whole shape. JapaneseVowels' shorter series, padded with leading zeros by
`ucr` for every peer, are then read on those zeros too, in the loss and in
the mean (each model's answer to zero input, which trained biases can make
nonzero). The few leading zeros `prepare_sequences` adds for NengoDL alone
(ArrowHead 251 -> 256 steps, OSULeaf 427 -> 432) are weighted 0 in its loss
and left out of its mean, which covers the series' own steps as every other
peer's does.

With ``--layers N`` (N > 1) every peer is a stack of N such layers
(`depth`), each of the same width (``units``), order and window (the series
length): nengo_lmu's ``lmu_model(layers=[...])``, each layer's hidden
sequence the next layer's input (through NengoDL and in parallel; the ratio
of the two training times, ``parallel_over_nengo_dl_train_time``, is of one
run); keras-lmu's ``LMU`` layers stacked, the same shape (without recurrence
it runs each as ``LMUFeedforward``, its convolution over the whole series;
every layer but the last returns its sequence); and the NengoDL-trained
stack converted by the same `spiking_conversions`. There the first layer's
memory takes the held samples; every layer above runs continuously on the
filtered spikes of the layer below, so the last output is one reading
(no window to average over, ``read_window_presentations`` 0). The synaptic
events per series are summed over every layer's hidden neurons (each
layer's own under ``synaptic_events_per_layer``), and the spikes and
synaptic operations of every stage of the cost report under
``stages_per_series``. One uniform stack (rather than windows tuned per layer)
needs nothing of a dataset but its length, so the same rule serves every one.
With ``--windows F1 .. FN`` (one per layer) layer k's window is the share Fk
of the series and its order ``min(order, steps)`` in the same proportion
(`layer_shapes`): ``--layers 2 --windows 1/8 1`` reads local features of
an eighth of the series (a first layer like a convolution's kernel) over
the whole series in the second, again a rule of the length alone; keras-lmu's
stack gets the same windows and orders. Its file's name ends in
``_windows1_8-1``.

With ``--channel-memories`` each peer has a memory channel per input
dimension (``memory_d = input_d``, `memory_d`): nengo_lmu's input encoders
start at `nengo_lmu.measure.channel_encoders` of the training series (each
dimension at unit variance), keras-lmu's at its default Glorot-uniform mix.
It runs the multi-dimensional datasets (`MULTIVARIATE`) unless
``--datasets`` names others; for a series of one dimension the model is the
default one, but for its encoder, 1 / std.

Spreads are the population standard deviation over seeds (ddof = 0).
With ``--jobs N``, N runs (dataset and seed) go at once, each in its own
process; every dataset's entry records it (``concurrent_runs``): the
training times of a run then share the machine with another run's work, so
their ratios scatter more, while the two peers of a ratio are still timed
in the same process one after the other. The results file is read again
before each write and added to where its settings (``config``) are the
same, so datasets may also run in separate invocations at once.
Published anchors, test accuracy on the default split (resample 0), are
written beside them (``published``; `PUBLISHED_SOURCES` says where each
comes from), and so is the share of each dataset's training series that
the model's memory keeps in its final state (``retained_energy``:
`nengo_lmu.legendre.retained_energy` at the model's order and window,
beside white noise's share; none for a multi-dimensional series, whose
learned mix into the one memory channel it does not describe): the part of
a series its final state determines, not which part the classes need.

Usage::

    python benchmarks/ucr.py [--datasets ArrowHead ...] [--seeds 0 1 2 3 4]
                             [--test N] [--jobs N] [--per-step]
                             [--channel-memories] [--layers N]
                             [--windows F1 .. FN] [--tiny]
                             [--results DIR]

Writes ``benchmarks/results/ucr.json`` (`results_name`: ``ucr_per_step.json``
with ``--per-step``, ``ucr_channels.json`` with ``--channel-memories``,
``ucr_channels_per_step.json`` with both; ``ucr_layers2.json`` with
``--layers 2``, the suffix after the others').
"""

import argparse
import concurrent.futures
import contextlib
import fractions
import multiprocessing
import os
import signal
import sys
import time
import traceback
import types
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import nengo  # noqa: E402
import numpy as np  # noqa: E402

from common import (  # noqa: E402
    Distinct, add_results, argument_parser, parse_args, positive_int, presentation_time,
    random_seed, spiking_conversions)

#: (the quick ones first: results are written after each dataset)
DATASETS = ["BasicMotions", "JapaneseVowels", "ArrowHead", "OSULeaf", "ACSF1"]

#: Published test accuracy on the default train/test split (None: not found)
PUBLISHED = {
    "ArrowHead": {"HC2": 0.8742857142857143, "InceptionTime": 0.8457142857142858},
    "OSULeaf": {"HC2": 0.9669421487603306, "InceptionTime": 0.9421487603305784},
    "ACSF1": {"HC2": 0.93, "InceptionTime": 0.92},
    "BasicMotions": {"HC2": None, "InceptionTime": 1.0},
    "JapaneseVowels": {"HC2": None, "InceptionTime": 0.9918918918918921},
}
PUBLISHED_SOURCES = {
    "HC2": (
        "Middlehurst, Schaefer and Bagnall (2024), Bake off redux, Data Mining and "
        "Knowledge Discovery 38: its results file HC2_TESTFOLDS.csv, column 0 (the "
        "default split), as shipped in aeon (aeon/benchmarking/example_results/"
        "classification/accuracy/HC2_TESTFOLDS.csv); univariate only, so none for "
        "BasicMotions and JapaneseVowels"
    ),
    "InceptionTime": (
        "Ismail Fawaz et al., InceptionTime (2020): the authors' repository "
        "hfawaz/InceptionTime, results-InceptionTime-128.csv (univariate, "
        "UCRArchive_2018, iteration 0) and results-mts.csv (BasicMotions, "
        "JapaneseVowels; posted in the repository, not in the paper)"
    ),
}
#: the series of several dimensions, those ``--channel-memories`` runs by default
MULTIVARIATE = ("BasicMotions", "JapaneseVowels")
#: the model and training of every dataset (epochs scaled to its size)
MODEL = dict(units=128, order=64)
TRAIN = dict(batch=16, lr=1e-3, epochs=dict(default=40, ACSF1=30, OSULeaf=40))
#: ``--tiny``: one small dataset, one seed, a small model, two epochs, 4 test series
TINY = dict(
    datasets=["BasicMotions"], seeds=[0], model=dict(units=16, order=8), epochs=2,
    test=4, train=16,
)


def build_network(n_classes, seed, model, x, per_step=False):
    """The ReLU LMU classifier of every run on training series ``x`` (window =
    the series length; its probe keeps every step's readout where the loss is
    on every step). With ``model["memory_d"] == "input_d"`` each input
    dimension has its own memory channel, the encoders starting at
    `nengo_lmu.measure.channel_encoders` of ``x``; else one channel, encoders 1."""
    import nengo_lmu  # noqa: PLC0415
    from nengo_lmu.measure import channel_encoders  # noqa: PLC0415

    steps, dims = x.shape[1:]
    channels = {}
    if channel_memories(model):
        channels = dict(memory_d=dims, input_encoders_init=channel_encoders(x))
    stack = {}
    if depth(model) > 1:  # (the input's channels: the first layer's only)
        layers = [dict(order=order, theta=theta) for order, theta in layer_shapes(model, steps)]
        layers[0].update(channels)
        stack, channels = dict(layers=layers), {}
    (order, theta), *_ = layer_shapes(model, steps)  # (one layer: its own window)
    return nengo_lmu.lmu_model(
        n_classes, seed=seed, settings=dict(stateful=False, keep_history=per_step),
        units=model["units"], order=order, theta=theta,
        input_d=dims, hidden_neuron_type=nengo.RectifiedLinear(), input_to_hidden=True,
        **channels, **stack,
    )


def stack_model(model, windows):
    """``model`` as a stack of ``len(windows)`` layers of those windows (shares
    of the series): the keys `build_network` reads, none for one layer of the
    whole series (the model, and its file, as before)."""
    if len(windows) > 1:
        model = dict(model, layers=len(windows))
    if any(w != 1 for w in windows):
        model = dict(model, windows=[float(w) for w in windows])
    return model


def layer_shapes(model, steps):
    """Each layer's ``(order, theta)`` for series of ``steps`` steps: its window
    the fraction ``model["windows"]`` of the series (default: all of it), its
    order ``min(order, steps)`` in the same proportion (at least 1), so that
    every layer has as many steps of its window per Legendre order."""
    order = min(model["order"], steps)
    windows = model.get("windows", [1.0] * depth(model))
    return [(max(1, round(order * w)), float(steps) * w) for w in windows]


def depth(model):
    """The layers of ``model`` (``--layers``; 1 without ``"layers"``)."""
    return model.get("layers", 1)


def channel_memories(model):
    """Whether ``model`` has a memory channel per input dimension (``--channel-memories``)."""
    return model.get("memory_d") == "input_d"


def memory_d(model, dims):
    """The number of memory channels of ``model`` for inputs of ``dims`` dimensions."""
    return dims if channel_memories(model) else 1


def labels(y, steps, per_step):
    """The training targets: each series' label, or (``per_step``) its label at
    each of ``steps`` steps."""
    return np.repeat(y[:, None], steps, axis=1) if per_step else y


def scores(out, per_step):
    """Each series' class scores from its readout ``out``: after the last step
    (a 2-D ``out`` holds only that step), or (``per_step``) averaged over the
    series."""
    if per_step:
        if out.ndim != 3:
            raise ValueError(f"a mean over steps needs (series, steps, classes), not {out.shape}")
        return out.mean(axis=1)
    return out[:, -1] if out.ndim == 3 else out


def train_nengo_lmu(x, y, x_test, n_classes, seed, model, epochs, batch, lr, per_step):
    import nengo_dl  # noqa: PLC0415
    import tensorflow as tf  # noqa: PLC0415

    from nengo_lmu.dl import prepare_sequences  # noqa: PLC0415

    tf.keras.utils.set_random_seed(seed)
    steps = x.shape[1]
    start = time.perf_counter()
    net = build_network(n_classes, seed, model, x, per_step)
    unroll, xp = prepare_sequences(x, network=net)
    _, xtp = prepare_sequences(x_test, network=net)
    with nengo_dl.Simulator(
        net, dt=1.0, minibatch_size=batch, unroll_simulation=unroll, progress_bar=False
    ) as sim:
        sim.compile(
            optimizer=tf.optimizers.Adam(lr),
            loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        # NengoDL needs whole minibatches: every series, and enough others drawn
        # again to fill the last one (keras-lmu trains on the same series)
        rng = np.random.RandomState(seed)
        order = np.concatenate([rng.permutation(len(xp)), rng.permutation(len(xp))])
        order = order[: -(-len(xp) // batch) * batch]
        target = labels(y[order], xp.shape[1], per_step).reshape(len(order), -1, 1)
        weight = {}
        if per_step:  # no loss on the leading zeros prepare_sequences added
            weight["sample_weight"] = np.ones(target.shape[:2])
            weight["sample_weight"][:, : xp.shape[1] - steps] = 0
        sim.fit(xp[order], {net.probe: target}, epochs=epochs, verbose=0, **weight)
        seconds = time.perf_counter() - start
        pad = -len(xtp) % batch
        padded = np.concatenate([xtp, np.zeros((pad,) + xtp.shape[1:])])
        out = sim.predict(padded, verbose=0)[net.probe][: len(xtp)]
        if per_step:  # the series' own steps (not those prepare_sequences added)
            out = out[:, xtp.shape[1] - steps:]
        sim.freeze_params(net)
    return net, scores(out, per_step).argmax(-1), seconds


def train_keras_lmu(x, y, x_test, n_classes, seed, model, epochs, batch, lr, per_step):
    import keras_lmu  # noqa: PLC0415
    import tensorflow as tf  # noqa: PLC0415

    tf.keras.utils.set_random_seed(seed)
    steps, dims = x.shape[1:]
    start = time.perf_counter()
    inp = tf.keras.Input((steps, dims))
    layer = dict(hidden_to_memory=False, memory_to_memory=False, input_to_hidden=True)
    shapes = layer_shapes(model, steps)
    if depth(model) == 1:
        cell = keras_lmu.LMUCell(
            memory_d=memory_d(model, dims),
            hidden_cell=tf.keras.layers.Dense(model["units"], activation="relu"),
            order=shapes[0][0], theta=shapes[0][1], **layer,
        )
        rnn = tf.keras.layers.RNN(cell, return_sequences=per_step)
        hidden = rnn(inp)
    else:  # a stack of LMU layers (each an LMUFeedforward: no recurrence)
        hidden = inp
        for k in range(depth(model)):
            hidden = keras_lmu.LMU(
                memory_d=memory_d(model, dims) if k == 0 else 1,
                hidden_cell=tf.keras.layers.Dense(model["units"], activation="relu"),
                return_sequences=per_step or k < depth(model) - 1,
                order=shapes[k][0], theta=shapes[k][1], **layer,
            )(hidden)
    out = tf.keras.layers.Dense(n_classes)(hidden)  # (per step: at every step)
    keras_model = tf.keras.Model(inp, out)
    keras_model.compile(
        optimizer=tf.optimizers.Adam(lr),
        loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    keras_model.fit(x, labels(y, steps, per_step), batch_size=batch, epochs=epochs,
                    verbose=0, shuffle=True)
    seconds = time.perf_counter() - start
    out = keras_model.predict(x_test, batch_size=64, verbose=0)
    return scores(out, per_step).argmax(-1), seconds


def train_parallel(x, y, x_test, n_classes, seed, model, epochs, batch, lr, per_step):
    """The model of `train_nengo_lmu`, trained through `nengo_lmu.parallel`:
    predicted classes and training seconds (`fit_parallel`)."""
    _, keras_model, seconds = fit_parallel(x, y, n_classes, seed, model, epochs,
                                           batch, lr, per_step)
    return scores(keras_model.predict(x_test, verbose=0), per_step).argmax(-1), seconds


def fit_parallel(x, y, n_classes, seed, model, epochs, batch, lr, per_step=False):
    """`build_network` trained through `nengo_lmu.parallel`: the network (not
    yet frozen), its Keras model and the seconds it took."""
    import tensorflow as tf  # noqa: PLC0415

    from nengo_lmu.parallel import parallel_model  # noqa: PLC0415

    tf.keras.utils.set_random_seed(seed)
    steps = x.shape[1]
    start = time.perf_counter()
    net = build_network(n_classes, seed, model, x, per_step)
    keras_model = parallel_model(net, steps, return_sequences=per_step)
    keras_model.compile(
        optimizer=tf.optimizers.Adam(lr),
        loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    keras_model.fit(x, labels(y, steps, per_step), batch_size=batch, epochs=epochs,
                    verbose=0, shuffle=True)
    return net, keras_model, time.perf_counter() - start


def spiking(conv, net, simulator, x, y, rate_pred, per_step, **kwargs):
    from nengo_lmu.loihi import HostInputSaturationWarning  # noqa: PLC0415

    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", HostInputSaturationWarning)
        out, cost = conv.run(
            simulator, conv.find(net.inp, net), x, conv.find(net.probe, net),
            parallel=10, **kwargs,
        )
    pred = scores(out, per_step).argmax(-1)
    layers = {str(k): float(cost[k]["hidden_synaptic_events"]) for k in sorted(cost)}
    deep = {}
    if len(layers) > 1:  # (a stack: each layer's own, which the total sums)
        deep["synaptic_events_per_layer"] = layers
    return {
        "accuracy": float(np.mean(pred == y)),
        "agreement": float(np.mean(pred == rate_pred)),
        "rate_accuracy_same_series": float(np.mean(rate_pred == y)),
        "series": int(len(y)),
        # every layer's hidden neurons (one layer: cost[0]'s)
        "synaptic_events_per_series": sum(layers.values()),
        **deep,
        # what a series costs (nengo_lmu.cost.InferenceCost), as measured here
        "cost_per_series": cost.totals(("loihi", "spinnaker", "spinnaker2")),
        "stages_per_series": {
            name: {key: float(stage[key]) for key in ("spikes", "synaptic_ops")}
            for name, stage in cost.stages.items()
        },
        "host_input_saturated": any(
            issubclass(w.category, HostInputSaturationWarning) for w in caught
        ),
        "seconds": time.perf_counter() - start,
    }


def dataset_and_training(name, args, model, epochs):
    """Dataset ``name`` as ``(x, y, x_test, y_test)`` (the first ``args.train``
    training series), its number of classes, and the training arguments every
    peer gets (``train_*(x, y, x_test, n_classes, seed, **those)``)."""
    from nengo_lmu.datasets import ucr  # noqa: PLC0415

    x, y, x_test, y_test = ucr(name)
    if args.train:
        x, y = x[: args.train], y[: args.train]
    n_classes = int(max(y.max(), y_test.max()) + 1)
    common = dict(model=model, epochs=epochs, batch=TRAIN["batch"], lr=TRAIN["lr"],
                  per_step=args.per_step)
    return (x, y, x_test, y_test), n_classes, common


def run(name, seed, args, model, epochs):
    from nengo_lmu.loihi import Simulator  # noqa: PLC0415

    (x, y, x_test, y_test), n_classes, common = dataset_and_training(name, args, model, epochs)
    net, rate_pred, t_ours = train_nengo_lmu(x, y, x_test, n_classes, seed, **common)
    keras_pred, t_keras = train_keras_lmu(x, y, x_test, n_classes, seed, **common)
    parallel_pred, t_parallel = train_parallel(x, y, x_test, n_classes, seed, **common)
    conv = spiking_conversions(net, args.presentation, x)
    sub = test_subset(len(x_test), args.test)
    n = len(sub)
    result = {
        "rate_accuracy": float(np.mean(rate_pred == y_test)),
        "keras_lmu_accuracy": float(np.mean(keras_pred == y_test)),
        "train_seconds": t_ours,
        "keras_lmu_train_seconds": t_keras,
        "train_time_ratio": t_ours / t_keras,
        "parallel_rate_accuracy": float(np.mean(parallel_pred == y_test)),
        "parallel_train_seconds": t_parallel,
        "parallel_train_time_ratio": t_parallel / t_keras,
        # (both timed in this run, one after the other)
        "parallel_over_nengo_dl_train_time": t_parallel / t_ours,
        "scale_firing_rates": conv["nengo"].scale_firing_rates,
        "loihi_scale_firing_rates": conv["loihi"].scale_firing_rates,
        "reference": spiking(conv["nengo"], net, nengo.Simulator, x_test[sub],
                             y_test[sub], rate_pred[sub], args.per_step),
        "emulator": spiking(conv["loihi"], net, Simulator, x_test[sub], y_test[sub],
                            rate_pred[sub], args.per_step, target="sim"),
    }
    for kind in ("reference", "emulator"):
        r = result[kind]
        r["minus_rate_points"] = 100 * (r["accuracy"] - r["rate_accuracy_same_series"])
    print(f"{name} seed {seed}: rate {result['rate_accuracy']:.3f} keras-lmu "
          f"{result['keras_lmu_accuracy']:.3f}, reference {result['reference']['accuracy']:.3f}"
          f" emulator {result['emulator']['accuracy']:.3f} (of {n}), train time x"
          f"{result['train_time_ratio']:.2f}, parallel / NengoDL x"
          f"{result['parallel_over_nengo_dl_train_time']:.3f}", flush=True)
    return result


def retained_energies(names, model, train=None):
    """`nengo_lmu.legendre.retained_energy` of each dataset's training series
    (the first ``train`` of them) at the order and window of `build_network`,
    beside white noise's share (order / steps) as the baseline. With
    `channel_memories`, of the series each memory channel starts out seeing
    (every dimension at unit variance, `nengo_lmu.measure.channel_encoders`);
    else None for a series of several dimensions: the model's one memory
    channel sees a learned mix of them, which the shares of the dimensions
    do not describe."""
    from nengo_lmu.datasets import ucr  # noqa: PLC0415
    from nengo_lmu.legendre import retained_energy  # noqa: PLC0415
    from nengo_lmu.measure import channel_encoders  # noqa: PLC0415

    energies = {}
    for name in names:
        x = ucr(name)[0][:train]
        steps, dims = x.shape[1:]
        order = min(model["order"], steps)
        if channel_memories(model):
            x = x @ channel_encoders(x).T
        share = (round(retained_energy(x, order, theta=float(steps)), 4)
                 if memory_d(model, dims) == dims else None)
        energies[name] = {"share": share, "white_noise": round(order / steps, 4)}
    return energies


def test_subset(total, n):
    """Indices of ``n`` test series spread evenly over all ``total`` (all for
    None): the test splits of some problems are sorted by class (ACSF1), so
    the first ``n`` would leave classes out."""
    if n is None or n >= total:
        return np.arange(total)
    return np.round(np.linspace(0, total - 1, n)).astype(int)


def summary(results):
    """Mean and population std (ddof=0) of every number, over seeds."""
    out = {}
    for key, value in results[0].items():
        if isinstance(value, dict):
            out[key] = summary([r[key] for r in results])
        elif isinstance(value, bool):
            out[key] = any(r[key] for r in results)
        else:
            values = np.array([r[key] for r in results], dtype=float)
            out[key] = {"mean": float(values.mean()), "std": float(values.std()),
                        "per_seed": [round(float(v), 4) for v in values]}
    return out


def arguments(argv=None):
    """The command line (``argv``, by default ``sys.argv``), checked; and its parser."""
    parser = argument_parser(__doc__)
    parser.add_argument("--datasets", nargs="*", type=dataset_name, action=Distinct,
                        default=None,
                        help="datasets to run (none: only rewrite the file's anchors)")
    parser.add_argument("--seeds", type=random_seed, nargs="+", action=Distinct,
                        default=[0, 1, 2, 3, 4])
    parser.add_argument("--presentation", type=presentation_time, default=0.02,
                        help="seconds each input step is presented")
    parser.add_argument("--test", type=positive_int, default=None,
                        help="spiking runs on N test series spread over the split (default all)")
    add_run_options(parser)
    args = parse_args(parser, argv, tiny_overrides=TINY_OVERRIDES + ["--test"])
    return parser, args


def main():
    parser, args = arguments()
    model, config = run_settings(parser, args, DATASETS)
    results = results_name("ucr", args)
    if args.tiny:
        args.test = TINY["test"]
    started = time.time()
    from nengo_lmu.spiking import PEAK_RATES, READ_WINDOW  # noqa: PLC0415

    # (a stack: the memories above the first run continuously, one reading)
    config.update(
        presentation_time=args.presentation,
        conversion=dict(memory="sampled", peak_rates=PEAK_RATES,
                        read_window_presentations=READ_WINDOW if depth(model) == 1 else 0))
    if depth(model) > 1:
        config["conversion"]["memory"] = "sampled (first layer), continuous (layers above)"

    energies = retained_energies(
        TINY["datasets"] if args.tiny else default_datasets(DATASETS, args), model, args.train)

    def store(name=None, entry=None):
        # the file is read again at each write: runs of other datasets in
        # another invocation with the same settings, written meanwhile, stay
        entries = {"published": {"accuracy": PUBLISHED, "sources": PUBLISHED_SOURCES},
                   "retained_energy": energies}
        if name is not None:
            entries[name] = entry
            # of this invocation: since its start, and until this dataset
            entries["seconds"] = entry["seconds"] = round(time.time() - started, 1)
        add_results(results, config, entries, args.results)

    if not args.datasets:
        store()

    with contextlib.closing(each_dataset(args, model, run, summary)) as datasets:
        for name, entry in datasets:
            entry["test_series"] = args.test  # None: all of them
            entry["concurrent_runs"] = args.jobs
            store(name, entry)


def add_run_options(parser):
    """The options of every run of these datasets' peers: ``--jobs``,
    ``--per-step``, ``--channel-memories``, ``--layers N`` and (hidden)
    ``--train N``, the first N training series."""
    parser.add_argument("--jobs", type=positive_int, default=1,
                        help="runs (dataset, seed) at once, each in its own process")
    parser.add_argument("--per-step", action="store_true",
                        help="loss on every step; classes from the readout's mean over a series")
    parser.add_argument("--channel-memories", action="store_true",
                        help="memory_d = input_d for both peers "
                             "(default datasets: the multi-dimensional ones)")
    parser.add_argument("--layers", type=positive_int, default=1,
                        help="LMU layers stacked, each of the same width, order and "
                             "window (default 1)")
    parser.add_argument("--windows", type=window_fraction, nargs="+", default=None,
                        help="each layer's window, first to last, as a fraction of the "
                             "series (e.g. 1/8 1; its order in proportion); one per "
                             "--layers (default: the whole series each)")
    parser.add_argument("--train", type=positive_int, default=None, help=argparse.SUPPRESS)


def window_fraction(text):
    """An argparse ``type``: a fraction in (0, 1], as ``1/8`` or ``0.125``."""
    try:
        value = fractions.Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a fraction such as 1/8") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not in (0, 1]: a share of the series")
    return value


#: the options of `add_run_options`' parsers that ``--tiny`` sets (`run_settings`)
TINY_OVERRIDES = ["--datasets", "--seeds", "--train"]


def dataset_name(text):
    """An argparse ``type``: a dataset `nengo_lmu.datasets.ucr` loads."""
    from nengo_lmu.datasets import ucr_names  # noqa: PLC0415

    names = ucr_names()
    if text not in names:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a dataset shipped with sktime ({', '.join(names)})")
    return text


def run_settings(parser, args, datasets):
    """The model and the results file's ``config`` of ``args`` (`add_run_options`;
    ``--datasets`` left out: ``datasets``, with ``--channel-memories`` those of
    `MULTIVARIATE`; ``--tiny``: `TINY`'s datasets, seeds, training series and
    model)."""
    if args.jobs < 1:  # (a parser of its own may not check it)
        parser.error("argument --jobs: must be at least 1")
    if args.datasets is None:
        args.datasets = default_datasets(datasets, args)
    model = MODEL
    if args.tiny:
        args.datasets, args.seeds, args.train = TINY["datasets"], TINY["seeds"], TINY["train"]
        model = TINY["model"]
    if args.channel_memories:
        model = dict(model, memory_d="input_d")
    if args.windows is not None and len(args.windows) != args.layers:
        parser.error(f"argument --windows: {len(args.windows)} windows for "
                     f"--layers {args.layers} (one per layer)")
    model = stack_model(model, args.windows or [1] * args.layers)
    config = dict(model=model, train=TRAIN, readout="mean" if args.per_step else "last",
                  seeds=args.seeds, std="population (ddof=0)", tiny=args.tiny)
    if args.train:  # (a file of other runs is not added to)
        config["train_series"] = args.train
    return model, config


def default_datasets(datasets, args):
    """Those of ``datasets`` ``args`` runs by default: with ``--channel-memories``
    the multi-dimensional ones (`MULTIVARIATE`), else all."""
    return [d for d in datasets if d in MULTIVARIATE or not args.channel_memories]


def results_name(base, args):
    """``base``, then ``_channels`` (``--channel-memories``), ``_per_step``,
    ``_layersN`` (``--layers N``, N > 1) and ``_windows..`` (``--windows``
    other than the whole series: ``1/8 1`` gives ``_windows1_8-1``)."""
    layers = f"_layers{args.layers}" if args.layers > 1 else ""
    if args.windows is not None and any(w != 1 for w in args.windows):  # 1/8 1: _windows1_8-1
        layers += "_windows" + "-".join(str(w).replace("/", "_") for w in args.windows)
    return base + "_channels" * args.channel_memories + "_per_step" * args.per_step + layers


def dataset_epochs(name, tiny=False):
    """The training epochs of dataset ``name`` (`TRAIN`; ``tiny``: `TINY`'s)."""
    return TINY["epochs"] if tiny else TRAIN["epochs"].get(name, TRAIN["epochs"]["default"])


def each_dataset(args, model, run_one, combine):
    """``(dataset, combine(its seeds' results))`` for each of ``args.datasets``
    in turn, once its runs ``run_one(dataset, seed, args, model, epochs)``
    for each of ``args.seeds`` are done (``args.jobs`` at once, `runner`;
    `dataset_epochs` by ``args.tiny``). Every run is submitted at once, in
    order, so that no worker idles between datasets. A dataset whose runs
    failed is printed and skipped (the others are kept); after the last, a
    RuntimeError names them. Close it (`contextlib.closing`) to stop the runs
    left when the caller stops early."""
    with runner(args.jobs) as submit:
        runs = {name: [submit(run_one, name, seed, args, model,
                              dataset_epochs(name, args.tiny)) for seed in args.seeds]
                for name in args.datasets}
        failed = []
        for name, futures in runs.items():
            try:
                entry = combine([future.result() for future in futures])
            except Exception as error:  # noqa: BLE001  (the other datasets are kept)
                traceback.print_exception(error)
                failed.append((name, error))
                continue
            yield name, entry
        if failed:
            raise RuntimeError(f"runs of {[name for name, _ in failed]} failed") from failed[0][1]


@contextlib.contextmanager
def runner(jobs):
    """``submit(fn, *args)`` -> an object with ``result()``: for one job, the
    call made in this process when its result is asked for; else a future of
    a pool of ``jobs`` spawned processes, a fresh one for each run (its own
    TensorFlow). A process that dies (e.g. out of memory) breaks the pool:
    every run not yet finished fails (``BrokenProcessPool``) rather than
    hangs, and the datasets already stored stay. On an error, Ctrl-C or
    SIGTERM the pool's processes are terminated, so no run goes on unseen."""
    if jobs == 1:
        yield lambda fn, *fn_args: types.SimpleNamespace(result=lambda: fn(*fn_args))
        return
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    pool = concurrent.futures.ProcessPoolExecutor(
        jobs, mp_context=multiprocessing.get_context("spawn"), max_tasks_per_child=1)
    try:
        yield pool.submit
    except BaseException:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one: still clean up
        pool.shutdown(wait=False, cancel_futures=True)
        for child in multiprocessing.active_children():
            child.terminate()
        raise
    else:
        pool.shutdown()
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    main()
