"""LegendreMemory on the nengo-loihi emulator, and the pre-build checks."""

import warnings

import nengo
import nengo_loihi
import numpy as np
import pytest
from nengo.exceptions import BuildError, ValidationError

from nengo_lmu import LegendreMemory, loihi


def run_emulator(T=3.0, seed=0, **kwargs):
    kwargs.setdefault("ensemble_kwargs", loihi.ENSEMBLE_KWARGS)
    order, theta, high, rms = 3, 0.3, 2.0, 0.3
    with nengo.Network(seed=seed) as net:
        # seeded itself: nengo-loihi's host simulator has a random seed
        stim = nengo.Node(nengo.processes.WhiteSignal(T, high=high, rms=rms, y0=0, seed=seed))
        mem = LegendreMemory(
            order, theta, n_neurons=100, neuron_type=nengo.SpikingRectifiedLinear(),
            synapse=0.05, input_high=high, input_rms=rms, simulator="loihi", **kwargs,
        )
        exact = LegendreMemory(order, theta)
        nengo.Connection(stim, mem.input, synapse=None)
        nengo.Connection(stim, exact.input, synapse=None)
        p, p_exact = nengo.Probe(mem.output), nengo.Probe(exact.output)
    loihi.configure(net)
    loihi.check(net, input_range=3 * rms)
    with loihi.Simulator(net, target="sim", progress_bar=False) as sim:
        sim.run(T)
    ref = np.vstack([np.zeros((1, order)), sim.data[p_exact][:-1]])
    x = sim.data[p]
    s = slice(500, None)
    return np.sqrt(np.mean((x[s] - ref[s]) ** 2) / np.mean(ref[s] ** 2))


@pytest.mark.filterwarnings("ignore:tau_s is")
def test_memory_on_emulator_tracks_exact():
    err = run_emulator()
    print(f"emulator, neuron weights: state NRMSE {err:.4f}")
    # 100 SpikingRectifiedLinear per state at ~110 Hz with 8-bit weights;
    # measured 0.109 (the reference simulator, same network: about 0.04)
    assert err < 0.2
    # nengo_lmu's Loihi tuning: 150-200 Hz, states at 2.5 RMS per radius
    tuned = run_emulator(**loihi.MEMORY_KWARGS)
    print(f"emulator, Loihi tuning: state NRMSE {tuned:.4f}")
    # measured 0.073: better than nengo-loihi's tuning on the same input
    assert tuned < min(0.12, err)


@pytest.mark.filterwarnings("ignore:tau_s is")
def test_memory_on_emulator_decoded():
    """Through decode neurons (mapped with the double exponential, small
    transforms split) it builds and tracks too, less accurately."""
    err = run_emulator(weights=False)
    print(f"emulator, decode neurons: state NRMSE {err:.4f}")
    assert err < 0.25  # measured 0.133: decode-neuron noise


def test_small_decoded_transform_is_caught():
    with nengo.Network(seed=0) as net:
        a = nengo.Ensemble(100, 1, **loihi.ENSEMBLE_KWARGS)
        b = nengo.Ensemble(100, 1, **loihi.ENSEMBLE_KWARGS)
        nengo.Connection(a, b, transform=0.01, synapse=0.1)
    with pytest.raises(BuildError, match="weight exponent"):
        loihi.check(net)
    # and it is the real limit: nengo-loihi fails on it
    with pytest.raises(BuildError, match="weight exponent"):
        with nengo_loihi.Simulator(net, target="sim", progress_bar=False):
            pass
    # at the documented minimum it builds
    with nengo.Network(seed=0) as ok:
        a = nengo.Ensemble(100, 1, **loihi.ENSEMBLE_KWARGS)
        b = nengo.Ensemble(100, 1, **loihi.ENSEMBLE_KWARGS)
        nengo.Connection(a, b, transform=loihi.min_decoded_transform(100), synapse=0.1)
    loihi.check(ok)
    with nengo_loihi.Simulator(ok, target="sim", progress_bar=False):
        pass


