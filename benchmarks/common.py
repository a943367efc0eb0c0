"""Shared helpers of the benchmarks: runs, NRMSE, seeds, options, results files."""

import argparse
import contextlib
import fcntl
import json
import math
import os
import pathlib
import time
import warnings

import nengo
import numpy as np

from nengo_lmu import LegendreMemory, legendre_readout
from nengo_lmu.metrics import nrmse  # noqa: F401  (the benchmarks' metric)
from nengo_lmu.params import MAX_SEED

#: the published results (what the docs and README quote), written unless
#: ``--results DIR`` or the environment variable ``NENGO_LMU_RESULTS`` says otherwise
RESULTS = os.path.join(os.path.dirname(__file__), "results")
ENV = "NENGO_LMU_RESULTS"


def argument_parser(doc):
    """The benchmark's command line, with the options every benchmark has.

    ``--tiny`` runs a configuration small enough for the test suite (one seed,
    short runs, few samples: that the script works, not its figures);
    ``--results DIR`` names the results folder. Every option a benchmark adds
    is checked as it is parsed (`positive_int`, `positive_float`,
    `presentation_time`, `random_seed`, `thread_pools`, `Distinct`;
    `parse_args`): a bad value ends the script before any work, with a line
    naming the option.
    """
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument(
        "--tiny", action="store_true",
        help="a configuration for tests: one seed, short runs, few samples",
    )
    parser.add_argument(
        "--results", metavar="DIR", default=os.environ.get(ENV) or None,
        help=f"folder for the results JSON (default: ${ENV}, else benchmarks/results)",
    )
    return parser


def parse_args(parser, args=None, tiny_overrides=()):
    """Parse; ``--tiny`` must name its results folder (never benchmarks/results),
    and takes none of ``tiny_overrides`` (the options whose values it sets:
    given with it, they would be ignored). ``--results`` must not name a file."""
    # the overridden options start out unset (a sentinel): those left unset
    # were not given, and get their defaults afterwards
    unset = object()
    dests = {option: option.lstrip("-").replace("-", "_") for option in tiny_overrides}
    args = parser.parse_args(args, argparse.Namespace(**{d: unset for d in dests.values()}))
    given = [option for option, dest in dests.items() if getattr(args, dest) is not unset]
    for dest in dests.values():
        if getattr(args, dest) is unset:
            setattr(args, dest, parser.get_default(dest))
    if args.tiny and given:
        parser.error(f"argument {given[0]}: not allowed with --tiny, which sets it")
    if args.tiny and not args.results:
        parser.error(f"--tiny needs --results DIR (or ${ENV}): it would replace the results")
    if args.results is not None:
        where = f"${ENV}" if args.results is parser.get_default("results") else "--results"
        check_folder(parser, where, args.results)
    return args


def folder_path(text):
    """An argparse ``type``: a folder's path (not empty: ``pathlib.Path("")``
    would be the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty folder name")
    return pathlib.Path(text)


def check_folder(parser, option, folder):
    """``parser.error`` unless ``folder`` is a folder, or one that can be made,
    that can be written to: checked before the work, not when it is written."""
    folder = os.fspath(folder)
    if not folder.strip():
        parser.error(f"argument {option}: an empty folder name")
    existing = os.path.abspath(folder)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        parser.error(f"argument {option}: {existing!r} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        parser.error(f"argument {option}: cannot write in {existing!r}")


def positive_int(text):
    """An argparse ``type``: a whole number at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def positive_float(text):
    """An argparse ``type``: a finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, not {text!r}")
    return value


def presentation_time(text):
    """An argparse ``type``: seconds a sample is presented to a spiking network,
    a whole number (at least one) of `nengo_lmu.spiking.to_spiking`'s default
    ``dt`` steps (`spiking_conversions` converts at that ``dt``)."""
    from nengo.exceptions import ValidationError  # noqa: PLC0415

    from nengo_lmu.spiking import presentation_steps  # noqa: PLC0415

    value = positive_float(text)
    try:
        presentation_steps(value, PRESENTATION_DT)
    except ValidationError as error:
        raise argparse.ArgumentTypeError(error.args[0]) from None
    return value


#: the simulator step of `spiking_conversions` (`nengo_lmu.spiking.to_spiking`'s default)
PRESENTATION_DT = 0.001

def random_seed(text):
    """An argparse ``type``: a seed, a whole number in ``0 .. 2**32 - 1``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"a seed is in 0 .. {MAX_SEED}, not {value}")
    return value


