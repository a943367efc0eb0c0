"""Issue 25, the core (memories, LMU, linear systems) and the CLI: every bad
input is refused by name, before any work that it would spoil."""

import tracemalloc

import nengo
import numpy as np
import pytest
from helpers import assert_refuses
from nengo.exceptions import BuildError, ValidationError

import nengo_lmu.demo
from nengo_lmu import (
    LMU,
    LegendreDelay,
    LegendreMemory,
    LinearNetwork,
    LinearSystem,
    TimeScaledSystem,
    legendre_readout,
)
from nengo_lmu.cli import main
from nengo_lmu.legendre import (
    MATRICES_AT_ONCE,
    legendre_memory,
    memory_bytes,
    retained_energy,
)
from nengo_lmu.mapping import state_rms
from nengo_lmu.system import UnstableSystemWarning
from nengo_lmu.realizers import RMS, Balanced, Identity


def build(make, dt=0.001, simulator=nengo.Simulator):
    """Build a network holding ``make()`` (and an input to it) with ``dt``."""
    with nengo.Network() as net:
        obj = make()
        if isinstance(obj, LinearSystem):  # as a synapse
            a, b = nengo.Node(size_in=1), nengo.Node(size_in=1)
            nengo.Connection(a, b, synapse=obj)
    with simulator(net, dt=dt, progress_bar=False):
        pass


def lowpass():
    return LinearSystem(([[-10.0]], [[10.0]], [[1.0]], [[0.0]]))


def noise():
    return np.random.RandomState(0).normal(size=(2, 50, 1))


#: too large for any machine: 14 * 8 * 100001**2 bytes, about 1 TiB
HUGE = 100_000