def test_neuron_type_checked():
    with nengo.Network() as net:
        nengo.Ensemble(10, 1, neuron_type=nengo.Sigmoid())
    with pytest.raises(ValidationError) as exc:
        loihi.check(net)
    assert exc.value.attr == "neuron_type"
    loihi.configure(net)
    net.config[net.ensembles[0]].on_chip = False  # fine on the host
    loihi.check(net)


def test_synapse_checked():
    with nengo.Network() as net:
        a, b = nengo.Ensemble(10, 1), nengo.Ensemble(10, 1)
        nengo.Connection(a, b, synapse=nengo.Alpha(0.01))
    with pytest.raises(ValidationError) as exc:
        loihi.check(net)
    assert exc.value.attr == "synapse"


def test_input_saturation_checked():
    with nengo.Network() as net:
        u = nengo.Node(0.0)
        b = nengo.Ensemble(10, 1)
        nengo.Connection(u, b, transform=3.0)
    with pytest.raises(ValidationError) as exc:
        loihi.check(net, input_range=0.5)
    assert exc.value.attr == "transform"
    loihi.check(net, input_range=0.3)
    # into neurons the values themselves cross (test_loihi_input: clipped beyond 1)
    with nengo.Network() as net:
        ens = nengo.Ensemble(10, 1)
        nengo.Connection(nengo.Node(0.0), ens.neurons, transform=np.full((10, 1), 0.1))
    with pytest.raises(ValidationError) as exc:
        loihi.check(net, input_range=2.0)
    assert exc.value.attr == "transform"
    loihi.check(net, input_range=1.0)


def test_input_check_skips_chip_to_chip_passthrough():
    """A passthrough Node fed only from the chip is removed by nengo-loihi: what
    leaves it is decoded chip to chip, not host input to check against
    ``input_range`` (it builds, and the emulator does not saturate)."""
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(0.3)
        a, b = nengo.Ensemble(50, 1), nengo.Ensemble(50, 1)
        mid = nengo.Node(size_in=1)
        nengo.Connection(stim, a, synapse=None)
        nengo.Connection(a, mid, synapse=None)
        nengo.Connection(mid, b, transform=2.0)  # a value of 0.3 reaches 0.6
    assert loihi.host_to_chip_connections(net) == [net.connections[0]]
    loihi.check(net)
    with warnings.catch_warnings():
        warnings.simplefilter("error", loihi.HostInputSaturationWarning)
        with loihi.Simulator(net, target="sim", progress_bar=False) as sim:
            sim.run_steps(10)


def test_check_reads_sparse_transforms():
    def net(weight):
        with nengo.Network(seed=0) as net:
            a = nengo.Ensemble(100, 2, **loihi.ENSEMBLE_KWARGS)
            b = nengo.Ensemble(100, 2, **loihi.ENSEMBLE_KWARGS)
            sparse = nengo.Sparse((2, 2), indices=[[0, 1], [1, 0]], init=[weight, weight])
            nengo.Connection(a, b, transform=sparse, synapse=0.1)
        return net

    with pytest.raises(BuildError, match="weight exponent"):
        loihi.check(net(0.01))
    loihi.check(net(loihi.min_decoded_transform(100)))


def test_check_takes_random_weights_into_neurons():
    """Into chip neurons nengo-loihi samples the weights and applies them on
    the chip: nothing for `check` to bound, so a Distribution is fine there."""
    with nengo.Network(seed=0) as net:
        ens = nengo.Ensemble(10, 1)
        weights = nengo.Dense((10, 1), init=nengo.dists.Uniform(-1, 1))
        nengo.Connection(nengo.Node([0.5]), ens.neurons, transform=weights)
    loihi.check(net)