def thread_pools(text):
    """An argparse ``type``: ``INTER,INTRA``, two whole numbers at least 1, as a pair."""
    parts = text.split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"expected INTER,INTRA (e.g. 2,1), not {text!r}")
    try:
        return tuple(positive_int(part.strip()) for part in parts)
    except argparse.ArgumentTypeError as error:
        raise argparse.ArgumentTypeError(f"expected INTER,INTRA (e.g. 2,1): {error}") from None


class Distinct(argparse.Action):
    """An argparse ``action`` for a list option: refuses a value given twice
    (a seed or dataset run twice would count twice in the means)."""

    def __call__(self, parser, namespace, values, option_string=None):
        seen = []
        for value in values:
            if value in seen:
                parser.error(f"argument {option_string}: {value!r} given twice")
            seen.append(value)
        setattr(namespace, self.dest, values)


def simulator(kind, net, dt=0.001):
    """``kind``: "loihi" (the emulator through `nengo_lmu.loihi.Simulator`),
    "nengo_loihi" (the emulator with nengo-loihi's defaults) or "nengo"."""
    if kind == "loihi":
        from nengo_lmu.loihi import Simulator  # noqa: PLC0415

        return Simulator(net, dt=dt, target="sim", progress_bar=False)
    if kind == "nengo_loihi":
        import nengo_loihi  # noqa: PLC0415

        return nengo_loihi.Simulator(net, dt=dt, target="sim", progress_bar=False)
    return nengo.Simulator(net, dt=dt, progress_bar=False)


def run_memory(
    kind, order, theta, high, rms, T, seed, skip, delay_readout=False, probe_synapse=None,
    **kwargs,
):
    """State and theta-delay NRMSE of a neural LegendreMemory (kwargs) against
    the exact memory and the ideal delay, on the same white noise; with
    ``probe_synapse``, both memories are probed through it."""
    with nengo.Network(seed=seed) as net:
        # the process seeded itself: nengo-loihi runs host processes in a
        # simulator of random seed, whatever the network's
        stim = nengo.Node(nengo.processes.WhiteSignal(T, high=high, rms=rms, y0=0, seed=seed))
        mem = LegendreMemory(order, theta, input_high=high, input_rms=rms, **kwargs)
        exact = LegendreMemory(order, theta)
        nengo.Connection(stim, mem.input, synapse=None)
        nengo.Connection(stim, exact.input, synapse=None)
        p_u = nengo.Probe(stim)
        p = nengo.Probe(mem.output, synapse=probe_synapse)
        p_exact = nengo.Probe(exact.output, synapse=probe_synapse)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nengo-loihi's "tau_s is already set"
        with simulator(kind, net) as sim:
            sim.run(T)
    return evaluate(sim, p_u, p, p_exact, order, theta, skip, lag=1)


def evaluate(sim, p_u, p, p_exact, order, theta, skip, lag=1):
    u, x, m = sim.data[p_u], sim.data[p], sim.data[p_exact]
    m_late = np.vstack([np.zeros((lag, order)), m[: len(m) - lag]])
    k = int(round(theta / sim.dt))
    delayed = np.vstack([np.zeros((k, 1)), u[: len(u) - k]])
    P = legendre_readout(order, 1.0)
    # Voelker's thesis protocol: 100 delays spanning the window, pooled, against
    # the ideal (exact) memory's window rather than the true delayed input
    W = legendre_readout(order, np.linspace(0, 1, 100))
    s = slice(skip, None)
    return dict(
        state=nrmse(x[s], m_late[s]),
        delay=nrmse((x @ P)[s, None], delayed[s]),
        window=nrmse((x @ W.T)[s], (m_late @ W.T)[s]),
        exact_delay=nrmse((m @ P)[s, None], delayed[s]),
    )


