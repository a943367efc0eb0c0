"""benchmarks/: every script runs in its tiny configuration and writes its results.

The tiny runs (``--tiny``: one seed, short runs, few samples) show that a
script still works end to end: their results, written into the folder given
by ``--results``, must have the layout of the published
``benchmarks/results/NAME.json`` (every key the docs tabulate, finite numbers
where it has numbers) once there is one, and finite numbers in any case; and
their figures must keep the bounds of `FIGURES`, which a broken memory,
conversion or count misses (where a tiny run trains too little to learn, its
accuracies are only bounded where chance is a floor, and the bounds that
tell are on the figures that need no training: errors against the exact
memory or against the rate network, spike and event counts).
"""

import hashlib
import importlib.util
import json
import math
import numbers
import os
import pathlib
import re
import statistics
import subprocess
import sys

import pytest

BENCHMARKS = pathlib.Path(__file__).parents[1] / "benchmarks"
PUBLISHED = BENCHMARKS / "results"

#: script -> extra arguments of its tiny run (in tmp_path)
SCRIPTS = {
    "chip_memory.py": [],
    "cost.py": [],
    "deep_gpu.py": [],
    "delay_network.py": [],
    "loihi_delay_network.py": [],
    "loihi_lmu.py": [],
    "loihi_rates.py": [],
    "parallel_convolution.py": [],
    "psdigits.py": ["--params", "out"],
    "psdigits_spiking.py": [],
    "reduced_delay.py": [],
    "train_speed.py": [],
    "ucr.py": ["--jobs", "2"],  # through the pool of processes
    "ucr_seeds.py": ["--jobs", "2"],
    "ucr_depth.py": [],
}


def load_benchmark(name):
    """``benchmarks/NAME.py`` as a module (one that imports ``common`` needs
    benchmarks/ on ``sys.path``)."""
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def layout_errors(tiny, published, path=""):
    """Where ``tiny`` lacks a key of ``published``, or holds another kind of value."""
    if isinstance(published, dict):
        if not isinstance(tiny, dict):
            return [f"{path}: {tiny!r} is not an object"]
        return [
            error
            for key, value in published.items()
            for error in (
                layout_errors(tiny[key], value, f"{path}/{key}")
                if key in tiny
                else [f"{path}/{key}: missing"]
            )
        ]
    if isinstance(published, list):
        if not isinstance(tiny, list) or (published and not tiny):
            return [f"{path}: {tiny!r} is not a list like {published[:2]!r}"]
        return layout_errors(tiny[0], published[0], f"{path}[0]") if published else []
    if isinstance(published, numbers.Number) and not isinstance(published, bool):
        number = isinstance(tiny, numbers.Number) and not isinstance(tiny, bool)
        return [] if number and math.isfinite(tiny) else [f"{path}: {tiny!r} is not a number"]
    return [] if type(tiny) is type(published) else [f"{path}: {tiny!r} vs {published!r}"]


# The tiny runs' figures. Every tiny run is seeded (networks, white noise,
# TensorFlow's generators, minibatch order): run again, each gave the same
# figures (to rounding). A bound is either a natural one that a broken
# implementation misses whatever the margin (a zero output's NRMSE is 1, a
# constant readout's error is 1, an accuracy is a fraction of whole series,
# a ratio is the quotient of the figures it relates, ten synaptic events
# per hidden spike) or an upper bound 1.3 to 5 times the figure measured,
# which a silent or wrong memory (NRMSE near 1) or a lost conversion misses;
# the comments give the figures measured in the tiny runs (seed 0).


def quotient(x, y):
    """``x / y``, NaN (which every bound refuses) for a ``y`` of zero."""
    return x / y if y else math.nan


def figure(entry):
    """One seed's figure of a ``{"mean", "std", "per_seed"}`` entry."""
    return entry["mean"]


class Figures:
    """Collects every bound a results file misses (so one failure lists all)."""

    def __init__(self):
        self.errors = []

    def check(self, ok, what):
        if not ok:
            self.errors.append(what)

    def below(self, what, value, bound):
        self.check(math.isfinite(value) and value < bound, f"{what} = {value!r}, not < {bound}")

    def above(self, what, value, bound):
        self.check(math.isfinite(value) and value > bound, f"{what} = {value!r}, not > {bound}")

    def within(self, what, value, low, high):
        self.check(math.isfinite(value) and low <= value <= high,
                   f"{what} = {value!r}, not in [{low}, {high}]")

    def close(self, what, value, expected, rel=1e-6, abs=1e-9):  # noqa: A002
        self.check(value == pytest.approx(expected, rel=rel, abs=abs),
                   f"{what} = {value!r}, not {expected!r}")

    def ratios(self, where, entry, seconds, split):
        """Every ratio of ``entry`` (``split(key)``: the names X and Y of a key
        of X's time over Y's, else nothing) is ``seconds[X] / seconds[Y]``;
        every time is positive."""
        for name, value in seconds.items():
            self.above(f"{where} seconds {name}", value, 0)
        found = 0
        for key, value in entry.items():
            names = split(key)
            if names:
                found += 1
                x, y = names
                self.above(f"{where} {key}", value, 0)
                self.close(f"{where} {key}", value, quotient(seconds[x], seconds[y]),
                           rel=1e-9)
        self.check(found > 0, f"{where}: no ratios")


#: NRMSE upper bounds of the summarised benchmarks: benchmark -> {(variant
#: or "*", figure): bound} (a zero output scores 1)
NRMSE_BOUNDS = {
    # 20 LIF per state, the last 0.5 s scored: state, delay and window
    # 0.16-0.28 for both tunings. exact_delay (no neurons: the order-6
    # Legendre limit on this 1 Hz input) 0.048.
    "delay_network": {("*", "state"): 0.5, ("*", "delay"): 0.5, ("*", "window"): 0.5,
                      ("*", "exact_delay"): 0.1},
    # 32 LIF per state: delay 0.16-0.48 (the emulator at nengo-loihi's tuning
    # the worst), state <= 0.34, window <= 0.30; exact_delay (order 3, 3 Hz)
    # 0.010. The docs' claims, each a factor of two apart in the tiny run:
    # Loihi tuning on the emulator (0.23) and Nengo's default rates on the
    # reference (0.16) both beat the tuning nengo-loihi publishes (0.48, 0.33).
    "loihi_delay_network": {
        ("*", "state"): 0.6, ("*", "delay"): 0.8, ("*", "window"): 0.6,
        ("*", "exact_delay"): 0.05,
        ("ours, emulator, Loihi tuning", "delay"): 0.4,
        ("ours, reference, Nengo's default rates", "delay"): 0.3,
    },
    # 20 SpikingRectifiedLinear per state: ours 0.04-0.21 (reference 0.045);
    # the naive recipe 0.26 (reference) and 0.69 (emulator): still a memory
    # (a zero output scores 1), and ours on the emulator (0.12) beats it there.
    "loihi_lmu": {
        ("*", "state"): 0.4, ("ours, reference", "state"): 0.1,
        ("naive recipe, reference", "state"): 0.5, ("naive recipe, emulator", "state"): 0.9,
    },
    # what the neurons lose against the realised system's own output: 0.29-0.53
    # (16 LIF per state). The tiny run's "delay" and "exact_delay" are not
    # bounded: on the 0.5 s scored of a 2 Hz signal at theta f = 2 even the
    # exact systems score 0.86-1.10 (0.33 and 0.81 over the full runs' 7 s).
    "reduced_delay": {("*", "system"): 0.75},
}


