"""The Legendre memory: what it holds, and how to read the window back.

A `nengo_lmu.LegendreMemory` of order q compresses the last theta seconds of
its input into q numbers, the coefficients of the window u(t - r theta),
r in [0, 1], in shifted Legendre polynomials. `nengo_lmu.legendre_readout`
gives the decoders that read any delay r back out.

Run: python examples/legendre_memory.py [--quick]
"""

import argparse

import nengo
import numpy as np

import nengo_lmu

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--quick", action="store_true", help="a shorter simulation")
args = parser.parse_args()

order, theta = 12, 1.0  # 12 polynomials for a 1 s window
T = 2.0 if args.quick else 10.0

with nengo.Network(seed=0) as net:
    # band-limited white noise: 1.5 Hz, so the window holds about 1.5 cycles
    stim = nengo.Node(nengo.processes.WhiteSignal(period=T, high=1.5, rms=0.3, y0=0))
    memory = nengo_lmu.LegendreMemory(order=order, theta=theta)  # exact (no neurons)
    nengo.Connection(stim, memory.input, synapse=None)
    p_stim = nengo.Probe(stim)
    p_memory = nengo.Probe(memory.output)  # the q Legendre coefficients

with nengo.Simulator(net, progress_bar=False) as sim:
    sim.run(T)

u, m = sim.data[p_stim][:, 0], sim.data[p_memory]
steps = int(round(theta / sim.dt))

# Reconstruct the whole window at the last step: u(t - r theta) for 11 delays r.
r = np.linspace(0, 1, 11)
decoders = nengo_lmu.legendre_readout(order, r)  # (11, order)
window = decoders @ m[-1]
true = u[len(u) - 1 - np.round(r * steps).astype(int)]
print("window at the last step (delay in s: true, from the memory):")
for ri, a, b in zip(r, true, window):
    print(f"  {ri * theta:4.1f}: {a:+.3f} {b:+.3f}")

# The delay error over time, once the window has filled.
errors = []
for ri in r:
    lag = int(round(ri * steps))
    delayed = u[steps - lag : len(u) - lag]
    decoded = m[steps:] @ nengo_lmu.legendre_readout(order, ri)
    errors.append(np.sqrt(np.mean((decoded - delayed) ** 2) / np.mean(delayed**2)))
print(f"window NRMSE (mean over delays): {np.mean(errors):.4f}")
