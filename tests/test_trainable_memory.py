"""LegendreMemory's training switches: trainable_theta and trainable_matrices."""

import nengo
import nengo_dl
import numpy as np
import pytest
import tensorflow as tf
from nengo.exceptions import ValidationError

from nengo_lmu import LMU, LegendreMemory, legendre_readout
from nengo_lmu.datasets import white_noise
from nengo_lmu.metrics import nrmse
from nengo_lmu.spiking import to_spiking


def memory_net(**kwargs):
    with nengo.Network(seed=0) as net:
        net.inp = nengo.Node(np.zeros(2))
        net.mem = LegendreMemory(6, 12.0, memory_d=2, **kwargs)
        nengo.Connection(net.inp, net.mem.input, synapse=None)
        net.probe = nengo.Probe(net.mem.output)
    return net


@pytest.mark.parametrize("switch", [dict(trainable_theta=True),
                                    dict(trainable_matrices=True, dt=1.0)])
def test_untrained_switches_equal_exact_memory(switch, rng):
    u = rng.uniform(-1, 1, size=(60, 2))
    outputs = []
    for kwargs in (dict(), switch):
        net = memory_net(**kwargs)
        net.inp.output = nengo.processes.PresentInput(u, presentation_time=1.0)
        with nengo.Simulator(net, dt=1.0, progress_bar=False) as sim:
            sim.run_steps(60)
        outputs.append(sim.data[net.probe])
    # same ZOH matrices, as a process or as connection weights
    assert np.allclose(outputs[1], outputs[0], rtol=1e-9, atol=1e-12)
    assert np.abs(outputs[0]).max() > 0.1


def delay_task(theta_true, steps=120, n=32):
    u = np.stack([white_noise(steps, 1.0, high=0.05, rms=0.5, seed=s) for s in range(n)])
    target = np.zeros_like(u)
    target[:, theta_true:] = u[:, :-theta_true]
    return u, target


def delay_net(theta_init, order=6, **kwargs):
    """A memory read out at r = 1 (a fixed Legendre delay): only the memory trains."""
    with nengo.Network(seed=0) as net:
        nengo_dl.configure_settings(trainable=False, stateful=False)
        net.inp = nengo.Node(np.zeros(1))
        net.mem = LegendreMemory(order, theta_init, **kwargs)
        nengo.Connection(net.inp, net.mem.input, synapse=None)
        net.out = nengo.Node(size_in=1)
        nengo.Connection(net.mem.output, net.out,
                         transform=legendre_readout(order, 1.0)[None, :], synapse=None)
        net.probe = nengo.Probe(net.out)
    return net


def test_trainable_theta_learns_the_window():
    u, target = delay_task(theta_true=10)
    net = delay_net(15.0, trainable_theta=True)
    net.config[net.mem.time_scale_conn].trainable = True
    with nengo_dl.Simulator(net, dt=1.0, minibatch_size=16, progress_bar=False) as sim:
        before = nrmse(sim.predict({net.inp: u[:16]}, verbose=0)[net.probe], target[:16])
        sim.compile(optimizer=tf.optimizers.Adam(0.05), loss=tf.losses.mse)
        sim.fit({net.inp: u}, {net.probe: target}, epochs=15, verbose=0)
        after = nrmse(sim.predict({net.inp: u[:16]}, verbose=0)[net.probe], target[:16])
        learned = net.mem.trained_theta(sim)
        sim.freeze_params(net)
    print(f"theta 15 -> {learned:.2f} (task: 10); NRMSE {before:.3f} -> {after:.3f}")
    assert abs(learned - 10) < 1.5 < abs(15 - 10)
    assert after < before / 3
    assert net.mem.trained_theta() == pytest.approx(learned)  # frozen into the net


def test_trainable_matrices_fine_tune():
    u, target = delay_task(theta_true=10)
    net = delay_net(15.0, trainable_matrices=True, dt=1.0)
    for conn in net.mem.A_connections + net.mem.B_connections:
        net.config[conn].trainable = True
    with nengo_dl.Simulator(net, dt=1.0, minibatch_size=16, progress_bar=False) as sim:
        before = nrmse(sim.predict({net.inp: u[:16]}, verbose=0)[net.probe], target[:16])
        A0 = sim.data[net.mem.A_connections[0]].weights.copy()
        sim.compile(optimizer=tf.optimizers.Adam(0.002), loss=tf.losses.mse)
        sim.fit({net.inp: u}, {net.probe: target}, epochs=15, verbose=0)
        after = nrmse(sim.predict({net.inp: u[:16]}, verbose=0)[net.probe], target[:16])
        A1 = sim.data[net.mem.A_connections[0]].weights
    print(f"trainable matrices: NRMSE {before:.3f} -> {after:.3f}")
    assert not np.allclose(A0, A1)
    assert after < before / 2


def test_lmu_trainable_theta_parity(rng):
    with nengo.Network(seed=1) as net:
        inp = nengo.Node(np.zeros(1))
        lmu = LMU(5, 4, 8.0, trainable_theta=True, input_to_hidden=True)
        nengo.Connection(inp, lmu.input, synapse=None)
        p = nengo.Probe(lmu.output)
    x = rng.uniform(-1, 1, size=(1, 30, 1))
    with nengo_dl.Simulator(net, dt=1.0, progress_bar=False) as dl_sim:
        dl_out = dl_sim.predict({inp: x}, verbose=0)[p][0]
    inp.output = nengo.processes.PresentInput(x[0], presentation_time=1.0)
    with nengo.Simulator(net, dt=1.0, progress_bar=False) as sim:
        sim.run_steps(30)
    assert np.allclose(sim.data[p], dl_out, rtol=1e-5, atol=1e-6)  # float32


def test_conversion_uses_the_learned_theta():
    with nengo.Network(seed=0) as net:
        net.inp = nengo.Node(np.zeros(1))
        lmu = LMU(4, 3, 8.0, trainable_theta=True, hidden_neuron_type=nengo.RectifiedLinear(),
                  memory_kernel_init=np.ones((4, 3)))
        nengo.Connection(net.inp, lmu.input, synapse=None)
    lmu.memory.time_scale_conn.transform = 2.0  # as if trained to s = 2
    conv = to_spiking(net, presentation_time=0.01, neuron_type=None)
    assert conv.lmus[0].theta == pytest.approx(8.0 / 2 * 0.01)
    assert not conv.lmus[0].memory.trainable_theta

    net2 = delay_net(6.0, trainable_matrices=True, dt=1.0)
    with net2:
        lmu2 = LMU(4, 3, 8.0, hidden_neuron_type=nengo.RectifiedLinear(),
                   memory_kernel_init=np.ones((4, 3)),
                   memory_kwargs=dict(trainable_matrices=True, dt=1.0))
        nengo.Connection(net2.inp, lmu2.input, synapse=None)
    with pytest.raises(ValidationError) as exc:
        to_spiking(net2, presentation_time=0.01)
    assert exc.value.attr == "trainable_matrices"


@pytest.mark.parametrize(
    "kwargs, attr",
    [
        (dict(trainable_theta=True, n_neurons=50), "trainable_theta"),
        (dict(trainable_matrices=True, n_neurons=50), "trainable_matrices"),
        (dict(trainable_theta=True, trainable_matrices=True), "trainable_matrices"),
        (dict(trainable_matrices=True, dt=None), "dt"),
    ],
)
def test_bad_switches(kwargs, attr):
    with pytest.raises(ValidationError) as exc:
        LegendreMemory(4, 1.0, **kwargs)
    assert exc.value.attr == attr