def summarised_figures(name, data):
    """``summarise``'s files: every NRMSE of every variant under its bound;
    the neuron-free figures equal across variants on the same input."""
    f = Figures()
    bounds = NRMSE_BOUNDS[name]
    variants = {k: v for k, v in data.items() if k not in ("benchmark", "config", "seconds")}
    f.check(variants, "no variants")
    for variant, figures in variants.items():
        for key, entry in figures.items():
            bound = bounds.get((variant, key), bounds.get(("*", key)))
            value = figure(entry)
            if bound is not None:
                f.below(f"{variant} {key}", value, bound)
            f.check(math.isfinite(value) and value >= 0, f"{variant} {key} = {value!r}")
    if name in ("delay_network", "loihi_delay_network") and variants:
        # the exact memory on the same white noise: the same in every variant
        exact = {figure(v["exact_delay"]) for v in variants.values()}
        f.check(max(exact) - min(exact) < 1e-9, f"exact_delay differs: {sorted(exact)}")
    if name == "loihi_lmu":
        f.check(figure(data["ours weights, emulator"]["state"])
                < figure(data["naive recipe, emulator"]["state"]),
                "ours (weights) does not beat the naive recipe on the emulator")
    if name == "reduced_delay":
        hankel = data["config"]["hankel_singular_values"]
        order = data["config"]["order"]
        for variant, figures in variants.items():
            # the system is simulated exactly by its own filter: the same on
            # both simulators; the truncation's bound is 2 sum of the
            # discarded Hankel singular values (config: rounded to 4 places)
            same = variant.replace(", emulator", ", reference")
            f.close(f"{variant} exact_delay", figure(figures["exact_delay"]),
                    figure(data[same]["exact_delay"]))
            bound = 2 * sum(hankel[order:]) if "balanced" in variant else 0.0
            f.close(f"{variant} error_bound", figure(figures["error_bound"]), bound, abs=1e-3)
    return f.errors


#: psdigits' tiny runs train every class a little (four minibatches of all ten):
#: their accuracies sit near chance, 0.1 (6-8 of the 64 test digits
#: measured), with nothing to pull them far below it. A guess names fewer
#: than 2 of 64 with a probability of about 1%; a readout or metric that
#: never names the right class (an accuracy of 0) falls below this floor.
PSDIGITS_FLOOR = 2 / 64


def psdigits_figures(name, data):
    """psdigits(_parallel): the test accuracy a fraction of the 64 test digits
    and not below `PSDIGITS_FLOOR`, the summary the one run's."""
    # one epoch of four minibatches leaves the tiny model at chance (0.1 of
    # ten classes; measured 0.11 and 0.125, and 0.19 after 8 epochs): no
    # bound above chance is honest here
    f = Figures()
    (run,) = data["runs"]
    f.check(run["test_examples"] == 64, f"test_examples {run['test_examples']}, not 64")
    for key in ("test_accuracy", "train_accuracy"):
        f.within(key, run[key], 0, 1)
    f.within("test_accuracy", run["test_accuracy"], PSDIGITS_FLOOR, 1)
    # a fraction of the 64 test digits
    f.close("test_accuracy * 64", run["test_accuracy"] * 64, round(run["test_accuracy"] * 64))
    for key in ("mean", "min"):
        f.close(f"test_accuracy_{key}", data[f"test_accuracy_{key}"], run["test_accuracy"])
    f.check(data["test_accuracy_std"] == 0, "std of one seed is not 0")
    f.above("train_seconds", run["train_seconds"], 0)
    return f.errors


def psdigits_spiking_figures(name, data):
    """psdigits_spiking: the spiking networks' activity, which a broken
    conversion or count breaks."""
    # the rate model sits at chance (psdigits_figures), so the spiking
    # accuracies (16 and 4 digits) do too. The hidden layer's only synapses
    # are its ten readout weights: ten synaptic events per spike in every
    # run. The Loihi conversion asks half the peak rate (PEAK_RATES: 500
    # against 1000 Hz), and Loihi's whole-step spike periods only slow a
    # neuron down: the emulator's hidden spikes are at most half the
    # reference's, and not far less (0.46 in the tiny run, 0.40-0.41 in the
    # full ones)
    f = Figures()
    (run,) = data["runs"]
    peaks = data["conversion"]["peak_rates"]
    f.close("scale_firing_rates ratio",
            quotient(run["scale_firing_rates"], run["loihi_scale_firing_rates"]),
            peaks["nengo"] / peaks["loihi"])
    f.within("rate test_accuracy", run["rate"]["test_accuracy"], PSDIGITS_FLOOR, 1)
    sims = ("reference", "loihi_emulator", "loihi_emulator_nengo_loihi_defaults")
    for sim, digits in zip(sims, (16, 16, 4)):
        r = run[sim]
        f.check(r["digits"] == digits, f"{sim} digits {r['digits']}, not {digits}")
        f.within(f"{sim} accuracy", r["accuracy"], 0, 1)
        f.above(f"{sim} hidden_spikes_per_digit", r["hidden_spikes_per_digit"], 0)
        f.close(f"{sim} synaptic events per spike",
                quotient(r["synaptic_events_per_digit"], r["hidden_spikes_per_digit"]), 10)
        f.above(f"{sim} seconds", r["seconds"], 0)
        # every hidden spike goes to the host readout, and costs energy
        f.close(f"{sim} chip-to-host spikes", r["cost_per_digit"]["chip_to_host_spikes"],
                r["hidden_spikes_per_digit"])
        f.above(f"{sim} loihi joules", r["cost_per_digit"]["energy_joules"]["loihi"], 0)
    ratio = quotient(run["loihi_emulator"]["hidden_spikes_per_digit"],
                     run["reference"]["hidden_spikes_per_digit"])
    f.within("emulator / reference hidden spikes", ratio, 0.25, 0.55)
    for sim, key in (("reference", "reference"), ("loihi_emulator", "loihi_emulator")):
        f.close(f"{key}_minus_rate", data[f"{key}_minus_rate"]["mean"],
                run[sim]["accuracy"] - run["rate"]["test_accuracy"])
    f.close("synaptic_events_per_digit", data["synaptic_events_per_digit"]["mean"],
            run["reference"]["synaptic_events_per_digit"])
    return f.errors


