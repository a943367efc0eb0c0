"""No silent wrong answers: every accepted input is honoured, or refused by name.

Each test here failed before its fix (an input was accepted and quietly gave
another model than the one asked for) and names the parameter it checks.
"""

import nengo
import nengo_dl
import numpy as np
import pytest
import scipy.signal
import tensorflow as tf
from nengo.exceptions import BuildError, ValidationError

import nengo_lmu.loihi
from nengo_lmu import LMU, LegendreMemory, LinearSystem, legendre_memory, ss2sim
from nengo_lmu import cli
from nengo_lmu.mapping import _discrete_polynomial, synapse_polynomial
from nengo_lmu.spiking import to_spiking
from nengo_lmu.system import TimeScaledSystem


# 1. the discretisation method survives the TimeScaledSystem copy
@pytest.mark.parametrize("method", ["euler", "bilinear"])
def test_trainable_theta_keeps_method(method, rng):
    lmu = LMU(3, 4, 1.0, method=method, trainable_theta=True)
    assert lmu.memory.system.method == method

    # and it is simulated that way: against scipy's discretisation of (A, B)
    dt, u = 0.01, rng.uniform(-1, 1, size=50)
    with nengo.Network() as net:
        mem = LegendreMemory(4, 1.0, method=method, trainable_theta=True)
        assert isinstance(mem.system, TimeScaledSystem)
        assert mem.system.method == method
        stim = nengo.Node(nengo.processes.PresentInput(u, dt))
        nengo.Connection(stim, mem.input, synapse=None)
        probe = nengo.Probe(mem.output)
    with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
        sim.run_steps(len(u))
    A, B = legendre_memory(4, 1.0)
    Ad, Bd, _, _, _ = scipy.signal.cont2discrete((A, B, np.eye(4), 0), dt, method=method)
    x, expected = np.zeros(4), []
    for ui in u:
        x = Ad @ x + Bd[:, 0] * ui
        expected.append(x)
    assert np.allclose(sim.data[probe], expected, atol=1e-12)


def test_linear_system_copy_keeps_method():
    sys = LinearSystem(nengo.Lowpass(0.1), method="bilinear")
    assert LinearSystem(sys).method == "bilinear"
    assert LinearSystem(sys, method="euler").method == "euler"  # explicit wins
    assert LinearSystem(nengo.Lowpass(0.1)).method == "zoh"


# 2. to_spiking relies on ZOH's exactness for held samples
@pytest.mark.parametrize("method", ["euler", "bilinear"])
def test_to_spiking_refuses_non_zoh(method):
    with nengo.Network() as net:
        LMU(4, 6, 16.0, method=method, memory_kernel_init=np.ones((4, 6)))
    with pytest.raises(ValidationError, match="zero-order hold") as info:
        to_spiking(net, presentation_time=0.01)
    assert info.value.attr == "method"


# 3. matrices fixed for one dt refuse a simulator of another
@pytest.fixture
def restore_precision():
    """NengoDL 3.6 sets nengo.rc's float precision to 32 bits while it builds
    and leaves it there when the build raises: put it back for the tests after."""
    bits = nengo.rc.get("precision", "bits")
    yield
    nengo.rc.set("precision", "bits", bits)


def memory_net(**kwargs):
    with nengo.Network(seed=0) as net:
        mem = LegendreMemory(4, 1.0, **kwargs)
        stim = nengo.Node(0.5)
        nengo.Connection(stim, mem.input, synapse=None)
        nengo.Probe(mem.output)
    return net


