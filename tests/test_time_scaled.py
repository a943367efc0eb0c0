"""`.TimeScaledSystem` on the reference simulator (and offline)."""

import nengo
import numpy as np
import pytest
import scipy.linalg
from nengo.exceptions import ValidationError

from nengo_lmu import LinearSystem, TimeScaledSystem
from nengo_lmu.legendre import legendre_memory

METHODS = ("zoh", "euler", "bilinear")


def discretize_reference(A, B, dt, method):
    """``(A_bar, B_bar)`` written out independently of scipy.signal."""
    n, k = B.shape
    if method == "zoh":
        M = np.zeros((n + k, n + k))
        M[:n, :n], M[:n, n:] = A, B
        phi = scipy.linalg.expm(M * dt)
        return phi[:n, :n], phi[:n, n:]
    if method == "euler":
        return np.eye(n) + dt * A, dt * B
    assert method == "bilinear"
    inv = np.linalg.inv(np.eye(n) - dt / 2 * A)
    return inv @ (np.eye(n) + dt / 2 * A), inv @ (dt * B)


def simulate_reference(A, B, C, D, u, s, dt, method):
    """The time-scaled recurrence, step by step; ``s[t]`` is the step's time-scale."""
    n, k = B.shape
    channels = u.shape[1] // k
    X = np.zeros((n, channels))
    out = []
    for ut, st in zip(u, s):
        Ad, Bd = discretize_reference(st * A, st * B, dt, method)
        U = ut.reshape(channels, k).T
        X = Ad @ X + Bd @ U
        out.append((C @ X + D @ U).T.ravel())
    return np.array(out)


def run_node(system, u, s, dt, size_out):
    """Run ``system`` as a Node's process, fed ``u`` and time-scale ``s`` per step."""
    n_steps = len(u)
    with nengo.Network() as net:
        stim = nengo.Node(lambda t: u[int(round(t / dt)) - 1])
        scale = nengo.Node(lambda t: s[int(round(t / dt)) - 1])
        node = nengo.Node(system, size_in=u.shape[1] + 1, size_out=size_out)
        nengo.Connection(stim, node[:-1], synapse=None)
        nengo.Connection(scale, node[-1], synapse=None)
        p = nengo.Probe(node)
    with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
        sim.run_steps(n_steps)
    return sim.data[p]


@pytest.mark.parametrize("method", METHODS)
def test_scale_two_is_half_theta(method, rng):
    """s = 2 equals the Legendre memory of theta / 2 (and A, B doubled)."""
    order, theta, dt, n_steps = 6, 0.05, 0.001, 120
    u = rng.normal(size=(n_steps, 2))
    A, B = legendre_memory(order, theta)
    system = TimeScaledSystem((A, B, np.eye(order), 0), method=method)
    out = run_node(system, u, np.full(n_steps, 2.0), dt, 2 * order)

    A2, B2 = legendre_memory(order, theta / 2)
    assert np.allclose(A2, 2 * A, rtol=1e-14, atol=0)  # the premise
    doubled = LinearSystem((A2, B2, np.eye(order), 0), method=method)
    with nengo.Network() as net:
        stim = nengo.Node(lambda t: u[int(round(t / dt)) - 1])
        node = nengo.Node(doubled, size_in=2, size_out=2 * order)
        nengo.Connection(stim, node, synapse=None)
        p = nengo.Probe(node)
    with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
        sim.run_steps(n_steps)

    scale = np.abs(sim.data[p]).max()
    assert scale > 0.1
    np.testing.assert_allclose(out, sim.data[p], rtol=0, atol=1e-12 * scale)
    # and not what s = 1 gives
    assert np.abs(out - system.filt(np.c_[u, np.ones(n_steps)], dt=dt)).max() > 0.1


