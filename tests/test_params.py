"""The shared number check every number parameter of nengo_lmu goes through."""

import nengo
import numpy as np
import pytest
from helpers import assert_refuses
from nengo.exceptions import ValidationError

from nengo_lmu.params import (
    FiniteNumberParam,
    FiniteSynapseParam,
    IntegerParam,
    check_network,
    check_param,
)


@pytest.mark.parametrize(
    "value", [np.nan, np.inf, -np.inf, np.array(np.nan), np.float32("nan"), True, np.bool_(0)]
)
def test_finite_number_param_refuses_by_name(value):
    # nengo's NumberParam raised TypeError (NaN) or took True as 1
    param = FiniteNumberParam("theta", low=0, low_open=True)
    assert_refuses(lambda: check_param(param, value), ValidationError, "theta")


def test_finite_number_param_keeps_nengos_checks():
    param = FiniteNumberParam("theta", low=0, low_open=True, optional=True)
    assert check_param(param, np.array(2.5)) == 2.5 and check_param(param, 3) == 3
    assert check_param(param, None) is None
    assert_refuses(lambda: check_param(param, 0.0), ValidationError, "theta")
    assert_refuses(lambda: check_param(param, "1"), ValidationError, "theta")


@pytest.mark.parametrize("value", [True, np.bool_(1)])
def test_integer_param_refuses_a_bool(value):
    # nengo's IntParam takes True for 1: an order, seed or count of True
    assert_refuses(lambda: check_param(IntegerParam("order", low=1), value), ValidationError,
                   "order")
    assert check_param(IntegerParam("order", low=1), np.int64(3)) == 3


def test_check_network_names_the_argument():
    assert_refuses(lambda: check_network("net"), ValidationError, "network")
    assert_refuses(lambda: check_network(None, attr="model"), ValidationError, "model")
    assert check_network(None, optional=True) is None
    with nengo.Network() as net:
        pass
    assert check_network(net) is net


def test_integer_param_unwraps_a_0d_array():
    # e.g. np.load(...)["order"]; FiniteNumberParam already unwrapped theta
    assert check_param(IntegerParam("order", low=1), np.array(4)) == 4


@pytest.mark.parametrize(
    "synapse", [np.nan, -1, np.inf, nengo.Lowpass(np.inf), nengo.Alpha(np.inf)]
)
def test_finite_synapse_param_names_itself(synapse):
    # nengo's SynapseParam raised TypeError (NaN), named Lowpass.tau (-1) or
    # accepted a filter that never passes anything (inf)
    param = FiniteSynapseParam("synapse", optional=True)
    assert_refuses(lambda: check_param(param, synapse), ValidationError, "synapse")


def test_memories_synapses_are_finite():
    from nengo_lmu import LegendreMemory, LinearNetwork  # noqa: PLC0415

    for kwargs in (dict(synapse=np.nan), dict(readout_synapse=-1.0)):
        assert_refuses(lambda: LegendreMemory(4, 1.0, n_neurons=10, **kwargs),
                       ValidationError, next(iter(kwargs)))
        assert_refuses(lambda: LinearNetwork(nengo.Lowpass(0.1), 10, **kwargs),
                       ValidationError, next(iter(kwargs)))
    assert check_param(FiniteSynapseParam("synapse", optional=True), None) is None
    assert check_param(FiniteSynapseParam("synapse"), 0.01) == nengo.Lowpass(0.01)
