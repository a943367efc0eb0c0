"""Voelker's (2019 thesis) delay network on the Loihi emulator.

Order 3, theta = 0.1 s, 3 x 128 LIF, 3 Hz white noise (RMS 0.3), tau =
10 ms, dt = 1 ms; NRMSE of the theta-delayed output. Published: 0.145-0.151
on the emulator, 0.055-0.059 on the CPU reference. Also our network on the
reference simulator and the exact memory's delay NRMSE (the order-3 limit).

Run: python benchmarks/loihi_delay_network.py  (writes results/loihi_delay_network.json)
"""

import time

import nengo

from common import run_memory, summarise
from nengo_lmu.loihi import ENSEMBLE_KWARGS

SEEDS = range(5)
CONFIG = dict(order=3, theta=0.1, high=3.0, rms=0.3, T=6.0, n_neurons=128, tau=0.01)


def run(kind, seed, c):
    return run_memory(
        kind, c["order"], c["theta"], c["high"], c["rms"], c["T"], seed, skip=500,
        n_neurons=c["n_neurons"], neuron_type=nengo.LIF(), synapse=c["tau"],
        target="loihi" if kind == "loihi" else "nengo", ensemble_kwargs=ENSEMBLE_KWARGS,
    )


if __name__ == "__main__":
    started = time.time()
    c = CONFIG
    runs = {
        "ours, emulator": [run("loihi", s, c) for s in SEEDS],
        "ours, reference": [run("nengo", s, c) for s in SEEDS],
    }
    summarise(
        "loihi_delay_network",
        dict(CONFIG, seeds=list(SEEDS), published_emulator=[0.145, 0.151]),
        runs,
        started,
    )
