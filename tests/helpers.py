"""Helpers shared by the tests (pytest puts tests/ on the import path)."""

import nengo
import numpy as np


class Feed:
    """Node output replaying ``u[i]`` on step ``i`` (what NengoDL's ``data`` does)."""

    def __init__(self, u, dt):
        self.u = np.asarray(u)
        self.dt = dt

    def __call__(self, t):
        return self.u[int(round(t / self.dt)) - 1]


def run_reference(net, feed, u, probes, dt):
    """Run ``net`` on the reference simulator once per minibatch item of ``u``."""
    out = {p: [] for p in probes}
    for ui in u:
        feed.u = ui
        with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
            sim.run_steps(len(ui))
        for p in probes:
            out[p].append(sim.data[p])
    return {p: np.stack(v) for p, v in out.items()}