def loihi_rates_figures(name, data):
    """loihi_rates: the spiking networks' error against their own rate
    network, and their synaptic events against the rate asked."""
    # one step on 8 training series (for BasicMotions all of one class)
    # leaves each tiny model untrained (rate accuracy 0.28, 0.15, 0.31 of 4,
    # 9 and 3 classes; nothing keeps it near chance): its accuracy is only
    # checked for being one. The errors do not need the model to have
    # learnt. On the reference simulator spike noise falls as 1 / rate:
    # below 100 Hz / rate of the logits' spread (measured
    # 0.003-0.07 at 1000 and 500 Hz, 0.02-0.21 at 250, 0.12-0.54 at 125). On
    # the emulator, whose fast neurons fire too slowly, the best rate still
    # beats a constant output (an error of 1; measured 0.12-0.85). The hidden
    # layer's synaptic events halve with the rate on the reference (2.00-2.02
    # between neighbours) and are fewer on the emulator (0.62-0.95 of them).
    f = Figures()
    rates = data["config"]["rates"]
    f.check(rates == sorted(rates, reverse=True) and len(rates) > 1, f"rates {rates}")
    for dataset in data["config"]["test_series"]:
        entry = data[dataset]
        f.within(f"{dataset} rate_accuracy", figure(entry["rate_accuracy"]), 0, 1)
        emulator_errors = []
        for i, rate in enumerate(rates):
            at = entry[f"{rate:g} Hz"]
            ref, emu = at["reference"], at["emulator"]
            where = f"{dataset} {rate:g} Hz"
            f.below(f"{where} reference error", figure(ref["error"]), 100.0 / rate)
            f.above(f"{where} emulator error", figure(emu["error"]), 0)
            emulator_errors.append(figure(emu["error"]))
            if rate >= 500:  # an error of < 0.2 of the spread keeps every series' class
                f.check(figure(ref["agreement"]) == 1,
                        f"{where} reference agreement {figure(ref['agreement'])}")
            events = figure(ref["synaptic_events_per_series"])
            f.above(f"{where} emulator events", figure(emu["synaptic_events_per_series"]), 0)
            f.below(f"{where} emulator / reference events",
                    quotient(figure(emu["synaptic_events_per_series"]), events), 1.05)
            if i:
                previous = figure(entry[f"{rates[i - 1]:g} Hz"]["reference"][
                    "synaptic_events_per_series"])
                f.within(f"{where} reference events ratio", quotient(previous, events),
                         0.9 * rates[i - 1] / rate, 1.1 * rates[i - 1] / rate)
        f.below(f"{dataset} best emulator error", min(emulator_errors), 1.0)
    return f.errors


def parallel_convolution_figures(name, data):
    """parallel_convolution: times of one step (that it runs, not how fast):
    positive, the median of the rounds, the fastest the least, each ratio
    the quotient of its two medians."""
    f = Figures()
    rounds = data["config"]["rounds"]
    for length, entry in data["lengths"].items():
        seconds = entry["seconds_per_step"]
        f.check(set(seconds) == {"blocks", "fft", "direct", "keras_lmu"},
                f"{length}: timed {sorted(seconds)}")
        for model, times in entry["all_seconds_per_step"].items():
            f.check(len(times) == rounds, f"{length} {model}: {len(times)} rounds")
            f.close(f"{length} {model} median", seconds[model], statistics.median(times))
        f.check(entry["fastest"] == min(seconds, key=seconds.get),
                f"{length}: fastest {entry['fastest']}")
        f.ratios(length, entry, seconds,
                 lambda key: "_over_" in key and key.split("_over_"))
        f.check(sum("_over_" in key for key in entry) == 5, f"{length}: not 5 ratios")
    return f.errors


def chip_memory_figures(name, data):
    """chip_memory: accuracies are fractions; the time ratio is the quotient
    of the two emulator times; the whole LMU on the chip has more neurons
    than the host-memory deployment (its memory's) and sends the chip fewer
    values (its input, not the memory's states)."""
    f = Figures()
    for dataset in ("ArrowHead",):
        entry = data[dataset]
        host = entry["host_memory"]
        orders = [key for key in entry if key.startswith("order ")]
        f.check(orders == [f"order {r}" for r in data["config"]["orders"]], f"orders {orders}")
        for key in orders:
            chip = entry[key]
            for what in ("reduced_rate_accuracy", "finetuned_rate_accuracy"):
                f.within(f"{key} {what}", chip[what]["mean"], 0, 1)
            f.within(f"{key} emulator accuracy", chip["emulator"]["accuracy"]["mean"], 0, 1)
            f.close(f"{key} time ratio", chip["emulator_time_ratio"]["mean"],
                    quotient(chip["emulator"]["seconds"]["mean"], host["seconds"]["mean"]))
            f.above(f"{key} neurons beyond the host memory's",
                    chip["emulator"]["neurons"]["mean"] - host["neurons"]["mean"], 0)
            f.below(f"{key} host-to-chip values against the host memory's",
                    chip["emulator"]["host_to_chip_values_per_series"]["mean"]
                    - host["host_to_chip_values_per_series"]["mean"], 0)
    return f.errors


def deep_gpu_figures(name, data):
    """deep_gpu: times of one training step per depth (that it runs, not how
    fast): both models timed each round, positive, the median of the rounds,
    the ratio the quotient of the two medians."""
    f = Figures()
    rounds = data["config"]["rounds"]
    f.check(list(data["depths"]) == [str(d) for d in data["config"]["depths"]],
            f"depths {list(data['depths'])}")
    for depth, entry in data["depths"].items():
        seconds = entry["seconds_per_step"]
        f.check(set(seconds) == {"nengo_lmu_parallel", "keras_lmu"},
                f"{depth}: timed {sorted(seconds)}")
        for model, times in entry["all_seconds_per_step"].items():
            f.check(len(times) == rounds, f"{depth} {model}: {len(times)} rounds")
            f.close(f"{depth} {model} median", seconds[model], statistics.median(times))
        f.ratios(f"depth {depth}", entry, seconds,
                 lambda key: key.endswith("_over_keras_lmu") and key.split("_over_"))
    return f.errors


def train_speed_figures(name, data):
    """train_speed: per-step times of every model and the end-to-end epochs
    (that they run, not how fast): positive, the median of the rounds, each
    ratio the quotient of the two models' medians."""
    f = Figures()

    def split(key):  # "A_over_B[config]" -> ("A[config]", "B[config]")
        match = re.fullmatch(r"(.+?)_over_(.+)\[(.+)\]", key)
        return match and (f"{match[1]}[{match[3]}]", f"{match[2]}[{match[3]}]")

    for batch, entry in data["batches"].items():
        seconds = entry["seconds_per_step"]
        for model, times in entry["all_seconds_per_step"].items():
            f.check(len(times) == data["rounds"], f"{batch} {model}: {len(times)} rounds")
            f.close(f"{batch} {model} median", seconds[model], statistics.median(times))
        f.ratios(f"batch {batch}", entry, seconds, split)
    for task, entry in data["epochs"].items():
        f.ratios(f"epoch {task}", entry, entry["seconds"],
                 lambda key: key.endswith("_over_nengo_lmu_parallel")
                 and key.split("_over_"))
    return f.errors


