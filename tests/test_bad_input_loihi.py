"""Issue 25, nengo-loihi support: every bad input to `nengo_lmu.loihi` is
refused up front, naming the parameter (none reaches nengo-loihi's build)."""

import gc
import sys
import warnings

import nengo
import numpy as np
import pytest
from nengo.exceptions import BuildError, ValidationError
from nengo_loihi.hardware import HAS_NXSDK

from nengo_lmu import loihi

from helpers import assert_refuses

NAN, INF = float("nan"), float("inf")
SEQ = np.zeros((1, 3, 1))


def saturating():
    """A Node into an Ensemble of radius 1 through a transform of 3: inputs of
    magnitude 1 saturate the host-to-chip link."""
    with nengo.Network(seed=0) as net:
        net.inp = nengo.Node([0.0])
        net.ens = nengo.Ensemble(10, 1)
        net.conn = nengo.Connection(net.inp, net.ens, transform=3.0, synapse=None)
        net.probe = nengo.Probe(net.ens)
    return net


NET = saturating()
with nengo.Network() as OTHER:  # objects from another network
    OTHER_NODE = nengo.Node([0.0])
    OTHER_ENS = nengo.Ensemble(10, 1)


def with_passthrough():
    with nengo.Network() as net:
        net.inp = nengo.Node([0.0])
        net.mid = nengo.Node(size_in=1)
        ens = nengo.Ensemble(10, 1)
        nengo.Connection(net.inp, net.mid, synapse=None)
        nengo.Connection(net.mid, ens, synapse=None)
    return net


PASSTHROUGH = with_passthrough()


def host_transform(transform, pre_ensemble=False):
    """One connection into a 2-D chip ensemble with ``transform``."""
    with nengo.Network(seed=0) as net:
        pre = nengo.Ensemble(100, 2) if pre_ensemble else nengo.Node(np.zeros(2))
        nengo.Connection(pre, nengo.Ensemble(20, 2), transform=transform)
    return net


def big_blocks():
    """An ensemble split into blocks of 1500 neurons: more than a core holds."""
    with nengo.Network() as net:
        ens = nengo.Ensemble(3000, 1)
    loihi.nengo_loihi.add_params(net)
    net.config[ens].block_shape = loihi.nengo_loihi.BlockShape((1500,), (3000,))
    return net


SPARSE = nengo.Sparse((2, 2), indices=[[0, 0], [1, 1]], init=[0.5, 0.5])
UNIFORM = nengo.Dense((2, 2), init=nengo.dists.Uniform(-0.3, 0.3))


def simulator(**kwargs):
    kwargs.setdefault("target", "sim")
    kwargs.setdefault("progress_bar", False)
    network = kwargs.pop("network", NET)
    return lambda: loihi.Simulator(network, **kwargs)


