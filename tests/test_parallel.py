"""The parallel (convolution) form of feed-forward LMUs against the step-by-step one."""

import types
import warnings

import nengo
import nengo_dl
import numpy as np
import pytest
import tensorflow as tf
from nengo.exceptions import ValidationError

import nengo_lmu
from nengo_lmu.parallel import (
    MAX_BLOCK, block_convolution, block_operators, fft_length, freeze_params,
    impulse_response, parallel_model)

from helpers import Feed, run_reference

T, BATCH = 30, 4


def model_net(dtype="float64", n_out=3, **kwargs):
    kwargs = dict(dict(units=8, order=5, theta=12.0, hidden_neuron_type=nengo.RectifiedLinear()),
                  **kwargs)
    return nengo_lmu.lmu_model(
        n_out, seed=1, settings=dict(stateful=False, dtype=dtype), **kwargs
    )


def data(input_d, seed=0):
    return np.random.RandomState(seed).randn(BATCH, T, input_d)


def step_by_step(net, x):
    """NengoDL's output of ``net`` (every step)."""
    with nengo_dl.Simulator(net, dt=1.0, minibatch_size=len(x), progress_bar=False) as sim:
        return sim.predict(x, verbose=0)[net.probe]


def parallel(model, x):
    # a tensor: Keras's predict would cast float64 NumPy input to float32
    return model(tf.constant(x, dtype=model.inputs[0].dtype)).numpy()


CONFIGS = {
    "siso": dict(),
    "channels": dict(input_d=3, memory_d=2, input_to_hidden=True),
    "tanh, euler": dict(input_d=2, hidden_neuron_type=nengo.Tanh(tau_ref=1.0), method="euler"),
    "lifrate": dict(hidden_neuron_type=nengo.LIFRate(amplitude=0.05), input_to_hidden=True,
                    input_kernel_init=nengo.dists.Uniform(1, 3)),
    "no hidden": dict(hidden_neuron_type=None, memory_d=2, input_d=2),
}


@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("convolution", ["blocks", "fft", "direct"])
@pytest.mark.parametrize("dtype, atol", [("float32", 1e-5), ("float64", 1e-8)])
def test_parallel_equals_step_by_step(config, return_sequences, convolution, dtype, atol):
    kwargs = CONFIGS[config]
    net = model_net(dtype, **kwargs)
    x = data(kwargs.get("input_d", 1))
    ref = step_by_step(net, x)
    ref = ref if return_sequences else ref[:, -1]
    model = parallel_model(net, T, return_sequences=return_sequences,
                           convolution=convolution, dtype=dtype)
    out = parallel(model, x)
    assert out.shape == ref.shape and np.abs(ref).max() > 0.1
    # relative to the output's scale: float32 sums of T terms, FFT round-off
    np.testing.assert_allclose(out, ref, atol=atol * max(1.0, np.abs(ref).max()))


def test_impulse_response_is_powers_of_abar():
    mem = nengo_lmu.LegendreMemory(4, 7.0, method="bilinear")
    Ad, Bd, _, _ = mem.system.discretize(1.0).ss
    H = impulse_response(mem, 20, 1.0)
    expected = np.array([np.linalg.matrix_power(Ad, j) @ Bd[:, 0] for j in range(20)])
    np.testing.assert_allclose(H, expected, atol=1e-14)


def recurrence(system, u, dt=1.0):
    """Every step's output for ``u`` ``(batch, steps)`` by the system's own
    difference equation, x_t = Abar x_{t-1} + Bbar u_t, m_t = C x_t + D u_t."""
    A, B, C, D = system.discretize(dt).ss
    x, out = np.zeros((len(u), A.shape[0])), []
    for t in range(u.shape[1]):
        x = x @ A.T + u[:, t, None] * B[:, 0]
        out.append(x @ C.T + u[:, t, None] * D[:, 0])
    return np.stack(out, axis=1)


# blocks of 16 steps (order 5; `block_length`): one step, inside one block, one
# exactly, a partial second one, four; of 20 (order 20): two partial, six; of
# MAX_BLOCK = 64 (order 80): two and a partial third
@pytest.mark.parametrize("steps, order", [(1, 5), (9, 5), (16, 5), (17, 5), (64, 5),
                                          (33, 20), (101, 20), (150, 80)])
