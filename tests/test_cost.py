"""nengo_lmu.cost and nengo_lmu.keras_energy: counts against hand counts and
against keras-spiking's own estimate."""

import warnings

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu import LMU, LegendreMemory
from nengo_lmu.cost import (
    CostProbes,
    Measured,
    device_energy,
    inference_cost,
    input_spikes_per_step,
    lmu_rate_cost,
)

keras_spiking = pytest.importorskip("keras_spiking")


def two_ensembles():
    """Host values into ensemble a (2 neurons), a's spikes through a
    passthrough node into b (3 neurons), b's spikes read on the host.

    SpikingRectifiedLinear neurons integrate J dt per step and spike at 1:
    a's currents are bias + W x = 200 + 100 * 0.5 = 250 and 550 - 200 * 0.25
    = 500 Hz, 0.25 and 0.5 per step: 25 and 50 spikes in 100 steps. b's
    biases give 0.125, 0.375 and 0 per step; a's spikes add at most 1e-3 per
    spike (weights 1e-6 times the spike's 1 / dt), under 0.08 in all, so b
    fires 12, 37 and 0 times. Every voltage starts at 0 (nengo's default
    starts spiking neurons at random voltages).
    """
    srl = nengo.SpikingRectifiedLinear(initial_state={"voltage": nengo.dists.Choice([0])})
    with nengo.Network(seed=0) as net:
        net.inp = nengo.Node([0.5, -0.25])
        net.a = nengo.Ensemble(2, 1, neuron_type=srl, gain=np.ones(2), bias=[200.0, 550.0])
        nengo.Connection(net.inp, net.a.neurons, transform=[[100.0, 0], [0, 200.0]],
                         synapse=None)
        net.mid = nengo.Node(size_in=2)
        nengo.Connection(net.a.neurons, net.mid, synapse=None)
        net.b = nengo.Ensemble(3, 1, neuron_type=srl, gain=np.ones(3),
                               bias=[125.0, 375.0, 0.0])
        nengo.Connection(net.mid, net.b.neurons,
                         transform=[[1e-6, 0], [0, 1e-6], [1e-6, 1e-6]], synapse=None)
        net.out = nengo.Node(size_in=1)
        nengo.Connection(net.b.neurons, net.out, transform=[[1.0, 0.0, 1.0]])
    return net


def test_hand_counted_network():
    net = two_ensembles()
    probes = CostProbes(net)
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run_steps(100)
    measured = probes.read(sim)
    # the spikes themselves are the hand count (see two_ensembles)
    assert np.array_equal(measured.spikes[net.a], [25, 50])
    assert np.array_equal(measured.spikes[net.b], [12, 37, 0])
    stages = {"first": [net.a], "second": [net.b, net.mid], "readout": [net.out]}
    cost = inference_cost(net, measured, stages=stages)
    first, second, readout = (cost.stages[s] for s in ("first", "second", "readout"))
    # host to a: 2 values per step; rectified encoding, |x| spikes per step:
    # (0.5 + 0.25) * 100 = 75 spikes, each reaching a's 2 neurons
    assert first["host_to_chip_values"] == 200
    assert first["host_to_chip_spikes"] == pytest.approx(75)
    assert first["synaptic_ops"] == pytest.approx(150)
    assert first["neuron_updates"] == 200 and first["spikes"] == 75
    # a's 75 spikes through the passthrough reach b's 3 neurons each
    assert second["synaptic_ops"] == 225
    assert second["neuron_updates"] == 300 and second["spikes"] == 49
    # b to the host: the spikes of neurons 0 and 2 (nonzero readout weights),
    # each weighted once on the host
    assert second["chip_to_host_spikes"] == 12
    assert readout["host_ops"] == 12 and readout["synaptic_ops"] == 0
    assert cost.total("synaptic_ops") == pytest.approx(375)
    assert cost.steps == 100 and cost.latency == pytest.approx(0.1)
    assert cost.wall_latency is None
    loihi, cpu = device_energy("loihi"), device_energy("cpu")
    expected = (375 * loihi["energy_per_synop"] + 500 * loihi["energy_per_neuron"]
                + 12 * cpu["energy_per_synop"])
    assert cost.energy("loihi") == pytest.approx(expected, rel=1e-12)
    # a report is plain numbers and text, and says what it leaves out
    summary = cost.summary()
    assert "static power" in summary and "second" in summary
    assert cost.to_dict()["total"]["synaptic_ops"] == pytest.approx(375)


def test_runs_add_up_to_a_mean():
    net = two_ensembles()
    probes = CostProbes(net)
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run_steps(100)
    once = probes.read(sim)
    twice = inference_cost(net, once + once)
    assert twice.inferences == 2
    assert twice.to_dict()["total"] == inference_cost(net, once).to_dict()["total"]


