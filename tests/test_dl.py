"""`.LinearSystem` in NengoDL: native builder, parity with Nengo, gradients."""

import itertools
import subprocess
import sys

import nengo
import nengo_dl
import numpy as np
import pytest
import scipy.linalg
import tensorflow as tf

from nengo_lmu import LMU, LegendreMemory, LinearSystem
from nengo_lmu.dl import LinearSystemBuilder, SimLinearSystem
from nengo_lmu.legendre import legendre_memory
from helpers import Feed, run_reference  # tests/helpers.py

PY_FUNC_OPS = {"PyFunc", "PyFuncStateless", "EagerPyFunc"}


def graph_op_types(sim, inputs):
    """Every op type in the traced graph of ``sim.keras_model`` (loop bodies too)."""
    model = sim.keras_model
    concrete = tf.function(lambda *x: model(list(x))).get_concrete_function(
        *[tf.TensorSpec(x.shape, x.dtype) for x in inputs]
    )
    graph_def = concrete.graph.as_graph_def()
    types = {node.op for node in graph_def.node}
    for func in graph_def.library.function:
        types.update(node.op for node in func.node_def)
    return types


def keras_inputs(sim, data, n_steps):
    return [np.asarray(x) for x in data] + [
        np.full((sim.minibatch_size, 1), n_steps, dtype=np.int32)
    ]


def op_builders(sim):
    return list(sim.tensor_graph.op_builder.op_builds.values())


def assert_close(actual, desired, rtol):
    """Equal within ``rtol`` of the largest magnitude of ``desired``."""
    scale = np.abs(desired).max()
    assert scale > 0
    np.testing.assert_allclose(actual, desired, rtol=0, atol=rtol * scale)


def test_builder_is_used_no_python_fallback(rng):
    dt, n_steps = 0.001, 20
    u = rng.uniform(-1, 1, size=(1, n_steps, 2))

    def build(synapse):
        with nengo.Network(seed=0) as net:
            inp = nengo.Node(np.zeros(2))
            mem = LegendreMemory(order=4, theta=0.01, memory_d=2)
            nengo.Connection(inp, mem.input, synapse=None)
            out = nengo.Node(size_in=2)
            nengo.Connection(inp, out, synapse=synapse)
            nengo.Probe(mem.output)
            nengo.Probe(out)
        return net

    lowpass_sys = LinearSystem(([[-100.0]], [[100.0]], [[1.0]], [[0.0]]))
    with nengo_dl.Simulator(build(lowpass_sys), dt=dt, progress_bar=False) as sim:
        builders = op_builders(sim)
        types = graph_op_types(sim, keras_inputs(sim, [u], n_steps))
    ours = [b for b in builders if isinstance(b, LinearSystemBuilder)]
    assert sum(len(b.ops) for b in ours) == 2
    assert all(isinstance(op, SimLinearSystem) for b in ours for op in b.ops)
    assert not any(
        isinstance(
            getattr(b, "built_process", None),
            nengo_dl.process_builders.GenericProcessBuilder,
        )
        for b in builders
    )
    assert "MatMul" in types or "BatchMatMulV2" in types
    assert not types & PY_FUNC_OPS

    # control: a synapse without a native implementation does show up
    with nengo_dl.Simulator(
        build(nengo.synapses.Triangle(0.01)), dt=dt, progress_bar=False
    ) as sim:
        types = graph_op_types(sim, keras_inputs(sim, [u], n_steps))
    assert types & PY_FUNC_OPS