@pytest.mark.parametrize("convolution", ["blocks", "fft", "direct"])
def test_every_step_memory_equals_the_recurrence(steps, order, convolution):
    net = model_net("float64", order=order, hidden_neuron_type=None, theta=2.0 * steps)
    u = np.random.RandomState(steps).randn(BATCH, steps, 1)
    model = parallel_model(net, steps, convolution=convolution, dtype="float64")
    m = model.get_layer("lmu")(tf.constant(u)).numpy()
    np.testing.assert_allclose(m, recurrence(net.lmu.memory.system, u[..., 0]), atol=1e-10)
    if convolution == "blocks" and order == 80:  # the cap, not the 80 steps asked
        assert block_operators(net.lmu.memory, steps, 1.0)["toeplitz"].shape[0] == MAX_BLOCK
    if convolution == "fft":  # a power of two, long enough for the causal sum
        n = fft_length(steps)
        assert n >= 2 * steps - 1 and n & (n - 1) == 0 and n < 4 * steps


def test_blocks_equal_the_recurrence_of_any_system():
    # a random stable system with an output matrix C (not the memory's C = I),
    # another dt, three blocks of 16 and a partial fourth
    rng = np.random.RandomState(3)
    n, q, steps, dt = 6, 4, 57, 0.5
    A = rng.randn(n, n)
    A -= (np.abs(np.linalg.eigvals(A)).max() + 0.5) * np.eye(n)  # poles in the left half-plane
    system = nengo_lmu.LinearSystem((A, rng.randn(n, 1), rng.randn(q, n), np.zeros((q, 1))))
    memory = types.SimpleNamespace(system=system, order=q)
    ops = block_operators(memory, steps, dt)
    assert ops["toeplitz"].shape[0] == 16
    u = rng.randn(3, steps)
    m = block_convolution(tf.constant(u), **{k: tf.constant(v) for k, v in ops.items()})
    np.testing.assert_allclose(m.numpy(), recurrence(system, u, dt), atol=1e-10)


def test_blocks_refuse_a_feedthrough():
    # the blocks compute C x_t: a system with D != 0 would lose D u_t
    system = nengo_lmu.LinearSystem(([[-1.0]], [[1.0]], [[1.0]], [[0.5]]))
    with pytest.raises(ValidationError, match="feedthrough") as exc:
        block_operators(types.SimpleNamespace(system=system, order=1), 20, 1.0)
    assert exc.value.attr == "memory"


@pytest.mark.parametrize("steps", [9, 40])  # one block of 16, and three
def test_blocks_train_with_an_unknown_batch(steps):
    # Keras's fit traces the model for batches of unknown size; the last one
    # here is partial
    net = model_net("float32", order=5, theta=float(steps))
    model = parallel_model(net, np.int64(steps), convolution="blocks")
    graph = tf.function(model, input_signature=[tf.TensorSpec((None, steps, 1), tf.float32)])
    x = np.random.RandomState(0).randn(BATCH, steps, 1)
    np.testing.assert_allclose(graph(tf.constant(x, tf.float32)).numpy(), parallel(model, x),
                               atol=1e-6)
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(np.tile(x, (2, 1, 1))[:7], np.zeros((7, steps, 3)), batch_size=4,
                        epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def one_sgd_step(net, x, y, last_step, lr=0.01, convolution="blocks"):
    """Weight changes of one plain SGD step of NengoDL and of the parallel model."""
    model = parallel_model(net, T, return_sequences=not last_step, dtype="float64",
                           convolution=convolution)
    before = {v.name: v.numpy().copy() for v in model.trainable_variables}
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(tf.constant(x)) - y))
    grads = tape.gradient(loss, model.trainable_variables)
    parallel_grads = {v.name: g.numpy() for v, g in zip(model.trainable_variables, grads)}
    with nengo_dl.Simulator(net, dt=1.0, minibatch_size=len(x), progress_bar=False) as sim:
        w0 = {c: sim.data[c].weights.copy() for c in conns(net).values()}
        b0 = sim.data[net.lmu.hidden].bias.copy()
        sim.compile(optimizer=tf.optimizers.SGD(lr), loss=tf.losses.mse)
        target = y[:, None] if last_step else y
        sim.fit(x, {net.probe: target}, epochs=1, verbose=0)
        dl_grads = {c: (w0[c] - sim.data[c].weights) / lr for c in conns(net).values()}
        dl_grads["bias"] = (b0 - sim.data[net.lmu.hidden].bias) / lr
    return parallel_grads, dl_grads, before


def conns(net):
    return {"input_encoders": net.lmu.input_encoders, "memory_kernel": net.lmu.memory_kernel,
            "input_kernel": net.lmu.input_kernel, "readout": net.readout}


@pytest.mark.parametrize("last_step, convolution", [
    (True, "blocks"), (False, "blocks"), (False, "fft"), (False, "direct")])