CASES = [
    # 1. a window shorter than one step: refused where the step is known
    ("exact memory, theta < simulator dt",
     lambda: build(lambda: LegendreMemory(4, theta=1e-4)), BuildError, "theta"),
    ("LMU, theta < simulator dt",
     lambda: build(lambda: LMU(4, 4, theta=1e-5)), BuildError, "theta"),
    ("LMU in steps, theta < dt=1",
     lambda: build(lambda: LMU(4, 4, theta=0.5), dt=1.0), BuildError, "theta"),
    ("trainable theta, theta < simulator dt",
     lambda: build(lambda: LegendreMemory(4, 1e-4, trainable_theta=True)),
     BuildError, "theta"),
    ("Legendre delay as a synapse, theta < dt",
     lambda: build(lambda: LegendreDelay(1e-4, 4)), BuildError, "theta"),
    ("Legendre delay filt, theta < dt",
     lambda: LegendreDelay(1e-4, 4).filt(np.ones(10), dt=0.001), BuildError, "theta"),
    ("neural memory, theta < its dt",
     lambda: LegendreMemory(4, 1e-4, n_neurons=10), ValidationError, "theta"),
    ("trainable matrices, theta < its dt",
     lambda: LegendreMemory(4, 0.5, trainable_matrices=True, dt=1.0),
     ValidationError, "theta"),
    ("sampled memory, theta < sample_period",
     lambda: LegendreMemory(4, 0.01, sample_period=0.02), ValidationError, "theta"),
    ("retained_energy, theta < dt",
     lambda: retained_energy(noise(), 4, theta=0.5, dt=1.0), ValidationError, "theta"),
    # 2. an order whose matrices cannot fit in memory: refused up front
    ("legendre_memory, huge order",
     lambda: legendre_memory(HUGE, 1.0), ValidationError, "order"),
    ("LegendreMemory, huge order",
     lambda: LegendreMemory(HUGE, 1.0), ValidationError, "order"),
    ("LegendreDelay, huge order",
     lambda: LegendreDelay(1.0, HUGE), ValidationError, "order"),
    ("LMU, huge order", lambda: LMU(4, HUGE, 1.0), ValidationError, "order"),
    ("LMU, weights of too many units",  # units x units, 8e12 bytes
     lambda: LMU(10**6, 4, 1.0, hidden_to_hidden=True), ValidationError, "units"),
    ("LMU, weights of too many units x order",
     lambda: LMU(10**7, 10**4, 1.0), ValidationError, "units"),
    ("retained_energy, huge order",
     lambda: retained_energy(noise(), HUGE), ValidationError, "order"),
    # 3. the LMU's initial weights: which one, and the shape it needs
    ("LMU init, a string",
     lambda: LMU(4, 3, 1.0, input_kernel_init="glorot"), ValidationError,
     "input_kernel_init"),
    ("LMU init, wrong shape",
     lambda: LMU(4, 3, 1.0, memory_kernel_init=np.ones((3, 4))), ValidationError,
     "memory_kernel_init"),
    ("LMU init, NaN",
     lambda: LMU(4, 3, 1.0, input_encoders_init=np.nan), ValidationError,
     "input_encoders_init"),
    ("LMU init, inf in an array",
     lambda: LMU(4, 3, 1.0, hidden_kernel_init=np.full((4, 4), np.inf)),
     ValidationError, "hidden_kernel_init"),
    ("LMU init, not a number",
     lambda: LMU(4, 3, 1.0, memory_encoders_init=[["a", "b", "c"]]), ValidationError,
     "memory_encoders_init"),
    ("LMU init, switched off but wrong",  # keras-lmu's ignored, here checked
     lambda: LMU(4, 3, 1.0, hidden_encoders_init=np.ones(5)), ValidationError,
     "hidden_encoders_init"),
    ("LMU memory_kwargs, not a dict",
     lambda: LMU(4, 3, 1.0, memory_kwargs=["n_neurons", 10]), ValidationError,
     "memory_kwargs"),
    # the sweep: what a new user tries
    ("LMU init, None", lambda: LMU(4, 3, 1.0, input_kernel_init=None), ValidationError,
     "input_kernel_init"),
    ("LMU memory_kwargs, unknown argument",
     lambda: LMU(4, 3, 1.0, memory_kwargs=dict(n_nerons=10)), ValidationError,
     "memory_kwargs"),
    ("LegendreMemory order True", lambda: LegendreMemory(True, 1.0), ValidationError,
     "order"),
    ("neural memory ensemble_kwargs, a list",
     lambda: LegendreMemory(4, 1.0, n_neurons=10, ensemble_kwargs=[("max_rates", 1)]),
     ValidationError, "ensemble_kwargs"),
    ("neural memory ensemble_kwargs, unknown argument",
     lambda: LegendreMemory(4, 1.0, n_neurons=10, ensemble_kwargs=dict(max_rate=100)),
     ValidationError, "ensemble_kwargs"),
    ("neural memory ensemble_kwargs, its own argument",
     lambda: LegendreMemory(4, 1.0, n_neurons=10, ensemble_kwargs=dict(dimensions=2)),
     ValidationError, "ensemble_kwargs"),
    ("analog neural memory (dt=None), theta < simulator dt",
     lambda: build(lambda: LegendreMemory(4, 1e-4, n_neurons=10, dt=None)),
     BuildError, "theta"),
    ("LinearNetwork of a delay shorter than its dt",
     lambda: LinearNetwork(LegendreDelay(1e-4, 4), 10, dt=0.001), ValidationError, "sys"),
    ("LinearNetwork ensemble_kwargs, a list",
     lambda: LinearNetwork(lowpass(), 10, ensemble_kwargs=[1]), ValidationError,
     "ensemble_kwargs"),
    ("LinearNetwork radii, a string",
     lambda: LinearNetwork(lowpass(), 10, radii="wide"), ValidationError, "radii"),
    ("LinearNetwork radii, infinite",
     lambda: LinearNetwork(lowpass(), 10, radii=np.inf), ValidationError, "radii"),
    ("LinearSystem tf of strings", lambda: LinearSystem((["a"], [1.0, 1.0])),
     ValidationError, "sys"),
    ("LinearSystem known_stable a string",
     lambda: LinearSystem(([1.0], [1.0, 1.0]), known_stable="no"), ValidationError,
     "known_stable"),
    ("LinearSystem window of a digital system",
     lambda: LinearSystem(([1.0], [1.0, 0.5]), analog=False, window=1.0),
     ValidationError, "window"),
    ("discretize dt a string", lambda: lowpass().discretize("0.1"), ValidationError, "dt"),
    ("filt NaN input", lambda: lowpass().filt([np.nan, 1.0], dt=0.001), ValidationError,
     "x"),
    ("filt strings", lambda: lowpass().filt(["a"], dt=0.001), ValidationError, "x"),
    ("impulse of 0 steps", lambda: lowpass().impulse(0, dt=0.001), ValidationError, "n"),
    ("impulse of 2.5 steps", lambda: lowpass().impulse(2.5, dt=0.001), ValidationError,
     "n"),
    ("time-scaled filt NaN",
     lambda: TimeScaledSystem(lowpass()).filt(np.full((3, 2), np.nan), dt=0.001),
     ValidationError, "x"),
    ("time-scale shortening the window below a step",
     lambda: TimeScaledSystem(LegendreDelay(0.01, 4)).filt(
         np.c_[np.ones(3), np.full(3, 20.0)], dt=0.001),
     ValidationError, "s"),
    ("legendre_readout r strings", lambda: legendre_readout(3, ["a"]), ValidationError,
     "r"),
    ("retained_energy strings", lambda: retained_energy([[["a"]]], 2), ValidationError,
     "sequences"),
    ("state_rms negative rms", lambda: state_rms(lowpass(), 1.0, rms=-1),
     ValidationError, "rms"),
    ("state_rms NaN rms", lambda: state_rms(lowpass(), 1.0, rms=np.nan),
     ValidationError, "rms"),
    ("state_rms no frequencies", lambda: state_rms(lowpass(), 1.0, n_freqs=0),
     ValidationError, "n_freqs"),
    ("state_rms of an unstable system",
     lambda: state_rms(LinearSystem(([[1.0]], [[1.0]], [[1.0]], [[0.0]])), 1.0),
     ValidationError, "sys"),
    ("RMS realizer input_rms 0", lambda: RMS()(lowpass(), 1.0, 0.0), ValidationError,
     "input_rms"),
    ("RMS realizer input_rms NaN", lambda: RMS()(lowpass(), 1.0, np.nan),
     ValidationError, "input_rms"),
    ("RMS realizer input_high negative", lambda: RMS()(lowpass(), -1.0),
     ValidationError, "input_high"),
    ("Balanced realizer of a string", lambda: Balanced()("lowpass"), ValidationError,
     "sys"),
    ("Identity realizer of a string", lambda: Identity()("lowpass"), ValidationError,
     "sys"),
]


