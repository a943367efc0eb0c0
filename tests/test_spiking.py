"""Conversion of trained LMU networks to held-input, spiking inference."""

import warnings

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu import LMU, lmu_model
from nengo_lmu.spiking import (
    PEAK_RATES,
    READ_WINDOW,
    SimulatorMismatchWarning,
    simulator_kind,
    spiking_equivalent,
    synapse_delay,
    to_spiking,
)

#: one worker builds this file's module-scoped fixtures once (``--dist loadgroup``)
pytestmark = pytest.mark.xdist_group(__name__)


def classifier(hidden_type=nengo.RectifiedLinear(), seed=0, **flags):
    """input -> LMU (theta in steps) -> dense readout, with random trained-like weights."""
    rng = np.random.RandomState(seed)
    with nengo.Network(seed=seed) as net:
        net.inp = nengo.Node(np.zeros(1))
        net.lmu = LMU(
            units=20,
            order=8,
            theta=16.0,
            hidden_neuron_type=hidden_type,
            input_kernel_init=rng.uniform(-1, 1, size=(20, 1)),
            memory_kernel_init=rng.uniform(-0.5, 0.5, size=(20, 8)),
            **flags,
        )
        net.lmu.hidden.bias = rng.uniform(-0.2, 0.5, size=20)
        nengo.Connection(net.inp, net.lmu.input, synapse=None)
        net.out = nengo.Node(size_in=3)
        nengo.Connection(
            net.lmu.output, net.out, transform=rng.uniform(-0.3, 0.3, size=(3, 20)),
            synapse=None,
        )
        net.probe = nengo.Probe(net.out)
    return net


def run_steps(net, sequence, dt=1.0):
    net.inp.output = nengo.processes.PresentInput(sequence, presentation_time=dt)
    with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
        sim.run_steps(len(sequence))
    return sim.data[net.probe]


@pytest.mark.parametrize("flags", [dict(), dict(input_to_hidden=True)])
@pytest.mark.parametrize("sampled", [True, False])
def test_held_rate_network_is_exact(flags, sampled, rng):
    # Holding each sample for k = 10 steps with theta stretched by k lands,
    # at the end of each presentation, on the trained network's step outputs:
    # a sampled memory (the default for an exact one) by one step of 10 ms,
    # a continuous one by ten of 1 ms.
    net = classifier(**flags)
    sequence = rng.uniform(0, 1, size=(30, 1))
    expected = run_steps(net, sequence)

    memory_kwargs = None if sampled else dict(sample_period=None)
    conv = to_spiking(net, presentation_time=0.01, dt_train=1.0, neuron_type=None,
                      memory_kwargs=memory_kwargs)
    assert conv.time_scale == pytest.approx(0.01)
    (lmu,) = conv.lmus
    assert lmu.theta == pytest.approx(0.16) and lmu.memory.theta == pytest.approx(0.16)
    assert lmu.memory.sample_period == (pytest.approx(0.01) if sampled else None)
    node, probe = conv.find(net.inp, net), conv.find(net.probe, net)
    outputs, spikes = conv.run(nengo.Simulator, node, sequence[None], probe, dt=0.001)
    assert spikes == {}  # rate neurons: nothing spikes
    # ZOH at dt=1 vs at 10 ms or ten ZOH steps of 1 ms: equal up to rounding
    # (the last output of the sampled memory is a mean over 50 ms of it held)
    assert np.allclose(outputs[0], expected, rtol=1e-7, atol=1e-9)


def test_sampled_memory_holds_each_sample_and_the_last(rng):
    # the hidden layer of a converted network answers each sample for its
    # whole presentation, and the last one after it while the memory holds
    net = classifier(input_to_hidden=True)
    sequence = rng.uniform(0, 1, size=(5, 1))
    expected = run_steps(net, sequence)
    conv = to_spiking(net, presentation_time=0.01, neuron_type=None)
    node, probe = conv.find(net.inp, net), conv.find(net.probe, net)
    (lmu,) = conv.lmus
    node.output = nengo.processes.PresentInput(
        np.concatenate([sequence, sequence[-1:].repeat(3, axis=0)]), 0.01
    )
    lmu.memory.advance.output = nengo.processes.PresentInput([[1]] * 5 + [[0]] * 3, 0.01)
    with nengo.Simulator(conv.network, progress_bar=False) as sim:
        sim.run_steps(80)
    out = sim.data[probe].reshape(8, 10, 3)
    assert np.allclose(out[:5], expected[:, None], atol=1e-9)
    assert np.allclose(out[5:], expected[-1], atol=1e-9)