def test_lif_dt_limits_are_nengo_loihis():
    """`Simulator` refuses a dt whose LIF voltage decay Loihi cannot hold, where
    nengo-loihi itself fails (with NaN rates), and builds just inside."""
    tau_rc = 0.02
    longest = -tau_rc * np.log(0.5 / (2**12 - 1))  # decay 1 - exp(-dt / tau_rc) rounds to 1
    with nengo.Network(seed=0) as net:
        ens = nengo.Ensemble(10, 1, neuron_type=nengo.LIF(tau_rc=tau_rc))
        nengo.Connection(nengo.Node(0.5), ens)
        nengo.Probe(ens)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy: log1p(-1)
        with pytest.raises(ValueError, match="infs or NaNs"):
            nengo_loihi.Simulator(net, dt=longest * 1.01, target="sim")
    with pytest.raises(ValidationError) as exc:
        loihi.Simulator(net, dt=longest * 1.01, target="sim")
    assert exc.value.attr == "dt"
    with loihi.Simulator(net, dt=longest * 0.99, target="sim") as sim:
        sim.run_steps(2)


def test_decode_tau_limit_is_nengo_loihis():
    """`Simulator.model_for` refuses a decode_tau whose current decay Loihi
    cannot hold at dt, where nengo-loihi itself fails, and takes one just inside."""
    dt = 0.001
    longest = -dt / np.log1p(-0.5 / 2**12)  # decay 1 - exp(-dt / tau) under 1 / 8192
    with nengo.Network(seed=0) as net:
        ens = nengo.Ensemble(10, 1, neuron_type=nengo.SpikingRectifiedLinear())
        nengo.Connection(nengo.Node(0.5), ens, synapse=None)
    model = loihi.Simulator.model_for(net, dt)
    model.decode_tau = longest * 1.01  # past the check, to nengo-loihi's build
    with pytest.raises(BuildError, match="Current .U. scaling"):
        loihi.Simulator(net, dt=dt, model=model, target="sim")
    with pytest.raises(ValidationError) as exc:
        loihi.Simulator.model_for(net, dt, decode_tau=longest * 1.01)
    assert exc.value.attr == "decode_tau"
    with loihi.Simulator(net, dt=dt, decode_tau=longest * 0.99, target="sim") as sim:
        sim.run_steps(2)


def test_large_ensemble_needs_block_shape():
    with nengo.Network() as net:
        big = nengo.Ensemble(1500, 1)
        small = nengo.Ensemble(300, 1)
    with pytest.raises(BuildError, match="1024"):
        loihi.check(net)
    assert loihi.configure(net) == [big]
    shape = net.config[big].block_shape
    assert shape.n_splits == 2 and net.config[small].block_shape is None
    loihi.check(net)
    assert loihi.configure(net, max_block=256) == [small]
    assert net.config[small].block_shape.n_splits == 2


def test_memory_input_split_for_loihi():
    """Large input transforms are spread over parallel connections so the
    on/off input neurons never need more than one spike per step."""
    mem = LegendreMemory(6, 1.0, n_neurons=10, input_rms=0.3, simulator="loihi")
    Bp = mem.mapped.B[:, 0]
    assert np.abs(Bp).max() * 0.9 > 1  # would saturate as one connection
    for ens, b in zip(mem.state_ensembles, Bp):
        conns = [c for c in mem.all_connections if c.pre_obj is mem.input and c.post_obj is ens]
        total = sum(float(c.transform.init) for c in conns)
        assert total == pytest.approx(b)
        assert max(abs(float(c.transform.init)) for c in conns) * 0.9 <= 1
    loihi.check(mem, input_range=0.9)


def test_rectified_input_neurons_have_no_baseline():
    # on = rate * max(x, 0), off = rate * max(-x, 0), rate = 1 / dt
    x = np.array([-0.6, 0.0, 0.3, 1.0])
    for neurons, expected_on, expected_off in [
        (loihi.RectifiedInputNeurons(dt=0.001), [0, 0, 300, 1000], [600, 0, 0, 0]),
        # nengo-loihi's default: a 500 Hz pair even at x = 0
        (nengo_loihi.decode_neurons.OnOffDecodeNeurons(dt=0.001, is_input=True),
         [200, 500, 650, 1000], [800, 500, 350, 0]),
    ]:
        ens = neurons.get_ensemble(1, add_to_container=False)
        encoders = np.asarray(ens.encoders)[:, 0]  # [+1, -1]
        currents = ens.gain * encoders * x[:, None] + ens.bias
        rates = ens.neuron_type.rates(currents, np.ones(2), np.zeros(2))
        assert np.allclose(rates[:, 0], expected_on) and np.allclose(rates[:, 1], expected_off)


