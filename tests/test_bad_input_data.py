"""Issue 25, data area: every bad input to the datasets, metrics, measurements,
sequences, models and parallel training gets a clear error naming it."""

import functools

import nengo
import numpy as np
import pytest
import tensorflow as tf
from helpers import assert_refuses
from nengo.exceptions import ValidationError

from nengo_lmu import datasets, lmu_model, measure, metrics
from nengo_lmu.dl import configure_settings, prepare_sequences, unroll_for
from nengo_lmu.parallel import freeze_params, parallel_model

SMALL = dict(units=4, order=4, theta=5.0, hidden_neuron_type=nengo.RectifiedLinear())


@functools.lru_cache(maxsize=None)
def small_net(n_out=2):
    """A feed-forward lmu_model (built once: the rows only read it)."""
    return lmu_model(n_out, seed=0, **SMALL)


@functools.lru_cache(maxsize=None)
def small_model(steps=10):
    return parallel_model(small_net(), steps)


def in_network(**settings):
    with nengo.Network():
        configure_settings(**settings)


def two_networks():
    """A network with an input node and an output, and another network's node."""
    with nengo.Network() as net:
        inp = nengo.Node(np.zeros(2))
        out = nengo.Node(size_in=2)
        nengo.Connection(inp, out, synapse=None)
    with nengo.Network():
        stranger = nengo.Node(np.zeros(2))
    return net, inp, out, stranger


def peaks(which):
    net, inp, out, stranger = two_networks()
    args = dict(
        node=(net, stranger, np.ones((1, 3, 2)), [out]),
        passthrough=(net, out, np.ones((1, 3, 2)), [out]),
        target=(net, inp, np.ones((1, 3, 2)), [stranger]),
        network=("net", inp, np.ones((1, 3, 2)), [out]),
        targets=(net, inp, np.ones((1, 3, 2)), out),
        ragged=(net, inp, [np.ones((3, 2)), np.ones((4, 2))], [out]),
    )[which]
    return measure.peak_magnitudes(*args)


def fit_model(x, y=None):
    model = small_model()
    model.compile(loss="mse")
    y = np.zeros((len(x), np.shape(x)[1], 2)) if y is None else y
    return model.fit(x, y, verbose=0)


NAN = float("nan")
RAGGED = [np.ones((5, 1)), np.ones((7, 1))]

