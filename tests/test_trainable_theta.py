"""`.TimeScaledSystem` in NengoDL: parity with Nengo, gradients, learning theta."""

import nengo
import nengo_dl
import numpy as np
import pytest
import tensorflow as tf

from nengo_lmu import LinearSystem, TimeScaledSystem
from nengo_lmu.dl import (
    LinearSystemBuilder,
    SimTimeScaledSystem,
    TimeScaledSystemBuilder,
)
from nengo_lmu.legendre import legendre_memory, legendre_readout
from helpers import Feed, run_reference  # tests/helpers.py

METHODS = ("zoh", "euler", "bilinear")


def assert_close(actual, desired, rtol):
    """Equal within ``rtol`` of the largest magnitude of ``desired``."""
    scale = np.abs(desired).max()
    assert scale > 0
    np.testing.assert_allclose(actual, desired, rtol=0, atol=rtol * scale)


def op_builders(sim):
    return list(sim.tensor_graph.op_builder.op_builds.values())


def stable_system(rng, n, k, p, method):
    A = rng.normal(size=(n, n))
    A = 20 * (A - (np.abs(np.linalg.eigvals(A).real).max() + 1) * np.eye(n))
    return TimeScaledSystem(
        (
            A,
            20 * rng.normal(size=(n, k)),
            rng.normal(size=(p, n)),
            rng.normal(size=(p, k)),
        ),
        method=method,
    )


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-8), ("float32", 1e-5)])
@pytest.mark.parametrize("method", METHODS)
def test_parity(method, dtype, rtol, rng):
    """Merged time-scaled systems, a step in s, unrolling, two runs; vs Nengo."""
    dt, n_steps, batch, order, theta = 0.001, 60, 2, 8, 0.03
    u = rng.normal(size=(batch, n_steps, 2))
    feed = Feed(u[0], dt)
    A, B = legendre_memory(order, theta)
    with nengo.Network(seed=0) as net:
        nengo_dl.configure_settings(dtype=dtype)
        inp = nengo.Node(feed, size_out=2)
        one = nengo.Node(1.0)
        # s steps from 1 to 2.5 after 23 steps (all minibatch items alike)
        step = nengo.Node(lambda t: 1.0 if t < 0.0235 else 2.5)
        probes = []
        # two Legendre memories of 2 channels (merged, each with its own s),
        # and a plain LinearSystem of the same shapes (not merged with them)
        for s_node, weight in ((one, 1.7), (step, 0.6)):
            system = TimeScaledSystem((A, B, np.eye(order), 0), method=method)
            node = nengo.Node(system, size_in=3, size_out=2 * order)
            nengo.Connection(inp, node[:2], synapse=None)
            nengo.Connection(s_node, node[2], transform=weight, synapse=None)
            probes.append(nengo.Probe(node))
        plain = nengo.Node(
            LinearSystem((A, B, np.eye(order), 0), method=method),
            size_in=2,
            size_out=2 * order,
        )
        nengo.Connection(inp, plain, synapse=None)
        probes.append(nengo.Probe(plain))
        # MIMO, C != I, D != 0
        mimo = nengo.Node(stable_system(rng, 3, 2, 3, method), size_in=3, size_out=3)
        nengo.Connection(inp, mimo[:2], synapse=None)
        nengo.Connection(step, mimo[2], transform=0.8, synapse=None)
        probes.append(nengo.Probe(mimo))

    ref = run_reference(net, feed, u, probes, dt)
    with nengo_dl.Simulator(
        net, dt=dt, minibatch_size=batch, unroll_simulation=5, progress_bar=False
    ) as sim:
        sim.run_steps(30, data={inp: u[:, :30]})
        sim.run_steps(30, data={inp: u[:, 30:]})
        for p in probes:
            assert sim.data[p].dtype == np.dtype(dtype)
            assert_close(sim.data[p], ref[p], rtol)
        builders = op_builders(sim)
    ours = [b for b in builders if isinstance(b, TimeScaledSystemBuilder)]
    assert sorted(len(b.ops) for b in ours) == [1, 2]
    assert all(isinstance(op, SimTimeScaledSystem) for b in ours for op in b.ops)
    plain_builders = [b for b in builders if type(b) is LinearSystemBuilder]
    assert [len(b.ops) for b in plain_builders] == [1]


