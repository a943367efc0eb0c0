"""Training LMUs with NengoDL, and carrying the trained weights back to Nengo."""

import nengo
import nengo_dl
import numpy as np
import pytest
import tensorflow as tf

import nengo_lmu.dl  # noqa: F401  (nengo_lmu's NengoDL builders)
from nengo_lmu import LegendreMemory, legendre_readout, lmu_model
from nengo_lmu.datasets import ps_digits, white_noise
from nengo_lmu.metrics import nrmse


def small_classifier(seed=0, n_out=3, **lmu_kwargs):
    """input -> LMU -> dense readout -> probe."""
    return lmu_model(n_out, seed=seed, **lmu_kwargs)


def compile_and_fit(sim, x, y, epochs, lr=1e-2):
    sim.compile(optimizer=tf.optimizers.Adam(lr), loss=tf.losses.mse)
    sim.fit(x, y, epochs=epochs, verbose=0)


LMU_ARGS = dict(
    units=8,
    order=6,
    theta=10.0,
    input_to_hidden=True,
    hidden_to_hidden=True,
    hidden_to_memory=True,
    memory_to_memory=True,
)


def test_freeze_params_reproduces_training_in_reference_simulator(rng):
    steps, n = 30, 16
    x = rng.uniform(-1, 1, size=(n, steps, 1))
    y = rng.uniform(-1, 1, size=(n, steps, 3))
    net = small_classifier(**LMU_ARGS)
    with net:
        nengo_dl.configure_settings(dtype="float64")
    with nengo_dl.Simulator(net, dt=1.0, minibatch_size=n, progress_bar=False) as sim:
        before = sim.data[net.lmu.memory_kernel].weights.copy()
        compile_and_fit(sim, {net.inp: x}, {net.probe: y}, epochs=3)
        after = sim.data[net.lmu.memory_kernel].weights
        assert not np.allclose(before, after, atol=1e-4)  # training changed it
        dl_out = sim.predict({net.inp: x}, verbose=0)[net.probe]
        sim.freeze_params(net)

    # the same network object, now holding the trained values, in Nengo
    net.inp.output = nengo.processes.PresentInput(x[5], presentation_time=1.0)
    with nengo.Simulator(net, dt=1.0, progress_bar=False) as ref:
        ref.run_steps(steps)
    # float64 in both; differences are summation order only
    assert np.allclose(ref.data[net.probe], dl_out[5], rtol=1e-8, atol=1e-10)


def test_save_and_load_params_round_trip(rng, tmp_path):
    steps, n = 20, 8
    x = rng.uniform(-1, 1, size=(n, steps, 1))
    y = rng.uniform(-1, 1, size=(n, steps, 3))
    with nengo_dl.Simulator(
        small_classifier(**LMU_ARGS), dt=1.0, minibatch_size=n, progress_bar=False
    ) as sim:
        net = sim.model.toplevel
        compile_and_fit(sim, {net.inp: x}, {net.probe: y}, epochs=2)
        trained = sim.predict({net.inp: x}, verbose=0)[net.probe]
        sim.save_params(tmp_path / "lmu")

    net = small_classifier(**LMU_ARGS)  # a fresh copy of the same model
    with nengo_dl.Simulator(net, dt=1.0, minibatch_size=n, progress_bar=False) as sim:
        fresh = sim.predict({net.inp: x}, verbose=0)[net.probe]
        sim.load_params(tmp_path / "lmu")
        loaded = sim.predict({net.inp: x}, verbose=0)[net.probe]
    assert not np.allclose(fresh, trained, atol=1e-3)
    assert np.allclose(loaded, trained, rtol=1e-5, atol=1e-6)  # float32


