"""What an inference costs: the host-memory deployment on Loihi against the rate model.

Trains two small models, converts each with `nengo_lmu.spiking.to_spiking`
at its defaults (as ``psdigits_spiking.py`` and ``ucr.py`` do: calibrated on
the training inputs, the exact memory on the host, sampled once per
presentation), runs ``--inferences`` test inputs spiking on the nengo-loihi
emulator (`nengo_lmu.loihi.Simulator`, converted for ``"loihi"``) and on the
reference simulator (converted for ``"nengo"``), and records what one
inference costs (`nengo_lmu.cost.InferenceCost`, returned by
`.SpikingConversion.run`): synaptic operations, neuron updates, host
arithmetic, host-chip traffic, chip resources and joules on Loihi (and
SpiNNaker, SpiNNaker 2); beside it, the same trained model as a rate
network (`nengo_lmu.cost.lmu_rate_cost`: multiply-accumulates, read after
the last step) on a CPU, a GPU and an ARM core. The figures per operation
are keras-spiking's (``keras_spiking.ModelEnergy.devices``: Loihi, Davies et
al. 2018; SpiNNaker, Höppner et al. 2019; CPU, GPU, ARM, Degnan et al.
2015). A column for the memory in neurons on the chip is left for when
that deployment serves a classifier.

The models: psDigits (``psdigits.py``'s model at ``--psdigits-units`` and
``--psdigits-order``, 64 pixels a digit) and BasicMotions (``ucr.py``'s
model, 100 steps of 6 dimensions a series).

Usage::

    python benchmarks/cost.py [--epochs 3] [--inferences 16] [--tiny]
                              [--results DIR] [--plot PATH]

Writes ``benchmarks/results/cost.json`` and the bar plot
``docs/_static/cost.png`` (``--tiny``: into its results folder).
"""

import os
import pathlib
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import nengo  # noqa: E402
import numpy as np  # noqa: E402

import psdigits  # noqa: E402
import ucr  # noqa: E402
from common import (  # noqa: E402
    argument_parser, parse_args, positive_int, results_folder, spiking_conversions,
    write_results)

from nengo_lmu import LMU  # noqa: E402
from nengo_lmu.cost import device_energy, lmu_rate_cost  # noqa: E402

#: the plot of the published run
PLOT = pathlib.Path(__file__).parents[1] / "docs" / "_static" / "cost.png"
#: the models at full size
PSDIGITS = dict(psdigits.MODEL, units=64, order=32)
BASIC_MOTIONS = dict(ucr.MODEL)
PRESENTATION = 0.02
SPIKING_DEVICES = ("loihi", "spinnaker", "spinnaker2")
RATE_DEVICES = ("cpu", "gpu", "arm")
#: ``--tiny``: the tiny models of psdigits.py and ucr.py, 4 inferences
TINY = dict(epochs=1, inferences=4, psdigits=psdigits.TINY["model"],
            examples=psdigits.TINY["examples"], ucr=ucr.TINY["model"], train=16)
SOURCES = {
    "loihi": "Davies et al. (2018), Loihi, IEEE Micro 38(1)",
    "spinnaker": "Höppner et al. (2019), IEEE TCAS I 66(8)",
    "spinnaker2": "Höppner et al. (2019), IEEE TCAS I 66(8)",
    "cpu": "Degnan, Marr and Hasler (2015), IEEE TVLSI 24(1): Intel i7-4960X",
    "gpu": "Degnan, Marr and Hasler (2015), IEEE TVLSI 24(1): Nvidia GTX Titan Black",
    "arm": "Degnan, Marr and Hasler (2015), IEEE TVLSI 24(1): ARM Cortex-A",
}
LEFT_OUT = (
    "static (leakage) power of chip and host; the host's idle power while it "
    "waits on the chip; input and output (the host-chip link, data in, answers "
    "out); memory traffic; nengo-loihi's decode neurons; the chip's time per step "
    "(latency is in simulated time)"
)


def the_lmu(net):
    (lmu,) = [n for n in net.all_networks if isinstance(n, LMU)]
    return lmu


def rate_cost(net, steps, n_out, per):
    lmu = the_lmu(net)
    return lmu_rate_cost(
        lmu.units, lmu.order, steps, n_out=n_out, input_d=lmu.input_d,
        memory_d=lmu.memory_d, hidden_to_memory=lmu.hidden_to_memory,
        memory_to_memory=lmu.memory_to_memory, input_to_hidden=lmu.input_to_hidden,
        hidden_to_hidden=lmu.hidden_to_hidden, per=per)