def test_gradients_equal_step_by_step(last_step, convolution):
    # float64 throughout; plain SGD: NengoDL's weight change is -lr * gradient
    kwargs = dict(input_d=2, memory_d=2, input_to_hidden=True)
    settings = dict(stateful=False, dtype="float64", keep_history=not last_step)
    net = nengo_lmu.lmu_model(3, seed=1, settings=settings, units=8, order=5, theta=12.0,
                              hidden_neuron_type=nengo.RectifiedLinear(), **kwargs)
    x = data(2)
    y = np.random.RandomState(5).randn(BATCH, 3) if last_step else np.random.RandomState(
        5).randn(BATCH, T, 3)
    par, dl, _ = one_sgd_step(net, x, y, last_step, convolution=convolution)
    c = conns(net)
    for name in ("input_encoders", "memory_kernel", "input_kernel", "bias"):
        g = par[f"lmu/{name}:0"]
        assert np.abs(g).max() > 1e-4, name  # a real gradient
        np.testing.assert_allclose(g, dl[name if name == "bias" else c[name]], atol=1e-6)
    np.testing.assert_allclose(par["readout/kernel:0"].T, dl[c["readout"]], atol=1e-6)


def test_trained_weights_run_in_every_simulator():
    net = model_net("float32", input_d=2, memory_d=2, input_to_hidden=True)
    x, y = data(2), np.random.RandomState(3).randn(BATCH, T, 3)
    model = parallel_model(net, T)
    model.compile(optimizer=tf.optimizers.Adam(0.05), loss="mse")
    before = model.predict(x, verbose=0)
    model.fit(x, y, epochs=5, verbose=0)
    trained = model.predict(x, verbose=0)
    assert np.abs(trained - before).max() > 0.05  # training changed the outputs
    freeze_params(model, net)
    np.testing.assert_allclose(step_by_step(net, x), trained, atol=1e-5)
    # the reference simulator too (float64; the model's float32 weights)
    feed = Feed(x[0], 1.0)
    net.inp.output = feed
    ref = run_reference(net, feed, x[:2], [net.probe], 1.0)[net.probe]
    np.testing.assert_allclose(ref, trained[:2], atol=1e-5)


def test_frozen_network_converts_to_spiking():
    from nengo_lmu.spiking import to_spiking  # noqa: PLC0415

    net = model_net("float32")
    model = parallel_model(net, T, return_sequences=False)
    x = np.abs(data(1))
    model.compile(optimizer=tf.optimizers.Adam(0.01), loss="mse")
    model.fit(x, np.ones((BATCH, 3)), epochs=2, verbose=0)
    freeze_params(model, net)
    trained = parallel(model, x)  # the trained model's last outputs
    conv = to_spiking(net, 0.01, calibration=(net.inp, x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out, _ = conv.run(nengo.Simulator, conv.find(net.inp, net), x,
                          conv.find(net.probe, net), parallel=BATCH)
    assert out.shape == (BATCH, T, 3) and np.abs(trained).max() > 0.1
    # the frozen weights carry the trained model: the spiking last output
    # (calibrated to fire at up to 1 kHz, averaged over READ_WINDOW
    # presentations) is the trained one up to spike noise: measured relative
    # error 0.004, against 0.2 with the hidden gains 20% off or 0.1 with the
    # windows 10% off
    error = np.linalg.norm(out[:, -1] - trained) / np.linalg.norm(trained)
    assert error < 0.02


@pytest.mark.parametrize(
    "kwargs, attr",
    [
        (dict(hidden_to_memory=True), "hidden_to_memory"),
        (dict(memory_to_memory=True), "memory_to_memory"),
        (dict(hidden_to_hidden=True), "hidden_to_hidden"),
        (dict(trainable_theta=True), "trainable_theta"),
        (dict(memory_kwargs=dict(n_neurons=10)), "memory_kwargs"),
        (dict(memory_kwargs=dict(trainable_matrices=True, dt=1.0)), "memory_kwargs"),
        (dict(hidden_neuron_type=nengo.SpikingRectifiedLinear()), "hidden_neuron_type"),
        (dict(hidden_neuron_type=nengo.LIF()), "hidden_neuron_type"),
    ],
)
def test_recurrent_and_unsupported_networks_are_refused(kwargs, attr):
    net = model_net("float32", **kwargs)
    with pytest.raises(ValidationError) as e:
        parallel_model(net, T)
    assert e.value.attr == attr


def test_bad_arguments():
    net = model_net("float32")
    other = parallel_model(model_net("float32", units=4), T)
    for model in (other, tf.keras.Sequential([tf.keras.layers.Dense(2)])):
        with pytest.raises(ValidationError) as e:
            freeze_params(model, net)
        assert e.value.attr == "model"
    with pytest.raises(ValidationError) as e:
        parallel_model(nengo.Network(), T)
    assert e.value.attr == "network"
    for kwargs, attr in ((dict(steps=0), "steps"), (dict(steps=T, dt=0), "dt"),
                         (dict(steps=T, convolution="raw"), "convolution")):
        with pytest.raises(ValidationError) as e:
            parallel_model(net, **kwargs)
        assert e.value.attr == attr