def test_host_memory_arithmetic():
    """An exact memory on the host: its discretised (A, B, C = I, D = 0), of
    9 + 3 + 3 + 0 nonzero entries at order 3, each step, per channel."""
    with nengo.Network() as net:
        stim = nengo.Node([0.3, -0.2])
        mem = LegendreMemory(3, theta=0.1, memory_d=2)
        nengo.Connection(stim, mem.input, synapse=None)
    probes = CostProbes(net)
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run_steps(50)
    cost = inference_cost(net, probes.read(sim), stages={"memory": [mem]})
    assert cost.stages["memory"]["host_ops"] == 2 * 15 * 50
    assert cost.energy("loihi") == pytest.approx(
        1500 * device_energy("cpu")["energy_per_synop"], rel=1e-12)


def test_input_spike_encodings():
    pytest.importorskip("nengo_loihi")
    from nengo_loihi.decode_neurons import OnOffDecodeNeurons

    x = np.array([[0.5, -0.25, 0.0]])
    # nengo-loihi's pair fires 500 (1 +- x) Hz at dt = 1 ms: one spike a step
    default = OnOffDecodeNeurons(dt=0.001, is_input=True)
    assert np.allclose(input_spikes_per_step(x, default, 0.001), 1.0)
    assert np.allclose(input_spikes_per_step(x, None, 0.001), [[0.5, 0.25, 0.0]])


def test_rate_macs_closed_form():
    """lmu_rate_cost against the weights of the same LMU built as a network
    (its connections' transforms and its memory's matrices), and a hand count."""
    units, order, input_d, memory_d, steps, n_out = 5, 4, 2, 3, 10, 2
    flags = dict(hidden_to_memory=True, memory_to_memory=True, input_to_hidden=True,
                 hidden_to_hidden=True)
    cost = lmu_rate_cost(units, order, steps, n_out=n_out, input_d=input_d,
                         memory_d=memory_d, **flags)
    with nengo.Network():
        lmu = LMU(units, order, theta=4.0, input_d=input_d, memory_d=memory_d, **flags)
    size = {name: getattr(lmu, name).transform.shape for name in (
        "input_encoders", "hidden_encoders", "memory_encoders",
        "memory_kernel", "input_kernel", "hidden_kernel")}
    A, B, _, _ = lmu.memory.system.ss
    memory = sum(np.prod(size[k]) for k in (
        "input_encoders", "hidden_encoders", "memory_encoders")) + memory_d * (A.size + B.size)
    hidden = sum(np.prod(size[k]) for k in ("memory_kernel", "input_kernel", "hidden_kernel"))
    assert cost.stages["memory"]["macs"] == steps * memory
    assert cost.stages["hidden"]["macs"] == steps * hidden
    assert cost.stages["hidden"]["neuron_updates"] == steps * units
    # by hand: memory 3 (2 + 5 + 12) + 3 (16 + 4) = 117 a step; hidden
    # 5 (12 + 2 + 5) = 95 a step; readout 2 x 5 once
    assert (cost.stages["memory"]["macs"], cost.stages["hidden"]["macs"]) == (1170, 950)
    assert cost.macs == 1170 + 950 + 10
    cpu = device_energy("cpu")
    assert cost.energy("cpu") == pytest.approx(
        2130 * cpu["energy_per_synop"] + 50 * cpu["energy_per_neuron"], rel=1e-12)


def keras_lmu_stats(layer, steps=6, input_d=2):
    import tensorflow as tf

    from nengo_lmu.keras_energy import register_keras_lmu

    register_keras_lmu()
    inp = tf.keras.Input((steps, input_d))
    model = tf.keras.Model(inp, layer(inp))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Cannot compute stats" fallback
        energy = keras_spiking.ModelEnergy(model)
    return energy.layer_stats[model.layers[1]], energy


def test_keras_lmu_registration():
    """A tiny layer, by hand: 6 steps of 2 inputs; memory_d 1, order 3: the
    input kernel 2, A 9, B 3 a step; the Dense(4, relu) hidden cell's kernel
    3 x 4 = 12 and 4 neurons a step."""
    import tensorflow as tf
    import keras_lmu

    cell = keras_lmu.LMUCell(1, 3, theta=6, hidden_cell=tf.keras.layers.Dense(4, "relu"))
    stats, energy = keras_lmu_stats(tf.keras.layers.RNN(cell))
    assert (stats["connections"], stats["neurons"]) == (6 * (2 + 9 + 3 + 12), 6 * 4)
    assert energy.total_energy("cpu") > 0
    # LMU with memory_to_memory builds RNN(LMUCell): its recurrent kernel 3 more
    lmu = keras_lmu.LMU(1, 3, theta=6, hidden_cell=tf.keras.layers.Dense(4, "relu"),
                        memory_to_memory=True)
    stats, _ = keras_lmu_stats(lmu)
    assert (stats["connections"], stats["neurons"]) == (6 * (2 + 3 + 9 + 3 + 12), 24)
    # LMUFeedforward without return_sequences runs its hidden cell once
    ff = keras_lmu.LMUFeedforward(1, 3, theta=6, hidden_cell=tf.keras.layers.Dense(4, "relu"))
    stats, _ = keras_lmu_stats(ff)
    assert (stats["connections"], stats["neurons"]) == (6 * (2 + 9 + 3) + 12, 4)
    # and LMU picks LMUFeedforward without recurrence: the same count
    lmu = keras_lmu.LMU(1, 3, theta=6, hidden_cell=tf.keras.layers.Dense(4, "relu"))
    stats, _ = keras_lmu_stats(lmu)
    assert (stats["connections"], stats["neurons"]) == (6 * (2 + 9 + 3) + 12, 4)