def memory_reference(u, order, theta, dt):
    """The memory recurrence written out with ZOH from the matrix exponential."""
    A, B = legendre_memory(order, theta)
    M = scipy.linalg.expm(np.block([[A, B], [np.zeros((1, order + 1))]]) * dt)
    Ad, Bd = M[:order, :order], M[:order, order:]
    b, T, d = u.shape
    m = np.zeros((b, d, order))
    out = np.zeros((b, T, d * order))
    for t in range(T):
        m = m @ Ad.T + u[:, t, :, None] * Bd[:, 0]
        out[:, t] = m.reshape(b, d * order)
    return out


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-8), ("float32", 2e-5)])
@pytest.mark.parametrize("memory_d", [1, 3])
def test_legendre_memory_parity(memory_d, dtype, rtol, rng):
    dt, n_steps, order, theta, batch = 0.001, 150, 12, 0.05, 2
    u = rng.normal(size=(batch, n_steps, memory_d))
    feed = Feed(u[0], dt)
    with nengo.Network(seed=1) as net:
        nengo_dl.configure_settings(dtype=dtype)
        inp = nengo.Node(feed, size_out=memory_d)
        mem = LegendreMemory(order=order, theta=theta, memory_d=memory_d)
        nengo.Connection(inp, mem.input, synapse=None)
        p = nengo.Probe(mem.output)

    ref = run_reference(net, feed, u, [p], dt)[p]
    assert_close(ref, memory_reference(u, order, theta, dt), 1e-10)

    with nengo_dl.Simulator(
        net, dt=dt, minibatch_size=batch, progress_bar=False
    ) as sim:
        sim.run_steps(n_steps, data={inp: u})
        assert sim.data[p].dtype == np.dtype(dtype)
        assert_close(sim.data[p], ref, rtol)
        if dtype == "float32":
            # float32 is really used: not float64 quality
            assert np.abs(sim.data[p] - ref).max() > 1e-12


def test_state_across_runs_and_unrolling(rng):
    """Stateful runs continue the memory; reset restarts it; unrolling is exact."""
    dt, order, theta, batch = 0.001, 8, 0.03, 3
    u = rng.normal(size=(batch, 60, 2))
    feed = Feed(u[0], dt)
    with nengo.Network(seed=2) as net:
        nengo_dl.configure_settings(dtype="float64")
        inp = nengo.Node(feed, size_out=2)
        mem = LegendreMemory(order=order, theta=theta, memory_d=2)
        nengo.Connection(inp, mem.input, synapse=None)
        p = nengo.Probe(mem.output)
    ref = run_reference(net, feed, u, [p], dt)[p]

    with nengo_dl.Simulator(
        net, dt=dt, minibatch_size=batch, unroll_simulation=5, progress_bar=False
    ) as sim:
        sim.run_steps(25, data={inp: u[:, :25]})
        sim.run_steps(35, data={inp: u[:, 25:]})
        assert_close(sim.data[p], ref, 1e-10)
        sim.reset()
        sim.run_steps(30, data={inp: u[:, :30]})
        assert_close(sim.data[p], ref[:, :30], 1e-10)
        # stateful=False: continue from the current state without keeping it
        cont = memory_reference(
            np.concatenate([u[:, :30], u[:, :20]], axis=1), order, theta, dt
        )[:, 30:]
        for _ in range(2):
            out = sim.predict_on_batch({inp: u[:, :20]}, stateful=False)
            assert_close(out[p], cont, 1e-10)


FLAGS = ("hidden_to_memory", "memory_to_memory", "input_to_hidden", "hidden_to_hidden")