def fraction_of(f, what, value, n):
    """``value`` is a fraction of ``n`` whole series."""
    f.within(what, value, 0, 1)
    f.close(f"{what} * {n}", value * n, round(value * n), abs=1e-6)


#: the least share of the tiny run's 4 spiking test series classified as by
#: their rate network, by results file and simulator: all 4 measured (ucr),
#: one allowed to flip (the untrained readout's classes may lie close); a
#: conversion that loses the readout agrees on about one in four
UCR_AGREEMENT = {
    name: {"reference": 0.75, "emulator": 0.75}
    for name in ("ucr", "ucr_per_step", "ucr_channels", "ucr_channels_per_step",
                 "ucr_layers2", "ucr_layers3", "ucr_per_step_layers2_windows1_8-1")
}


def ucr_figures(name, data):
    """ucr and its variants: the spiking networks classify as their rate
    network (`UCR_AGREEMENT`); the figures that follow from others agree."""
    # the tiny run trains for two Adam steps on the first 16 training series
    # of BasicMotions, which hold two of its four classes: its accuracies
    # are those of an untrained model, which may sit well below chance (0.25)
    # as well as near it (0.05-0.375 measured over the variants and peers),
    # and are only checked for being fractions of the test series. The
    # emulator's synaptic events are at most half the reference's, as in
    # psdigits_spiking_figures (0.40-0.44 measured).
    f = Figures()
    meta = ("benchmark", "config", "seconds", "published", "retained_energy")
    (dataset,) = [k for k in data if k not in meta]
    entry = data[dataset]
    test_series = entry["test_series"]
    for key in ("rate_accuracy", "keras_lmu_accuracy", "parallel_rate_accuracy"):
        fraction_of(f, key, figure(entry[key]), 40)  # BasicMotions' test split
    for key in ("train_seconds", "keras_lmu_train_seconds", "parallel_train_seconds"):
        f.above(key, figure(entry[key]), 0)
    for ratio, (x, y) in {"train_time_ratio": ("train_seconds", "keras_lmu_train_seconds"),
                          "parallel_train_time_ratio": ("parallel_train_seconds",
                                                        "keras_lmu_train_seconds")}.items():
        f.close(ratio, figure(entry[ratio]), quotient(figure(entry[x]), figure(entry[y])))
    peaks = data["config"]["conversion"]["peak_rates"]
    f.close("scale_firing_rates ratio",
            quotient(figure(entry["scale_firing_rates"]),
                     figure(entry["loihi_scale_firing_rates"])),
            peaks["nengo"] / peaks["loihi"])
    for sim in ("reference", "emulator"):
        r = entry[sim]
        f.check(figure(r["series"]) == test_series, f"{sim} series {r['series']}")
        for key in ("accuracy", "agreement", "rate_accuracy_same_series"):
            fraction_of(f, f"{sim} {key}", figure(r[key]), test_series)
        f.close(f"{sim} minus_rate_points", figure(r["minus_rate_points"]),
                100 * (figure(r["accuracy"]) - figure(r["rate_accuracy_same_series"])),
                abs=1e-6)
        f.above(f"{sim} synaptic_events_per_series", figure(r["synaptic_events_per_series"]), 0)
        f.above(f"{sim} loihi joules per series",
                figure(r["cost_per_series"]["energy_joules"]["loihi"]), 0)
        f.above(f"{sim} seconds", figure(r["seconds"]), 0)
        f.check(isinstance(r["host_input_saturated"], bool), f"{sim} host_input_saturated")
        f.within(f"{sim} agreement", figure(r["agreement"]), UCR_AGREEMENT[name][sim], 1)
    f.within("emulator / reference synaptic events",
             quotient(figure(entry["emulator"]["synaptic_events_per_series"]),
                      figure(entry["reference"]["synaptic_events_per_series"])), 0.25, 0.55)
    f.close("parallel_over_nengo_dl_train_time", figure(entry["parallel_over_nengo_dl_train_time"]),
            quotient(figure(entry["parallel_train_seconds"]), figure(entry["train_seconds"])))
    # a stack (--layers N): every layer's hidden neurons spike and are counted,
    # the total their sum; every layer a memory and a hidden stage of the cost
    layers = data["config"]["model"].get("layers", 1)
    for sim in ("reference", "emulator"):
        r = entry[sim]
        stages = r["stages_per_series"]
        f.check(set(stages) >= {f"{part} {k}" for part in ("memory", "hidden")
                                for k in range(layers)} if layers > 1 else bool(stages),
                f"{sim} stages {sorted(stages)}")
        if layers > 1:
            per_layer = r["synaptic_events_per_layer"]
            f.check(list(per_layer) == [str(k) for k in range(layers)],
                    f"{sim} synaptic_events_per_layer {list(per_layer)}")
            for k, events in per_layer.items():
                f.above(f"{sim} layer {k} synaptic events", figure(events), 0)
            f.close(f"{sim} synaptic events of the layers",
                    sum(figure(v) for v in per_layer.values()),
                    figure(r["synaptic_events_per_series"]))
    for share in data["retained_energy"].values():
        if share["share"] is not None:
            f.within("retained_energy share", share["share"], 0, 1)
        f.within("retained_energy white_noise", share["white_noise"], 0, 1)
    return f.errors


def ucr_seeds_figures(name, data):
    """ucr_seeds and its variants: each peer's accuracy a fraction of the
    test split, consistent with the test series it missed; the difference
    of the two in points; the p-value a probability."""
    # (the accuracies are an untrained model's in the tiny run, as in ucr_figures)
    f = Figures()
    (dataset,) = [k for k in data if k not in ("benchmark", "config")]
    entry = data[dataset]
    n = entry["test_split_series"]
    f.check(n == 40, f"test_split_series {n}, not BasicMotions' 40")
    for peer in ("nengo_lmu", "keras_lmu"):
        accuracy = figure(entry[f"{peer}_accuracy"])
        fraction_of(f, f"{peer}_accuracy", accuracy, n)
        (wrong,) = entry["wrong_series"][peer]
        f.close(f"{peer} wrong series", len(wrong), round((1 - accuracy) * n))
        f.check(all(0 <= i < n for i in wrong), f"{peer} wrong series {wrong}")
        f.check(entry["always_wrong"][peer] == wrong, f"{peer} always_wrong")
        f.check(entry["always_wrong_count"][peer] == len(wrong), f"{peer} always_wrong_count")
    f.close("difference_points", entry["difference_points"],
            100 * (figure(entry["nengo_lmu_accuracy"]) - figure(entry["keras_lmu_accuracy"])))
    f.within("mann_whitney_p", entry["mann_whitney_p"], 0, 1)
    f.above("seconds", entry["seconds"], 0)
    return f.errors


