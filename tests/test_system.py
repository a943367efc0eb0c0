"""LinearSystem against scipy, an ODE solver and Nengo's own synapses."""

import warnings

import nengo
import numpy as np
import pytest
import scipy.integrate
import scipy.signal
from nengo.exceptions import ValidationError

from nengo_lmu import LinearSystem, SampledSystem, TimeScaledSystem, UnstableSystemWarning
from nengo_lmu.legendre import legendre_memory


def random_stable_ss(rng, n=4, k=2, p=3):
    """A random stable MIMO system: eigenvalues of A have negative real part."""
    A = rng.randn(n, n)
    A -= (np.max(np.linalg.eigvals(A).real) + 1.0) * np.eye(n)
    return A, rng.randn(n, k), rng.randn(p, n), rng.randn(p, k)


@pytest.mark.parametrize("method", ["zoh", "euler", "bilinear"])
def test_discretize_matches_cont2discrete(method, rng):
    A, B, C, D = random_stable_ss(rng)
    dt = 0.05
    sys = LinearSystem((A, B, C, D), method=method)
    disc = sys.discretize(dt)
    Ad, Bd, _, _, _ = scipy.signal.cont2discrete((A, B, C, D), dt, method=method)
    assert not disc.analog
    assert np.allclose(disc.A, Ad, rtol=1e-12, atol=1e-14)
    assert np.allclose(disc.B, Bd, rtol=1e-12, atol=1e-14)
    # the output equation reads the updated state: C and D are kept
    assert np.array_equal(disc.C, C) and np.array_equal(disc.D, D)
    assert disc.discretize(dt) is disc  # digital systems are already discrete


def test_zoh_exact_for_held_input(rng):
    # Reference: an adaptive ODE solver integrating dx/dt = Ax + Bu over each
    # step with u held at the step's sample, u_t over (t - dt, t].
    A, B, C, D = random_stable_ss(rng, n=3, k=2, p=2)
    dt, steps = 0.1, 30
    u = rng.randn(steps, 2)
    y = LinearSystem((A, B, C, D)).filt(u, dt=dt)

    x = np.zeros(3)
    for t in range(steps):
        sol = scipy.integrate.solve_ivp(
            lambda _, x, ut=u[t]: A @ x + B @ ut,
            (0, dt),
            x,
            method="DOP853",
            rtol=1e-12,
            atol=1e-14,
        )
        x = sol.y[:, -1]
        assert np.allclose(y[t], C @ x + D @ u[t], rtol=1e-9, atol=1e-11)


def test_hold_bridge(rng):
    # Holding each sample for k steps of dt lands on the same states as one
    # step of k*dt: the bridge from step-based training to continuous time.
    A, B, C, D = random_stable_ss(rng, n=4, k=1, p=2)
    sys = LinearSystem((A, B, C, D))
    k, dt = 7, 0.01
    u = rng.randn(40, 1)
    y_coarse = sys.filt(u, dt=k * dt)
    y_fine = sys.filt(np.repeat(u, k, axis=0), dt=dt)
    assert np.allclose(y_fine[k - 1 :: k], y_coarse, rtol=1e-10, atol=1e-12)


def test_filt_matches_dlsim(rng):
    # y_t = C (Ad x_{t-1} + Bd u_t) + D u_t is scipy's convention
    # (x_{t+1} = Ad x_t + Bd u_t, y_t = C' x_t + D' u_t) with C' = C Ad and
    # D' = C Bd + D: an independent simulation of the same recurrence.
    A, B, C, D = random_stable_ss(rng)
    dt = 0.02
    sys = LinearSystem((A, B, C, D))
    Ad, Bd, _, _ = sys.discretize(dt).ss
    u = rng.randn(100, 2)
    _, y_ref, _ = scipy.signal.dlsim((Ad, Bd, C @ Ad, C @ Bd + D, dt), u)
    assert np.allclose(sys.filt(u, dt=dt), y_ref, rtol=1e-10, atol=1e-12)
    # channel broadcasting: 3 channels of the 2-input system at once
    u3 = rng.randn(100, 6)
    y3 = sys.filt(u3, dt=dt)
    for c in range(3):
        _, y_ref, _ = scipy.signal.dlsim(
            (Ad, Bd, C @ Ad, C @ Bd + D, dt), u3[:, 2 * c : 2 * c + 2]
        )
        assert np.allclose(y3[:, 3 * c : 3 * c + 3], y_ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "synapse",
    [
        nengo.Lowpass(0.01),
        nengo.Alpha(0.02),
        nengo.LinearFilter([1.0], [0.005 * 0.02, 0.005 + 0.02, 1.0]),
    ],
)
def test_equals_nengo_synapse(synapse, rng):
    sys = LinearSystem(synapse)
    u = rng.randn(300, 2)
    assert np.allclose(sys.filt(u, dt=0.001), synapse.filt(u, dt=0.001), atol=1e-12)

    with nengo.Network(seed=0) as net:
        stim = nengo.Node(nengo.processes.WhiteNoise(), size_out=3)
        a = nengo.Node(size_in=3)
        b = nengo.Node(size_in=3)
        nengo.Connection(stim, a, synapse=synapse)
        nengo.Connection(stim, b, synapse=sys)
        pa, pb = nengo.Probe(a), nengo.Probe(b)
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run_steps(300)
    assert np.allclose(sim.data[pa], sim.data[pb], atol=1e-12)
    assert np.abs(sim.data[pa]).max() > 0.1  # the comparison is not of zeros