def _host_step_to_host(simulator, **kwargs):
    """Steps from a host input step to its first effect back on the host,
    through one chip neuron."""
    with nengo.Network(seed=0) as net:
        u = nengo.Node(nengo.processes.PresentInput([[0.0], [1.0]], 0.05))
        ens = nengo.Ensemble(1, 1, neuron_type=nengo.SpikingRectifiedLinear(),
                             gain=[5000.0], bias=[0.0])
        nengo.Connection(u, ens.neurons, synapse=None)
        out = nengo.Node(size_in=1)
        nengo.Connection(ens.neurons, out, synapse=None)
        p_in, p_out = nengo.Probe(u), nengo.Probe(out)
    with simulator(net, progress_bar=False, **kwargs) as sim:
        sim.run(0.08)
    first_in = np.flatnonzero(sim.data[p_in][:, 0])[0]
    return np.flatnonzero(sim.data[p_out][:, 0])[0] - first_in


def test_simulator_latency_is_measured():
    assert _host_step_to_host(nengo.Simulator) == 0
    assert _host_step_to_host(loihi.Simulator, target="sim") == loihi.Simulator.latency_steps
    # nengo-loihi's defaults: the 5 ms input filter adds more
    assert _host_step_to_host(nengo_loihi.Simulator, target="sim") > 2


def test_simulator_decode_tau():
    def memory_net(**kwargs):
        with nengo.Network() as net:
            LegendreMemory(3, 0.1, n_neurons=10, simulator="loihi", **kwargs)
        return net

    assert loihi.Simulator.model_for(memory_net()).decode_tau == loihi.INPUT_TAU
    model = loihi.Simulator.model_for(memory_net(), decode_tau=0.002)
    assert model.decode_tau == 0.002
    assert isinstance(model.node_neurons, loihi.RectifiedInputNeurons)
    # a memory mapped through decode neurons needs nengo-loihi's 5 ms
    decoded = memory_net(weights=False)
    assert loihi.Simulator.model_for(decoded).decode_tau == 0.005
    with pytest.raises(BuildError, match="decode_tau=0.001 would detune"):
        loihi.Simulator.model_for(decoded, decode_tau=0.001)
    with pytest.raises(ValidationError) as exc:
        loihi.Simulator.model_for(memory_net(), decode_tau=-1)
    assert exc.value.attr == "decode_tau"


def _counted_network(neuron_input=False):
    """A network whose chip layout is counted by hand in `test_check_reports`."""
    with nengo.Network(seed=0) as net:
        u = nengo.Node([0.3, 0.2])
        a = nengo.Ensemble(100, 2, radius=2.0)  # LIF
        b = nengo.Ensemble(1500, 1)  # LIF, split by configure: 1024 + 476
        c = nengo.Ensemble(50, 1, neuron_type=nengo.SpikingRectifiedLinear())
        direct = nengo.Ensemble(20, 1, neuron_type=nengo.Direct())  # host
        rate = nengo.Ensemble(10, 1, neuron_type=nengo.LIFRate())  # host: on_chip False
        # host to chip: rows of |W| sum to 1.5 and 0.25, over a's radius 2
        nengo.Connection(u, a, transform=[[1.5, 0.0], [0.0, 0.25]], synapse=None)
        # chip to chip: decoded (0.4 = 5 x min_decoded_transform(100)), weights, neurons
        nengo.Connection(a, b, transform=[[0.4, 0.4]], synapse=0.01)
        nengo.Connection(b, c, solver=nengo.solvers.LstsqL2(weights=True), synapse=0.02)
        nengo.Connection(c.neurons, c.neurons, transform=np.zeros((50, 50)), synapse=0.02)
        # chip to host, host to host: not chip connections
        nengo.Connection(c, direct)
        nengo.Connection(direct, rate)
        if neuron_input:  # into neurons the value itself crosses the link
            nengo.Connection(nengo.Node([0.0]), c.neurons, transform=np.full((50, 1), 0.1))
    loihi.configure(net)
    net.config[rate].on_chip = False
    return net