@pytest.mark.parametrize(
    "kwargs",
    [dict(trainable_matrices=True), dict(n_neurons=10), dict(n_neurons=10, simulator="loihi")],
)
@pytest.mark.parametrize("simulator", ["nengo", "nengo_dl"])
def test_memory_dt_is_checked(kwargs, simulator, restore_precision):
    make = dict(nengo=nengo.Simulator, nengo_dl=nengo_dl.Simulator)[simulator]
    net = memory_net(**kwargs)  # built for the default dt=0.001
    with pytest.raises(BuildError, match=r"dt=0\.001.*dt is 1\b"):
        make(net, dt=1.0, progress_bar=False)
    with make(net, dt=0.001, progress_bar=False):
        pass  # the dt it was made for builds
    with make(memory_net(dt=1.0, **kwargs), dt=1.0, progress_bar=False):
        pass


def test_memory_dt_is_checked_on_loihi():
    net = memory_net(n_neurons=10, simulator="loihi")
    with pytest.raises(BuildError, match=r"dt=0\.001.*dt is 0\.002"):
        nengo_lmu.loihi.Simulator(net, dt=0.002, target="sim", progress_bar=False)


def test_digital_system_is_bound_to_its_dt():
    sys = LinearSystem(nengo.Lowpass(0.1)).discretize(0.01)
    assert sys.dt == 0.01 and not sys.analog
    assert LinearSystem(sys).dt == 0.01  # a copy keeps it
    assert sys.filt(np.ones(3)).shape == (3,)  # filt defaults to the bound dt
    with pytest.raises(BuildError, match="dt=0.01"):
        sys.filt(np.ones(3), dt=0.001)
    with nengo.Network() as net:
        nengo.Node(sys, size_in=1)
    with pytest.raises(BuildError, match=r"dt=0\.01, but the simulator's dt is 0\.001"):
        nengo.Simulator(net, progress_bar=False)
    with pytest.raises(ValidationError) as info:
        LinearSystem(nengo.Lowpass(0.1), dt=0.01)  # analog: the simulator's dt
    assert info.value.attr == "dt"
    # unbound digital systems run at any dt, as before
    free = LinearSystem(sys.ss, analog=False)
    assert free.dt is None and free.filt(np.ones(3), dt=0.5).shape == (3,)


# 4. repeated real poles in the discrete mapping
def chain_coefficients(taus, dt):
    """prod_i (z - a_i) / (1 - a_i), ascending, by hand."""
    c = np.array([1.0])
    for tau in taus:
        a = np.exp(-dt / tau)
        c = np.convolve(c, np.array([-a, 1.0]) / (1 - a))
    return c


@pytest.mark.parametrize(
    "synapse, taus",
    [
        (nengo.Alpha(0.1), [0.1, 0.1]),
        (nengo.Lowpass(0.1).combine(nengo.Lowpass(0.1)), [0.1, 0.1]),
        (nengo.Lowpass(0.05).combine(nengo.Lowpass(0.05)).combine(nengo.Lowpass(0.05)),
         [0.05] * 3),
        (nengo.Lowpass(0.1).combine(nengo.Lowpass(0.005)), [0.1, 0.005]),
    ],
)
def test_discrete_mapping_of_repeated_poles(synapse, taus):
    dt = 1e-3
    c = _discrete_polynomial(synapse_polynomial(synapse), dt)
    expected = chain_coefficients(taus, dt)
    # the coefficients reach 1e6 for a triple pole and alternate in sign:
    # compare relative to the largest (root-finding error ~ eps^(1/3))
    assert np.allclose(c, expected, rtol=0, atol=1e-9 * np.abs(expected).max())

    A, B = legendre_memory(4, 1.0)
    mapped = ss2sim((A, B, np.eye(4), 0), synapse, dt=dt)
    Ad, Bd, _, _, _ = scipy.signal.cont2discrete((A, B, np.eye(4), 0), dt)
    powers = [np.linalg.matrix_power(Ad, i) for i in range(len(expected))]
    Ap = sum(ci * P for ci, P in zip(expected, powers))
    Bp = sum(
        expected[i] * sum(powers[i - 1 - j] for j in range(i)) for i in range(1, len(expected))
    ) @ Bd
    scale = np.abs(expected).max()
    assert np.allclose(mapped.A, Ap, atol=1e-8 * scale)
    assert np.allclose(mapped.B, Bp, atol=1e-8 * scale)


