"""A reduced-order delay: balanced truncation against the Legendre delay of the same order.

Both realised with `nengo_lmu.LinearNetwork` at the configuration of
``benchmarks/loihi_lmu.py``'s memory: 6 ensembles of 100 LIF each (Loihi's
tuning, `nengo_lmu.loihi.MEMORY_TUNING`, states at 2.5 RMS per radius),
tau = 0.1 s, dt = 1 ms, theta = 1 s, 2 Hz white noise (RMS 0.3):

* "Legendre order 6": `LegendreDelay(theta, 6)`;
* "order 12 balanced to 6": `LegendreDelay(theta, 12)` reduced to 6 states by
  balanced truncation (``RMS(basis=Balanced(order=6))``).

NRMSE of the output against the true delayed input u(t - theta) (``delay``)
and against the realised system's own exact output (``system``: what the
neurons lose), after a 1 s transient, on the reference simulator and the
Loihi emulator (`nengo_lmu.loihi.Simulator`), 5 seeds (mean, population std).
Also each system's own delay NRMSE without neurons (``exact_delay``: its
limit at this band, theta f = 2) and the truncation's Hankel-singular-value
error bound. A delay is nearly all-pass: of its 12 Hankel singular values
(in the results' config) the largest six stay near 1, so truncating to six
discards a large sum, the worst case for balanced truncation, which bounds
the error over all frequencies; the Legendre delay is exact at low
frequencies.

Run: python benchmarks/reduced_delay.py [--tiny] [--results DIR]
(writes results/reduced_delay.json)
"""

import time
import warnings

import nengo
import numpy as np

from common import argument_parser, nrmse, parse_args, simulator, summarise
from nengo_lmu import LegendreDelay, LinearNetwork
from nengo_lmu.loihi import MEMORY_TUNING
from nengo_lmu.realizers import RMS, Balanced, hankel_singular_values

SEEDS = range(5)
CONFIG = dict(order=6, full_order=12, theta=1.0, high=2.0, rms=0.3, T=8.0, skip_s=1.0,
              n_neurons=100, tau=0.1, rms_per_radius=2.5)
#: ``--tiny``: one seed, 1.5 s (the last 0.5 s scored), 16 neurons per state
TINY = dict(seeds=range(1), config=dict(CONFIG, T=1.5, n_neurons=16))


def variants(c):
    return {
        "Legendre order 6": (LegendreDelay(c["theta"], c["order"]), None),
        "order 12 balanced to 6": (
            LegendreDelay(c["theta"], c["full_order"]), Balanced(order=c["order"])),
    }


def run(kind, sys, basis, seed, c):
    with nengo.Network(seed=seed) as net:
        stim = nengo.Node(nengo.processes.WhiteSignal(
            c["T"], high=c["high"], rms=c["rms"], y0=0, seed=seed))
        lin = LinearNetwork(
            sys, c["n_neurons"], synapse=nengo.Lowpass(c["tau"]),
            realizer=RMS(c["rms_per_radius"], basis=basis), input_high=c["high"],
            input_rms=c["rms"], neuron_type=nengo.LIF(), ensemble_kwargs=MEMORY_TUNING,
            simulator="loihi" if kind == "loihi" else "nengo",
        )
        nengo.Connection(stim, lin.input, synapse=None)
        p_u, p_y = nengo.Probe(stim), nengo.Probe(lin.output)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nengo-loihi's weight-rounding notes
        with simulator(kind, net) as sim:
            sim.run(c["T"])
    u, y = sim.data[p_u], sim.data[p_y]
    exact = lin.realization.sys.filt(u, dt=sim.dt)
    k = int(round(c["theta"] / sim.dt)) + 1  # the network runs one step late
    delayed = np.vstack([np.zeros((k, 1)), u[:-k]])
    late = np.vstack([np.zeros((1, 1)), exact[:-1]])
    s = slice(int(round(c["skip_s"] / sim.dt)), None)
    return dict(
        delay=nrmse(y[s], delayed[s]),
        system=nrmse(y[s], late[s]),
        exact_delay=nrmse(late[s], delayed[s]),
        error_bound=lin.realization.error_bound or 0.0,
    )


def arguments(argv=None):
    """The command line (``argv``, by default ``sys.argv``), checked."""
    return parse_args(argument_parser(__doc__), argv)


if __name__ == "__main__":
    args = arguments()
    started = time.time()
    seeds, c = (TINY["seeds"], TINY["config"]) if args.tiny else (SEEDS, CONFIG)
    runs = {}
    for name, (sys, basis) in variants(c).items():
        for kind, where in (("nengo", "reference"), ("loihi", "emulator")):
            runs[f"{name}, {where}"] = [run(kind, sys, basis, s, c) for s in seeds]
    # a delay is nearly all-pass: its largest Hankel singular values stay near 1
    hankel = hankel_singular_values(LegendreDelay(c["theta"], c["full_order"]))
    config = dict(c, seeds=list(seeds), hankel_singular_values=[round(h, 4) for h in hankel])
    summarise("reduced_delay", config, runs, started, args.results)