def test_step_in_scale_changes_output(rng):
    """Control for `test_parity`: the s step and s itself are not no-ops there."""
    dt, order, theta = 0.001, 8, 0.03
    A, B = legendre_memory(order, theta)
    system = TimeScaledSystem((A, B, np.eye(order), 0))
    u = rng.normal(size=(60, 1))
    s = np.where(np.arange(60) < 23, 0.6, 1.5)
    stepped = system.filt(np.c_[u, s], dt=dt)
    constant = system.filt(np.c_[u, np.full(60, 0.6)], dt=dt)
    assert np.abs(stepped[:23] - constant[:23]).max() == 0
    assert np.abs(stepped[23:] - constant[23:]).max() > 0.1


def build_delay_net(
    order, theta, method, weight, trainable_only_s=True, stateful=False
):
    """Input -> time-scaled Legendre memory -> fixed delay readout (r = 1)."""
    A, B = legendre_memory(order, theta)
    with nengo.Network(seed=0) as net:
        nengo_dl.configure_settings(dtype="float64", stateful=stateful)
        if trainable_only_s:
            nengo_dl.configure_settings(trainable=False)
        inp = nengo.Node(np.zeros(1))
        one = nengo.Node(1.0)
        system = TimeScaledSystem((A, B, np.eye(order), 0), method=method)
        mem = nengo.Node(system, size_in=2, size_out=order)
        nengo.Connection(inp, mem[0], synapse=None)
        s_conn = nengo.Connection(one, mem[1], transform=[[weight]], synapse=None)
        if trainable_only_s:
            net.config[s_conn].trainable = True
        out = nengo.Node(size_in=1)
        readout = legendre_readout(order, 1.0)[None, :]
        nengo.Connection(mem, out, transform=readout, synapse=None)
        p = nengo.Probe(out)
    return net, inp, s_conn, system, p


@pytest.mark.parametrize("method", METHODS)
def test_gradient_wrt_scale(method, rng):
    """d(loss)/d(s weight), by TensorFlow and by central differences (float64)."""
    dt, n_steps, batch, order, theta = 1.0, 16, 3, 6, 8.0
    net, inp, s_conn, _, p = build_delay_net(order, theta, method, 1.3)
    u = rng.normal(size=(batch, n_steps, 1))
    target = rng.normal(size=(batch, n_steps, 1))
    with nengo_dl.Simulator(
        net, dt=dt, minibatch_size=batch, unroll_simulation=4, progress_bar=False
    ) as sim:
        model = sim.keras_model
        data = {inp: u, s_conn.pre_obj: np.ones((batch, n_steps, 1))}
        inputs = [data[node] for node in sim.tensor_graph.invariant_inputs]
        inputs.append(np.full((batch, 1), n_steps, dtype=np.int32))
        (weight,) = model.trainable_weights  # only the s weight
        assert weight.shape == (1, 1) and weight.numpy()[0, 0] == 1.3

        def loss():
            y = model(inputs, training=True)[0]
            return tf.reduce_sum((y - target) ** 2)

        with tf.GradientTape() as tape:
            value = loss()
        analytic = tape.gradient(value, weight).numpy()[0, 0]

        h = 1e-6
        losses = []
        for w in (1.3 + h, 1.3 - h):
            weight.assign([[w]])
            losses.append(loss().numpy())
        weight.assign([[1.3]])
        numeric = (losses[0] - losses[1]) / (2 * h)
    assert abs(numeric) > 1e-1
    assert abs(analytic - numeric) < 1e-6 * abs(numeric)


