"""Host values reach the chip in range: measured on data, scaled, never clipped silently."""

import warnings

import nengo
import numpy as np
import pytest
import scipy.signal
from nengo.exceptions import ValidationError

import nengo_lmu.loihi
from nengo_lmu import LMU, legendre_memory
from nengo_lmu.loihi import HostInputSaturationWarning, Simulator, host_input_range
from nengo_lmu.spiking import PEAK_RATES, to_spiking


def chip_rate(value, T=1.0):
    """Spike rate of one chip neuron (gain 1, bias 0) driven by a host value."""
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(value)
        ens = nengo.Ensemble(
            1, 1, neuron_type=nengo.SpikingRectifiedLinear(), gain=[1.0], bias=[0.0]
        )
        nengo.Connection(stim, ens.neurons, transform=[[100.0]], synapse=None)
        probe = nengo.Probe(ens.neurons)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with Simulator(net, target="sim", progress_bar=False) as sim:
            sim.run(T)
    said = [str(w.message) for w in caught if issubclass(w.category, HostInputSaturationWarning)]
    return np.sum(sim.data[probe] > 0) / T, said


@pytest.mark.parametrize(
    "value, expected, saturated",
    [
        (0.5, 50, False),  # in range: 100 * 0.5 Hz
        (-0.5, 0, False),  # the off neuron: negative current, no spikes
        (2.5, 100, True),  # clipped at 1 (one spike per step), and said so
    ],
)
def test_host_link_clips_with_a_warning(value, expected, saturated):
    rate, said = chip_rate(value)
    # sigma-delta input: the spike count is exact to a couple of spikes in 1 s,
    # less Loihi's whole-step periods at the receiving neuron (measured: 90
    # for the clipped 100)
    assert rate == pytest.approx(expected, abs=12 if saturated else 3)
    assert len(said) == saturated  # once per simulator


def test_saturation_warning_says_by_how_much():
    # a peak just beyond 1 must not read as 1
    (said,) = chip_rate(1.0004, T=0.05)[1]
    assert "reached 1 + 0.0004," in said
    (said,) = chip_rate(2.5, T=0.05)[1]
    assert "reached 1 + 1.5," in said


def lmu_net(input_to_hidden):
    rng = np.random.RandomState(1)
    with nengo.Network(seed=0) as net:
        net.inp = nengo.Node(np.zeros(2))
        net.lmu = LMU(
            5, 4, 8.0, input_d=2, memory_d=1, hidden_neuron_type=nengo.RectifiedLinear(),
            input_to_hidden=input_to_hidden,
            input_encoders_init=np.array([[0.7, -1.2]]),
            memory_kernel_init=rng.uniform(-1, 1, size=(5, 4)),
            input_kernel_init=rng.uniform(-1, 1, size=(5, 2)),
        )
        nengo.Connection(net.inp, net.lmu.input, synapse=None)
    return net


@pytest.mark.parametrize("input_to_hidden", [False, True])
def test_host_input_range_against_numpy(input_to_hidden, rng):
    sequences = rng.normal(0, 1.5, size=(3, 40, 2))
    net = lmu_net(input_to_hidden)
    measured = host_input_range(net, net.inp, sequences, dt=1.0)
    # what crosses to the chip: the memory states (and the inputs), by hand
    A, B = legendre_memory(4, 8.0)
    Ad, Bd, _, _, _ = scipy.signal.cont2discrete((A, B, np.eye(4), 0), 1.0)
    largest = 0.0
    for x in sequences:
        u = x @ np.array([0.7, -1.2])
        m = np.zeros(4)
        for ut in u:
            m = Ad @ m + Bd[:, 0] * ut
            largest = max(largest, np.abs(m).max())
        if input_to_hidden:
            largest = max(largest, np.abs(x).max())
    assert measured == pytest.approx(largest, rel=1e-12)


def test_host_input_range_checks_sequences():
    net = lmu_net(False)
    with pytest.raises(ValidationError) as info:
        host_input_range(net, net.inp, np.zeros((3, 40, 1)))
    assert info.value.attr == "sequences"