CASES = [
    # metrics.nrmse: no broadcasting, no zero reference, finite
    ("nrmse-n1-vs-n", lambda: metrics.nrmse(np.ones((3, 1)), np.ones(3)),
     ValidationError, "x"),
    ("nrmse-zero-ref", lambda: metrics.nrmse(np.ones(3), np.zeros(3)),
     ValidationError, "ref"),
    ("nrmse-constant-ref-centred",
     lambda: metrics.nrmse(np.ones(3), np.full(3, 0.1), center=True),
     ValidationError, "ref"),
    ("nrmse-nan", lambda: metrics.nrmse(np.array([NAN]), np.ones(1)),
     ValidationError, "x"),
    ("nrmse-inf-ref", lambda: metrics.nrmse(np.ones(2), np.array([1.0, np.inf])),
     ValidationError, "ref"),
    ("nrmse-empty", lambda: metrics.nrmse(np.array([]), np.array([])),
     ValidationError, "x"),
    ("nrmse-str", lambda: metrics.nrmse("a", np.ones(1)), ValidationError, "x"),
    ("nrmse-none", lambda: metrics.nrmse(None, np.ones(1)), ValidationError, "x"),
    ("nrmse-complex", lambda: metrics.nrmse(np.ones(2), np.ones(2) * 1j), ValidationError,
     "ref"),
    ("nrmse-center-str", lambda: metrics.nrmse(np.ones(3), np.arange(3.0), center="yes"),
     ValidationError, "center"),
    # prepare_sequences and unroll_for
    ("prepare-nan", lambda: prepare_sequences(np.full((2, 10, 1), NAN)),
     ValidationError, "x"),
    ("prepare-inf-target",
     lambda: prepare_sequences(np.ones((2, 10, 1)), np.full((2, 10, 1), np.inf)),
     ValidationError, "targets"),
    ("prepare-str-target",
     lambda: prepare_sequences(np.ones((2, 10, 1)), np.full((2, 10), "a")),
     ValidationError, "targets"),
    ("prepare-str", lambda: prepare_sequences("abc"), ValidationError, "x"),
    ("prepare-network-str", lambda: prepare_sequences(np.ones((2, 251, 1)), network="n"),
     ValidationError, "network"),
    ("prepare-preferred-0", lambda: prepare_sequences(np.ones((2, 251, 1)), preferred=0),
     ValidationError, "preferred"),
    ("prepare-ragged-dims",
     lambda: prepare_sequences([np.ones((5, 1)), np.ones((7, 2))]), ValidationError, "x"),
    ("prepare-ragged-target-lengths",
     lambda: prepare_sequences(RAGGED, [np.ones((5, 1)), np.ones((6, 1))]),
     ValidationError, "targets"),
    ("prepare-ragged-mixed-1d-2d",
     lambda: prepare_sequences([np.ones(5), np.ones((7, 1))]), ValidationError, "x"),
    ("prepare-ragged-empty-series",
     lambda: prepare_sequences([np.ones((5, 1)), np.ones((0, 1))]), ValidationError, "x"),
    ("prepare-ragged-nan",
     lambda: prepare_sequences([np.ones((5, 1)), np.full((7, 1), NAN)]), ValidationError,
     "x"),
    ("prepare-complex", lambda: prepare_sequences(np.ones((2, 3, 1)) * 1j),
     ValidationError, "x"),
    ("prepare-empty-list", lambda: prepare_sequences([]), ValidationError, "x"),
    ("unroll-bool", lambda: unroll_for(True), ValidationError, "n_steps"),
    ("unroll-float", lambda: unroll_for(1.5), ValidationError, "n_steps"),
    ("unroll-preferred-0", lambda: unroll_for(10, 0), ValidationError, "preferred"),
    # configure_settings
    ("settings-unknown", lambda: in_network(foo=1), ValidationError, "foo"),
    ("settings-stateful-str", lambda: in_network(stateful="no"), ValidationError,
     "stateful"),
    ("settings-dtype-int", lambda: in_network(dtype="int32"), ValidationError, "dtype"),
    ("settings-planner-str", lambda: in_network(planner="noop"), ValidationError,
     "planner"),
    ("settings-lif-smoothing-nan", lambda: in_network(lif_smoothing=NAN),
     ValidationError, "lif_smoothing"),
    # lmu_model
    ("model-settings-str", lambda: lmu_model(2, settings="fast", **SMALL),
     ValidationError, "settings"),
    ("model-settings-unknown", lambda: lmu_model(2, settings=dict(fast=True), **SMALL),
     ValidationError, "fast"),
    ("model-seed-negative", lambda: lmu_model(2, seed=-1, **SMALL), ValidationError,
     "seed"),
    ("model-seed-too-big", lambda: lmu_model(2, seed=2**32, **SMALL), ValidationError,
     "seed"),
    ("model-input-d-float", lambda: lmu_model(2, input_d=1.5, **SMALL), ValidationError,
     "input_d"),
    # datasets
    ("ps-digits-permutation-seed", lambda: datasets.ps_digits(permutation_seed=-1),
     ValidationError, "permutation_seed"),
    ("ps-digits-permutation-seed-float", lambda: datasets.ps_digits(permutation_seed=1.5),
     ValidationError, "permutation_seed"),
    ("ps-digits-split-seed", lambda: datasets.ps_digits(split_seed=-1),
     ValidationError, "split_seed"),
    ("ps-digits-test-fraction-tiny", lambda: datasets.ps_digits(test_fraction=1e-4),
     ValidationError, "test_fraction"),
    ("white-noise-dt-negative", lambda: datasets.white_noise(10, -1, 5),
     ValidationError, "dt"),
    ("white-noise-dt-nan", lambda: datasets.white_noise(10, NAN, 5), ValidationError,
     "dt"),
    ("white-noise-rms-nan", lambda: datasets.white_noise(10, 1e-3, 5, rms=NAN),
     ValidationError, "rms"),
    ("white-noise-high-inf", lambda: datasets.white_noise(10, 1e-3, np.inf),
     ValidationError, "high"),
    ("white-noise-dimensions-0", lambda: datasets.white_noise(10, 1e-3, 200, dimensions=0),
     ValidationError, "dimensions"),
    ("white-noise-seed-negative", lambda: datasets.white_noise(10, 1e-3, 200, seed=-1),
     ValidationError, "seed"),
    ("ucr-nonsense", lambda: datasets.ucr("nonsense"), ValidationError, "name"),
    ("mackey-glass-dt-negative", lambda: datasets.mackey_glass(10, dt=-1),
     ValidationError, "dt"),
    ("mackey-glass-dt-0", lambda: datasets.mackey_glass(10, dt=0), ValidationError, "dt"),
    ("mackey-glass-dt-nan", lambda: datasets.mackey_glass(10, dt=NAN), ValidationError,
     "dt"),
    ("mackey-glass-tau-below-step", lambda: datasets.mackey_glass(10, tau=0.01),
     ValidationError, "tau"),
    ("mackey-glass-beta-nan", lambda: datasets.mackey_glass(10, beta=NAN),
     ValidationError, "beta"),
    ("mackey-glass-gamma-inf", lambda: datasets.mackey_glass(10, gamma=np.inf),
     ValidationError, "gamma"),
    ("mackey-glass-gamma-negative", lambda: datasets.mackey_glass(10, gamma=-0.1),
     ValidationError, "gamma"),
    ("mackey-glass-power-nan", lambda: datasets.mackey_glass(10, power=NAN),
     ValidationError, "power"),
    ("mackey-glass-x0-nan", lambda: datasets.mackey_glass(10, x0=NAN), ValidationError,
     "x0"),
    ("mackey-glass-x0-str", lambda: datasets.mackey_glass(10, x0="a"), ValidationError,
     "x0"),
    ("mackey-glass-washout-negative", lambda: datasets.mackey_glass(10, washout=-1),
     ValidationError, "washout"),
    ("mackey-glass-washout-float", lambda: datasets.mackey_glass(10, washout=1.5),
     ValidationError, "washout"),
    ("mackey-glass-seed-negative", lambda: datasets.mackey_glass(10, seed=-1),
     ValidationError, "seed"),
    ("mackey-glass-diverges", lambda: datasets.mackey_glass(100, gamma=100.0, washout=0),
     ValidationError, "substeps"),
    ("mackey-glass-negative-history-fractional-power",
     lambda: datasets.mackey_glass(10, x0=-1.0, power=0.5), ValidationError, "substeps"),
    # measure
    ("peaks-node-of-another-network", lambda: peaks("node"), ValidationError, "node"),
    ("peaks-target-of-another-network", lambda: peaks("target"), ValidationError,
     "targets"),
    ("peaks-node-a-passthrough", lambda: peaks("passthrough"), ValidationError, "node"),
    ("peaks-network-str", lambda: peaks("network"), ValidationError, "network"),
    ("peaks-targets-not-a-list", lambda: peaks("targets"), ValidationError, "targets"),
    ("peaks-ragged", lambda: peaks("ragged"), ValidationError, "sequences"),
    ("channel-encoders-str", lambda: measure.channel_encoders("abc"), ValidationError,
     "sequences"),
    ("channel-encoders-ragged", lambda: measure.channel_encoders(RAGGED),
     ValidationError, "sequences"),
    # parallel training
    ("parallel-dtype-int8", lambda: parallel_model(small_net(), 10, dtype="int8"),
     ValidationError, "dtype"),
    ("parallel-dtype-bogus", lambda: parallel_model(small_net(), 10, dtype="floaty"),
     ValidationError, "dtype"),
    ("parallel-return-sequences-str",
     lambda: parallel_model(small_net(), 10, return_sequences="no"), ValidationError,
     "return_sequences"),
    ("parallel-predict-longer",
     lambda: small_model().predict(np.ones((2, 12, 1)), verbose=0), ValidationError,
     "x"),
    ("parallel-predict-shorter",
     lambda: small_model().predict(np.ones((2, 8, 1)), verbose=0), ValidationError,
     "x"),
    ("parallel-predict-input-d",
     lambda: small_model().predict(np.ones((2, 10, 2)), verbose=0), ValidationError,
     "x"),
    ("parallel-fit-longer", lambda: fit_model(np.ones((2, 12, 1))), ValidationError,
     "x"),
    ("parallel-fit-nan", lambda: fit_model(np.full((2, 10, 1), NAN)), ValidationError,
     "x"),
    ("parallel-evaluate-tensor",
     lambda: small_model().evaluate(tf.ones((2, 12, 1)), np.zeros((2, 12, 2)), verbose=0),
     ValidationError, "x"),
    ("parallel-call-input-d",
     lambda: small_model()(np.ones((2, 10, 2), dtype="float32")), ValueError,
     "expected shape=(None, 10, 1)"),
    ("freeze-not-a-model", lambda: freeze_params("model", small_net()), ValidationError,
     "model"),
    ("freeze-other-n-out", lambda: freeze_params(small_model(), small_net(3)),
     ValidationError, "model"),
]


