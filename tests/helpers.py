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


def assert_refuses(call, error, name):
    """``call()`` raises ``error`` whose message names ``name`` (issue 25's sweep).

    A `~nengo.exceptions.ValidationError` must also carry ``name`` as its
    ``attr`` (the parameter Nengo reports). Returns the exception.
    """
    import pytest  # pylint: disable=import-outside-toplevel
    from nengo.exceptions import ValidationError  # pylint: disable=import-outside-toplevel

    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    assert name in message, f"{type(info.value).__name__} does not name {name!r}: {message}"
    if isinstance(info.value, ValidationError) and error is ValidationError:
        assert info.value.attr == name, f"names {info.value.attr!r}, not {name!r}: {message}"
    return info.value