def test_lowpass_from_state_space(rng):
    tau = 0.03
    sys = LinearSystem(([[-1 / tau]], [[1 / tau]], [[1.0]], [[0.0]]))
    u = rng.randn(200)
    assert np.allclose(sys.filt(u, dt=0.001), nengo.Lowpass(tau).filt(u, dt=0.001))


def test_node_process_mimo_and_channels(rng):
    A, B, C, D = random_stable_ss(rng, n=3, k=2, p=4)
    sys = LinearSystem((A, B, C, D))
    dt = 0.001
    with nengo.Network(seed=1) as net:
        stim = nengo.Node(nengo.processes.WhiteSignal(1.0, high=10), size_out=4)
        mimo = nengo.Node(sys, size_in=2)  # size_out from the system: 4
        multi = nengo.Node(sys, size_in=4, size_out=8)  # two channels
        nengo.Connection(stim[:2], mimo, synapse=None)
        nengo.Connection(stim, multi, synapse=None)
        p_in = nengo.Probe(stim)
        p_mimo, p_multi = nengo.Probe(mimo), nengo.Probe(multi)
    with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
        sim.run_steps(200)
    u = sim.data[p_in]
    Ad, Bd, _, _ = sys.discretize(dt).ss
    for c, p in [(0, p_mimo), (0, p_multi), (1, p_multi)]:
        _, y_ref, _ = scipy.signal.dlsim(
            (Ad, Bd, C @ Ad, C @ Bd + D, dt), u[:, 2 * c : 2 * c + 2]
        )
        assert np.allclose(sim.data[p][:, 4 * c : 4 * c + 4], y_ref, atol=1e-12)


def test_impulse(rng):
    # Analog: a 1/dt impulse approximates the continuous impulse response,
    # here of Lowpass(tau), h(t) = exp(-t/tau) / tau; ZOH of the impulse makes
    # the first sample (1 - e^(-dt/tau)) / dt, an O(dt/tau) relative error.
    tau, dt = 0.05, 0.0005
    h = LinearSystem(nengo.Lowpass(tau)).impulse(400, dt=dt)
    t = dt * np.arange(400)
    assert np.allclose(h, np.exp(-t / tau) / tau, rtol=dt / tau)

    # Digital MIMO: h_0 = C B + D, h_t = C A^t B
    A, B, C, D = random_stable_ss(rng, n=3, k=2, p=2)
    Ad = scipy.linalg.expm(A * 0.1)
    sys = LinearSystem((Ad, B, C, D), analog=False)
    h = sys.impulse(5)
    assert h.shape == (5, 2, 2)
    expected = [C @ np.linalg.matrix_power(Ad, t) @ B + (D if t == 0 else 0) for t in range(5)]
    assert np.allclose(h, expected, atol=1e-12)


def test_filt_axis_and_filtfilt(rng):
    sys = LinearSystem(nengo.Lowpass(0.01))
    u = rng.randn(3, 100)
    assert np.allclose(sys.filt(u, dt=0.001, axis=1), nengo.Lowpass(0.01).filt(u, dt=0.001, axis=1))
    assert np.allclose(
        sys.filt(u.T, dt=0.001, filtfilt=True),
        nengo.Lowpass(0.01).filtfilt(u.T, dt=0.001),
    )


def test_attributes_and_transfer_function():
    # (num, den) input: 1 / (s^2 + 3 s + 2) has poles -1 and -2
    sys = LinearSystem(([1.0], [1.0, 3.0, 2.0]))
    assert (sys.state_d, sys.input_d, sys.output_d) == (2, 1, 1)
    assert np.allclose(sorted(sys.poles.real), [-2, -1])
    assert sys.is_stable()
    assert LinearSystem(sys) == sys  # copies compare equal (FrozenObject)
    assert "LinearSystem" in repr(sys)


@pytest.mark.parametrize(
    "sys, attr",
    [
        (([[1.0, 0.0]], [[1.0]], [[1.0]], [[0.0]]), "A"),  # A not square
        ((np.eye(2), np.ones((3, 1)), np.ones((1, 2)), [[0.0]]), "B"),
        ((np.eye(2), np.ones((2, 1)), np.ones((1, 3)), [[0.0]]), "C"),
        ((np.eye(2), np.ones((2, 1)), np.ones((1, 2)), np.ones((2, 2))), "D"),
        ((-np.eye(2), np.ones((2, 1)), np.ones((1, 2)), [[np.nan]]), "D"),
        (([1.0, 2.0, 3.0], [1.0, 1.0]), "sys"),  # non-causal transfer function
        ((np.eye(2), np.eye(2)), "sys"),  # (num, den) with 2-D parts: not a tf
        ("lowpass", "sys"),
        (0.1, "sys"),
    ],
)
def test_bad_system(sys, attr):
    with pytest.raises(ValidationError) as exc:
        LinearSystem(sys)
    assert exc.value.attr == attr