def test_lmu_parity_all_flags(rng):
    """Sixteen LMUs (every flag combination) in one minibatched float64 network."""
    dt, n_steps, batch = 0.001, 60, 3
    units, order, theta, input_d, memory_d = 4, 5, 0.02, 2, 2
    u = rng.normal(size=(batch, n_steps, input_d))
    feed = Feed(u[0], dt)

    def init(shape, scale=0.5):
        return rng.normal(scale=scale, size=shape)

    combos = list(itertools.product([False, True], repeat=4))
    probes = []
    with nengo.Network(seed=3) as net:
        nengo_dl.configure_settings(dtype="float64")
        inp = nengo.Node(feed, size_out=input_d)
        for flags in combos:
            lmu = LMU(
                units,
                order,
                theta,
                input_d=input_d,
                memory_d=memory_d,
                input_encoders_init=init((memory_d, input_d)),
                hidden_encoders_init=init((memory_d, units)),
                memory_encoders_init=init((memory_d, memory_d * order)),
                input_kernel_init=init((units, input_d)),
                hidden_kernel_init=init((units, units)),
                memory_kernel_init=init((units, memory_d * order)),
                **dict(zip(FLAGS, flags)),
            )
            nengo.Connection(inp, lmu.input, synapse=None)
            probes.append(nengo.Probe(lmu.output))

    ref = run_reference(net, feed, u, probes, dt)
    with nengo_dl.Simulator(
        net, dt=dt, minibatch_size=batch, progress_bar=False
    ) as sim:
        sim.run_steps(n_steps, data={inp: u})
        ours = [b for b in op_builders(sim) if isinstance(b, LinearSystemBuilder)]
        for flags, p in zip(combos, probes):
            # different inputs per batch item give different outputs
            assert np.abs(ref[p][0] - ref[p][1]).max() > 0.1, flags
            assert_close(sim.data[p], ref[p], 1e-9)
    assert sum(len(b.ops) for b in ours) == len(combos)
    assert max(len(b.ops) for b in ours) > 1  # merged ops were exercised


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-9), ("float32", 2e-5)])
def test_standalone_linear_system(dtype, rtol, rng):
    dt, n_steps, batch = 0.001, 80, 2

    def stable(n, k, p, analog=True, **kwargs):
        A = rng.normal(size=(n, n))
        if analog:
            A = 50 * (A - (np.abs(np.linalg.eigvals(A).real).max() + 1) * np.eye(n))
        else:
            A *= 0.9 / np.abs(np.linalg.eigvals(A)).max()
        return LinearSystem(
            (
                A,
                20 * rng.normal(size=(n, k)),
                rng.normal(size=(p, n)),
                rng.normal(size=(p, k)),
            ),
            analog=analog,
            **kwargs,
        )

    u = rng.normal(size=(batch, n_steps, 4))
    feed = Feed(u[0], dt)
    with nengo.Network(seed=4) as net:
        nengo_dl.configure_settings(dtype=dtype)
        inp = nengo.Node(feed, size_out=4)
        probes = []

        def probe_node(pre, size, synapse):
            node = nengo.Node(size_in=size)
            nengo.Connection(pre, node, synapse=synapse)
            probes.append(nengo.Probe(node))

        # synapses: MIMO 2x2 on 2 channels, twice (merged), a SISO transfer
        # function on 4 channels, a bilinear-discretised MIMO one
        probe_node(inp, 4, stable(3, 2, 2))
        probe_node(inp, 4, stable(3, 2, 2))
        probe_node(inp, 4, LinearSystem(([1.0, 2.0], [0.01, 0.3, 1.0])))
        probe_node(inp, 4, stable(2, 4, 4, method="bilinear"))
        # processes: MIMO 2-in 3-out on 2 channels, digital SISO on 4 channels,
        # MIMO 4-in 1-out with a single channel
        for system, size_out in [
            (stable(3, 2, 3), 6),
            (stable(2, 1, 1, analog=False), 4),
            (stable(4, 4, 1, method="euler"), 1),
        ]:
            node = nengo.Node(system, size_in=4, size_out=size_out)
            nengo.Connection(inp, node, synapse=None)
            probes.append(nengo.Probe(node))
        # a probe synapse
        probes.append(nengo.Probe(inp, synapse=stable(2, 1, 1)))

    ref = run_reference(net, feed, u, probes, dt)
    with nengo_dl.Simulator(
        net, dt=dt, minibatch_size=batch, progress_bar=False
    ) as sim:
        sim.run_steps(n_steps, data={inp: u})
        ours = [b for b in op_builders(sim) if isinstance(b, LinearSystemBuilder)]
        for p in probes:
            assert_close(sim.data[p], ref[p], rtol)
    assert sum(len(b.ops) for b in ours) == len(probes)
    # the two 2x2 synapses merged (stacked matrices, C != I, D != 0)
    assert [len(b.ops) for b in ours if b.input_d == 2 and b.output_d == 2] == [2]


def test_stateless_system(rng):
    """A system without state (``y = D u``)."""
    D = rng.normal(size=(3, 2))
    sys = LinearSystem((np.zeros((0, 0)), np.zeros((0, 2)), np.zeros((3, 0)), D))
    u = rng.normal(size=(2, 10, 4))
    with nengo.Network() as net:
        nengo_dl.configure_settings(dtype="float64")
        inp = nengo.Node(np.zeros(4))
        node = nengo.Node(sys, size_in=4, size_out=6)
        nengo.Connection(inp, node, synapse=None)
        p = nengo.Probe(node)
    with nengo_dl.Simulator(net, minibatch_size=2, progress_bar=False) as sim:
        sim.run_steps(10, data={inp: u})
    expected = (u.reshape(2, 10, 2, 2) @ D.T).reshape(2, 10, 6)
    assert_close(sim.data[p], expected, 1e-12)