def ucr_depth_figures(name, data):
    """ucr_depth: every stack and readout an accuracy of the test split and a
    training time; the best is the highest mean, and its distance to
    InceptionTime follows from the published figure."""
    # (the accuracies are an untrained model's in the tiny run, as in ucr_figures)
    f = Figures()
    (dataset,) = [k for k in data if k not in ("benchmark", "config", "published")]
    entry = data[dataset]
    stacks, readouts = data["config"]["stacks"], data["config"]["readouts"]
    f.check(readouts == ["last", "mean"], f"readouts {readouts}")
    f.check(len(stacks) >= 3 and any(len(w) > 1 for w in stacks.values()), f"stacks {stacks}")
    means = {}
    for readout in readouts:
        f.check(set(entry[readout]) == set(stacks), f"{readout}: {list(entry[readout])}")
        for stack in stacks:
            run = entry[readout][stack]
            fraction_of(f, f"{readout} {stack} accuracy", figure(run["accuracy"]), 40)
            f.above(f"{readout} {stack} train_seconds", figure(run["train_seconds"]), 0)
            means[readout, stack] = figure(run["accuracy"])
    best = entry["best"]
    f.close("best accuracy", best["accuracy"], max(means.values()))
    f.close("best is its own", means[best["readout"], best["stack"]], best["accuracy"])
    inception = data["published"]["accuracy"][dataset]["InceptionTime"]
    f.close("inception_time_minus_best_points", best["inception_time_minus_best_points"],
            round(100 * (inception - best["accuracy"]), 2))
    f.above("seconds", entry["seconds"], 0)
    return f.errors


def cost_figures(name, data):
    """cost: each model's report adds up (stages to totals, counts to joules
    by the figures per operation it records), every hidden spike reaches the
    host readout, and the plot's bars are the reports' totals."""
    f = Figures()
    per_op = data["energy_per_op"]
    for model, per in (("psDigits", "digit"), ("BasicMotions", "series")):
        entry = data[model]
        for sim in ("emulator", "reference"):
            r = entry[sim]
            f.check(r["per"] == per and r["inferences"] == 4, f"{model} {sim} per/inferences")
            f.within(f"{model} {sim} accuracy", r["accuracy"], 0, 1)
            stages = r["stages"].values()
            for key, total in r["total"].items():
                f.close(f"{model} {sim} total {key}", total, sum(s[key] for s in stages))
            t = r["total"]
            f.close(f"{model} {sim} chip-to-host spikes", t["chip_to_host_spikes"],
                    r["stages"]["hidden"]["spikes"])
            f.above(f"{model} {sim} host-to-chip spikes", t["host_to_chip_spikes"], 0)
            f.close(f"{model} {sim} neuron updates", t["neuron_updates"],
                    t["neurons"] * r["steps"])
            loihi = per_op["loihi"]
            f.close(f"{model} {sim} loihi joules", r["energy_joules"]["loihi"]["total"],
                    loihi["synop"] * t["synaptic_ops"] + loihi["neuron"] * t["neuron_updates"]
                    + per_op["cpu"]["synop"] * t["host_ops"], rel=1e-9)
        rate = entry["rate"]
        for device in ("cpu", "gpu", "arm"):
            f.close(f"{model} rate {device} joules", rate["energy_joules"][device]["total"],
                    per_op[device]["synop"] * rate["total"]["macs"]
                    + per_op[device]["neuron"] * rate["total"]["neuron_updates"], rel=1e-9)
        f.close(f"{model} bar, Loihi", entry["joules_per_inference"]["host memory on Loihi"],
                entry["emulator"]["energy_joules"]["loihi"]["total"])
        f.check(entry["emulator"].get("chip_resources", {}).get("hidden", {}).get("cores", 0) >= 1,
                f"{model} emulator chip resources")
    return f.errors


#: results files a script writes under another name, with the options that do
VARIANTS = {
    "psdigits_parallel.json": ("psdigits.py", "--parallel"),
    "ucr_per_step.json": ("ucr.py", "--per-step"),
    "ucr_seeds_per_step.json": ("ucr_seeds.py", "--per-step"),
    "ucr_channels.json": ("ucr.py", "--channel-memories"),
    "ucr_channels_per_step.json": ("ucr.py", "--channel-memories", "--per-step"),
    "ucr_seeds_channels.json": ("ucr_seeds.py", "--channel-memories"),
    "ucr_layers2.json": ("ucr.py", "--layers", "2"),
    "ucr_layers3.json": ("ucr.py", "--layers", "3"),
    "ucr_per_step_layers2_windows1_8-1.json": (
        "ucr.py", "--per-step", "--layers", "2", "--windows", "1/8", "1"),
}


#: results file -> the check of its tiny run's figures (a list of the bounds missed)
FIGURES = {
    **{name: summarised_figures for name in NRMSE_BOUNDS},
    "chip_memory": chip_memory_figures,
    "cost": cost_figures,
    "psdigits": psdigits_figures,
    "psdigits_parallel": psdigits_figures,
    "psdigits_spiking": psdigits_spiking_figures,
    "loihi_rates": loihi_rates_figures,
    "parallel_convolution": parallel_convolution_figures,
    "deep_gpu": deep_gpu_figures,
    "train_speed": train_speed_figures,
    "ucr_depth": ucr_depth_figures,
    **{name: ucr_figures for name in UCR_AGREEMENT},
    **{name: ucr_seeds_figures for name in (
        "ucr_seeds", "ucr_seeds_per_step", "ucr_seeds_channels")},
}


def test_every_benchmark_is_tested():
    scripts = sorted(p.name for p in BENCHMARKS.glob("*.py") if p.name != "common.py")
    assert scripts == sorted(SCRIPTS)
    # every results file a tiny run writes has its figures checked
    assert set(FIGURES) == {name[: -len(".py")] for name in SCRIPTS} | {
        name[: -len(".json")] for name in VARIANTS
    }
    # every published results file has its script
    assert {p.name for p in PUBLISHED.glob("*.json")} <= {
        name.replace(".py", ".json") for name in SCRIPTS
    } | set(VARIANTS)


@pytest.mark.parametrize("results", sorted(VARIANTS))
def test_benchmark_variant_tiny(results, tmp_path):
    script, *options = VARIANTS[results]
    check_tiny(script, results[: -len(".json")], tmp_path, *options)


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_benchmark_tiny(script, tmp_path):
    check_tiny(script, script[: -len(".py")], tmp_path)


