"""Hidden firing rates on Loihi: the peak rate `to_spiking` derives, swept.

A Loihi neuron resets its voltage to zero at a spike, so it fires every
``ceil(1 / J)`` steps for an input of ``J`` per step: fast neurons fire
slower than the rate network's ReLU asks (an error averaging cannot remove),
while slow ones carry more spike noise. This sweeps the rate that the largest
hidden activity on the training data is mapped to (``scale_firing_rates =
peak / max activity``) on real series, for the reference simulator and the
nengo-loihi emulator (`nengo_lmu.loihi.Simulator`), with everything else at
`to_spiking`'s defaults (sampled memory, last output averaged over
`READ_WINDOW` presentations, host inputs scaled from the training data).

For each dataset and seed, a ReLU LMU (as in ``ucr.py``: ``input_to_hidden``,
window = series length) is trained in parallel (`nengo_lmu.parallel`; the
conversion, not the training, is measured here) and converted once per peak
rate. Figures, on a number of test series (`DATASETS`) spread evenly over
each test split (`ucr.test_subset`: some splits are sorted by class):
``error``, the RMS of the spiking last output minus the rate network's,
over the RMS spread of the rate network's (so 0 is exact); ``agreement``,
the fraction of series classified as by the rate network; synaptic events
of the hidden layer per series. Means and population standard deviations (ddof = 0) over seeds.

Usage::

    python benchmarks/loihi_rates.py [--seeds 0 1] [--rates 1000 500 250 125]
                                     [--tiny] [--results DIR]

Writes ``benchmarks/results/loihi_rates.json``.
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import nengo  # noqa: E402
import numpy as np  # noqa: E402

from common import (  # noqa: E402
    Distinct, argument_parser, parse_args, positive_float, random_seed, write_results)
from ucr import fit_parallel, summary, test_subset  # noqa: E402  (the same model, spreads, subsets)

#: dataset -> test series run spiking (the emulator's time grows with length)
DATASETS = {"BasicMotions": 40, "JapaneseVowels": 100, "ArrowHead": 40}
MODEL = dict(units=128, order=64)
TRAIN = dict(batch=16, lr=1e-3, epochs=40)
#: ``--tiny``: every dataset and rate, a small model, one epoch, two test series
TINY = dict(datasets={name: 2 for name in DATASETS}, model=dict(units=8, order=4),
            epochs=1, train=8)


def train(name, seed, model, epochs, train_n=None):
    from nengo_lmu.datasets import ucr  # noqa: PLC0415
    from nengo_lmu.parallel import freeze_params  # noqa: PLC0415

    x, y, x_test, y_test = ucr(name)
    if train_n:
        x, y = x[:train_n], y[:train_n]
    n_classes = int(max(y.max(), y_test.max()) + 1)
    net, keras_model, _ = fit_parallel(x, y, n_classes, seed, model, epochs,
                                       TRAIN["batch"], TRAIN["lr"])
    logits = keras_model.predict(x_test, verbose=0)
    freeze_params(keras_model, net)
    return net, x, x_test, y_test, logits


def measure(conv, net, simulator, x, logits, **kwargs):
    out, spikes = conv.run(simulator, conv.find(net.inp, net), x,
                           conv.find(net.probe, net), parallel=10, **kwargs)
    last = out[:, -1]
    spread = np.sqrt(np.mean((logits - logits.mean(0)) ** 2))
    return {
        "error": float(np.sqrt(np.mean((last - logits) ** 2)) / spread),
        "agreement": float(np.mean(last.argmax(-1) == logits.argmax(-1))),
        "synaptic_events_per_series": float(spikes[0]["hidden_synaptic_events"]),
    }


def run(name, n_test, seed, rates, model, epochs, train_n):
    from nengo_lmu.loihi import Simulator  # noqa: PLC0415
    from nengo_lmu.spiking import PEAK_RATES, to_spiking  # noqa: PLC0415

    net, x, x_test, y_test, logits = train(name, seed, model, epochs, train_n)
    sub = test_subset(len(x_test), n_test)
    x_sub, logits_sub = x_test[sub], logits[sub]
    # the largest hidden activity: to_spiking maps it to PEAK_RATES["nengo"]
    scale = to_spiking(net, 0.02, calibration=(net.inp, x)).scale_firing_rates
    peak = PEAK_RATES["nengo"] / scale
    result = {"rate_accuracy": float(np.mean(logits.argmax(-1) == y_test))}
    for rate in rates:
        conv = to_spiking(net, 0.02, calibration=(net.inp, x),
                          scale_firing_rates=rate / peak)
        result[f"{rate:g} Hz"] = {
            "reference": measure(conv, net, nengo.Simulator, x_sub, logits_sub),
            "emulator": measure(conv, net, Simulator, x_sub, logits_sub, target="sim"),
        }
        print(f"{name} seed {seed} {rate:g} Hz: error reference "
              f"{result[f'{rate:g} Hz']['reference']['error']:.3f}, emulator "
              f"{result[f'{rate:g} Hz']['emulator']['error']:.3f}", flush=True)
    return result


def arguments(argv=None):
    """The command line (``argv``, by default ``sys.argv``), checked."""
    parser = argument_parser(__doc__)
    parser.add_argument("--seeds", type=random_seed, nargs="+", action=Distinct, default=[0, 1])
    parser.add_argument("--rates", type=positive_float, nargs="+", action=Distinct,
                        default=[1000.0, 500.0, 250.0, 125.0], help="peak rates, Hz")
    args = parse_args(parser, argv, tiny_overrides=["--seeds"])
    # (each rate's results are under its name, "{rate:g} Hz")
    names = [f"{rate:g}" for rate in args.rates]
    for rate, name in zip(args.rates, names):
        if names.count(name) > 1:
            parser.error(f"argument --rates: {rate!r} and another rate both read {name} Hz")
    return args


def main():
    args = arguments()
    datasets, model, epochs, train_n, rates = DATASETS, MODEL, TRAIN["epochs"], None, args.rates
    if args.tiny:
        datasets, model, epochs, train_n = (
            TINY["datasets"], TINY["model"], TINY["epochs"], TINY["train"])
        args.seeds = [0]
    started = time.time()
    data = {
        "benchmark": "loihi_rates",
        "config": dict(model=model, train=TRAIN, presentation_time=0.02, rates=rates,
                       seeds=args.seeds, test_series=datasets,
                       test_subset="spread evenly over the test split",
                       std="population (ddof=0)", tiny=args.tiny),
    }
    for name, n_test in datasets.items():
        data[name] = summary([run(name, n_test, s, rates, model, epochs, train_n)
                              for s in args.seeds])
        data["seconds"] = round(time.time() - started, 1)
        write_results("loihi_rates", data, args.results)


if __name__ == "__main__":
    main()