def summarise(name, config, runs, started, folder=None):
    """Mean and standard deviation over seeds; print and save as JSON (`write_results`)."""
    summary = {"benchmark": name, "config": config, "seconds": round(time.time() - started, 1)}
    for variant, results in runs.items():
        keys = results[0].keys()
        summary[variant] = {
            k: {
                "mean": float(np.mean([r[k] for r in results])),
                "std": float(np.std([r[k] for r in results])),
                "per_seed": [round(r[k], 4) for r in results],
            }
            for k in keys
        }
        for k in keys:
            v = summary[variant][k]
            print(f"{variant:>28s} {k:>12s}: {v['mean']:.4f} +- {v['std']:.4f}  {v['per_seed']}")
    print(f"{name}: {summary['seconds']} s")
    write_results(name, summary, folder)
    return summary


def time_training_steps(models, x, y, rounds, repeats):
    """Seconds per ``train_on_batch(x, y)`` of each of ``models`` (name ->
    compiled Keras model): each traced once untimed, then timed round-robin
    (``rounds`` times ``repeats`` steps, one model after another, so that a
    slow spell of the machine falls on all of them), waiting for each
    round's last step to finish (a GPU runs ahead otherwise).

    Returns
    -------
    median : dict
        Per model, the median over rounds of the seconds per step.
    times : dict
        Per model, every round's seconds per step.
    """
    for model in models.values():
        model.train_on_batch(x, y)  # traced here, not timed
    times = {name: [] for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            start = time.perf_counter()
            for _ in range(repeats):
                loss = model.train_on_batch(x, y)
            float(np.asarray(loss))  # the step has finished
            times[name].append((time.perf_counter() - start) / repeats)
    return {name: float(np.median(t)) for name, t in times.items()}, times


def spiking_conversions(net, presentation_time, x_train):
    """``net`` converted by `nengo_lmu.spiking.to_spiking` at its defaults for
    each simulator (``simulator`` "nengo" and "loihi"), calibrated on
    ``x_train``: the benchmarks' recipe."""
    from nengo_lmu.spiking import to_spiking  # noqa: PLC0415

    return {
        simulator: to_spiking(net, presentation_time, calibration=(net.inp, x_train),
                              simulator=simulator)
        for simulator in ("nengo", "loihi")
    }


def results_folder(folder=None):
    """``folder``; by default ``$NENGO_LMU_RESULTS``, else ``benchmarks/results``."""
    return folder or os.environ.get(ENV) or RESULTS


@contextlib.contextmanager
def results_lock(name, folder=None):
    """An exclusive lock on ``FOLDER/NAME.json.lock``: for a read-modify-write
    of ``NAME.json`` that other processes may also be making."""
    folder = results_folder(folder)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"{name}.json.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def write_results(name, data, folder=None):
    """Write ``data`` to ``FOLDER/NAME.json`` (`results_folder`: by default
    what the docs and README quote)."""
    folder = results_folder(folder)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{name}.json")
    # written whole, then renamed over the old file: a reader, or a run
    # stopped mid-write, never sees half a file
    try:
        with open(path + ".partial", "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
        os.replace(path + ".partial", path)
    finally:
        if os.path.exists(path + ".partial"):
            os.remove(path + ".partial")
    print(f"wrote {path}")


def read_results(name, folder=None):
    """The results ``write_results`` wrote for ``name`` there, or None."""
    path = os.path.join(results_folder(folder), f"{name}.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def add_results(name, config, entries, folder=None):
    """Write ``entries`` into ``FOLDER/NAME.json``, under `results_lock`, beside
    the entries already there if that file has the same ``config`` (else into
    a new ``{"benchmark": name, "config": config}``): parts of one benchmark
    run in separate invocations with the same settings all stay."""
    with results_lock(name, folder):
        data = read_results(name, folder)
        if not data or data.get("config") != config:
            data = {"benchmark": name, "config": config}
        data.update(entries)
        write_results(name, data, folder)
