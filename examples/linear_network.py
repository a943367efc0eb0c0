"""Any linear system in spiking neurons: a resonant bandpass, on CPU and Loihi.

`nengo_lmu.LinearNetwork` realises a stable linear system with one ensemble
per state (NEF principle 3 for the synapse it runs with; on Loihi also
through the chip's constraints). Here a second-order bandpass centred on
5 Hz, H(s) = 2 zeta w s / (s^2 + 2 zeta w s + w^2), fed 5 Hz white noise,
realised by spiking LIF neurons on the reference simulator and on the
nengo-loihi emulator; each output is compared with the system's exact
response to the same input (`LinearSystem.filt`), one step late.

Run: python examples/linear_network.py [--quick]
"""

import argparse
import warnings

import nengo
import numpy as np

import nengo_lmu
from nengo_lmu.loihi import MEMORY_TUNING
from nengo_lmu.loihi import Simulator as LoihiSimulator
from nengo_lmu.metrics import nrmse

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--quick", action="store_true", help="fewer neurons, shorter run")
args = parser.parse_args()

w, zeta = 2 * np.pi * 5, 0.3
bandpass = nengo_lmu.LinearSystem(([2 * zeta * w, 0.0], [1.0, 2 * zeta * w, w**2]))
n_neurons = 50 if args.quick else 200
T = 2.0 if args.quick else 6.0

for name, simulator, kwargs in (
    ("reference simulator", nengo.Simulator, {}),
    # Loihi's tuning; neuron-to-neuron weights (the default for simulator="loihi")
    ("Loihi emulator", LoihiSimulator, dict(simulator="loihi", ensemble_kwargs=MEMORY_TUNING)),
):
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(nengo.processes.WhiteSignal(T, high=5.0, rms=0.3, seed=1))
        lin = nengo_lmu.LinearNetwork(
            bandpass, n_neurons, synapse=0.05, input_high=5.0, input_rms=0.3,
            neuron_type=nengo.LIF(), **kwargs,
        )
        nengo.Connection(stim, lin.input, synapse=None)
        p_u, p_y = nengo.Probe(stim), nengo.Probe(lin.output)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nengo-loihi's weight-rounding notes
        with simulator(net, progress_bar=False) as sim:
            sim.run(T)
    exact = bandpass.filt(sim.data[p_u], dt=sim.dt)
    late = np.vstack([np.zeros((1, 1)), exact[:-1]])  # the network runs one step late
    skip = int(0.5 / sim.dt)
    print(f"bandpass NRMSE, {name}: {nrmse(sim.data[p_y][skip:], late[skip:]):.3f}")