def test_bad_method_and_dt():
    sys = ([[-1.0]], [[1.0]], [[1.0]], [[0.0]])
    with pytest.raises(ValidationError, match="method"):
        LinearSystem(sys, method="foh")
    with pytest.raises(ValidationError) as exc:
        LinearSystem(sys).discretize(0.0)
    assert exc.value.attr == "dt"
    with pytest.raises(ValidationError) as exc:
        LinearSystem(sys).discretize(0.1, method="tustin")
    assert exc.value.attr == "method"


def test_unstable_warns():
    with pytest.warns(UnstableSystemWarning, match="Re\\(pole\\) > 0"):
        LinearSystem(([[0.5]], [[1.0]], [[1.0]], [[0.0]]))
    with pytest.warns(UnstableSystemWarning, match="\\|pole\\| > 1"):
        LinearSystem(([[1.01]], [[1.0]], [[1.0]], [[0.0]]), analog=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LinearSystem(([[0.0]], [[1.0]], [[1.0]], [[0.0]]))  # integrator: marginal
        LinearSystem(([[1.0]], [[1.0]], [[1.0]], [[0.0]]), analog=False)


def test_bad_use_in_model():
    sys = LinearSystem((-np.eye(2), np.ones((2, 2)), np.eye(3, 2), np.zeros((3, 2))))
    with pytest.raises(ValidationError) as exc:
        sys.make_state((3,), (3,), dt=0.001)  # 2 inputs cannot map 3 -> 3
    assert exc.value.attr == "shape"
    with pytest.raises(ValidationError) as exc:
        sys.make_state((2,), (3,), dt=0.001, y0=1.0)
    assert exc.value.attr == "y0"
    with pytest.raises(ValidationError) as exc:
        sys.make_state((2,), (3,), dt=0.001, dtype=np.int32)
    assert exc.value.attr == "dtype"
    with pytest.raises(ValidationError) as exc:
        sys.filt(np.ones((10, 2, 2)))  # MIMO samples must be 1-D
    assert exc.value.attr == "x"
    with pytest.raises(ValidationError) as exc:
        sys.filt(np.ones((10, 2)), filtfilt=True)  # 2 in, 3 out
    assert exc.value.attr == "filtfilt"

    with nengo.Network() as net:
        a = nengo.Node(np.ones(3))
        b = nengo.Node(size_in=3)
        nengo.Connection(a, b, synapse=sys)  # 3 -> 3 does not fit 2 -> 3
    with pytest.raises(ValidationError, match="cannot map shape"):
        nengo.Simulator(net, progress_bar=False)


@pytest.mark.parametrize("channels", [1, 2])
def test_sampled_system_steps_once_per_sample(channels, rng):
    # independent reference: scipy's ZOH at the sample period, per channel
    A, B = legendre_memory(5, 0.2)
    sys = LinearSystem((A, B, np.eye(5), np.zeros((5, 1))))
    period, n = 0.01, 12
    u = rng.uniform(-1, 1, size=(n, channels))
    advance = np.ones((n + 4, 1))
    advance[n:] = 0  # then hold still, whatever the input
    with nengo.Network() as net:
        inp = nengo.Node(nengo.processes.PresentInput(np.r_[u, rng.randn(4, channels)], period))
        adv = nengo.Node(nengo.processes.PresentInput(advance, period))
        node = nengo.Node(SampledSystem(sys, period), size_in=channels + 1,
                          size_out=5 * channels)
        nengo.Connection(inp, node[:channels], synapse=None)
        nengo.Connection(adv, node[channels], synapse=None)
        probe = nengo.Probe(node)
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run_steps(10 * (n + 4))
    Ad, Bd, _, _, _ = scipy.signal.cont2discrete((A, B, np.eye(5), 0), period)
    x = np.zeros((5, channels))
    expected = []
    for k in range(n):
        x = Ad @ x + Bd @ u[k][None]
        expected.append(x.T.ravel())
    expected += [expected[-1]] * 4
    out = sim.data[probe].reshape(n + 4, 10, 5 * channels)
    assert np.allclose(out, np.array(expected)[:, None], rtol=1e-10, atol=1e-12)
    assert np.abs(out).max() > 0.1


def test_sampled_system_refusals():
    sys = LinearSystem(([[-1.0]], [[1.0]], [[1.0]], [[0.0]]))
    with pytest.raises(ValidationError) as exc:
        SampledSystem(TimeScaledSystem(sys), 0.01)
    assert exc.value.attr == "system"
    with pytest.raises(ValidationError) as exc:
        SampledSystem(sys, 0)
    assert exc.value.attr == "period"
    with nengo.Network() as net:
        node = nengo.Node(SampledSystem(sys, 0.0105), size_in=2, size_out=1)
        nengo.Connection(nengo.Node([0, 1]), node, synapse=None)
    with pytest.raises(ValidationError, match="whole number") as exc:
        nengo.Simulator(net, progress_bar=False)
    assert exc.value.attr == "period"