def check_tiny(script, name, tmp_path, *options):
    """``script --tiny OPTIONS`` writes ``NAME.json`` laid out as the published
    one, into the folder it is given only."""
    published = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in PUBLISHED.glob("*")}
    # the environment's folder is not the one asked for: --results must win
    env = dict(
        os.environ, TF_CPP_MIN_LOG_LEVEL="2", MPLBACKEND="Agg",
        NENGO_LMU_RESULTS=str(tmp_path / "env"),
    )
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--tiny", "--results", "results",
         *options, *SCRIPTS[script]],
        capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in published} == published
    assert not (tmp_path / "env").exists()

    data = json.loads((tmp_path / "results" / f"{name}.json").read_text())
    assert isinstance(data, dict) and data and layout_errors(data, data) == []
    assert FIGURES[name](name, data) == []
    if name.startswith("psdigits"):
        assert [run["seed"] for run in data["runs"]] == [0]
    if name == "psdigits":
        assert (tmp_path / "out" / "psdigits_seed0.npz").stat().st_size > 0
    if name.startswith("ucr") and name != "ucr_depth":  # the option did what the name says
        assert data["config"]["readout"] == ("mean" if "_per_step" in name else "last")
        assert data["config"]["seeds"] == [0]
        channels = data["config"]["model"].get("memory_d") == "input_d"
        assert channels == ("_channels" in name)
        layers = re.search(r"_layers([0-9]+)(_windows|$)", name)
        assert data["config"]["model"].get("layers", 1) == (int(layers[1]) if layers else 1)
        assert ("windows" in data["config"]["model"]) == ("_windows" in name)
    if not (PUBLISHED / f"{name}.json").exists():
        return  # a new benchmark, not run at full size yet: nothing to compare with
    reference = json.loads((PUBLISHED / f"{name}.json").read_text())
    if name == "train_speed":  # batches by size: the tiny run times one batch of 4
        assert list(data["batches"]) == ["4"]
        reference["batches"] = {"4": reference["batches"]["32"]}
    if name == "parallel_convolution":  # by length: the tiny run times two short ones
        assert list(data["lengths"]) == ["16", "40"]
        reference["lengths"] = {k: reference["lengths"]["100"] for k in data["lengths"]}
    if name == "chip_memory":  # by chip order: the tiny run keeps TINY["orders"] states
        for dataset in (k for k in reference if k not in ("benchmark", "config", "seconds")):
            entry = reference[dataset]
            orders = [k for k in entry if k.startswith("order ")]
            reference[dataset] = {k: v for k, v in entry.items() if k not in orders}
            reference[dataset].update({k: entry[orders[0]] for k in data[dataset]
                                       if k.startswith("order ")})
    if name.startswith("ucr"):  # by dataset: the tiny run has one, laid out like the full one's
        meta = ("benchmark", "config", "seconds", "published", "retained_energy")
        (tiny_set,) = [k for k in data if k not in meta]
        full_sets = [k for k in reference if k not in meta]
        first_full = reference[full_sets[0]]
        reference = {k: v for k, v in reference.items() if k not in full_sets}
        reference[tiny_set] = first_full
        if not name.startswith(("ucr_seeds", "ucr_depth")):  # (rate runs, every test series)
            assert list(data["retained_energy"]) == [tiny_set]
            reference["retained_energy"] = {tiny_set: reference["retained_energy"][tiny_set]}
            # the spiking test series: all (None) in full runs, a few in the tiny one
            assert data[tiny_set]["test_series"] == 4
            reference[tiny_set] = dict(first_full, test_series=4)
    if isinstance(reference.get("config"), dict):
        # a tiny run's settings differ in value by design; it must record
        # the same settings
        assert set(reference["config"]) <= set(data["config"])
        reference = {k: v for k, v in reference.items() if k != "config"}
    assert layout_errors(data, reference) == []
    if "benchmark" in reference:  # summarised over seeds: one seed
        assert data["benchmark"] == name and data["config"]["seeds"] == [0]

        def per_seed(tree):  # every list of per-seed figures, at any depth
            if isinstance(tree, dict):
                if "per_seed" in tree:
                    yield tree["per_seed"]
                for key, value in tree.items():
                    if key != "config":
                        yield from per_seed(value)

        lists = list(per_seed(data))
        assert lists and all(len(values) == 1 for values in lists)


def test_write_results_folder(tmp_path, monkeypatch):
    common = load_benchmark("common")
    monkeypatch.setenv(common.ENV, str(tmp_path / "env"))
    common.write_results("a", {"x": 1.5})
    common.write_results("b", {"y": [1, 2]}, str(tmp_path / "given"))
    assert json.loads((tmp_path / "env" / "a.json").read_text()) == {"x": 1.5}
    assert json.loads((tmp_path / "given" / "b.json").read_text()) == {"y": [1, 2]}
    monkeypatch.delenv(common.ENV)
    assert common.parse_args(common.argument_parser("doc"), []).results is None
    # a tiny run would replace the published results: it must name a folder
    with pytest.raises(SystemExit):
        common.parse_args(common.argument_parser("doc"), ["--tiny"])
    args = common.parse_args(common.argument_parser("doc"), ["--tiny", "--results", "d"])
    assert args.tiny and args.results == "d"


def test_ucr_per_step_targets_and_scores(monkeypatch):
    # what --per-step trains on and reads: labels at every step, the mean of
    # the readout over the series (refused for a readout of the last step only)
    import numpy as np  # pylint: disable=import-outside-toplevel

    monkeypatch.syspath_prepend(str(BENCHMARKS))
    ucr = load_benchmark("ucr")
    y = np.array([2, 0])
    assert np.array_equal(ucr.labels(y, 3, per_step=False), y)
    assert np.array_equal(ucr.labels(y, 3, per_step=True), [[2, 2, 2], [0, 0, 0]])
    out = np.zeros((2, 3, 4))
    out[0, :, 1] = [0, 0, 3]  # the last step says 1
    out[0, :, 2] = [2, 2, 0]  # the mean says 2
    assert list(ucr.scores(out, per_step=False).argmax(-1)) == [1, 0]
    assert list(ucr.scores(out, per_step=True).argmax(-1)) == [2, 0]
    assert np.array_equal(ucr.scores(out[:, -1], per_step=False), out[:, -1])
    with pytest.raises(ValueError, match="mean over steps"):
        ucr.scores(out[:, -1], per_step=True)


def ucr_run_parser(monkeypatch):
    """ucr.py as a module, and a parser of its run options (`add_run_options`)
    beside the ``--datasets``, ``--seeds`` and ``--tiny`` its settings read."""
    import argparse  # pylint: disable=import-outside-toplevel

    monkeypatch.syspath_prepend(str(BENCHMARKS))
    ucr = load_benchmark("ucr")
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", nargs="*", default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--tiny", action="store_true")
    ucr.add_run_options(parser)
    return ucr, parser