def test_check_reports():
    """`check` returns what it checked: counted here by hand."""
    report = loihi.check(_counted_network(), input_range=0.8)
    assert report == loihi.CheckReport(
        ensembles=3,  # a, b, c
        neurons=100 + 1500 + 50,
        neuron_types={"LIF": 2, "SpikingRectifiedLinear": 1},
        cores=1 + 2 + 1,  # b in two blocks
        compartments_per_core=1024,  # b's first block
        host_ensembles=2,  # Direct, and the one marked off the chip
        chip_connections=3,  # a -> b, b -> c, c.neurons -> c.neurons
        decoded_connections=1,  # a -> b
        weight_margin=pytest.approx(0.4 / loihi.min_decoded_transform(100)),
        host_inputs=1,
        input_range=0.8,
        link_peak=pytest.approx(1.5 * 0.8 / 2.0),
    )
    text = str(report)
    print(text)
    assert text.startswith("Within Loihi's limits")
    for shown in [
        "3 ensembles (LIF: 2, SpikingRectifiedLinear: 1), 1650 neurons on 4 cores",
        "at most 1024 of a core's 1024 compartments",
        "host: 2 ensembles",
        "chip to chip: 3 connections, each with a Lowpass synapse or none; 1 decoded, "
        "transforms at least 5x the smallest",
        "host to chip: 1 connection; inputs up to 0.8 use at most 60% of",
    ]:
        assert shown in text
    # values sent into neurons cross the link as they are: 0.8 of its range
    report = loihi.check(_counted_network(neuron_input=True), input_range=0.8)
    assert report.host_inputs == 2 and report.link_peak == pytest.approx(0.8)
    # nothing to report on: no chip, no connections
    empty = loihi.check(nengo.Network())
    assert (empty.ensembles, empty.cores, empty.weight_margin, empty.link_peak) == (
        0, 0, None, None)
    assert "chip: no ensembles" in str(empty) and "host to chip: 0 connections" in str(empty)


def test_check_counts_cores_as_nengo_loihi_builds_them():
    """The report's cores are the blocks nengo-loihi builds for the ensembles,
    one per core; a decoded chip-to-chip connection adds its decode neurons'."""
    with nengo.Network(seed=0) as net:
        u = nengo.Node([0.5])
        a = nengo.Ensemble(200, 1, **loihi.ENSEMBLE_KWARGS)
        b = nengo.Ensemble(1200, 1, **loihi.ENSEMBLE_KWARGS)
        c = nengo.Ensemble(50, 1, **loihi.ENSEMBLE_KWARGS)
        nengo.Connection(u, a)
        nengo.Connection(a, b, solver=nengo.solvers.LstsqL2(weights=True))
        nengo.Probe(b.neurons)  # spikes: read without decode neurons
    loihi.configure(net, max_block=500)  # b: 500 + 500 + 200
    report = loihi.check(net)
    assert (report.cores, report.compartments_per_core) == (1 + 3 + 1, 500)

    def blocks():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nengo-loihi's build notes
            with loihi.Simulator(net, target="sim", progress_bar=False) as sim:
                return [block.compartment.n_compartments for block in sim.model.blocks]

    built = blocks()
    assert len(built) == report.cores and max(built) == report.compartments_per_core
    with net:
        nengo.Connection(a, c, synapse=0.01)  # decoded: decode neurons, one more block
    assert loihi.check(net).cores == report.cores
    assert len(blocks()) == report.cores + 1