def test_last_output_is_averaged_over_the_read_window(rng):
    # spiking hidden layer: the last output is the mean of the probe over
    # read_window from the read point, against one reading without it
    net = classifier(input_to_hidden=True)
    sequence = rng.uniform(0, 1, size=(6, 1))
    expected = run_steps(net, sequence)[-1]
    conv = to_spiking(net, presentation_time=0.01, scale_firing_rates=300)
    node, probe = conv.find(net.inp, net), conv.find(net.probe, net)
    args = (nengo.Simulator, node, sequence[None], probe)
    default, _ = conv.run(*args)
    window, _ = conv.run(*args, read_window=READ_WINDOW * 0.01)
    assert np.array_equal(default, window)
    one, _ = conv.run(*args, read_window=0)
    assert np.array_equal(one[0, :-1], default[0, :-1])
    # by hand: the last sample held on while the memory holds still
    delay = int(round((conv.output_lag) / 0.001))
    node.output = nengo.processes.PresentInput(
        np.concatenate([sequence] + [sequence[-1:]] * 6), 0.01
    )
    conv.lmus[0].memory.advance.output = nengo.processes.PresentInput(
        [[1]] * 6 + [[0]] * 6, 0.01
    )
    with nengo.Simulator(conv.network, progress_bar=False) as sim:
        sim.run_steps(120)
    read = 60 - 1 + delay
    assert np.allclose(default[0, -1], sim.data[probe][read : read + 50].mean(0))
    assert np.allclose(one[0, -1], sim.data[probe][read])
    # spike noise: five presentations of mean are closer to the rate output
    assert np.linalg.norm(default[0, -1] - expected) < np.linalg.norm(one[0, -1] - expected)
    assert np.abs(expected).max() > 0.1
    assert net.lmu.theta == 16.0  # the original is untouched


def test_spiking_tracks_rate(rng):
    net = classifier(input_to_hidden=True, seed=1)
    sequence = rng.uniform(0, 1, size=(20, 1))
    expected = run_steps(net, sequence)
    # RectifiedLinear rates are in Hz: activities ~0.5 need scaling to fire
    # every step's output is scored, so the filter is short (a fifth of the
    # presentation): to_spiking's default is longer, for the last output
    conv = to_spiking(net, presentation_time=0.05, scale_firing_rates=1000, synapse=0.01)
    (lmu,) = conv.lmus
    assert isinstance(lmu.hidden.neuron_type, nengo.SpikingRectifiedLinear)
    outputs, _ = conv.run(
        nengo.Simulator, conv.find(net.inp, net), sequence[None], conv.find(net.probe, net)
    )
    # spike noise and the Lowpass(10 ms) lag of each presentation's output
    # (every output is read once, at the end of its presentation); measured
    # 0.045-0.061 on three sequences, 0.062-0.069 with a continuous memory
    error = outputs[0] - expected
    assert np.sqrt(np.mean(error**2)) < 0.1 * np.sqrt(np.mean(expected**2))


@pytest.mark.parametrize(
    "synapse",
    [nengo.Lowpass(0.004), nengo.Alpha(0.01), nengo.LinearFilter([0.002, 1], [3e-5, 0.011, 1])],
)
def test_synapse_delay_is_the_impulse_response_mean(synapse):
    # independent reference: the centroid of the simulated impulse response
    dt = 1e-5
    t = np.arange(int(0.5 / dt)) * dt
    impulse = np.zeros(len(t))
    impulse[0] = 1 / dt
    h = synapse.filt(impulse, dt=dt, y0=0)
    centroid = np.sum(t * h) / np.sum(h)
    assert synapse_delay(synapse) == pytest.approx(centroid, rel=2e-3)