def test_ucr_channel_memories(monkeypatch):
    # --channel-memories: by default the multi-dimensional datasets only (for
    # the others only the encoder, 1 / std, would change), a memory channel per
    # input dimension starting at nengo_lmu.measure.channel_encoders of the
    # training series
    import numpy as np  # pylint: disable=import-outside-toplevel

    from nengo_lmu.measure import channel_encoders  # pylint: disable=import-outside-toplevel

    ucr, parser = ucr_run_parser(monkeypatch)
    for options, datasets, name, model in [
        ([], ucr.DATASETS, "ucr", ucr.MODEL),
        (["--datasets"], [], "ucr", ucr.MODEL),  # (ucr.py: only the anchors written)
        (["--channel-memories"], ["BasicMotions", "JapaneseVowels"], "ucr_channels",
         dict(ucr.MODEL, memory_d="input_d")),
        (["--channel-memories", "--datasets", "ArrowHead"], ["ArrowHead"], "ucr_channels",
         dict(ucr.MODEL, memory_d="input_d")),
        (["--channel-memories", "--per-step"], ["BasicMotions", "JapaneseVowels"],
         "ucr_channels_per_step", dict(ucr.MODEL, memory_d="input_d")),
        (["--channel-memories", "--tiny"], ucr.TINY["datasets"], "ucr_channels",
         dict(ucr.TINY["model"], memory_d="input_d")),
    ]:
        args = parser.parse_args(options)
        got, config = ucr.run_settings(parser, args, ucr.DATASETS)
        assert args.datasets == datasets
        assert ucr.results_name("ucr", args) == name
        assert got == model and config["model"] == model
    x = np.array([1.0, 5.0, 0.2]) * np.random.RandomState(0).standard_normal((4, 10, 3))
    lmu = ucr.build_network(2, 0, dict(ucr.MODEL, memory_d="input_d"), x).lmu
    assert lmu.memory_d == 3
    assert np.allclose(lmu.input_encoders.transform.init, channel_encoders(x))
    one = ucr.build_network(2, 0, ucr.MODEL, x).lmu
    assert one.memory_d == 1 and np.allclose(one.input_encoders.transform.init, 1)


def test_ucr_layers(monkeypatch):
    # --layers N: a stack of N LMUs of the same width, order and window, in
    # its own results file; the input's memory channels are the first layer's
    import numpy as np  # pylint: disable=import-outside-toplevel

    ucr, parser = ucr_run_parser(monkeypatch)
    for options, name, model in [
        (["--layers", "1"], "ucr", ucr.MODEL),  # (one layer: as before)
        (["--layers", "3"], "ucr_layers3", dict(ucr.MODEL, layers=3)),
        (["--layers", "2", "--per-step", "--channel-memories"], "ucr_channels_per_step_layers2",
         dict(ucr.MODEL, memory_d="input_d", layers=2)),
        (["--layers", "2", "--tiny"], "ucr_layers2", dict(ucr.TINY["model"], layers=2)),
    ]:
        args = parser.parse_args(options)
        got, config = ucr.run_settings(parser, args, ucr.DATASETS)
        assert ucr.results_name("ucr", args) == name
        assert got == model and config["model"] == model
    x = np.random.RandomState(0).standard_normal((4, 10, 3))
    net = ucr.build_network(2, 0, dict(ucr.MODEL, layers=3), x)
    assert len(net.lmus) == 3 and net.lmu is net.lmus[-1]
    assert [lmu.input_d for lmu in net.lmus] == [3, 128, 128]
    assert {(lmu.units, lmu.order, lmu.theta) for lmu in net.lmus} == {(128, 10, 10.0)}
    net = ucr.build_network(2, 0, dict(ucr.MODEL, layers=2, memory_d="input_d"), x)
    assert [lmu.memory_d for lmu in net.lmus] == [3, 1]


def test_ucr_windows(monkeypatch, capsys):
    # --windows: each layer's window a share of the series, its order in
    # proportion (the same steps per order), keras-lmu's stack the same
    import numpy as np  # pylint: disable=import-outside-toplevel

    ucr, parser = ucr_run_parser(monkeypatch)
    args = parser.parse_args(["--layers", "2", "--windows", "1/8", "1", "--per-step"])
    model, config = ucr.run_settings(parser, args, ucr.DATASETS)
    assert model == config["model"] == dict(ucr.MODEL, layers=2, windows=[0.125, 1.0])
    assert ucr.results_name("ucr", args) == "ucr_per_step_layers2_windows1_8-1"
    # every window the whole series: the uniform stack, and its file
    args = parser.parse_args(["--layers", "2", "--windows", "1", "1.0"])
    assert ucr.run_settings(parser, args, ucr.DATASETS)[0] == dict(ucr.MODEL, layers=2)
    assert ucr.results_name("ucr", args) == "ucr_layers2"
    x = np.random.RandomState(0).standard_normal((4, 200, 3))
    net = ucr.build_network(2, 0, model, x)
    assert [(lmu.order, lmu.theta) for lmu in net.lmus] == [(8, 25.0), (64, 200.0)]
    # one layer of half the series: every peer's memory (keras-lmu's as well)
    args = parser.parse_args(["--windows", "1/2"])
    one = ucr.run_settings(parser, args, ucr.DATASETS)[0]
    assert ucr.results_name("ucr", args) == "ucr_windows1_2"
    assert ucr.layer_shapes(one, 200) == [(32, 100.0)]
    assert [(lmu.order, lmu.theta) for lmu in ucr.build_network(2, 0, one, x).lmus] == [
        (32, 100.0)]
    assert ucr.layer_shapes(dict(ucr.MODEL, layers=2, windows=[0.01, 1.0]), 29) == [
        (1, 0.29), (29, 29.0)]  # (an order of at least 1; at most the steps)
    for options, message in [
        (["--layers", "2", "--windows", "1/8"], "1 windows for --layers 2"),
        (["--windows", "0"], "not in (0, 1]"),
        (["--windows", "3/2"], "not in (0, 1]"),
        (["--windows", "a"], "not a fraction"),
    ]:
        with pytest.raises(SystemExit):
            ucr.run_settings(parser, parser.parse_args(options), ucr.DATASETS)
        assert message in capsys.readouterr().err