def test_discrete_mapping_refuses_oscillating_synapse():
    ringing = nengo.LinearFilter([100.0], [1.0, 2.0, 100.0])  # poles -1 +- 9.95j
    with pytest.raises(ValidationError, match="real poles") as info:
        ss2sim(nengo.Lowpass(1.0), ringing, dt=1e-3)
    assert info.value.attr == "synapse"


# 5. nengo_lmu.loihi.Simulator's decode_tau only where it is meant
def decoded_integrator():
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(0.1)
        ens = nengo.Ensemble(50, 1)
        nengo.Connection(stim, ens, transform=0.1, synapse=0.1)
        nengo.Connection(ens, ens, synapse=0.1)  # decoded, chip to chip
    return net


def feed_forward():
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(0.1)
        ens = nengo.Ensemble(50, 1)
        nengo.Connection(stim, ens, synapse=None)
        nengo.Probe(ens, synapse=0.01)
    return net


def test_loihi_decode_tau_kept_for_decoded_connections():
    model_for = nengo_lmu.loihi.Simulator.model_for
    assert model_for(decoded_integrator()).decode_tau == nengo_lmu.loihi.LOIHI_DECODE_TAU
    assert model_for(feed_forward()).decode_tau == nengo_lmu.loihi.INPUT_TAU
    with nengo.Network() as weights_only:  # neuron-to-neuron: no decode neurons
        a, b = nengo.Ensemble(20, 1), nengo.Ensemble(20, 1)
        nengo.Connection(a, b, solver=nengo.solvers.LstsqL2(weights=True))
    assert model_for(weights_only).decode_tau == nengo_lmu.loihi.INPUT_TAU
    with nengo.Network() as off_chip:
        nengo_lmu.loihi.nengo_loihi.add_params(off_chip)
        a, b = nengo.Ensemble(20, 1), nengo.Ensemble(20, 1)
        off_chip.config[a].on_chip = False
        nengo.Connection(a, b)
    assert model_for(off_chip).decode_tau == nengo_lmu.loihi.INPUT_TAU


def test_loihi_decode_tau_with_model_is_refused():
    net = feed_forward()
    model = nengo_lmu.loihi.Simulator.model_for(net)
    with pytest.raises(ValidationError) as info:
        nengo_lmu.loihi.Simulator(net, decode_tau=0.002, model=model, target="sim")
    assert info.value.attr == "decode_tau"


# 6. arguments that would be ignored, and inputs checked by name
@pytest.mark.parametrize(
    "name, value",
    [
        ("synapse", nengo.Lowpass(0.01)),
        ("weights", True),
        ("neuron_type", nengo.SpikingRectifiedLinear()),
        ("readout_synapse", nengo.Lowpass(0.02)),
        ("simulator", "loihi"),
        ("input_high", 2.0),
        ("input_rms", 1.0),
        ("radius_rms", 2.0),
        ("ensemble_kwargs", dict(max_rates=nengo.dists.Uniform(100, 200))),
    ],
)
def test_exact_memory_refuses_neural_arguments(name, value):
    with pytest.raises(ValidationError, match="exact") as info:
        LegendreMemory(4, 1.0, **{name: value})
    assert info.value.attr == name
    LegendreMemory(4, 1.0, n_neurons=10, **{name: value})  # where it belongs


def trained_lmu(memory_kwargs=None):
    rng = np.random.RandomState(0)
    with nengo.Network(seed=0) as net:
        net.inp = nengo.Node(np.zeros(1))
        net.lmu = LMU(
            8, 4, 16.0, hidden_neuron_type=nengo.RectifiedLinear(),
            memory_kernel_init=rng.uniform(-1, 1, size=(8, 4)),
            memory_kwargs=memory_kwargs,
        )
        nengo.Connection(net.inp, net.lmu.input, synapse=None)
        net.probe = nengo.Probe(net.lmu.output)
    return net