@pytest.mark.parametrize("method", METHODS)
def test_step_in_scale(method, rng, monkeypatch):
    """A step in s changes the dynamics from that step on and keeps the state."""
    dt, n_steps = 0.01, 60
    n, k, p = 3, 2, 2
    A = rng.normal(size=(n, n))
    A = 5 * (A - (np.abs(np.linalg.eigvals(A).real).max() + 1) * np.eye(n))
    B, C, D = rng.normal(size=(n, k)), rng.normal(size=(p, n)), rng.normal(size=(p, k))
    system = TimeScaledSystem((A, B, C, D), method=method)
    u = rng.normal(size=(n_steps, 2 * k))  # two channels
    s = np.where(np.arange(n_steps) < 25, 1.0, 3.0)
    s[40:] = 0.5

    calls = []
    discretize_AB = TimeScaledSystem._discretize_AB

    def counted(self, *args):
        calls.append(args)
        return discretize_AB(self, *args)

    monkeypatch.setattr(TimeScaledSystem, "_discretize_AB", counted)
    out = run_node(system, u, s, dt, 2 * p)
    # recomputed only when s changed
    assert [args[2] for args in calls] == [1.0, 3.0, 0.5]

    expected = simulate_reference(A, B, C, D, u, s, dt, method)
    scale = np.abs(expected).max()
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12 * scale)
    # the state carries over the step: restarting at the step differs
    restarted = simulate_reference(A, B, C, D, u[25:], s[25:], dt, method)
    assert np.abs(out[25:40] - restarted[:15]).max() > 1e-2


def test_filt_and_impulse(rng):
    order, theta, dt = 5, 0.1, 0.001
    A, B = legendre_memory(order, theta)
    system = TimeScaledSystem((A, B, np.ones((1, order)), 0))
    assert (system.default_size_in, system.default_size_out) == (2, 1)
    third = LinearSystem(legendre_memory(order, theta / 3) + (np.ones((1, order)), 0))
    np.testing.assert_allclose(
        system.impulse(200, dt=dt, s=3.0), third.impulse(200, dt=dt), atol=1e-9
    )
    u = rng.normal(size=(50, 3))
    y = system.filt(np.c_[u, np.full(50, 3.0)], dt=dt)
    assert y.shape == (50, 3)
    np.testing.assert_allclose(y, third.filt(u, dt=dt), atol=1e-10)

    # a Node infers its sizes from the system
    with nengo.Network():
        node = nengo.Node(system)
    assert (node.size_in, node.size_out) == (2, 1)


def test_discretize(rng):
    A, B = legendre_memory(4, 0.2)
    system = TimeScaledSystem((A, B, np.eye(4), 0), method="euler")
    for method in METHODS:
        Ad, Bd, _, _ = system.discretize(0.01, method=method, s=1.7).ss
        Ad_ref, Bd_ref = discretize_reference(1.7 * A, 1.7 * B, 0.01, method)
        np.testing.assert_allclose(Ad, Ad_ref, atol=1e-12)
        np.testing.assert_allclose(Bd, Bd_ref, atol=1e-12)


def test_bad_inputs(rng):
    A, B = legendre_memory(3, 0.1)
    ss = (A, B, np.eye(3), 0)
    with pytest.raises(ValidationError, match="digital") as e:
        TimeScaledSystem(ss, analog=False)
    assert e.value.attr == "analog"
    digital = LinearSystem(ss).discretize(0.001)
    with pytest.raises(ValidationError, match="digital") as e:
        TimeScaledSystem(digital)
    assert e.value.attr == "analog"

    system = TimeScaledSystem(ss)
    for bad in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValidationError, match="time-scale s") as e:
            system.discretize(0.001, s=bad)
        assert e.value.attr == "s"
    with pytest.raises(ValidationError, match="time-scale s") as e:
        system.filt(np.c_[np.ones(5), np.r_[1.0, 1.0, 0.0, 1.0, 1.0]])
    assert e.value.attr == "s"

    # in a simulation, on the step where s turns bad
    u = np.ones((10, 1))
    s = np.ones(10)
    s[6] = -0.5
    with pytest.raises(ValidationError, match=r"positive and finite \(got -0.5\)"):
        run_node(system, u, s, 0.001, 3)

    # shapes: the time-scale input is needed (c * input_d + 1 inputs)
    with nengo.Network() as net:
        nengo.Node(system, size_in=1, size_out=3)
    with pytest.raises(ValidationError, match=r"c\*1 \+ 1 inputs") as e:
        nengo.Simulator(net, progress_bar=False)
    assert e.value.attr == "shape"
    with nengo.Network() as net:
        nengo.Node(system, size_in=3, size_out=3)  # 2 channels need 6 outputs
    with pytest.raises(ValidationError, match="cannot map shape"):
        nengo.Simulator(net, progress_bar=False)
