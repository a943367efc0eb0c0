"""The whole LMU on the chip: the memory in neurons, reduced, against the host memory.

For each dataset and seed, the ReLU LMU of ``ucr.py`` (window = series
length, ``input_to_hidden``) is trained in parallel with the exact memory.
Then, for each chip order ``r`` (``--orders``, at most the model's order):

* the memory's states are measured on the training series
  (`nengo_lmu.measure.memory_covariance`) and the memory reduced to ``r``
  states balanced against that covariance (`.LegendreMemory`
  ``reduced_order``): the rate accuracy with the trained weights as they are
  (``reduced_rate_accuracy``), and after training the readout on the reduced
  memory itself for ``--finetune`` epochs from those weights
  (``finetuned_rate_accuracy``: the network that is deployed);
* that network converted with its memory in neurons laid out for Loihi
  (``n_neurons`` per state, `nengo_lmu.loihi.MEMORY_KWARGS`, synapse
  ``--tau``), the whole LMU on the chip, run on the nengo-loihi emulator
  (`nengo_lmu.loihi.Simulator`) on test series spread over the test split:
  accuracy, agreement with its rate network, and what a series costs
  (neurons, cores, synapses, synaptic operations; `nengo_lmu.cost`);
* in the same run, the host-memory conversion (``to_spiking``'s default: the
  exact memory on the host) of the exact network on the same series, and the
  ratio of the two emulator times.

Means and population standard deviations (ddof = 0) over seeds.

Usage::

    python benchmarks/chip_memory.py [--datasets ArrowHead] [--seeds 0]
                                     [--orders 16] [--test 10] [--tiny]

Writes ``benchmarks/results/chip_memory.json``.
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from common import (  # noqa: E402
    Distinct, argument_parser, parse_args, positive_float, positive_int, presentation_time,
    random_seed, write_results)
from ucr import DATASETS, dataset_name, fit_parallel, labels, summary, test_subset  # noqa: E402

MODEL = dict(units=128, order=64)
TRAIN = dict(batch=16, lr=1e-3, epochs=40)
#: ``--tiny``: a small model, one epoch, a few series
TINY = dict(model=dict(units=8, order=8), epochs=1, train=8, test=2, n_neurons=10,
            orders=[4], presentation=0.008)


def reduced_network(x, n_classes, seed, model, r, covariance):
    """The network of ``ucr.build_network``, its memory reduced to ``r``
    states balanced against ``covariance``."""
    import nengo  # noqa: PLC0415

    import nengo_lmu  # noqa: PLC0415

    steps, dims = x.shape[1:]
    return nengo_lmu.lmu_model(
        n_classes, seed=seed, settings=dict(stateful=False, keep_history=False),
        units=model["units"], order=min(model["order"], steps), theta=float(steps),
        input_d=dims, hidden_neuron_type=nengo.RectifiedLinear(), input_to_hidden=True,
        memory_kwargs=dict(reduced_order=r, state_covariance=covariance),
    )


def finetune(keras_exact, net_r, x, y, x_test, seed, epochs):
    """The reduced network's Keras model, starting from the exact one's weights
    (the same shapes: the readout reads Legendre states in both): its test
    predictions as it starts and after ``epochs`` of training."""
    import tensorflow as tf  # noqa: PLC0415

    from nengo_lmu.parallel import parallel_model  # noqa: PLC0415

    tf.keras.utils.set_random_seed(seed)
    model = parallel_model(net_r, x.shape[1], return_sequences=False)
    model.set_weights(keras_exact.get_weights())
    before = model.predict(x_test, verbose=0).argmax(-1)
    model.compile(optimizer=tf.optimizers.Adam(TRAIN["lr"]),
                  loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, labels(y, x.shape[1], False), batch_size=TRAIN["batch"], epochs=epochs,
              verbose=0, shuffle=True)
    return model, before, model.predict(x_test, verbose=0).argmax(-1)


def emulate(conv, net, x, y, rate_pred):
    """Accuracy, agreement and cost of ``conv`` on the emulator, and its seconds."""
    from nengo_lmu.loihi import Simulator  # noqa: PLC0415

    start = time.perf_counter()
    out, cost = conv.run(Simulator, net.inp, x, net.probe, parallel=len(x),
                         progress_bar=False, target="sim")
    seconds = time.perf_counter() - start
    pred = out[:, -1].argmax(-1)
    return {
        "accuracy": float(np.mean(pred == y)),
        "agreement": float(np.mean(pred == rate_pred)),
        "seconds": seconds,
        "neurons": float(cost.total("neurons")),
        "cores": float(cost.total("cores")),
        "synapses": float(cost.total("synapses")),
        "synaptic_ops_per_series": float(cost.total("synaptic_ops")),
        "host_ops_per_series": float(cost.total("host_ops")),
        "host_to_chip_values_per_series": float(cost.total("host_to_chip_values")),
    }


def run(name, seed, args, model, epochs, train_n, n_test, n_neurons, orders):
    from nengo_lmu.datasets import ucr  # noqa: PLC0415
    from nengo_lmu.loihi import MEMORY_KWARGS  # noqa: PLC0415
    from nengo_lmu.measure import memory_covariance  # noqa: PLC0415
    from nengo_lmu.parallel import freeze_params  # noqa: PLC0415
    from nengo_lmu.spiking import to_spiking  # noqa: PLC0415

    import nengo  # noqa: PLC0415

    x, y, x_test, y_test = ucr(name)
    if train_n:
        x, y = x[:train_n], y[:train_n]
    n_classes = int(max(y.max(), y_test.max()) + 1)
    net, keras_exact, _ = fit_parallel(x, y, n_classes, seed, model, epochs,
                                       TRAIN["batch"], TRAIN["lr"])
    exact_pred = keras_exact.predict(x_test, verbose=0).argmax(-1)
    freeze_params(keras_exact, net)
    sub = test_subset(len(x_test), n_test)
    xs, ys = x_test[sub], y_test[sub]
    host = to_spiking(net, args.presentation, calibration=(net.inp, x), simulator="loihi",
                      progress_bar=False)
    result = {
        "rate_accuracy": float(np.mean(exact_pred == y_test)),
        "host_memory": emulate(host, net, xs, ys, exact_pred[sub]),
    }
    covariance = memory_covariance(net, net.inp, x, net.lmu.memory)
    for r in orders:
        r = min(r, net.lmu.order)
        net_r = reduced_network(x, n_classes, seed, model, r, covariance)
        keras_r, before, after = finetune(keras_exact, net_r, x, y, x_test, seed,
                                          args.finetune)
        freeze_params(keras_r, net_r)
        start = time.perf_counter()
        chip = to_spiking(net_r, args.presentation, calibration=(net_r.inp, x), progress_bar=False,
                          simulator="loihi", memory_kwargs=dict(
                              n_neurons=n_neurons, simulator="loihi",
                              synapse=nengo.Lowpass(args.tau), **MEMORY_KWARGS))
        convert_seconds = time.perf_counter() - start
        entry = {
            "reduced_rate_accuracy": float(np.mean(before == y_test)),
            "finetuned_rate_accuracy": float(np.mean(after == y_test)),
            "convert_seconds": convert_seconds,
            "emulator": emulate(chip, net_r, xs, ys, after[sub]),
        }
        entry["emulator_time_ratio"] = (
            entry["emulator"]["seconds"] / result["host_memory"]["seconds"]
        )
        entry["emulator_minus_finetuned_rate_points"] = 100 * (
            entry["emulator"]["accuracy"] - float(np.mean(after[sub] == ys))
        )
        result[f"order {r}"] = entry
        print(f"{name} seed {seed} order {r}: rate {result['rate_accuracy']:.3f}, reduced "
              f"{entry['reduced_rate_accuracy']:.3f}, fine-tuned "
              f"{entry['finetuned_rate_accuracy']:.3f}, emulator whole LMU "
              f"{entry['emulator']['accuracy']:.3f} (host memory "
              f"{result['host_memory']['accuracy']:.3f}) on {len(sub)}, time x"
              f"{entry['emulator_time_ratio']:.1f}", flush=True)
    return result


def arguments(argv=None):
    parser = argument_parser(__doc__)
    parser.add_argument("--datasets", type=dataset_name, nargs="+", action=Distinct,
                        default=["ArrowHead"], help=f"of {DATASETS}")
    parser.add_argument("--seeds", type=random_seed, nargs="+", action=Distinct, default=[0])
    parser.add_argument("--orders", type=positive_int, nargs="+", action=Distinct,
                        default=[16], help="states kept on the chip")
    parser.add_argument("--test", type=positive_int, default=10,
                        help="test series run on the emulator")
    parser.add_argument("--n-neurons", type=positive_int, default=100,
                        help="neurons per memory state")
    parser.add_argument("--tau", type=positive_float, default=0.02,
                        help="the memory's synapse, s")
    parser.add_argument("--finetune", type=positive_int, default=20,
                        help="epochs training the readout on the reduced memory")
    parser.add_argument("--presentation", type=presentation_time, default=0.02,
                        help="seconds each sample is held")
    return parse_args(parser, argv, tiny_overrides=["--seeds", "--orders", "--test",
                                                    "--n-neurons", "--finetune",
                                                    "--presentation"])


def main():
    args = arguments()
    model, epochs, train_n = MODEL, TRAIN["epochs"], None
    n_test, n_neurons, orders = args.test, args.n_neurons, args.orders
    if args.tiny:
        model, epochs, train_n = TINY["model"], TINY["epochs"], TINY["train"]
        n_test, n_neurons, orders = TINY["test"], TINY["n_neurons"], TINY["orders"]
        args.seeds, args.finetune, args.presentation = [0], 1, TINY["presentation"]
    started = time.time()
    data = {
        "benchmark": "chip_memory",
        "config": dict(model=model, train=TRAIN, finetune_epochs=args.finetune,
                       presentation_time=args.presentation, seeds=args.seeds,
                       orders=orders, test_series=n_test, n_neurons=n_neurons,
                       memory_synapse=args.tau, std="population (ddof=0)", tiny=args.tiny),
    }
    for name in args.datasets:
        data[name] = summary([run(name, s, args, model, epochs, train_n, n_test, n_neurons,
                                  orders) for s in args.seeds])
        data["seconds"] = round(time.time() - started, 1)
        write_results("chip_memory", data, args.results)


if __name__ == "__main__":
    main()