CASES = [
    # check: input_range, which bounds the host values (NET saturates at 1)
    ("check input_range -1", lambda: loihi.check(NET, input_range=-1), ValidationError,
     "input_range"),
    ("check input_range 0", lambda: loihi.check(NET, input_range=0), ValidationError,
     "input_range"),
    ("check input_range nan", lambda: loihi.check(NET, input_range=NAN), ValidationError,
     "input_range"),
    ("check input_range inf", lambda: loihi.check(NET, input_range=INF), ValidationError,
     "input_range"),
    ("check input_range string", lambda: loihi.check(NET, input_range="1"),
     ValidationError, "input_range"),
    ("check input_range list", lambda: loihi.check(NET, input_range=[1, 2]),
     ValidationError, "input_range"),
    # check: transforms whose weights it cannot read, or nengo-loihi cannot send
    ("check Distribution into chip", lambda: loihi.check(host_transform(UNIFORM)),
     ValidationError, "transform"),
    ("check Distribution chip to chip",
     lambda: loihi.check(host_transform(UNIFORM, pre_ensemble=True)), ValidationError,
     "transform"),
    ("check Sparse from the host", lambda: loihi.check(host_transform(SPARSE)), BuildError,
     "Sparse"),
    ("check block over a core", lambda: loihi.check(big_blocks()), BuildError, "BlockShape"),
    # configure: max_block
    ("configure max_block 0", lambda: loihi.configure(saturating(), max_block=0),
     ValidationError, "max_block"),
    ("configure max_block -1", lambda: loihi.configure(saturating(), max_block=-1),
     ValidationError, "max_block"),
    ("configure max_block over a core",
     lambda: loihi.configure(saturating(), max_block=2000), ValidationError, "max_block"),
    ("configure max_block float", lambda: loihi.configure(saturating(), max_block=2.5),
     ValidationError, "max_block"),
    ("configure max_block nan", lambda: loihi.configure(saturating(), max_block=NAN),
     ValidationError, "max_block"),
    ("configure max_block None", lambda: loihi.configure(saturating(), max_block=None),
     ValidationError, "max_block"),
    # every function taking a network: something else
    ("check string", lambda: loihi.check("x"), ValidationError, "network"),
    ("check None", lambda: loihi.check(None), ValidationError, "network"),
    ("check an Ensemble", lambda: loihi.check(NET.ens), ValidationError, "network"),
    ("configure string", lambda: loihi.configure("x"), ValidationError, "network"),
    ("chip_ensembles string", lambda: loihi.chip_ensembles("x"), ValidationError,
     "network"),
    ("host_to_chip_connections string", lambda: loihi.host_to_chip_connections("x"),
     ValidationError, "network"),
    ("decoded_chip_connections None", lambda: loihi.decoded_chip_connections(None),
     ValidationError, "network"),
    ("host_input_range string", lambda: loihi.host_input_range("x", NET.inp, SEQ),
     ValidationError, "network"),
    ("model_for string", lambda: loihi.Simulator.model_for("x"), ValidationError,
     "network"),
    ("Simulator string", simulator(network="x"), ValidationError, "network"),
    ("Simulator None", simulator(network=None), ValidationError, "network"),
    # chip: a set of the network's ensembles
    ("chip string", lambda: loihi.host_to_chip_connections(NET, chip="x"),
     ValidationError, "chip"),
    ("chip number", lambda: loihi.decoded_chip_connections(NET, chip=3), ValidationError,
     "chip"),
    ("chip foreign ensemble", lambda: loihi.host_to_chip_connections(NET, chip=[OTHER_ENS]),
     ValidationError, "chip"),
    # host_input_range: node must be an input Node of the network
    ("node from another network", lambda: loihi.host_input_range(NET, OTHER_NODE, SEQ),
     ValidationError, "node"),
    ("node an Ensemble", lambda: loihi.host_input_range(NET, NET.ens, SEQ),
     ValidationError, "node"),
    ("node a Probe", lambda: loihi.host_input_range(NET, NET.probe, SEQ), ValidationError,
     "node"),
    ("node a slice", lambda: loihi.host_input_range(NET, NET.inp[0], SEQ), ValidationError,
     "node"),
    ("node a string", lambda: loihi.host_input_range(NET, "inp", SEQ), ValidationError,
     "node"),
    ("node a passthrough",
     lambda: loihi.host_input_range(PASSTHROUGH, PASSTHROUGH.mid, SEQ), ValidationError,
     "node"),
    ("host_input_range dt 0", lambda: loihi.host_input_range(NET, NET.inp, SEQ, dt=0),
     ValidationError, "dt"),
    ("host_input_range sequences nan",
     lambda: loihi.host_input_range(NET, NET.inp, np.full((1, 3, 1), NAN)),
     ValidationError, "sequences"),
    # Simulator and model_for arguments
    ("target loihi without NxSDK", simulator(target="loihi"), ValidationError, "target"),
    ("target unknown", simulator(target="chip"), ValidationError, "target"),
    ("target number", simulator(target=1), ValidationError, "target"),
    ("Simulator dt nan", simulator(dt=NAN), ValidationError, "dt"),
    ("Simulator dt 0", simulator(dt=0), ValidationError, "dt"),
    ("Simulator dt negative", simulator(dt=-0.001), ValidationError, "dt"),
    # LIF on Loihi: dt / tau_rc beyond its 12-bit voltage decay
    ("Simulator dt too long for LIF", simulator(dt=0.5), ValidationError, "dt"),
    ("Simulator dt too short for LIF", simulator(dt=1e-9), ValidationError, "dt"),
    ("seed string", simulator(seed="1"), ValidationError, "seed"),
    ("seed negative", simulator(seed=-1), ValidationError, "seed"),
    ("seed float", simulator(seed=1.5), ValidationError, "seed"),
    ("precompute string", simulator(precompute="no"), ValidationError, "precompute"),
    ("remove_passthrough string", simulator(remove_passthrough="no"), ValidationError,
     "remove_passthrough"),
    ("hardware_options on the emulator", simulator(hardware_options={"n_chips": 2}),
     ValidationError, "hardware_options"),
    ("model not a Model", simulator(model="model"), ValidationError, "model"),
    ("model for another dt",
     simulator(dt=0.002, model=loihi.Simulator.model_for(NET, dt=0.001)), ValidationError,
     "model"),
    ("model_for decode_tau beyond Loihi's decay",
     lambda: loihi.Simulator.model_for(NET, decode_tau=10.0), ValidationError, "decode_tau"),
    ("Simulator decode_tau beyond Loihi's decay", simulator(decode_tau=10.0),
     ValidationError, "decode_tau"),
    ("model_for dt 0", lambda: loihi.Simulator.model_for(NET, dt=0), ValidationError, "dt"),
    ("model_for dt nan", lambda: loihi.Simulator.model_for(NET, dt=NAN), ValidationError,
     "dt"),
    ("RectifiedInputNeurons dt 0", lambda: loihi.RectifiedInputNeurons(dt=0),
     ValidationError, "dt"),
    ("RectifiedInputNeurons dt -1", lambda: loihi.RectifiedInputNeurons(dt=-1),
     ValidationError, "dt"),
    # loihi_limits
    ("min_decoded_transform 0", lambda: loihi.min_decoded_transform(0), ValidationError,
     "n_neurons"),
    ("min_decoded_transform -1", lambda: loihi.min_decoded_transform(-1), ValidationError,
     "n_neurons"),
    ("min_decoded_transform nan", lambda: loihi.min_decoded_transform(NAN),
     ValidationError, "n_neurons"),
]