def test_synapse_delay_closed_forms():
    assert synapse_delay(None) == 0
    assert synapse_delay(0.004) == pytest.approx(0.004)  # a number: Lowpass, as in nengo
    assert synapse_delay(nengo.Lowpass(0.004)) == pytest.approx(0.004)
    assert synapse_delay(nengo.Alpha(0.01)) == pytest.approx(0.02)
    with pytest.raises(ValidationError, match="read_delay"):
        synapse_delay(nengo.LinearFilter([1], [1, -0.5], analog=False))


def test_last_output_read_after_the_output_lag(rng):
    # the last sample is held on for read_delay and the last output read then;
    # every other output still at the end of its presentation (a continuous
    # memory, which moves on meanwhile)
    net = classifier(input_to_hidden=True)
    sequence = rng.uniform(0, 1, size=(6, 1))
    conv = to_spiking(net, presentation_time=0.01, neuron_type=None,
                      memory_kwargs=dict(sample_period=None))
    assert conv.output_lag == 0  # nothing spikes: no filter to wait for
    node, probe = conv.find(net.inp, net), conv.find(net.probe, net)
    at_end, _ = conv.run(nengo.Simulator, node, sequence[None], probe)
    later, _ = conv.run(nengo.Simulator, node, sequence[None], probe, read_delay=0.004)
    assert np.array_equal(later[0, :-1], at_end[0, :-1])
    # by hand: 6 presentations of 10 steps, then 4 more steps of the last sample
    held = np.concatenate([sequence, sequence[-1:]])
    node.output = nengo.processes.PresentInput(held, 0.01)
    with nengo.Simulator(conv.network, progress_bar=False) as sim:
        sim.run_steps(64)
    assert np.allclose(later[0, -1], sim.data[probe][-1], rtol=1e-12, atol=1e-12)
    assert not np.allclose(later[0, -1], at_end[0, -1])
    with pytest.raises(ValidationError) as exc:
        conv.run(nengo.Simulator, node, sequence[None], probe, read_delay=0.01)
    assert exc.value.attr == "read_delay"
    with pytest.raises(ValidationError, match="continuous memory") as exc:
        conv.run(nengo.Simulator, node, sequence[None], probe, read_window=0.01)
    assert exc.value.attr == "read_window"
    spiking = to_spiking(net, presentation_time=0.01, synapse=0.003)
    assert spiking.output_lag == pytest.approx(0.003)


def test_spiking_equivalents():
    relu = spiking_equivalent(nengo.RectifiedLinear(amplitude=2.0), scale=4.0)
    assert isinstance(relu, nengo.SpikingRectifiedLinear) and relu.amplitude == 0.5
    lif = spiking_equivalent(nengo.LIFRate(tau_rc=0.03, tau_ref=0.001))
    assert isinstance(lif, nengo.LIF) and lif.tau_rc == 0.03 and lif.tau_ref == 0.001
    assert spiking_equivalent(nengo.LIF()) == nengo.LIF()
    with pytest.raises(ValidationError, match="RectifiedLinear"):
        spiking_equivalent(nengo.Tanh())


@pytest.mark.parametrize(
    "flag", ["hidden_to_memory", "memory_to_memory", "hidden_to_hidden"]
)
def test_refuses_recurrence_with_held_samples(flag):
    net = classifier(**{flag: True})
    with pytest.raises(ValidationError) as exc:
        to_spiking(net, presentation_time=0.01)
    assert exc.value.attr == flag and "not be faithful" in str(exc.value)
    # one step per sample stays faithful: allowed
    to_spiking(net, presentation_time=1.0, dt_train=1.0, neuron_type=None)