def test_to_spiking_keeps_neural_memory_configuration():
    neural = dict(
        n_neurons=30, neuron_type=nengo.SpikingRectifiedLinear(), synapse=0.02,
        input_high=0.05, radius_rms=2.0, ensemble_kwargs=dict(intercepts=[0.0] * 30),
        dt=1.0,
    )
    conv = to_spiking(trained_lmu(neural), presentation_time=0.01, memory_kwargs=dict(dt=0.001))
    (lmu,) = conv.lmus
    mem = lmu.memory
    assert mem.n_neurons == 30 and isinstance(mem.neuron_type, nengo.SpikingRectifiedLinear)
    assert mem.synapse == nengo.Lowpass(0.02) and mem.radius_rms == 2.0
    assert mem.ensemble_kwargs == dict(intercepts=[0.0] * 30)
    assert mem.theta == pytest.approx(0.16)
    assert mem.input_high == pytest.approx(5.0)  # the band stretches with the window
    assert mem.dt == 0.001  # memory_kwargs win
    # the training dt is not carried over: the deployment's is the default
    assert to_spiking(trained_lmu(neural), 0.01).lmus[0].memory.dt == 0.001
    # another simulator brings its own default weights
    loihi = to_spiking(trained_lmu(neural), 0.01, memory_kwargs=dict(simulator="loihi"))
    assert loihi.lmus[0].memory.weights is True
    # n_neurons=None asks for the exact memory instead
    exact = to_spiking(trained_lmu(neural), 0.01, memory_kwargs=dict(n_neurons=None))
    assert exact.lmus[0].memory.n_neurons is None
    # and an exact memory stays exact
    assert to_spiking(trained_lmu(), 0.01).lmus[0].memory.n_neurons is None


@pytest.mark.parametrize("key", ["method", "trainable_theta", "memory_d", "theta"])
def test_lmu_memory_kwargs_duplicates(key):
    with pytest.raises(ValidationError, match=key) as info:
        LMU(4, 4, 1.0, memory_kwargs={key: 1})
    assert info.value.attr == "memory_kwargs"


def test_to_spiking_checks_its_arguments():
    net = trained_lmu()
    with pytest.raises(ValidationError) as info:
        to_spiking(net, 0.01, neuron_type=5)
    assert info.value.attr == "neuron_type"
    with pytest.raises(ValidationError) as info:
        to_spiking(net, 0.01, memory_kwargs=[("n_neurons", 10)])
    assert info.value.attr == "memory_kwargs"


@pytest.mark.parametrize(
    "shape", [(10, 1), (2, 10, 2), (2, 0, 1), (10,)]
)
def test_run_checks_sequences(shape):
    net = trained_lmu()
    conv = to_spiking(net, 0.005)
    node, probe = conv.find(net.inp, net), conv.find(net.probe, net)
    with pytest.raises(ValidationError, match=r"\(n_sequences, n_samples, 1\)") as info:
        conv.run(nengo.Simulator, node, np.zeros(shape), probe)
    assert info.value.attr == "sequences"
    with pytest.raises(ValidationError, match="finite"):
        conv.run(nengo.Simulator, node, np.full((1, 3, 1), np.nan), probe)