def measure(net, x_train, x_test, y_test, n_out, per, rate_accuracy):
    """The conversions run on x_test; the entry of the results file."""
    from nengo_lmu import loihi  # noqa: PLC0415

    conv = spiking_conversions(net, PRESENTATION, x_train)
    entry = {"inferences": int(len(x_test)), "steps_per_inference": int(x_test.shape[1]),
             "rate_accuracy": float(rate_accuracy)}
    for name, kind, simulator, kwargs in (
        ("emulator", "loihi", loihi.Simulator, dict(target="sim")),
        ("reference", "nengo", nengo.Simulator, {}),
    ):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module="nengo_loihi")
            out, cost = conv[kind].run(simulator, net.inp, x_test, net.probe,
                                       parallel=len(x_test), progress_bar=False, **kwargs)
        cost.per = per
        entry[name] = {
            "accuracy": float(np.mean(out[:, -1].argmax(-1) == y_test)),
            "seconds": time.perf_counter() - start,
            **{k: v for k, v in cost.to_dict(SPIKING_DEVICES).items()
               if k not in ("resources", "chip_step_time_s")},
        }
        if cost.resources:
            entry[name]["chip_resources"] = {
                stage: r for stage, r in cost.resources.items() if r["cores"]}
        print(cost.summary(SPIKING_DEVICES), flush=True)
    rate = rate_cost(net, x_test.shape[1], n_out, per)
    entry["rate"] = rate.to_dict(RATE_DEVICES)
    print(rate.summary(RATE_DEVICES), flush=True)
    joules = {"host memory on Loihi": entry["emulator"]["energy_joules"]["loihi"]["total"],
              **{f"rate on {d.upper()}": entry["rate"]["energy_joules"][d]["total"]
                 for d in RATE_DEVICES}}
    entry["joules_per_inference"] = joules
    return entry


def psdigits_entry(args, tiny):
    from nengo_lmu.datasets import ps_digits  # noqa: PLC0415

    model = TINY["psdigits"] if tiny else PSDIGITS
    examples = TINY["examples"] if tiny else None
    net, rate = psdigits.train(0, args.epochs, neuron_type=nengo.RectifiedLinear(),
                               model=model, examples=examples)
    x_train, _, x_test, y_test = ps_digits(split_seed=0)
    if examples is not None:
        x_train = x_train[: examples[0]]
    n = args.inferences
    entry = measure(net, x_train, x_test[:n], y_test[:n], 10, "digit",
                    rate["test_accuracy"])
    entry["model"] = {k: v for k, v in model.items() if k != "theta"}
    return entry


def basic_motions_entry(args, tiny):
    from nengo_lmu.datasets import ucr as load  # noqa: PLC0415

    model = TINY["ucr"] if tiny else BASIC_MOTIONS
    x, y, x_test, y_test = load("BasicMotions")
    if tiny:
        x, y = x[: TINY["train"]], y[: TINY["train"]]
    n_classes = int(max(y.max(), y_test.max()) + 1)
    net, rate_pred, _ = ucr.train_nengo_lmu(
        x, y, x_test, n_classes, 0, model, args.epochs, ucr.TRAIN["batch"],
        ucr.TRAIN["lr"], False)
    sub = ucr.test_subset(len(x_test), args.inferences)
    entry = measure(net, x, x_test[sub], y_test[sub], n_classes, "series",
                    np.mean(rate_pred == y_test))
    entry["model"] = dict(model)
    return entry


def plot(data, path):
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    models = [k for k in ("psDigits", "BasicMotions") if k in data]
    labels = list(data[models[0]]["joules_per_inference"])
    fig, ax = plt.subplots(figsize=(7, 3.5))
    width = 0.8 / len(labels)
    for i, label in enumerate(labels):
        values = [data[m]["joules_per_inference"][label] for m in models]
        ax.bar(np.arange(len(models)) + i * width, values, width, label=label)
    ax.set_xticks(np.arange(len(models)) + width * (len(labels) - 1) / 2)
    ax.set_xticklabels([f"{m} (per {data[m]['emulator']['per']})" for m in models])
    ax.set_yscale("log")
    ax.set_ylabel("joules per inference")
    ax.set_title("Dynamic energy per inference (keras-spiking's figures)")
    ax.legend(fontsize="small")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")


def arguments(argv=None):
    parser = argument_parser(__doc__)
    parser.add_argument("--epochs", type=positive_int, default=3)
    parser.add_argument("--inferences", type=positive_int, default=16,
                        help="test inputs run spiking, per model")
    parser.add_argument("--plot", type=pathlib.Path, default=None,
                        help=f"the bar plot (default {PLOT}; --tiny: in the results folder)")
    return parse_args(parser, argv, tiny_overrides=["--epochs", "--inferences"])


def main():
    args = arguments()
    if args.tiny:
        args.epochs, args.inferences = TINY["epochs"], TINY["inferences"]
    started = time.time()
    data = {
        "config": {
            "seeds": [0],
            "presentation_time": PRESENTATION,
            "epochs": args.epochs,
            "inferences": args.inferences,
            "rate_readout": "after the last step only",
            "host_device": "cpu",
        },
        "energy_per_op": {
            d: {"synop": device_energy(d)["energy_per_synop"],
                "neuron": device_energy(d)["energy_per_neuron"], "source": SOURCES[d]}
            for d in SPIKING_DEVICES + RATE_DEVICES
        },
        "left_out": LEFT_OUT,
        "psDigits": psdigits_entry(args, args.tiny),
        "BasicMotions": basic_motions_entry(args, args.tiny),
    }
    data["seconds"] = round(time.time() - started, 1)
    write_results("cost", data, args.results)
    path = args.plot or (pathlib.Path(results_folder(args.results)) / "cost.png"
                         if args.tiny else PLOT)
    plot(data, path)


if __name__ == "__main__":
    main()
