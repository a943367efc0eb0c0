"""The delay network: a Legendre memory realised by spiking neurons.

The Voelker & Eliasmith (2018) delay network: an order-6 memory of a 1 s
window built from LIF neurons (NEF principle 3 maps the memory's dynamics
onto recurrent connections through a 100 ms Lowpass synapse), compared with
the exact memory on the same 1 Hz white noise. Both read out u(t - theta).
Published NRMSE of the spiking delay: 0.048 (1000 LIF neurons).

Run: python examples/delay_network.py [--quick]
"""

import argparse

import nengo
import numpy as np

import nengo_lmu
from nengo_lmu.metrics import nrmse

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--quick", action="store_true", help="fewer neurons, shorter run")
args = parser.parse_args()

order, theta, tau = 6, 1.0, 0.1
n_neurons = 50 if args.quick else 166  # per state: 6 x 166 = 996 LIF
T = 3.0 if args.quick else 10.0

with nengo.Network(seed=1) as net:
    stim = nengo.Node(nengo.processes.WhiteSignal(period=T, high=1.0, rms=0.5, y0=0))
    exact = nengo_lmu.LegendreMemory(order, theta)
    # n_neurons turns the exact memory into ensembles, one per Legendre state;
    # input_high / input_rms tell it what signal to scale its states for
    spiking = nengo_lmu.LegendreMemory(
        order, theta, n_neurons=n_neurons, neuron_type=nengo.LIF(),
        synapse=tau, input_high=1.0, input_rms=0.5,
    )
    nengo.Connection(stim, exact.input, synapse=None)
    nengo.Connection(stim, spiking.input, synapse=None)
    p_stim = nengo.Probe(stim)
    p_exact, p_spiking = nengo.Probe(exact.output), nengo.Probe(spiking.output)

with nengo.Simulator(net, progress_bar=False) as sim:
    sim.run(T)

readout = nengo_lmu.legendre_readout(order, 1.0)  # u(t - theta)
lag = int(round(theta / sim.dt))
skip = slice(2 * lag, None)  # score after the window has filled, and settled
u = sim.data[p_stim][:, 0]
delayed = np.r_[np.zeros(lag), u[:-lag]]


print(f"{order * n_neurons} LIF neurons, {T:g} s")
print(f"delay NRMSE, exact memory:   {nrmse((sim.data[p_exact] @ readout)[skip], delayed[skip]):.4f}")
print(f"delay NRMSE, spiking memory: {nrmse((sim.data[p_spiking] @ readout)[skip], delayed[skip]):.4f}")