def test_cli_seed_must_be_non_negative(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["demo", "--seed", "-1"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--seed" in err and "non-negative" in err


def test_cli_tensorflow_error_is_one_line(monkeypatch, capsys):
    import nengo_lmu.demo  # pylint: disable=import-outside-toplevel

    def failing(settings, log):
        raise tf.errors.InvalidArgumentError(None, None, "bad\nshape [3]\n  span")

    monkeypatch.setattr(nengo_lmu.demo, "run_demo", failing)
    assert cli.main(["demo", "--quick"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [
        "nengo-lmu: error: InvalidArgumentError: bad shape [3] span"
    ]


def test_decode_tau_follows_passthrough_nodes():
    # an EnsembleArray's output is a passthrough Node, which nengo-loihi removes:
    # ensemble -> passthrough -> ensemble is decoded chip to chip
    with nengo.Network(seed=0) as net:
        array = nengo.networks.EnsembleArray(20, 2)
        post = nengo.Ensemble(20, 2)
        nengo.Connection(array.output, post)
    decoded = nengo_lmu.loihi.decoded_chip_connections(net)
    assert len(decoded) == 2  # one per sub-ensemble
    model = nengo_lmu.loihi.Simulator.model_for(net)
    assert model.decode_tau == nengo_lmu.loihi.LOIHI_DECODE_TAU
    with nengo.Network(seed=0) as host_only:  # the passthrough leads to the host
        array = nengo.networks.EnsembleArray(20, 2)
        out = nengo.Node(size_in=2)
        nengo.Connection(array.output, out)
    assert nengo_lmu.loihi.decoded_chip_connections(host_only) == []


def test_padding_checks_the_lmu_itself():
    from nengo_lmu.dl import prepare_sequences  # pylint: disable=import-outside-toplevel

    with pytest.raises(ValidationError) as info:
        prepare_sequences(np.ones((2, 251, 1)), network=LMU(4, 3, 1.0, hidden_to_hidden=True,
                                                            add_to_container=False))
    assert info.value.attr == "hidden_to_hidden"
    neural = LMU(4, 3, 1.0, memory_kwargs=dict(n_neurons=5), add_to_container=False)
    with pytest.raises(ValidationError) as info:
        prepare_sequences(np.ones((2, 251, 1)), network=neural)
    assert info.value.attr == "network"


def test_calibrated_rate_respects_amplitude_and_applicability(rng):
    def net_with(hidden_type):
        with nengo.Network(seed=0) as net:
            net.inp = nengo.Node(np.zeros(1))
            kernel = np.random.RandomState(3).uniform(-1, 1, size=(6, 4))
            net.lmu = LMU(6, 4, 8.0, hidden_neuron_type=hidden_type,
                          memory_kernel_init=kernel)
            nengo.Connection(net.inp, net.lmu.input, synapse=None)
        return net

    data = rng.normal(0, 1, size=(2, 16, 1))
    full = net_with(nengo.RectifiedLinear())
    tenth = net_with(nengo.RectifiedLinear(amplitude=0.1))
    a = to_spiking(full, 0.01, calibration=(full.inp, data)).scale_firing_rates
    b = to_spiking(tenth, 0.01, calibration=(tenth.inp, data)).scale_firing_rates
    # the same currents, outputs a tenth as large: the same firing rates
    assert b == pytest.approx(a, rel=1e-9)
    lif = net_with(nengo.LIFRate())
    assert to_spiking(lif, 0.01, calibration=(lif.inp, data)).scale_firing_rates == 1.0
    with pytest.raises(ValidationError) as info:
        to_spiking(lif, 0.01, scale_firing_rates=300)
    assert info.value.attr == "scale_firing_rates"
    with pytest.raises(ValidationError) as info:
        to_spiking(full, 0.01, neuron_type=None, scale_firing_rates=300)
    assert info.value.attr == "scale_firing_rates"


@pytest.mark.parametrize(
    "kwargs",
    [dict(n_neurons=10), dict(trainable_theta=True), dict(trainable_matrices=True)],
)
def test_sample_period_only_for_the_fixed_exact_memory(kwargs):
    with pytest.raises(ValidationError, match="exact memory with a fixed") as exc:
        LegendreMemory(4, 1.0, sample_period=0.01, **kwargs)
    assert exc.value.attr == "sample_period"
    with pytest.raises(ValidationError) as exc:
        LegendreMemory(4, 1.0, sample_period=-1)
    assert exc.value.attr == "sample_period"