def test_bad_arguments():
    net = classifier()
    with pytest.raises(ValidationError) as exc:
        to_spiking(net, presentation_time=0.0)
    assert exc.value.attr == "presentation_time"
    with pytest.raises(ValidationError) as exc:
        to_spiking(net, presentation_time=0.01, neuron_type="spikey")
    assert exc.value.attr == "neuron_type"
    with pytest.raises(ValidationError) as exc:
        to_spiking(classifier(hidden_type=nengo.Tanh(tau_ref=1)), presentation_time=0.01)
    assert exc.value.attr == "hidden_neuron_type"
    with pytest.raises(ValidationError) as exc:
        to_spiking(nengo.Network(), presentation_time=0.01)
    assert exc.value.attr == "network"
    with pytest.raises(ValidationError, match="whole number") as exc:
        to_spiking(net, presentation_time=0.0105)
    assert exc.value.attr == "presentation_time"
    # for another simulator dt, it is checked again at run time
    conv = to_spiking(net, presentation_time=0.0105, dt=0.0005)
    assert conv.dt == 0.0005
    with pytest.raises(ValidationError, match="whole number") as exc:
        conv.run(nengo.Simulator, conv.find(net.inp, net), np.zeros((1, 2, 1)),
                 conv.find(net.probe, net), dt=0.001)
    assert exc.value.attr == "presentation_time"


def test_refuses_untrained_distributions():
    # W_m left as its Glorot Distribution: rebuilding would draw it anew
    with nengo.Network(seed=0) as net:
        inp = nengo.Node(np.zeros(1))
        lmu = LMU(5, 4, 8.0, hidden_neuron_type=nengo.RectifiedLinear())
        nengo.Connection(inp, lmu.input, synapse=None)
    with pytest.raises(ValidationError, match="freeze_params") as exc:
        to_spiking(net, presentation_time=0.01)
    assert exc.value.attr == "network"


