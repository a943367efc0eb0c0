"""The nengo-loihi LMU example's memory on the Loihi emulator.

Order 6, theta = 1 s, tau = 0.1 s, 100 SpikingRectifiedLinear per state,
2 Hz white noise of RMS 0.3 (the example's), set_defaults tuning. State NRMSE
of the memory against the exact memory, pooled over the 6 states, for:

* ours (nengo_lmu, simulator="loihi"): neuron-to-neuron weights (default), and
  through decode neurons (double-exponential mapping), with the example's
  tuning; and with neuron weights and `nengo_lmu.loihi.MEMORY_KWARGS` ("Loihi
  tuning": 150-200 Hz, states at 2.5 RMS per radius);
* the example's naive recipe: EnsembleArray with tau A + I, tau B;
on the emulator (ours through `nengo_lmu.loihi.Simulator`, the recipe with
nengo-loihi's defaults, as published) and on the reference simulator. The
white noise is seeded by the seed (nengo-loihi would otherwise draw it anew
on every run).

Every variant is scored by one metric: its output and the exact memory's,
both probed through the same Lowpass(``probe_tau``) (the recipe's decoded
spikes need a filter), the exact memory taken one step late (both networks'
recurrent loops run one step behind it), NRMSE pooled over the states.

Run: python benchmarks/loihi_lmu.py [--tiny] [--results DIR]
(writes results/loihi_lmu.json)
"""

import time
import warnings

import nengo
import numpy as np

from common import argument_parser, nrmse, parse_args, run_memory, simulator, summarise
from nengo_lmu import LegendreMemory, legendre_memory
from nengo_lmu.loihi import ENSEMBLE_KWARGS, MEMORY_KWARGS

SEEDS = range(5)
CONFIG = dict(
    order=6, theta=1.0, high=2.0, rms=0.3, T=8.0, n_neurons=100, tau=0.1, skip_s=1.0,
    probe_tau=0.01,
)
#: ``--tiny``: one seed, 1.5 s (the last 0.5 s scored), 20 neurons per state
TINY = dict(seeds=range(1), config=dict(CONFIG, T=1.5, n_neurons=20))


def naive(kind, seed, c):
    q, tau = c["order"], c["tau"]
    A, B = legendre_memory(q, c["theta"])
    with nengo.Network(seed=seed) as net:
        stim = nengo.Node(
            nengo.processes.WhiteSignal(c["T"], high=c["high"], rms=c["rms"], y0=0, seed=seed)
        )
        lmu = nengo.networks.EnsembleArray(
            c["n_neurons"], q, neuron_type=nengo.SpikingRectifiedLinear(), **ENSEMBLE_KWARGS
        )
        nengo.Connection(stim, lmu.input, transform=B * tau, synapse=tau)
        nengo.Connection(lmu.output, lmu.input, transform=A * tau + np.eye(q), synapse=tau)
        exact = LegendreMemory(q, c["theta"])
        nengo.Connection(stim, exact.input, synapse=None)
        p = nengo.Probe(lmu.output, synapse=c["probe_tau"])
        p_exact = nengo.Probe(exact.output, synapse=c["probe_tau"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with simulator(kind, net) as sim:
            sim.run(c["T"])
    s = slice(int(c["skip_s"] / sim.dt), None)
    late = np.vstack([np.zeros((1, q)), sim.data[p_exact][:-1]])  # one step late
    return dict(state=nrmse(sim.data[p][s], late[s]))


def ours(kind, seed, c, weights, **kwargs):
    kwargs.setdefault("ensemble_kwargs", ENSEMBLE_KWARGS)
    r = run_memory(
        kind, c["order"], c["theta"], c["high"], c["rms"], c["T"], seed,
        skip=int(c["skip_s"] / 0.001), n_neurons=c["n_neurons"], probe_synapse=c["probe_tau"],
        neuron_type=nengo.SpikingRectifiedLinear(), synapse=c["tau"],
        simulator="loihi" if kind == "loihi" else "nengo", weights=weights, **kwargs,
    )
    return dict(state=r["state"])


def arguments(argv=None):
    """The command line (``argv``, by default ``sys.argv``), checked."""
    return parse_args(argument_parser(__doc__), argv)


if __name__ == "__main__":
    args = arguments()
    started = time.time()
    seeds, c = (TINY["seeds"], TINY["config"]) if args.tiny else (SEEDS, CONFIG)
    runs = {
        "ours weights, Loihi tuning, emulator": [
            ours("loihi", s, c, True, **MEMORY_KWARGS) for s in seeds
        ],
        "ours weights, emulator": [ours("loihi", s, c, True) for s in seeds],
        "ours decode neurons, emulator": [ours("loihi", s, c, False) for s in seeds],
        "ours, reference": [ours("nengo", s, c, False) for s in seeds],
        "naive recipe, emulator": [naive("nengo_loihi", s, c) for s in seeds],
        "naive recipe, reference": [naive("nengo", s, c) for s in seeds],
    }
    summarise("loihi_lmu", dict(c, seeds=list(seeds)), runs, started, args.results)