def test_dense_network_agrees_with_keras_spiking():
    """Input (4) -> Dense(3, relu) -> Dense(2): keras-spiking's Loihi estimate
    from firing rates, and ours from the spikes of the same network in Nengo
    (input rates sent as spikes, the relu layer as SpikingRectifiedLinear,
    the readout weighting each spike) priced as keras-spiking assumes, all
    on the chip (host_device="loihi")."""
    import tensorflow as tf

    rng = np.random.RandomState(0)
    W1 = rng.uniform(0.2, 1.0, size=(4, 3))
    W2 = rng.uniform(-1, 1, size=(3, 2))
    x = np.array([[100.0, 150.0, 60.0, 220.0]])  # Hz
    dt, steps = 0.001, 1000
    inp = tf.keras.Input(4)
    hidden = tf.keras.layers.Dense(3, "relu", use_bias=False)
    readout = tf.keras.layers.Dense(2, use_bias=False)
    model = tf.keras.Model(inp, readout(hidden(inp)))
    hidden.set_weights([W1])
    readout.set_weights([W2])
    theirs = keras_spiking.ModelEnergy(model, example_data=x).total_energy(
        "loihi", timesteps_per_inference=steps, dt=dt)

    with nengo.Network(seed=0) as net:
        node = nengo.Node(x[0] * dt)  # spikes per step
        ens = nengo.Ensemble(3, 1, neuron_type=nengo.SpikingRectifiedLinear(),
                             gain=np.ones(3), bias=np.zeros(3))
        nengo.Connection(node, ens.neurons, transform=W1.T / dt, synapse=None)
        out = nengo.Node(size_in=2)
        nengo.Connection(ens.neurons, out, transform=W2.T, synapse=None)
    probes = CostProbes(net)
    with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
        sim.run_steps(steps)
    ours = inference_cost(net, probes.read(sim), host_device="loihi").energy("loihi")
    # the same activity: each spike count is its rate times 1 s to within a
    # spike (of 60 to 400), so within 1%
    assert ours == pytest.approx(theirs, rel=0.01)
    assert theirs > 0


def test_bad_input():
    with pytest.raises(ValidationError, match="device.*not a device|not a device"):
        device_energy("tpu")
    with pytest.raises(ValidationError) as err:
        device_energy("tpu")
    assert err.value.attr == "device"
    net = two_ensembles()
    probes = CostProbes(net)
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run_steps(10)
    measured = probes.read(sim)
    with pytest.raises(ValidationError) as err:
        inference_cost(net, measured, host_device="abacus")
    assert err.value.attr == "host_device"
    cost = inference_cost(net, measured)
    with pytest.raises(ValidationError, match="non-spiking device") as err:
        cost.energy("cpu")  # a rate device: RateCost prices those
    assert err.value.attr == "device"
    with pytest.raises(ValidationError) as err:
        cost.energy("loihi", stage="memory")
    assert err.value.attr == "stage"
    with pytest.raises(ValidationError, match="spiking device") as err:
        lmu_rate_cost(2, 3, 4).energy("loihi")
    assert err.value.attr == "device"
    with pytest.raises(ValidationError) as err:
        measured + Measured({}, {}, 20, 1, 0.001)
    assert err.value.attr == "other"
    with pytest.raises(ValidationError) as err:
        cost.total("joules")
    assert err.value.attr == "key"


def test_deploy_page_quotes_the_results_file():
    """docs/user_guide/deploy.rst's cost table: each figure is the entry of
    benchmarks/results/cost.json its ``.. source:`` comment names (to the 3
    significant digits shown)."""
    import json
    import pathlib
    import re

    root = pathlib.Path(__file__).parents[1]
    page = (root / "docs" / "user_guide" / "deploy.rst").read_text()
    section = page[page.index("What an inference costs"):]
    data = json.loads((root / "benchmarks" / "results" / "cost.json").read_text())
    quoted = re.findall(r"- ([0-9.eE+-]+)\n\s*\n\s*\.\. source: cost\.json / (.+)\n", section)
    assert len(quoted) >= 8
    for figure, path in quoted:
        value = data
        for key in path.split(" / "):
            value = value[key.strip()]
        assert float(figure) == pytest.approx(value, rel=5.01e-3), path