def test_gradients_match_finite_differences(rng):
    """d(loss)/d(weights) of a tiny LMU, by TensorFlow and by central differences."""
    dt, n_steps, batch = 1.0, 12, 2
    units, order, input_d = 3, 4, 2
    with nengo.Network(seed=5) as net:
        nengo_dl.configure_settings(dtype="float64", stateful=False)
        inp = nengo.Node(np.zeros(input_d))
        lmu = LMU(
            units,
            order,
            theta=6.0,
            input_d=input_d,
            hidden_to_memory=True,
            memory_to_memory=True,
            input_to_hidden=True,
            hidden_to_hidden=True,
            input_encoders_init=rng.normal(scale=0.5, size=(1, input_d)),
            hidden_encoders_init=rng.normal(scale=0.5, size=(1, units)),
            memory_encoders_init=rng.normal(scale=0.3, size=(1, order)),
            input_kernel_init=rng.normal(scale=0.3, size=(units, input_d)),
            hidden_kernel_init=rng.normal(scale=0.3, size=(units, units)),
            memory_kernel_init=rng.normal(scale=0.3, size=(units, order)),
        )
        nengo.Connection(inp, lmu.input, synapse=None)
        nengo.Probe(lmu.output)

    u = rng.normal(size=(batch, n_steps, input_d))
    target = rng.normal(size=(batch, n_steps, units))
    with nengo_dl.Simulator(
        net, dt=dt, minibatch_size=batch, progress_bar=False
    ) as sim:
        model = sim.keras_model
        inputs = keras_inputs(sim, [u], n_steps)
        weights = model.trainable_weights

        def loss():
            y = model(inputs, training=True)[0]
            return tf.reduce_sum((y - target) ** 2)

        with tf.GradientTape() as tape:
            value = loss()
        grads = tape.gradient(value, weights)
        assert all(g is not None for g in grads)
        grads = [tf.convert_to_tensor(g).numpy() for g in grads]

        # the input encoders reach the loss only through the memory: a
        # direction that moves only them checks the gradient through it
        enc_sig = sim.tensor_graph.signals[sim.model.sig[lmu.input_encoders]["weights"]]
        enc_var = sim.tensor_graph.base_params[enc_sig.key]
        enc_dir = [np.zeros(w.shape) for w in weights]
        (i_enc,) = [i for i, w in enumerate(weights) if w is enc_var]
        for start, stop in enc_sig.slices:
            enc_dir[i_enc][start:stop] = rng.normal(
                size=enc_dir[i_enc][start:stop].shape
            )
        assert np.any(enc_dir[i_enc])

        w0 = [w.numpy() for w in weights]
        h = 1e-6
        directions = [[rng.normal(size=w.shape) for w in w0] for _ in range(3)]
        for direction in directions + [enc_dir]:
            analytic = sum(np.sum(g * v) for g, v in zip(grads, direction))
            losses = []
            for sign in (1, -1):
                for w, w_init, v in zip(weights, w0, direction):
                    w.assign(w_init + sign * h * v)
                losses.append(loss().numpy())
            for w, w_init in zip(weights, w0):
                w.assign(w_init)
            numeric = (losses[0] - losses[1]) / (2 * h)
            assert abs(numeric) > 1e-2
            assert abs(analytic - numeric) < 1e-6 * abs(numeric)


def test_check_gradients_wrt_input(rng):
    """NengoDL's own check of d(output)/d(input), which runs through the memory."""
    dt, n_steps = 1.0, 10
    with nengo.Network(seed=6) as net:
        nengo_dl.configure_settings(dtype="float64", stateful=False)
        inp = nengo.Node(np.zeros(1))
        lmu = LMU(2, 3, theta=4.0, memory_kernel_init=rng.normal(size=(2, 3)))
        nengo.Connection(inp, lmu.input, synapse=None)
        p = nengo.Probe(lmu.output)
    u = rng.normal(size=(1, n_steps, 1))
    with nengo_dl.Simulator(net, dt=dt, progress_bar=False) as sim:
        sim.check_gradients(inputs=[u], outputs=[p])