def test_delay_task_readout_learns():
    # u(t - theta/2) read linearly out of a fixed memory: the trained readout
    # must beat the untrained one by far and do as well as the closed-form
    # Legendre readout of the same memory states
    order, theta, dt, steps = 6, 0.1, 0.001, 400
    lag = int(round(theta / 2 / dt))
    u = np.stack([white_noise(steps, dt, high=5.0, rms=0.5, seed=s) for s in range(48)])
    target = np.zeros_like(u)
    target[:, lag:] = u[:, :-lag]
    with nengo.Network(seed=0) as net:
        nengo_dl.configure_settings(stateful=False)
        inp = nengo.Node(np.zeros(1))
        mem = LegendreMemory(order, theta)
        nengo.Connection(inp, mem.input, synapse=None)
        out = nengo.Node(size_in=1)
        nengo.Connection(
            mem.output, out, transform=nengo.dists.Gaussian(0, 0.1), synapse=None
        )
        p_out, p_mem = nengo.Probe(out), nengo.Probe(mem.output)

    train, test = slice(0, 32), slice(32, 48)
    skip = int(theta / dt)  # score once the window is full
    with nengo_dl.Simulator(net, dt=dt, minibatch_size=16, progress_bar=False) as sim:
        before = sim.predict({inp: u[test]}, verbose=0)
        compile_and_fit(sim, {inp: u[train]}, {p_out: target[train]}, epochs=60, lr=0.05)
        after = sim.predict({inp: u[test]}, verbose=0)

    untrained = nrmse(before[p_out][:, skip:], target[test, skip:])
    trained = nrmse(after[p_out][:, skip:], target[test, skip:])
    closed = nrmse(after[p_mem][:, skip:] @ legendre_readout(order, 0.5)[:, None],
                   target[test, skip:])
    print(f"delay NRMSE: untrained {untrained:.3f}, trained {trained:.4f}, "
          f"closed-form readout {closed:.4f}")
    assert untrained > 0.5
    assert trained < untrained / 10
    # least squares on the data is at least as good as the analytic projection
    # (measured 0.0148 vs 0.0138); 1.5x leaves room for the optimiser's noise
    assert trained < 1.5 * closed


@pytest.mark.parametrize("seed", [0])
def test_ps_digits_learns(seed):
    tf.random.set_seed(seed)  # with the network's seed: the same training every run
    x_train, y_train, x_test, y_test = ps_digits()
    net = lmu_model(10, seed=seed, settings=dict(stateful=False, keep_history=False),
                    units=48, order=24, theta=64.0, input_to_hidden=True)
    inp, probe = net.inp, net.probe
    with nengo_dl.Simulator(net, dt=1.0, minibatch_size=64, progress_bar=False) as sim:
        sim.compile(
            optimizer=tf.optimizers.Adam(3e-3),
            loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        n = 1280  # a whole number of minibatches
        sim.fit({inp: x_train[:n]}, {probe: y_train[:n, None, None]}, epochs=8, verbose=0)
        n_test = 448
        result = sim.evaluate(
            {inp: x_test[:n_test]}, {probe: y_test[:n_test, None, None]}, verbose=0
        )
    accuracy = result["probe_accuracy"]
    print(f"psDigits test accuracy after 8 epochs: {accuracy:.3f}")
    assert accuracy > 0.6  # chance is 0.1


def test_lmu_model_layout():
    net = lmu_model(4, seed=3, settings=dict(keep_history=False), units=6, order=5,
                    theta=8.0, input_d=2)
    assert net.inp.size_out == 2 and net.lmu.input_d == 2
    assert net.out.size_in == 4 and net.probe.target is net.out
    assert net.readout.pre is net.lmu.output and net.readout.post is net.out
    assert net.config[net].planner.__name__ == "noop_planner"  # nengo_lmu's settings
    assert net.config[nengo.Probe].keep_history is False
    with nengo.Simulator(net, progress_bar=False) as sim:
        weights = sim.data[net.readout].weights
    limit = np.sqrt(6 / (6 + 4))  # Glorot uniform
    assert weights.shape == (4, 6) and np.abs(weights).max() <= limit
    assert np.all(weights != 0) and np.std(weights) > limit / 4  # drawn, not zeroed

    # initial statistics, on a model big enough to measure them: the readout
    # U(+-L), L = sqrt(6 / (fan_in + fan_out)), whose std is L / sqrt(3); the
    # memory kernel Glorot normal, std sqrt(2 / (fan_in + fan_out)) (the
    # paper's W_m). 2400 and 1200 draws: the sample std's error is ~1% and
    # ~2%, the mean's ~1% of L, so 5% and 10% are 5 standard errors
    net = lmu_model(40, seed=4, units=60, order=20, theta=8.0)
    with nengo.Simulator(net, progress_bar=False) as sim:
        weights = sim.data[net.readout].weights
        memory_kernel = sim.data[net.lmu.memory_kernel].weights
    limit = np.sqrt(6 / (60 + 40))
    assert weights.shape == (40, 60) and np.abs(weights).max() <= limit
    assert np.abs(weights).max() > 0.98 * limit  # P(all 2400 below) = 0.98**2400
    assert np.std(weights) == pytest.approx(limit / np.sqrt(3), rel=0.05)
    assert abs(np.mean(weights)) < 0.05 * limit
    assert memory_kernel.shape == (60, 20)
    assert np.std(memory_kernel) == pytest.approx(np.sqrt(2 / 80), rel=0.1)
    with pytest.raises(nengo.exceptions.ValidationError) as exc:
        lmu_model(0, units=6, order=5, theta=8.0)
    assert exc.value.attr == "n_out"