def test_discretization_cache(rng):
    """The discretisation is cached in (non-minibatched) state and reused."""
    dt, n_steps, batch, order, theta = 1.0, 10, 2, 4, 6.0
    net, inp, s_conn, system, p = build_delay_net(order, theta, "zoh", 1.2, False, True)
    u = rng.normal(size=(batch, n_steps, 1))
    with nengo_dl.Simulator(
        net, dt=dt, minibatch_size=batch, progress_bar=False
    ) as sim:
        tensor_graph = sim.tensor_graph

        def state_var(name):
            sig = tensor_graph.signals[sim.model.sig[system]["_state_" + name]]
            ((start, stop),) = sig.slices
            return tensor_graph.saved_state[sig.key], slice(start, stop)

        s_var, s_idx = state_var("s")
        abt_var, abt_idx = state_var("ABT")
        assert abt_var.shape[0] == order + 1  # one copy, not one per item
        np.testing.assert_array_equal(s_var.numpy()[s_idx], [0.0])

        first = sim.predict_on_batch({inp: u}, stateful=True)[p]
        Ad, Bd, _, _ = system.discretize(dt, s=1.2).ss
        np.testing.assert_allclose(s_var.numpy()[s_idx], [1.2])
        np.testing.assert_allclose(
            abt_var.numpy()[abt_idx], np.r_[Ad.T, Bd.T], atol=1e-14
        )

        # a stale cache entry for the current s is used as is ...
        sim.reset()
        s_var.assign(tf.tensor_scatter_nd_update(s_var, [[s_idx.start]], [1.2]))
        abt = abt_var.numpy()
        abt[abt_idx] = np.r_[np.zeros((order, order)), Bd.T]
        abt_var.assign(abt)
        stale = sim.predict_on_batch({inp: u}, stateful=False)[p]
        readout = legendre_readout(order, 1.0)
        np.testing.assert_allclose(stale, (u * (Bd.T @ readout))[..., :1], atol=1e-12)
        # ... and one for another s is recomputed
        s_var.assign(tf.tensor_scatter_nd_update(s_var, [[s_idx.start]], [1.1]))
        fresh = sim.predict_on_batch({inp: u}, stateful=False)[p]
        np.testing.assert_allclose(fresh, first, atol=1e-12)


def test_scale_checks(rng):
    """A non-positive s, or different s per minibatch item, fails the run."""
    dt, n_steps, batch, order = 1.0, 5, 2, 3
    for method in ("zoh", "euler"):
        net, inp, s_conn, _, p = build_delay_net(order, 4.0, method, -0.5, False)
        with nengo_dl.Simulator(
            net, dt=dt, minibatch_size=batch, progress_bar=False
        ) as sim:
            with pytest.raises(tf.errors.InvalidArgumentError, match="positive"):
                sim.predict_on_batch({inp: np.zeros((batch, n_steps, 1))})

    net, inp, s_conn, _, p = build_delay_net(order, 4.0, "zoh", 1.0, False)
    one = s_conn.pre_obj
    with nengo_dl.Simulator(
        net, dt=dt, minibatch_size=batch, progress_bar=False
    ) as sim:
        u = np.zeros((batch, n_steps, 1))
        same = np.ones((batch, n_steps, 1))
        sim.predict_on_batch({inp: u, one: same})
        with pytest.raises(tf.errors.InvalidArgumentError, match="same for every item"):
            sim.predict_on_batch({inp: u, one: same * [[[1.0]], [[2.0]]]})


def test_learn_theta(rng):
    """Training only the s weight moves the window toward the true delay."""
    dt, n_steps, batch, order = 1.0, 60, 16, 6
    theta_true = 10.0
    theta_init = 1.5 * theta_true
    white = nengo.processes.WhiteSignal(n_steps * dt, high=0.05, rms=0.5, y0=0)
    x = np.stack([white.run_steps(n_steps, dt=dt, rng=rng) for _ in range(2 * batch)])
    delay = int(theta_true)
    y = np.zeros_like(x)
    y[:, delay:] = x[:, :-delay]

    net, inp, s_conn, _, p = build_delay_net(order, theta_init, "zoh", 1.0)
    with nengo_dl.Simulator(
        net, dt=dt, minibatch_size=batch, progress_bar=False
    ) as sim:
        assert len(sim.keras_model.trainable_weights) == 1
        sim.compile(optimizer=tf.optimizers.Adam(0.05), loss={p: tf.losses.mse})
        loss_before = sim.evaluate({inp: x}, {p: y}, verbose=0)["loss"]
        sim.fit({inp: x}, {p: y}, epochs=5, verbose=0)
        loss_after = sim.evaluate({inp: x}, {p: y}, verbose=0)["loss"]
        sim.freeze_params(net)

    s = float(np.squeeze(s_conn.transform.init))
    theta = theta_init / s
    assert loss_after < 0.1 * loss_before
    assert abs(theta - theta_true) < 0.2 * abs(theta_init - theta_true), theta