def test_import_without_nengo_dl():
    """``import nengo_lmu`` works where NengoDL cannot be imported."""
    code = (
        "import sys; sys.modules['nengo_dl'] = None\n"
        "import nengo, nengo_lmu\n"
        "assert 'nengo_lmu.dl' not in sys.modules and 'tensorflow' not in sys.modules\n"
        "with nengo.Network() as net:\n"
        "    nengo_lmu.LegendreMemory(order=3, theta=0.1)\n"
        "with nengo.Simulator(net, progress_bar=False) as sim:\n"
        "    sim.run_steps(3)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("planner", ["noop", "default"])
def test_dot_inc_builder_equals_nengo_dl_s(planner, monkeypatch):
    # nengo_lmu.dl's DotInc/DotSet builder (one matmul for a lone product of
    # fixed weights) against NengoDL's own: the same outputs, and the same
    # weights after training steps (float64), for an LMU with every
    # connection and an ensemble-to-ensemble connection beside it
    from nengo.builder.operator import DotInc
    from nengo_dl.builder import Builder
    from nengo_dl.op_builders import DotSet

    import nengo_lmu.dl

    def build():
        with nengo.Network(seed=1) as net:
            settings = dict(stateful=False, dtype="float64")
            if planner == "noop":
                nengo_lmu.dl.configure_settings(**settings)
            else:
                nengo_dl.configure_settings(**settings)
            inp = nengo.Node(np.zeros(2))
            lmu = LMU(6, 4, theta=5.0, input_d=2, hidden_to_memory=True,
                      memory_to_memory=True, input_to_hidden=True, hidden_to_hidden=True)
            nengo.Connection(inp, lmu.input, synapse=None)
            out = nengo.Node(size_in=3)
            nengo.Connection(lmu.output, out, transform=np.ones((3, 6)) * 0.1, synapse=None)
            for _ in range(2):  # products of one shape, which a planner may merge
                ens = nengo.Ensemble(10, 2, neuron_type=nengo.RectifiedLinear())
                nengo.Connection(inp, ens, synapse=None)
                nengo.Connection(ens, out, transform=np.ones((3, 2)) * 0.2, synapse=None)
            probe = nengo.Probe(out)
        return net, inp, probe

    x = np.random.RandomState(0).uniform(-1, 1, size=(4, 10, 2))
    y = np.random.RandomState(1).uniform(-1, 1, size=(4, 10, 3))

    def train(builder):
        monkeypatch.setitem(Builder.builders, DotInc, builder)
        monkeypatch.setitem(Builder.builders, DotSet, builder)
        net, inp, probe = build()
        with nengo_dl.Simulator(net, dt=1.0, minibatch_size=2, progress_bar=False) as sim:
            before = sim.predict(x)[probe]
            sim.compile(optimizer=tf.optimizers.SGD(0.1), loss=tf.losses.mse)
            sim.fit(x, {probe: y}, epochs=2, verbose=0)
            after = sim.predict(x)[probe]
            params = [w.numpy() for w in sim.keras_model.trainable_weights]
            builds = sim.tensor_graph.op_builder.op_builds.values()
            singles = [b.single for b in builds if isinstance(b, nengo_lmu.dl.DotIncBuilder)]
        return before, after, params, singles

    ours = train(nengo_lmu.dl.DotIncBuilder)
    theirs = train(nengo_dl.op_builders.DotIncBuilder)
    assert any(ours[3]) and theirs[3] == []  # the one-product case was built
    if planner == "default":
        assert not all(ours[3])  # and merged products, by NengoDL's code
    assert np.abs(ours[0]).max() > 0.1 and not np.allclose(ours[0], ours[1])
    assert np.allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-12)
    assert np.allclose(ours[1], theirs[1], rtol=1e-10, atol=1e-12)
    assert len(ours[2]) == len(theirs[2]) > 0
    for a, b in zip(ours[2], theirs[2]):
        assert np.allclose(a, b, rtol=1e-10, atol=1e-12)


def test_dot_inc_builder_is_registered():
    from nengo.builder.operator import DotInc
    from nengo_dl.builder import Builder
    from nengo_dl.op_builders import DotSet

    import nengo_lmu.dl

    assert Builder.builders[DotInc] is Builder.builders[DotSet] is nengo_lmu.dl.DotIncBuilder


def test_configure_settings_refuses_the_transitive_planner():
    import nengo_lmu.dl

    with nengo.Network():
        with pytest.raises(nengo.exceptions.ValidationError) as exc:
            nengo_lmu.dl.configure_settings(
                planner=nengo_dl.graph_optimizer.transitive_planner
            )
    assert exc.value.attr == "planner"