@pytest.mark.parametrize("call, error, name", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_refuses(call, error, name):
    assert_refuses(call, error, name)


def test_nrmse_of_identical_column_and_flat_arrays_is_refused_not_0_8():
    # the report: (n, 1) against (n,) broadcast to (n, n), and
    # identical data scored 0.816 instead of 0
    x = np.array([1.0, 2.0, 3.0])
    assert metrics.nrmse(x, x) == 0
    assert metrics.nrmse(x[:, None], x[:, None]) == 0
    with pytest.raises(ValidationError, match=r"\(3,\).*\(3, 1\)"):
        metrics.nrmse(x[:, None], x)


def test_parallel_model_says_which_length_it_was_made_for():
    # Keras said only "expected shape=(None, 10, 1), found shape=(None, 12, 1)"
    # (and, for another input_d, failed inside an einsum)
    error = assert_refuses(lambda: fit_model(np.ones((2, 12, 1))), ValidationError, "x")
    assert "steps=10" in str(error) and "parallel_model(net, 12)" in str(error)
    error = assert_refuses(
        lambda: small_model().predict(np.ones((2, 10, 3)), verbose=0), ValidationError, "x"
    )
    assert "input_d is 1" in str(error)
    # the right shape still runs, as Keras takes it: an array, a tensor, a
    # list of inputs or a dict keyed by the input's name
    model = small_model()
    for x in (np.ones((2, 10, 1)), tf.ones((2, 10, 1)), [np.ones((2, 10, 1))],
              {model.input_names[0]: np.ones((2, 10, 1))}):
        assert model.predict(x, verbose=0).shape == (2, 10, 2)
    assert_refuses(lambda: model.predict([np.ones((2, 9, 1))], verbose=0),
                   ValidationError, "x")