def test_ucr_seeds_compare(monkeypatch):
    # each peer's accuracy from the series it missed, their difference
    # (nengo_lmu minus keras-lmu), the series missed in every seed, and the
    # Mann-Whitney p-value: samples of three wholly apart are 2 of the
    # C(6, 3) = 20 splits as extreme, p = 0.1 (two-sided, exact)
    import numpy as np  # pylint: disable=import-outside-toplevel

    monkeypatch.syspath_prepend(str(BENCHMARKS))
    seeds = load_benchmark("ucr_seeds")

    def missed(*series):
        return np.isin(np.arange(8), series)

    runs = [
        {"nengo_lmu": missed(), "keras_lmu": missed(0, 1, 2, 5)},
        {"nengo_lmu": missed(5), "keras_lmu": missed(0, 2, 5, 6, 7)},
        {"nengo_lmu": missed(3, 5), "keras_lmu": missed(0, 1, 2, 4, 5, 7)},
    ]
    entry = seeds.compare(runs)
    assert entry["nengo_lmu_accuracy"]["per_seed"] == [1.0, 0.875, 0.75]
    assert entry["keras_lmu_accuracy"]["per_seed"] == [0.5, 0.375, 0.25]
    assert entry["difference_points"] == pytest.approx(50.0)
    assert entry["mann_whitney_p"] == pytest.approx(0.1)
    assert entry["always_wrong"] == {"nengo_lmu": [], "keras_lmu": [0, 2, 5]}
    assert entry["always_wrong_count"] == {"nengo_lmu": 0, "keras_lmu": 3}
    assert entry["wrong_series"]["nengo_lmu"] == [[], [5], [3, 5]]
    assert entry["test_split_series"] == 8
    # peers swapped: the difference changes sign, the p-value does not
    swapped = seeds.compare([{"nengo_lmu": r["keras_lmu"], "keras_lmu": r["nengo_lmu"]}
                             for r in runs])
    assert swapped["difference_points"] == pytest.approx(-50.0)
    assert swapped["mann_whitney_p"] == pytest.approx(0.1)
    # every run alike: no difference, and no evidence of one
    same = seeds.compare([{"nengo_lmu": missed(1), "keras_lmu": missed(2)}] * 3)
    assert same["difference_points"] == 0 and same["mann_whitney_p"] == 1.0


@pytest.mark.parametrize("name", ["ucr", "ucr_per_step", "ucr_channels"])
def test_ucr_seeds_holds_the_ucr_runs(name):
    # the docs' claim: ucr.json's seeds (0-4) are the first of ucr_seeds.json's,
    # with the same accuracies for both peers
    ucr = json.loads((PUBLISHED / f"{name}.json").read_text())
    seeds = json.loads((PUBLISHED / f"{name.replace('ucr', 'ucr_seeds', 1)}.json").read_text())
    n = len(ucr["config"]["seeds"])
    assert seeds["config"]["seeds"][:n] == ucr["config"]["seeds"]
    assert seeds["config"]["model"] == ucr["config"]["model"]
    assert seeds["config"]["train"] == ucr["config"]["train"]
    shared = [k for k in seeds if k in ucr and k not in ("benchmark", "config", "seconds")]
    assert shared
    for dataset in shared:
        for ours, theirs in [("nengo_lmu_accuracy", "rate_accuracy"),
                             ("keras_lmu_accuracy", "keras_lmu_accuracy")]:
            assert seeds[dataset][ours]["per_seed"][:n] == ucr[dataset][theirs]["per_seed"]


def test_each_dataset_keeps_the_others(monkeypatch, capsys):
    # a dataset whose runs fail is skipped and named at the end; the others
    # are yielded, each combined from its seeds' results in order
    import types  # pylint: disable=import-outside-toplevel

    monkeypatch.syspath_prepend(str(BENCHMARKS))
    ucr = load_benchmark("ucr")

    def run_one(name, seed, args, model, epochs):
        if name == "bad":
            raise ValueError("no such series")
        return (name, seed, epochs)

    args = types.SimpleNamespace(datasets=["a", "bad", "c"], seeds=[0, 1], jobs=1, tiny=True)
    got = []
    with pytest.raises(RuntimeError, match=r"runs of \['bad'\] failed"):
        for name, entry in ucr.each_dataset(args, None, run_one, list):
            got.append((name, entry))
    epochs = ucr.TINY["epochs"]
    assert got == [("a", [("a", 0, epochs), ("a", 1, epochs)]),
                   ("c", [("c", 0, epochs), ("c", 1, epochs)])]
    assert "no such series" in capsys.readouterr().err


def test_add_results_merges_same_config(tmp_path):
    common = load_benchmark("common")
    common.add_results("r", {"k": 1}, {"a": 1.0}, str(tmp_path))
    common.add_results("r", {"k": 1}, {"b": 2.0}, str(tmp_path))
    assert common.read_results("r", str(tmp_path)) == {
        "benchmark": "r", "config": {"k": 1}, "a": 1.0, "b": 2.0}
    common.add_results("r", {"k": 2}, {"c": 3.0}, str(tmp_path))  # other settings: anew
    assert common.read_results("r", str(tmp_path)) == {
        "benchmark": "r", "config": {"k": 2}, "c": 3.0}


@pytest.mark.parametrize("name", ["ucr", "ucr_per_step", "ucr_channels"])
def test_ucr_retained_energy_is_the_models(name, monkeypatch):
    # the published share of each dataset that the memory keeps is what the
    # benchmark's model keeps of that dataset now
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    ucr = load_benchmark("ucr")
    published = json.loads((PUBLISHED / f"{name}.json").read_text())
    model = published["config"]["model"]
    channels = name.startswith("ucr_channels")
    assert model == (dict(ucr.MODEL, memory_d="input_d") if channels else ucr.MODEL)
    now = ucr.retained_energies(ucr.MULTIVARIATE if channels else ucr.DATASETS, model)
    assert published["retained_energy"].keys() == now.keys()
    for dataset, entry in now.items():
        assert published["retained_energy"][dataset] == pytest.approx(entry, abs=1e-4), dataset
    if channels:  # each dimension in its own memory, at unit variance
        assert all(0 < entry["share"] <= 1 for entry in now.values())
    else:  # the multi-dimensional series have none (their mix is learned)
        assert now["BasicMotions"]["share"] is None and now["ArrowHead"]["share"] > 0.9


def test_train_guide_quotes_the_deep_results():
    # docs/user_guide/train.rst's "Deep models" table: each figure is the
    # entry of benchmarks/results/ its ``.. source:`` comment names, at the
    # precision it is printed with (README.rst's rule, test_readme.check_figure)
    from test_readme import FIGURE, check_figure  # pylint: disable=import-outside-toplevel

    page = (BENCHMARKS.parent / "docs" / "user_guide" / "train.rst").read_text()
    section = page[page.index(".. rubric:: Deep models"):page.index(".. rubric:: Several")]
    quoted = re.findall(r"- (.+)\n\s*\n\s*\.\. source: (.+)\n", section)
    assert len(quoted) >= 10
    for text, source in quoted:
        found = FIGURE.fullmatch(text.strip())
        assert found, f"{text!r} is not one figure"
        assert source.split(" / ")[0].startswith("ucr"), source
        check_figure(found, f"source: {source}", "measured here", False)