def classifier_net(rng):
    with nengo.Network(seed=0) as net:
        net.inp = nengo.Node(np.zeros(1))
        net.lmu = LMU(
            12, 6, 16.0, hidden_neuron_type=nengo.RectifiedLinear(), input_to_hidden=True,
            input_kernel_init=rng.uniform(-1, 1, size=(12, 1)),
            memory_kernel_init=rng.uniform(-0.5, 0.5, size=(12, 6)),
        )
        net.lmu.hidden.bias = rng.uniform(0, 0.3, size=12)
        nengo.Connection(net.inp, net.lmu.input, synapse=None)
        net.out = nengo.Node(size_in=2)
        nengo.Connection(net.lmu.output, net.out, transform=rng.uniform(-1, 1, (2, 12)),
                         synapse=None)
        net.probe = nengo.Probe(net.out)
    return net


def test_calibration_scales_host_inputs_exactly(rng):
    net = classifier_net(rng)
    train = rng.normal(0, 2, size=(6, 24, 1))  # z-normalised-like: beyond +-1 often
    test = rng.normal(0, 2, size=(2, 24, 1))
    plain = to_spiking(net, 0.005, neuron_type=None)
    calibrated = to_spiking(net, 0.005, neuron_type=None, calibration=(net.inp, train))
    node, probe = plain.find(net.inp, net), plain.find(net.probe, net)
    expected, _ = plain.run(nengo.Simulator, node, test, probe)
    node, probe = calibrated.find(net.inp, net), calibrated.find(net.probe, net)
    outputs, _ = calibrated.run(nengo.Simulator, node, test, probe)
    # the scale is folded into the hidden weights: the same network, to rounding
    assert np.allclose(outputs, expected, atol=1e-12)
    # what reaches the chip now peaks at exactly 1 on the calibration data
    # (one step per sample: zero-order hold lands on the presentation ends)
    assert host_input_range(net, net.inp, train) > 2
    sent = host_input_range(calibrated.network, node, train, dt=0.005)
    assert sent == pytest.approx(1.0, abs=1e-9)
    (scales,) = calibrated.input_scales
    assert sorted(scales) == ["input_kernel", "memory_kernel"]
    assert scales["input_kernel"] == pytest.approx([np.abs(train).max()])


def test_calibration_sets_firing_rates(rng):
    net = classifier_net(rng)
    train = rng.normal(0, 2, size=(4, 24, 1))
    conv = to_spiking(net, 0.005, calibration=(net.inp, train))
    # the largest hidden activity of the rate network on the data, by hand
    with net:
        p_hidden = nengo.Probe(net.lmu.hidden.neurons)
    peak = 0.0
    for u in train:
        net.inp.output = nengo.processes.PresentInput(u, 1.0)
        with nengo.Simulator(net, dt=1.0, progress_bar=False) as sim:
            sim.run_steps(len(u))
        peak = max(peak, sim.data[p_hidden].max())
    assert conv.scale_firing_rates == pytest.approx(PEAK_RATES["nengo"] / peak, rel=1e-9)
    loihi = to_spiking(net, 0.005, calibration=(net.inp, train), simulator="loihi")
    assert loihi.scale_firing_rates == pytest.approx(PEAK_RATES["loihi"] / peak, rel=1e-9)
    assert PEAK_RATES["loihi"] < PEAK_RATES["nengo"] == 1000  # one spike per step
    assert to_spiking(net, 0.005).scale_firing_rates == 1.0  # no data: unscaled
    with pytest.raises(ValidationError) as info:
        to_spiking(net, 0.005, calibration=(net.inp, train), simulator="spinnaker")
    assert info.value.attr == "simulator"
    with pytest.raises(ValidationError) as info:
        to_spiking(net, 0.005, calibration=train)
    assert info.value.attr == "calibration"


def test_calibrated_conversion_does_not_saturate_on_chip(rng):
    net = classifier_net(rng)
    train = rng.normal(0, 2, size=(4, 24, 1))
    for calibration, saturates in ((None, True), ((net.inp, train), False)):
        conv = to_spiking(net, 0.005, scale_firing_rates=50, calibration=calibration)
        node, probe = conv.find(net.inp, net), conv.find(net.probe, net)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            conv.run(Simulator, node, train[:1], probe, target="sim")
        warned = any(issubclass(w.category, HostInputSaturationWarning) for w in caught)
        assert warned == saturates