@pytest.fixture(scope="module")
def trained_ps_digits():
    """A small ReLU LMU trained on psDigits by NengoDL, weights frozen in."""
    # pylint: disable=import-outside-toplevel  (only these tests need TensorFlow)
    import nengo_dl
    import tensorflow as tf

    from nengo_lmu.datasets import ps_digits

    tf.random.set_seed(0)  # with the network's seed, the same training every run
    x_train, y_train, x_test, y_test = ps_digits()
    net = lmu_model(10, seed=0, settings=dict(stateful=False, keep_history=False),
                    units=32, order=12, theta=64.0, input_to_hidden=True,
                    hidden_neuron_type=nengo.RectifiedLinear())
    n_test = 128
    with nengo_dl.Simulator(net, dt=1.0, minibatch_size=64, unroll_simulation=16,
                            progress_bar=False) as sim:
        sim.compile(
            optimizer=tf.optimizers.Adam(3e-3),
            loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        sim.fit({net.inp: x_train[:1280]}, {net.probe: y_train[:1280, None, None]},
                epochs=20, verbose=0)
        rate = sim.predict({net.inp: x_test[:n_test]}, verbose=0)[net.probe][:, -1]
        sim.freeze_params(net)
    return net, x_test[:n_test], y_test[:n_test], rate.argmax(axis=-1)


def test_ps_digits_spiking_reference(trained_ps_digits):
    net, x, y, rate_pred = trained_ps_digits
    conv = to_spiking(net, presentation_time=0.02, scale_firing_rates=300)
    out, spikes = conv.run(
        nengo.Simulator, conv.find(net.inp, net), x, conv.find(net.probe, net), parallel=32
    )
    pred = out[:, -1].argmax(axis=-1)
    rate_acc, spiking_acc = np.mean(rate_pred == y), np.mean(pred == y)
    agree = np.mean(pred == rate_pred)
    print(f"reference: rate {rate_acc:.3f}, spiking {spiking_acc:.3f}, agree {agree:.3f}, "
          f"{spikes[0]['hidden']:.0f} hidden spikes per digit")
    # measured over these 128 digits: rate 0.734, spiking 0.734, agreement 1
    # (0.703 and 0.859 with one reading of a continuous memory)
    assert agree > 0.95
    assert spiking_acc > rate_acc - 0.03
    # hidden -> output -> 10-way readout: each spike meets 10 synapses
    assert spikes[0]["hidden_synaptic_events"] == pytest.approx(10 * spikes[0]["hidden"])


def test_ps_digits_spiking_loihi_emulator(trained_ps_digits):
    from nengo_lmu import loihi  # pylint: disable=import-outside-toplevel

    net, x, y, rate_pred = trained_ps_digits
    n = 32  # the emulator is slower
    conv = to_spiking(net, presentation_time=0.02, scale_firing_rates=300)
    out, _ = conv.run(
        loihi.Simulator, conv.find(net.inp, net), x[:n], conv.find(net.probe, net),
        parallel=n, target="sim",
    )
    pred = out[:, -1].argmax(axis=-1)
    agree = np.mean(pred == rate_pred[:n])
    print(f"emulator: spiking {np.mean(pred == y[:n]):.3f}, agree {agree:.3f}")
    # measured: agreement 1 (0.875 with one reading of a continuous memory),
    # accuracy 0.75; chance agreement would be ~0.1
    assert agree >= 30 / 32


def stacked(seed=0, synapse=None):
    """input -> LMU -> LMU -> readout; the first LMU's input through ``synapse``."""
    rng = np.random.RandomState(seed)
    with nengo.Network(seed=seed) as net:
        net.inp = nengo.Node(np.zeros(1))
        relu = nengo.RectifiedLinear()
        net.first = LMU(8, 4, theta=8.0, hidden_neuron_type=relu,
                        memory_kernel_init=rng.uniform(-1, 1, (8, 4)))
        net.second = LMU(6, 4, theta=8.0, input_d=8, hidden_neuron_type=relu,
                         memory_kernel_init=rng.uniform(-1, 1, (6, 4)))
        nengo.Connection(net.inp, net.first.input, synapse=synapse)
        nengo.Connection(net.first.output, net.second.input, synapse=None)
        net.probe = nengo.Probe(net.second.output)
    return net


def test_only_lmus_reading_held_samples_are_sampled(rng):
    # the second LMU reads the first one's filtered spikes, which still move
    # when a sample begins: its memory stays continuous; so does one behind a
    # synapse; then the last output is one reading, and a window is refused
    net = stacked()
    calibration = (net.inp, rng.uniform(0, 1, size=(4, 8, 1)))
    conv = to_spiking(net, 0.02, calibration=calibration)
    assert [lmu.memory.sample_period for lmu in conv.lmus] == [pytest.approx(0.02), None]
    filtered = to_spiking(stacked(synapse=0.005), 0.01, scale_firing_rates=100)
    assert [lmu.memory.sample_period for lmu in filtered.lmus] == [None, None]
    node, probe = conv.find(net.inp, net), conv.find(net.probe, net)
    sequence = rng.uniform(0, 1, size=(1, 6, 1))
    expected = run_steps(stacked(), sequence[0])  # the trained (rate) network
    # with rate neurons the same structure is exact: the first LMU's output
    # holds over each presentation, which the second's continuous ZOH memory
    # then integrates exactly (to rounding)
    rate = to_spiking(net, 0.02, neuron_type=None)
    assert [lmu.memory.sample_period for lmu in rate.lmus] == [pytest.approx(0.02), None]
    out, _ = rate.run(nengo.Simulator, net.inp, sequence, net.probe)  # (mapped)
    assert np.allclose(out[0], expected, rtol=1e-9, atol=1e-12)
    # spiking: each output is one reading of filtered spikes (the peak rate is
    # about 20 spikes per presentation) after two spiking layers, the second
    # reading the first's lagging filtered spikes. Measured: relative RMS
    # error 0.25-0.29 over four sequences; outputs unrelated to the trained
    # ones (or zeros) would be near 1 or more
    out, _ = conv.run(nengo.Simulator, node, sequence, probe)
    assert out.shape == (1, 6, 6)
    error = np.sqrt(np.mean((out[0] - expected) ** 2)) / np.sqrt(np.mean(expected**2))
    assert error < 0.5
    with pytest.raises(ValidationError, match="continuous memory") as exc:
        conv.run(nengo.Simulator, node, sequence, probe, read_window=0.04)
    assert exc.value.attr == "read_window"
    # a recurrent LMU (held for one step only) is not sampled either
    recurrent = to_spiking(classifier(hidden_to_hidden=True), 1.0, neuron_type=None)
    assert recurrent.lmus[0].memory.sample_period is None


def test_scale_firing_rates_per_lmu(rng):
    # one scale per LMU, in the order of conv.lmus: each hidden layer fires
    # that many times faster with spikes that many times smaller; a number
    # is every LMU's; either is what the conversion reports back
    net = stacked()
    conv = to_spiking(net, 0.02, scale_firing_rates=[100, 300])
    assert [lmu.label for lmu in conv.lmus] == [net.first.label, net.second.label]
    assert conv.rate_scales == (100.0, 300.0)
    for lmu, original, scale in zip(conv.lmus, (net.first, net.second), (100, 300)):
        assert np.allclose(lmu.hidden.gain, scale * np.asarray(original.hidden.gain))
        assert lmu.hidden.neuron_type.amplitude == pytest.approx(1 / scale)
    # the single figure: the smallest (the busiest layer's, where derived)
    assert conv.scale_firing_rates == 100.0 and conv.peak_rate is None
    shared = to_spiking(net, 0.02, scale_firing_rates=300)
    assert shared.rate_scales == (300.0, 300.0) and shared.scale_firing_rates == 300.0
    # given back, the rates derived from calibration are reproduced
    x = rng.uniform(0, 1, size=(4, 8, 1))
    derived = to_spiking(net, 0.02, calibration=(net.inp, x), progress_bar=False)
    assert derived.rate_scales[0] != pytest.approx(derived.rate_scales[1], rel=0.01)
    assert derived.scale_firing_rates == min(derived.rate_scales)
    again = to_spiking(net, 0.02, calibration=(net.inp, x), progress_bar=False,
                       scale_firing_rates=derived.rate_scales)
    for a, b in zip(derived.lmus, again.lmus):
        assert np.array_equal(a.hidden.gain, b.hidden.gain)
    # an LMU without a RectifiedLinear layer to scale takes 1, and reports it
    with nengo.Network(seed=0) as mixed:
        mixed.inp = nengo.Node(np.zeros(1))
        mixed.relu = LMU(4, 4, theta=8.0, hidden_neuron_type=nengo.RectifiedLinear(),
                         memory_kernel_init=rng.uniform(-1, 1, (4, 4)))
        mixed.lif = LMU(4, 4, theta=8.0, input_d=4, hidden_neuron_type=nengo.LIFRate(),
                        memory_kernel_init=rng.uniform(-1, 1, (4, 4)))
        nengo.Connection(mixed.inp, mixed.relu.input, synapse=None)
        nengo.Connection(mixed.relu.output, mixed.lif.input, synapse=None)
    for scales in (200, [200, 1]):
        conv = to_spiking(mixed, 0.02, scale_firing_rates=scales)
        assert conv.rate_scales == (200.0, 1.0) and conv.scale_firing_rates == 200.0


def test_sample_period_must_be_the_presentation_time():
    net = classifier()
    with pytest.raises(ValidationError, match="sample_period=0.03") as exc:
        to_spiking(net, 0.02, memory_kwargs=dict(sample_period=0.03))
    assert exc.value.attr == "memory_kwargs"
    conv = to_spiking(net, 0.02, memory_kwargs=dict(sample_period=0.02))
    assert conv.lmus[0].memory.sample_period == pytest.approx(0.02)
    with pytest.raises(ValidationError, match="not fed held samples"):
        to_spiking(stacked(synapse=0.005), 0.02, scale_firing_rates=100,
                   memory_kwargs=dict(sample_period=0.02))


def test_run_counts_steps_at_32_bit_precision(rng):
    # NengoDL leaves nengo.rc at 32 bits when one of its builds fails; a
    # sample picked from float32 time then came a step early or late at some
    # boundaries, which the sampled memory took as its sample (max error
    # 0.28 here before HeldSamples); counted steps give the 64-bit answer
    net = classifier()
    sequence = rng.uniform(0, 1, size=(1, 60, 1))
    expected = run_steps(net, sequence[0])
    conv = to_spiking(net, presentation_time=0.01, neuron_type=None)
    bits = nengo.rc.get("precision", "bits")
    nengo.rc.set("precision", "bits", "32")
    try:
        out, _ = conv.run(nengo.Simulator, net.inp, sequence, net.probe)
    finally:
        nengo.rc.set("precision", "bits", bits)
    # float32 rounding of the states and outputs (about 1e-7 of values ~1)
    assert np.allclose(out[0], expected, atol=1e-5)


def test_simulator_names_what_the_conversion_is_for(rng):
    # to_spiking's simulator: the rates derived from calibration are
    # PEAK_RATES[simulator]; a class counts as its kind, as run takes it
    # pylint: disable=import-outside-toplevel  (only these tests need nengo-loihi)
    import nengo_loihi

    from nengo_lmu import loihi

    net = classifier()
    x = rng.uniform(0, 1, size=(3, 20, 1))
    convs = {
        simulator: to_spiking(net, 0.01, calibration=(net.inp, x), simulator=simulator,
                              progress_bar=False)
        for simulator in ("nengo", "loihi", loihi.Simulator, nengo.Simulator)
    }
    assert [c.simulator for c in convs.values()] == ["nengo", "loihi", "loihi", "nengo"]
    assert convs["nengo"].peak_rate == PEAK_RATES["nengo"]
    assert convs["loihi"].peak_rate == PEAK_RATES["loihi"]
    assert convs["loihi"].scale_firing_rates == pytest.approx(
        convs["nengo"].scale_firing_rates * PEAK_RATES["loihi"] / PEAK_RATES["nengo"]
    )
    # rates not derived from the simulator: none to speak of
    assert to_spiking(net, 0.01, simulator="loihi").peak_rate is None
    assert simulator_kind(nengo_loihi.Simulator) == "loihi"
    assert simulator_kind(loihi.Simulator) == "loihi"
    assert simulator_kind(nengo.Simulator) == "nengo"
    assert simulator_kind(lambda net, **kw: nengo.Simulator(net, **kw)) is None
    for bad in ("spinnaker", "sim", object):
        with pytest.raises(ValidationError) as exc:
            to_spiking(net, 0.01, simulator=bad)
        assert exc.value.attr == "simulator"


def test_old_target_keyword_names_the_new_one():
    # an old snippet's to_spiking(..., target="loihi") is told what to use
    net = classifier()
    with pytest.raises(ValidationError, match="simulator='nengo' or 'loihi'") as exc:
        to_spiking(net, 0.01, target="loihi")
    assert exc.value.attr == "target"
    with pytest.raises(TypeError, match="'targt'"):
        to_spiking(net, 0.01, targt="loihi")
    # run's target is nengo-loihi's; nengo's simulators are told so
    conv = to_spiking(net, 0.01)
    with pytest.raises(ValidationError, match="nengo-loihi's Simulator") as exc:
        conv.run(nengo.Simulator, net.inp, np.zeros((1, 2, 1)), net.probe, target="loihi")
    assert exc.value.attr == "target"


def run_on(conv, net, simulator, **kwargs):
    """Run one short sequence; the SimulatorMismatchWarnings raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        conv.run(simulator, net.inp, np.full((1, 3, 1), 0.5), net.probe,
                 progress_bar=False, **kwargs)
    return [str(w.message) for w in caught if w.category is SimulatorMismatchWarning]


def test_a_conversion_run_on_the_other_simulator_says_so(rng):
    # pylint: disable=import-outside-toplevel  (only these tests need nengo-loihi)
    import nengo_loihi

    from nengo_lmu import loihi

    net = classifier()
    x = rng.uniform(0, 1, size=(3, 20, 1))
    for_nengo = to_spiking(net, 0.01, calibration=(net.inp, x), progress_bar=False)
    for_loihi = to_spiking(net, 0.01, calibration=(net.inp, x), simulator="loihi",
                           progress_bar=False)
    # made for nengo, run on Loihi (the emulator), and the other way round
    (message,) = run_on(for_nengo, net, loihi.Simulator, target="sim")
    assert "made for nengo" in message and "nengo_lmu.loihi.Simulator, a loihi" in message
    assert "simulator='loihi'" in message
    (message,) = run_on(for_nengo, net, nengo_loihi.Simulator, target="sim")
    assert "nengo_loihi.simulator.Simulator, a loihi" in message
    (message,) = run_on(for_loihi, net, nengo.Simulator)
    assert "made for loihi" in message and "simulator='nengo'" in message
    # where it was made for: nothing to say
    assert run_on(for_nengo, net, nengo.Simulator) == []
    assert run_on(for_loihi, net, loihi.Simulator, target="sim") == []
    # rates not set for either (no calibration): it suits both
    assert run_on(to_spiking(net, 0.01), net, loihi.Simulator, target="sim") == []
