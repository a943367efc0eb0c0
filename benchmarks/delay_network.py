"""The Voelker & Eliasmith (2018) delay network on the reference simulator.

Order 6, theta = 1 s, 1000 LIF neurons in total (166 per state: 996), tau =
0.1 s, 1 Hz white noise, dt = 1 ms; NRMSE of the theta-delayed output
u(t - theta) read out of the memory (C = ones). Published: 0.048. Also the
exact memory's delay NRMSE (the order-6 Legendre limit) on the same input.

Run: python benchmarks/delay_network.py  (writes results/delay_network.json)
"""

import time

import nengo

from common import run_memory, summarise

SEEDS = range(5)
CONFIG = dict(order=6, theta=1.0, high=1.0, rms=0.5, T=10.0, n_neurons=166, tau=0.1)

if __name__ == "__main__":
    started = time.time()
    c = CONFIG
    runs = {"neural (LIF, reference)": []}
    for seed in SEEDS:
        runs["neural (LIF, reference)"].append(
            run_memory(
                "nengo", c["order"], c["theta"], c["high"], c["rms"], c["T"], seed,
                skip=2000, n_neurons=c["n_neurons"], neuron_type=nengo.LIF(),
                synapse=c["tau"],
            )
        )
    summarise("delay_network", dict(CONFIG, seeds=list(SEEDS), published_delay=0.048), runs, started)
