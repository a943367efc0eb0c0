"""psDigits spiking: a trained rate LMU converted to spiking inference.

For each seed: train a ReLU LMU on psDigits through NengoDL (the model of
``psdigits.py`` with ``nengo.RectifiedLinear`` hidden neurons), freeze its
weights, convert it with `nengo_lmu.spiking.to_spiking` at its defaults, as
``ucr.py`` does: each pixel held for ``--presentation`` seconds, calibrated on
the training images (host values scaled into Loihi's range, hidden
SpikingRectifiedLinear firing rates from the hidden activity for the
simulator it is converted for, ``simulator``), the exact memory sampled once
per pixel, the output filtered by `OUTPUT_TAU_FRACTION` of the presentation
and the last output averaged over `READ_WINDOW` presentations.
Then measure test accuracy of the rate network (NengoDL), the spiking
network (converted for ``"nengo"``) on the Nengo reference simulator, and
(converted for ``"loihi"``) on the nengo-loihi emulator through
`nengo_lmu.loihi.Simulator` (rectified host-input encoding, 1 ms input
filter, the last output read after the output filter's lag and the chip's
latency), with spikes and synaptic events per digit. For comparison, the
emulator's network on plain ``nengo_loihi.Simulator`` (nengo-loihi's build
defaults; the last output still read after the output filter's lag, with no
latency to add), on the first ``--defaults-digits`` test digits.

Usage::

    python benchmarks/psdigits_spiking.py [--seeds 0 1 2 3 4] [--epochs 40]
                                          [--presentation 0.02]
                                          [--defaults-digits 100]
                                          [--tiny] [--results DIR]

Writes ``benchmarks/results/psdigits_spiking.json``. Each seed seeds the
training as in ``psdigits.py``.
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import nengo  # noqa: E402
import numpy as np  # noqa: E402

import psdigits  # noqa: E402
from common import (  # noqa: E402
    Distinct, argument_parser, parse_args, positive_int, presentation_time, random_seed,
    spiking_conversions, write_results)

from nengo_lmu import loihi  # noqa: E402
from nengo_lmu.datasets import ps_digits  # noqa: E402
from nengo_lmu.spiking import OUTPUT_TAU_FRACTION, PEAK_RATES, READ_WINDOW  # noqa: E402


#: ``--tiny``: psdigits.py's tiny training; spiking on 16 of its 64 test digits (4 with
#: nengo-loihi's defaults)
TINY = dict(psdigits.TINY, digits=16, defaults_digits=4)


def evaluate(conv, net, simulator, x, y, parallel, **sim_kwargs):
    start = time.perf_counter()
    out, spikes = conv.run(
        simulator, conv.find(net.inp, net), x, conv.find(net.probe, net),
        parallel=parallel, **sim_kwargs,
    )
    pred = out[:, -1].argmax(axis=-1)
    return pred, {
        "accuracy": float(np.mean(pred == y)),
        "digits": int(len(y)),
        "hidden_spikes_per_digit": spikes[0]["hidden"],
        "synaptic_events_per_digit": spikes[0]["hidden_synaptic_events"],
        "seconds": time.perf_counter() - start,
        # what a digit costs (nengo_lmu.cost.InferenceCost), as measured here
        "cost_per_digit": spikes.totals(("loihi", "spinnaker", "spinnaker2")),
    }


def arguments(argv=None):
    """The command line (``argv``, by default ``sys.argv``), checked."""
    parser = argument_parser(__doc__)
    parser.add_argument("--seeds", type=random_seed, nargs="+", action=Distinct,
                        default=[0, 1, 2, 3, 4])
    parser.add_argument("--epochs", type=positive_int, default=40)
    parser.add_argument("--presentation", type=presentation_time, default=0.02,
                        help="seconds each input step is presented")
    parser.add_argument("--defaults-digits", type=positive_int, default=100)
    return parse_args(parser, argv,
                      tiny_overrides=["--seeds", "--epochs", "--defaults-digits"])


def main():
    args = arguments()
    model, examples, digits = None, None, None
    if args.tiny:
        args.seeds, args.epochs = TINY["seeds"], TINY["epochs"]
        args.defaults_digits = TINY["defaults_digits"]
        model, examples, digits = TINY["model"], TINY["examples"], TINY["digits"]

    import nengo_dl  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    import nengo_loihi  # pylint: disable=import-outside-toplevel

    runs = []
    for seed in args.seeds:
        net, rate = psdigits.train(
            seed, args.epochs, neuron_type=nengo.RectifiedLinear(), model=model,
            examples=examples,
        )
        x_train, _, x_test, y_test = ps_digits(split_seed=seed)
        if examples is not None:  # --tiny: no more than psdigits.train trained on
            x_train = x_train[: examples[0]]
        n = rate["test_examples"] if digits is None else min(digits, rate["test_examples"])
        x_test, y_test = x_test[:n], y_test[:n]
        conv = spiking_conversions(net, args.presentation, x_train)
        _, reference = evaluate(conv["nengo"], net, nengo.Simulator, x_test, y_test,
                                parallel=64)
        _, emulator = evaluate(
            conv["loihi"], net, loihi.Simulator, x_test, y_test, parallel=50, target="sim"
        )
        m = min(args.defaults_digits, n)
        _, defaults = evaluate(
            conv["loihi"], net, nengo_loihi.Simulator, x_test[:m], y_test[:m],
            parallel=50, target="sim",
        )
        run = {
            "seed": seed,
            "scale_firing_rates": conv["nengo"].scale_firing_rates,
            "loihi_scale_firing_rates": conv["loihi"].scale_firing_rates,
            "rate": rate,
            "reference": reference,
            "loihi_emulator": emulator,
            "loihi_emulator_nengo_loihi_defaults": defaults,
        }
        runs.append(run)
        print(
            f"seed {seed}: rate {rate['test_accuracy']:.4f}, reference spiking "
            f"{reference['accuracy']:.4f}, emulator {emulator['accuracy']:.4f} "
            f"(nengo-loihi defaults {defaults['accuracy']:.4f} on {m} digits); "
            f"{reference['synaptic_events_per_digit']:.0f} synaptic events per digit",
            flush=True,
        )

    def stats(values):
        values = np.array(values)
        return {"mean": float(values.mean()), "std": float(values.std())}

    summary = {
        "presentation_time": args.presentation,
        "conversion": dict(calibration="training images", memory="sampled",
                           output_tau=OUTPUT_TAU_FRACTION * args.presentation,
                           read_window_presentations=READ_WINDOW, peak_rates=PEAK_RATES),
        "epochs": args.epochs,
        "std": "population (ddof=0)",
        "scale_firing_rates": stats([r["scale_firing_rates"] for r in runs]),
        "loihi_scale_firing_rates": stats([r["loihi_scale_firing_rates"] for r in runs]),
        "rate_accuracy": stats([r["rate"]["test_accuracy"] for r in runs]),
        "reference_accuracy": stats([r["reference"]["accuracy"] for r in runs]),
        "loihi_emulator_accuracy": stats([r["loihi_emulator"]["accuracy"] for r in runs]),
        "loihi_emulator_nengo_loihi_defaults_accuracy": stats(
            [r["loihi_emulator_nengo_loihi_defaults"]["accuracy"] for r in runs]
        ),
        "reference_minus_rate": stats(
            [r["reference"]["accuracy"] - r["rate"]["test_accuracy"] for r in runs]
        ),
        "loihi_emulator_minus_rate": stats(
            [r["loihi_emulator"]["accuracy"] - r["rate"]["test_accuracy"] for r in runs]
        ),
        "synaptic_events_per_digit": stats(
            [r["reference"]["synaptic_events_per_digit"] for r in runs]
        ),
        "loihi_emulator_synaptic_events_per_digit": stats(
            [r["loihi_emulator"]["synaptic_events_per_digit"] for r in runs]
        ),
        "runs": runs,
    }
    for key in ("rate_accuracy", "reference_accuracy", "loihi_emulator_accuracy",
                "loihi_emulator_nengo_loihi_defaults_accuracy", "reference_minus_rate",
                "loihi_emulator_minus_rate", "synaptic_events_per_digit",
                "loihi_emulator_synaptic_events_per_digit"):
        print(f"{key}: {summary[key]['mean']:.4f} +- {summary[key]['std']:.4f}")
    write_results("psdigits_spiking", summary, args.results)


if __name__ == "__main__":
    main()