@pytest.mark.parametrize(
    "call, error, name", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_refused(call, error, name):
    assert_refuses(call, error, name)


@pytest.mark.parametrize(
    "theta, dt", [(784.0, 1.0), (0.784, 0.001), (1.0, 1.0), (0.001, 0.001)]
)
def test_window_of_at_least_one_step_builds(theta, dt):
    # keras-lmu's steps (theta=784, dt=1) and Nengo time (0.784, 0.001), and
    # a window of exactly one step, the shortest there is
    build(lambda: LMU(4, 4, theta=theta), dt=dt)
    build(lambda: LegendreDelay(theta, 4), dt=dt)


def test_window_checked_in_nengo_dl():
    nengo_dl = pytest.importorskip("nengo_dl")
    import nengo_lmu.dl  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import

    assert_refuses(
        lambda: build(lambda: LegendreMemory(4, 0.5), dt=1.0, simulator=nengo_dl.Simulator),
        BuildError,
        "theta",
    )


def test_legendre_memory_needs_no_eigendecomposition(monkeypatch):
    # Legendre's A is stable for every order by construction: neither the
    # constructor nor the build computes eigenvalues (an O(n^3) decomposition,
    # minutes for an order of 10,000)
    def refuse(*args, **kwargs):
        raise AssertionError("eigenvalues computed")

    for name in ("eig", "eigvals"):
        monkeypatch.setattr(np.linalg, name, refuse)
    with nengo.Network() as net:
        mem = LegendreMemory(64, theta=1.0)
        nengo.Connection(nengo.Node(1.0), mem.input, synapse=None)
        delay = LegendreDelay(1.0, 64)
        nengo.Connection(mem.input, nengo.Node(size_in=1), synapse=delay)
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run_steps(2)
    assert mem.system.is_stable() and delay.discretize(0.001, "zoh").is_stable()
    assert retained_energy(noise(), 8) > 0


def test_euler_discretisation_is_still_checked():
    # Euler does not keep stability: a window of one step at order 8 is
    # unstable, and its discretisation says so (the poles are computed)
    with pytest.warns(UnstableSystemWarning):
        digital = LegendreDelay(1.0, 8, method="euler").discretize(1.0)
    assert not digital.known_stable and not digital.is_stable()


def test_memory_bytes_bounds_the_discretisation():
    # MATRICES_AT_ONCE, what check_order refuses by, bounds the peak memory
    # of building and discretising a memory (traced with tracemalloc: numpy
    # reports its arrays to it)
    order = 120
    tracemalloc.start()
    try:
        mem = LegendreMemory(order, theta=1.0)
        mem.system.discretize(0.001)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= memory_bytes(order)
    # and is not far above it: the bound says what is needed, not a guess
    assert peak > 0.7 * memory_bytes(order), peak / (8 * (order + 1) ** 2)
    assert MATRICES_AT_ONCE * 8 * (order + 1) ** 2 == memory_bytes(order)


def test_empty_signal_filters_to_empty():
    # no samples in, no samples out (it raised a reshape error)
    assert lowpass().filt(np.zeros(0), dt=0.001).shape == (0,)
    assert lowpass().filt(np.zeros((0, 3)), dt=0.001).shape == (0, 3)


@pytest.fixture
def no_demo(monkeypatch):
    """Make running the demo fail loudly: every option is checked before it."""

    def ran(*args, **kwargs):
        raise AssertionError("the demo started")

    monkeypatch.setattr(nengo_lmu.demo, "run_demo", ran)


CLI_CASES = [
    ("unwritable out", ["--out", "/proc/nengo_lmu_demo"], "--out"),
    ("out below a file", ["--out", "{file}/plots"], "--out"),
    ("out is a file", ["--out", "{file}"], "--out"),
    ("order too large for memory", ["--order", str(HUGE)], "--order"),
    ("units too many for memory", ["--units", str(10**10)], "--units"),
    ("presentation time of no step", ["--presentation-time", "1e-9"],
     "--presentation-time"),
    ("seed beyond NumPy's", ["--seed", "99999999999"], "--seed"),
    ("theta infinite", ["--theta", "inf"], "--theta"),
    ("theta NaN", ["--theta", "nan"], "--theta"),
    ("theta under a step", ["--theta", "0.001"], "--theta"),
    ("units infinite", ["--units", "inf"], "--units"),
    ("epochs a float", ["--epochs", "2.5"], "--epochs"),
]


@pytest.mark.parametrize(
    "args, option", [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES]
)
def test_cli_refuses_before_work(args, option, no_demo, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    args = [a.format(file=tmp_path / "file") for a in args]
    with pytest.raises(SystemExit) as info:
        main(["demo", "--quick", *args])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("nengo-lmu: error: "), err
    assert option in err and "Traceback" not in err, err
    assert not (tmp_path / "file" / "plots").exists()


def test_cli_does_not_make_out_before_work(no_demo, tmp_path):
    # checking --out probes the folder above it, and leaves nothing behind
    out = tmp_path / "new" / "plots"
    with pytest.raises(AssertionError, match="demo started"):
        main(["demo", "--quick", "--out", str(out)])
    assert not (tmp_path / "new").exists() and list(tmp_path.iterdir()) == []


def test_a_window_of_one_step_is_one_step_to_rounding():
    # 0.1 * 3 against 0.3, and a float32 theta against its float64 step, are
    # one step: the check (one function, system.check_window) refused them
    # with "0.3 is shorter than one step (dt=0.3)" before it had a tolerance
    LegendreMemory(4, theta=0.3, n_neurons=10, dt=0.1 * 3)
    LegendreMemory(4, theta=np.float32(0.7), n_neurons=10, dt=0.7)
    with nengo.Network() as net:
        mem = LegendreMemory(4, np.float32(0.7))
        nengo.Connection(nengo.Node(1.0), mem.input, synapse=None)
    with nengo.Simulator(net, dt=0.7, progress_bar=False):
        pass
    # a step 0.1% longer than the window is still refused
    assert_refuses(lambda: LegendreMemory(4, theta=0.3, n_neurons=10, dt=0.3003),
                   ValidationError, "theta")