@pytest.mark.parametrize("call, error, name", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused(call, error, name):
    if name == "target" and HAS_NXSDK:
        pytest.skip("NxSDK is installed: target='loihi' is available")
    assert_refuses(call, error, name)


def test_refused_simulator_prints_no_second_error(monkeypatch):
    """A refused argument raises one error: nothing from `__del__` (ignored
    exceptions reach `sys.unraisablehook`), no open host simulators left."""
    if HAS_NXSDK:
        pytest.skip("NxSDK is installed: target='loihi' is available")
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for kwargs in (
            dict(target="loihi"), dict(target="chip"), dict(network="x"), dict(seed=-1)
        ):
            with pytest.raises(ValidationError):
                simulator(**kwargs)()
        gc.collect()
    assert [u.exc_value for u in unraisable] == []
    assert [w.message for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_target_message_says_what_is_available():
    if HAS_NXSDK:
        pytest.skip("NxSDK is installed: target='loihi' is available")
    error = assert_refuses(simulator(target="loihi"), ValidationError, "target")
    assert "NxSDK" in str(error) and "'sim'" in str(error)


def test_node_message_says_what_to_pass():
    error = assert_refuses(
        lambda: loihi.host_input_range(NET, OTHER_NODE, SEQ), ValidationError, "node"
    )
    assert str(NET.inp) in str(error)  # the input Node to pass instead


def test_failed_build_leaves_no_open_simulator():
    """An error raised inside nengo-loihi after its host simulators exist (here
    its seed, ``network.seed + 1``, overflows, as in `nengo.Simulator`) closes
    them: no ResourceWarning follows the error."""
    with nengo.Network(seed=2**32 - 1) as net:
        nengo.Connection(nengo.Node([0.5]), nengo.Ensemble(10, 1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="Seed"):
            loihi.Simulator(net, target="sim", progress_bar=False)
        gc.collect()
    assert [w.message for w in caught if issubclass(w.category, ResourceWarning)] == []
