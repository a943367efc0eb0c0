"""Deep (stacked) LMUs: lmu_model(layers=...), parallel training of the stack against
NengoDL step by step, MirroredStrategy, and conversion to spiking (issue 27)."""

import json
import subprocess
import sys
import warnings

import nengo
import nengo_dl
import numpy as np
import pytest
import tensorflow as tf
from nengo.exceptions import ValidationError

import nengo_lmu
from nengo_lmu.parallel import freeze_params, layer_name, parallel_model

from helpers import assert_refuses
from test_parallel import parallel, step_by_step  # tests/test_parallel.py

#: one worker builds this file's module-scoped fixtures once (``--dist loadgroup``)
pytestmark = pytest.mark.xdist_group(__name__)

T, BATCH = 30, 4

#: per-layer specifications over the shared units=8, order=5, ReLU: two input
#: dimensions and memory channels; a narrower layer with input_to_hidden (its
#: input is the first layer's hidden output); a tanh layer of two channels
LAYERS = [
    dict(input_d=2, memory_d=2, theta=12.0),
    dict(units=6, order=4, theta=6.0, input_to_hidden=True),
    dict(units=5, order=3, theta=9.0, memory_d=2, hidden_neuron_type=nengo.Tanh(tau_ref=1.0)),
]

#: stacks the parity tests run: 2 and 3 layers, and a first layer without a
#: hidden layer (its memory, memory_d * order values, is the next one's input)
STACKS = {
    "2 layers": LAYERS[:2],
    "3 layers": LAYERS,
    "memory into LMU": [dict(input_d=2, hidden_neuron_type=None, theta=10.0), LAYERS[1]],
}


def deep_net(layers, dtype="float64", keep_history=True, seed=1):
    return nengo_lmu.lmu_model(
        3, seed=seed, settings=dict(stateful=False, dtype=dtype, keep_history=keep_history),
        layers=layers, units=8, order=5, hidden_neuron_type=nengo.RectifiedLinear(),
    )


def data(input_d=2, seed=0, n=BATCH):
    return np.random.RandomState(seed).randn(n, T, input_d)


def built(net):
    """Every transform and bias the network builds with, by object index."""
    model = nengo.builder.Model(dt=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.build(net)
    out = {}
    for i, conn in enumerate(net.all_connections):
        weights = getattr(model.params[conn], "weights", None)
        if weights is not None:
            out[f"conn {i}"] = np.array(weights)
    for i, ens in enumerate(net.all_ensembles):
        out[f"bias {i}"] = np.array(model.params[ens].bias)
    return out


# -- the model ---------------------------------------------------------------


def test_one_layer_list_is_the_one_layer_model():
    # layers=[spec] builds exactly lmu_model(**spec): the same objects, seeded
    # alike, so the same initial weights; net.lmus lists the one LMU
    spec = dict(units=8, order=5, theta=12.0, input_d=2, memory_d=2, input_to_hidden=True)
    flat = nengo_lmu.lmu_model(3, seed=4, **spec)
    listed = nengo_lmu.lmu_model(3, seed=4, layers=[spec])
    assert flat.lmus == [flat.lmu] and listed.lmus == [listed.lmu]
    a, b = built(flat), built(listed)
    assert sorted(a) == sorted(b) and len(a) >= 5
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_layers_chain_and_share_arguments():
    net = deep_net(STACKS["memory into LMU"] + [dict(order=3, theta=7.0)])
    assert net.lmu is net.lmus[-1] and len(net.lmus) == 3
    # input_d: the network's, then the output size of the layer below (the
    # first one's memory: memory_d * order = 5; then units = 6)
    assert [lmu.input_d for lmu in net.lmus] == [2, 5, 6]
    assert net.inp.size_out == 2
    # the shared arguments (units=8, order=5, ReLU), each overridden where a
    # layer gives its own
    assert [(lmu.units, lmu.order, lmu.theta) for lmu in net.lmus] == [
        (8, 5, 10.0), (6, 4, 6.0), (8, 3, 7.0)]
    assert net.lmus[0].hidden is None and net.lmus[1].input_to_hidden
    assert type(net.lmus[2].hidden_neuron_type) is nengo.RectifiedLinear
    assert [lmu.label for lmu in net.lmus] == ["LMU 0", "LMU 1", "LMU 2"]
    # each layer reads the one below, unfiltered; the readout reads the last
    for below, above in zip([net.inp] + [l.output for l in net.lmus[:-1]], net.lmus):
        (conn,) = [c for c in net.all_connections if c.post_obj is above.input]
        assert conn.pre_obj is below and conn.synapse is None
    assert net.readout.pre_obj is net.lmu.output


@pytest.mark.parametrize("call, name", [
    (lambda: deep_net("deep"), "layers"),
    (lambda: deep_net(dict(units=4)), "layers"),
    (lambda: deep_net([]), "layers"),
    (lambda: deep_net([LAYERS[0], 3]), "layers"),
    (lambda: deep_net([LAYERS[0], dict(theta=4.0, unit=3)]), "layers"),
    (lambda: nengo_lmu.lmu_model(3, layers=[dict(order=4, theta=4.0)]), "units"),
    (lambda: nengo_lmu.lmu_model(3, layers=[dict(units=4, theta=4.0)], wrong=1), "layers"),
    (lambda: deep_net([LAYERS[0], dict(theta=4.0, input_d=3)]), "input_d"),
    (lambda: deep_net([LAYERS[0], dict(theta=4.0, input_d=True)]), "input_d"),
    (lambda: deep_net([LAYERS[0], dict(theta=4.0, order=0)]), "order"),
    (lambda: deep_net([LAYERS[0], dict(theta=-1.0)]), "theta"),
    (lambda: deep_net([dict(LAYERS[0], input_d=0)]), "input_d"),
], ids=["str", "dict", "empty", "not a dict", "unknown key", "no units",
        "unknown shared key", "input_d of layer 1", "input_d bool", "order of layer 1",
        "theta of layer 1", "input_d 0"])
def test_bad_layers_are_refused_by_name(call, name):
    error = assert_refuses(call, ValidationError, name)
    if name in ("order", "theta"):  # which layer
        assert "layers[1]" in str(error)


# -- parallel training of the stack against NengoDL --------------------------


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_parallel_stack_equals_step_by_step(stack):
    # float64: every convolution, every-step and last-step readouts, against
    # one NengoDL run of the same network
    net = deep_net(STACKS[stack])
    x = data()
    ref = step_by_step(net, x)
    assert np.abs(ref).max() > 0.1
    for return_sequences in (True, False):
        expected = ref if return_sequences else ref[:, -1]
        for convolution in ("blocks", "fft", "direct"):
            model = parallel_model(net, T, return_sequences=return_sequences,
                                   convolution=convolution, dtype="float64")
            assert [layer.name for layer in model.layers[1:]] == [
                layer_name(k) for k in range(len(net.lmus))] + ["readout"]
            out = parallel(model, x)
            assert out.shape == expected.shape
            # float64 round-off of sums of T terms per layer, relative to the
            # output's scale (measured: at most 4e-15, the FFT's; a step's
            # delay anywhere in the stack would be of the order of 1)
            np.testing.assert_allclose(out, expected, atol=1e-11 * np.abs(ref).max(),
                                       err_msg=f"{return_sequences}, {convolution}")


def conns(net):
    """The trainable connections of each layer, named as the parallel model's weights."""
    out = {}
    for k, lmu in enumerate(net.lmus):
        for name in ("input_encoders", "memory_kernel", "input_kernel"):
            if getattr(lmu, name) is not None:
                out[f"{layer_name(k)}/{name}:0"] = getattr(lmu, name)
    out["readout/kernel:0"] = net.readout
    return out


@pytest.mark.parametrize("depth", [2, 3])
@pytest.mark.parametrize("last_step", [True, False])
def test_stack_gradients_equal_step_by_step(depth, last_step):
    # one plain SGD step in NengoDL (its weight change is -lr * gradient)
    # against the parallel model's gradient, float64, every layer's weights
    lr = 0.01
    net = deep_net(LAYERS[:depth], keep_history=not last_step)
    x = data()
    rng = np.random.RandomState(5)
    y = rng.randn(BATCH, 3) if last_step else rng.randn(BATCH, T, 3)
    model = parallel_model(net, T, return_sequences=not last_step, dtype="float64")
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(tf.constant(x)) - y))
    grads = tape.gradient(loss, model.trainable_variables)
    par = {v.name: g.numpy() for v, g in zip(model.trainable_variables, grads)}
    c = conns(net)
    hidden = {f"{layer_name(k)}/bias:0": lmu.hidden for k, lmu in enumerate(net.lmus)}
    with nengo_dl.Simulator(net, dt=1.0, minibatch_size=BATCH, progress_bar=False) as sim:
        w0 = {name: sim.data[conn].weights.copy() for name, conn in c.items()}
        b0 = {name: sim.data[ens].bias.copy() for name, ens in hidden.items()}
        sim.compile(optimizer=tf.optimizers.SGD(lr), loss=tf.losses.mse)
        sim.fit(x, {net.probe: y[:, None] if last_step else y}, epochs=1, verbose=0)
        dl = {name: (w0[name] - sim.data[conn].weights) / lr for name, conn in c.items()}
        dl.update({name: (b0[name] - sim.data[ens].bias) / lr for name, ens in hidden.items()})
    assert sorted(par) == sorted(dl)  # every weight of every layer, and no other
    for name, g in par.items():
        g = g.T if name == "readout/kernel:0" else g  # Keras's (pre, post) layout
        assert np.abs(g).max() > 1e-2, name  # a real gradient (measured: 0.05 or more)
        # float64 round-off (measured: at most 9e-15)
        np.testing.assert_allclose(g, dl[name], atol=1e-10, err_msg=name)


def test_freeze_params_writes_every_layer():
    net = deep_net(LAYERS[:2], dtype="float32")
    x, y = data(), np.random.RandomState(3).randn(BATCH, T, 3)
    model = parallel_model(net, T)
    model.compile(optimizer=tf.optimizers.Adam(0.05), loss="mse")
    before = model.predict(x, verbose=0)
    initial = {v.name: v.numpy().copy() for v in model.trainable_variables}
    model.fit(x, y, epochs=5, verbose=0)
    trained = model.predict(x, verbose=0)
    assert np.abs(trained - before).max() > 0.05  # training changed the outputs
    for v in model.trainable_variables:  # ... and every weight of every layer
        assert np.abs(v.numpy() - initial[v.name]).max() > 1e-3, v.name
    freeze_params(model, net)
    for k, lmu in enumerate(net.lmus):
        layer = model.get_layer(layer_name(k))
        np.testing.assert_array_equal(lmu.memory_kernel.transform.init,
                                      layer.memory_kernel.numpy())
        np.testing.assert_array_equal(lmu.hidden.bias, layer.bias.numpy())
    # NengoDL, step by step, runs the trained stack
    np.testing.assert_allclose(step_by_step(net, x), trained, atol=1e-5)


def test_freeze_params_refuses_another_stack():
    net = deep_net(LAYERS[:2], dtype="float32")
    for other in (LAYERS[:1], LAYERS, [LAYERS[0], dict(LAYERS[1], units=7)]):
        model = parallel_model(deep_net(other, dtype="float32"), T)
        assert_refuses(lambda: freeze_params(model, net), ValidationError, "model")


def test_parallel_refuses_what_it_cannot_compute():
    # a recurrent layer anywhere in the stack
    net = deep_net([LAYERS[0], dict(LAYERS[1], hidden_to_hidden=True)], dtype="float32")
    assert_refuses(lambda: parallel_model(net, T), ValidationError, "hidden_to_hidden")
    # a stack joined otherwise than lmu_model joins it: a filtered link
    net = deep_net(LAYERS[:2], dtype="float32")
    (link,) = [c for c in net.all_connections if c.post_obj is net.lmus[1].input]
    link.synapse = nengo.Lowpass(0.005)
    assert_refuses(lambda: parallel_model(net, T), ValidationError, "network")
    net = deep_net(LAYERS[:2], dtype="float32")
    net.lmus = net.lmus[:1]  # no longer ending in net.lmu
    assert_refuses(lambda: parallel_model(net, T), ValidationError, "network")


# -- several devices ----------------------------------------------------------

#: Trains a 2-layer stack on one device, then under MirroredStrategy over two
#: logical CPU devices (which must be made before TensorFlow starts: hence a
#: process of its own), for the same global batches; prints what it found.
MIRRORED = """
import json
import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import nengo
import nengo_lmu
from nengo_lmu.parallel import freeze_params, parallel_model

T = 24
rng = np.random.RandomState(0)
x = rng.randn(16, T, 2).astype("float32")
targets = {False: rng.randn(16, 3), True: rng.randn(16, T, 3)}


def net():
    return nengo_lmu.lmu_model(
        3, seed=2, units=8, order=5, hidden_neuron_type=nengo.RectifiedLinear(),
        layers=[dict(theta=12.0, input_d=2), dict(theta=6.0, order=4, input_to_hidden=True)])


def train(strategy, sequences):
    with strategy.scope():
        model = parallel_model(net(), T, return_sequences=sequences)
        model.compile(optimizer=tf.optimizers.SGD(0.05), loss="mse")
    initial = [v.numpy().copy() for v in model.trainable_variables]
    # no shuffling: the same global batches of 8 in the same order
    model.fit(x, targets[sequences].astype("float32"), batch_size=8, epochs=2,
              shuffle=False, verbose=0)
    return model, initial


found = {}
mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
for sequences in (False, True):
    one, initial = train(tf.distribute.OneDeviceStrategy("/cpu:0"), sequences)
    two, _ = train(mirrored, sequences)
    freeze_params(two, net())  # what it trained goes back into a network
    found[str(sequences)] = dict(
        replicas=mirrored.num_replicas_in_sync,
        kinds=sorted({type(v).__name__ for v in two.trainable_variables}),
        names=[v.name for v in two.trainable_variables],
        difference=max(float(np.abs(a.numpy() - b.numpy()).max())
                       for a, b in zip(one.trainable_variables, two.trainable_variables)),
        scale=max(float(np.abs(a.numpy()).max()) for a in one.trainable_variables),
        moved=min(float(np.abs(a.numpy() - b).max())
                  for a, b in zip(one.trainable_variables, initial)),
    )
print(json.dumps(found))
"""


def test_mirrored_strategy_trains_as_one_device():
    result = subprocess.run([sys.executable, "-c", MIRRORED], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    for readout, f in found.items():  # the last step, and every step
        # two replicas, each holding a mirrored copy of every weight of both layers
        assert f["replicas"] == 2 and f["kinds"] == ["MirroredVariable"], readout
        assert {name.split("/")[0] for name in f["names"]} == {"lmu", "lmu_1", "readout"}
        # training moved every weight far beyond the tolerance ...
        assert f["moved"] > 1e-3, readout
        # ... and two replicas, each with half of each global batch of 8,
        # their gradients summed, give the one-device weights to float32
        # round-off (measured: 6e-8 of weights up to about 1)
        assert f["difference"] < 1e-6 * f["scale"], readout


# -- conversion to spiking ----------------------------------------------------

#: the conversion tests' sequences: 16 steps of U(0, 1), 32 to train on and
#: calibrate with, the first 8 run spiking
STEPS, N_TRAIN, N_RUN = 16, 32, 8


def conversion_task():
    """Sequences and two targets that need the whole window and features of it."""
    x = np.random.RandomState(0).uniform(0, 1, size=(N_TRAIN, STEPS, 1))
    y = np.stack([x[:, -4:, 0].mean(1), x[:, :8, 0].mean(1) - x[:, 8:, 0].mean(1)], axis=1)
    return x, y


@pytest.fixture(scope="module")
def trained_stack():
    """A 2-layer ReLU stack (orders 6 and 4), trained in parallel on the last
    step, frozen; and its rate outputs."""
    x, y = conversion_task()
    net = nengo_lmu.lmu_model(
        2, seed=0, units=12, order=6, hidden_neuron_type=nengo.RectifiedLinear(),
        layers=[dict(theta=16.0), dict(theta=8.0, order=4, input_to_hidden=True)])
    tf.random.set_seed(0)
    model = parallel_model(net, STEPS, return_sequences=False)
    model.compile(optimizer=tf.optimizers.Adam(0.01), loss="mse")
    model.fit(x, y, epochs=30, verbose=0)
    freeze_params(model, net)
    return net, x, model.predict(x, verbose=0)


def relative_error(out, expected):
    return np.linalg.norm(out - expected) / np.linalg.norm(expected)


def run_last(conv, simulator, node, probe, x, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the emulator's and nengo-loihi's notes
        out, _ = conv.run(simulator, conv.find(node, conv.original), x[:N_RUN],
                          conv.find(probe, conv.original), parallel=N_RUN,
                          progress_bar=False, **kwargs)
    return out[:, -1]


# Relative error of the last outputs of 8 sequences against the rate
# network's. The first layer's memory takes the held samples (exact); the
# second's reads the first's filtered spikes, so it runs continuously and
# integrates their noise and lag, and its last output is one reading (no
# averaging window). Measured (deterministic: SpikingRectifiedLinear, exact
# memories), each layer at its own scale (the first's peak activity is 2.4
# times smaller than the second's): 0.088 on the reference simulator, 0.200
# on the emulator (its 500 Hz peak and the chip's discretisation); with the
# second layer's scale for both, as before, 0.094 and 0.128, but over all 32
# sequences the emulator's two are alike (0.217 and 0.206) and the
# reference's not (0.090 and 0.112). The control, every window doubled
# (dt_train=0.5, the same rates), misses by 0.41 and 0.45: the bounds sit
# between.
STACK_BOUNDS = {"nengo": 0.2, "loihi": 0.25}


@pytest.mark.parametrize("kind", sorted(STACK_BOUNDS))
def test_converted_stack_follows_its_rate_network(trained_stack, kind):
    from nengo_lmu import loihi  # noqa: PLC0415
    from nengo_lmu.spiking import to_spiking  # noqa: PLC0415

    net, x, rate = trained_stack
    simulator, kwargs = ((nengo.Simulator, {}) if kind == "nengo"
                         else (loihi.Simulator, dict(target="sim")))
    # with rate neurons the conversion of the stack is exact (held samples,
    # ZOH memories): what follows is the spikes' cost alone
    exact = to_spiking(net, 0.02, neuron_type=None)
    np.testing.assert_allclose(run_last(exact, nengo.Simulator, net.inp, net.probe, x),
                               rate[:N_RUN], atol=1e-6)
    conv = to_spiking(net, 0.02, calibration=(net.inp, x), simulator=kind,
                      progress_bar=False)
    assert [lmu.memory.sample_period for lmu in conv.lmus] == [pytest.approx(0.02), None]
    error = relative_error(run_last(conv, simulator, net.inp, net.probe, x, **kwargs),
                           rate[:N_RUN])
    assert error < STACK_BOUNDS[kind]
    wrong = to_spiking(net, 0.02, dt_train=0.5, scale_firing_rates=conv.rate_scales)
    assert relative_error(run_last(wrong, simulator, net.inp, net.probe, x, **kwargs),
                          rate[:N_RUN]) > STACK_BOUNDS[kind]


#: how many times as active as it would be the second layer of `uneven_stack` is
BOOST = 20.0


def uneven_stack():
    """A 2-layer ReLU stack of fixed random weights (what is tested is the
    conversion, not training) whose second layer is `BOOST` times as active
    as the first would make it: its kernels and biases multiplied by it (a
    ReLU layer's activity scales with them), the readout divided by it, so
    the output is that of the unboosted stack."""
    rng = np.random.RandomState(0)
    net = nengo_lmu.lmu_model(
        2, seed=0, units=12, order=6, hidden_neuron_type=nengo.RectifiedLinear(),
        layers=[dict(theta=16.0, memory_kernel_init=rng.uniform(-1, 1, (12, 6))),
                dict(theta=8.0, order=4, input_to_hidden=True,
                     input_encoders_init=np.full((1, 12), 1 / 12),
                     memory_kernel_init=BOOST * rng.uniform(-1, 1, (12, 4)),
                     input_kernel_init=BOOST * rng.uniform(-0.5, 0.5, (12, 12)))])
    for lmu, boost in zip(net.lmus, (1.0, BOOST)):
        lmu.hidden.bias = boost * rng.uniform(-0.2, 0.5, 12)
    readout = rng.uniform(-1, 1, (2, 12)) / BOOST
    net.readout.transform = nengo.transforms.Dense(readout.shape, init=readout)
    return net


def rate_steps(net, x):
    """``net`` run step by step (dt = 1, as trained) on the reference
    simulator, from rest on each sequence of ``x``: its outputs, and each
    LMU's peak hidden activity."""
    with net:
        probes = [nengo.Probe(lmu.hidden.neurons) for lmu in net.lmus]
    outputs, peaks = [], np.zeros(len(probes))
    for sequence in x:
        net.inp.output = nengo.processes.PresentInput(sequence, presentation_time=1.0)
        with nengo.Simulator(net, dt=1.0, progress_bar=False) as sim:
            sim.run_steps(len(sequence))
        outputs.append(sim.data[net.probe])
        peaks = np.maximum(peaks, [sim.data[p].max() for p in probes])
    return np.array(outputs), peaks


@pytest.fixture(scope="module")
def uneven():
    """`uneven_stack`, 8 sequences of U(0, 1), its rate outputs and peaks on
    them; converted on them with each layer's own firing-rate scale (the
    default), and with one for both (what to_spiking did before): the
    busiest layer's, ``PEAK_RATES["nengo"]`` over its peak activity."""
    from nengo_lmu.spiking import PEAK_RATES, to_spiking  # noqa: PLC0415

    x = np.random.RandomState(1).uniform(0, 1, size=(N_RUN, STEPS, 1))
    rate, peaks = rate_steps(uneven_stack(), x)  # (a copy: its probes stay out)
    net = uneven_stack()
    # the readout is unchanged by the boost, the second layer is far busier
    assert peaks[1] > 5 * peaks[0]
    single = PEAK_RATES["nengo"] / peaks.max()
    convs = {
        "per layer": to_spiking(net, 0.02, calibration=(net.inp, x), progress_bar=False),
        "single": to_spiking(net, 0.02, calibration=(net.inp, x), progress_bar=False,
                             scale_firing_rates=single),
    }
    return net, x, rate, peaks, convs


def test_each_layer_of_a_stack_fires_at_the_peak_rate(uneven):
    from nengo_lmu.spiking import PEAK_RATES  # noqa: PLC0415

    net, x, _, peaks, convs = uneven
    peak = PEAK_RATES["nengo"]
    conv, single = convs["per layer"], convs["single"]
    assert [lmu.label for lmu in conv.lmus] == ["LMU 0", "LMU 1"]  # net.lmus' order
    # each layer's scale maps its own peak activity to the peak rate; the
    # conversion's single figure is still the busiest layer's (the scale
    # one number for all would be, as before)
    np.testing.assert_allclose(conv.rate_scales, peak / peaks, rtol=1e-9)
    assert conv.scale_firing_rates == pytest.approx(single.scale_firing_rates, rel=1e-9)
    assert single.rate_scales == (single.scale_firing_rates,) * 2
    assert conv.peak_rate == peak and single.peak_rate is None
    for lmu, scale in zip(conv.lmus, conv.rate_scales):
        # faster by the scale, spikes smaller by it: the same decoded value
        assert lmu.hidden.neuron_type.amplitude * scale == pytest.approx(1.0, rel=1e-12)
    # with one scale, the first layer's peak is the boost's share of the
    # second's (measured in the spiking network as below: 58 Hz)
    assert single.rate_scales[0] * peaks[0] < 0.1 * peak
    # measured in the converted spiking network: the input current of each
    # layer's neurons (a SpikingRectifiedLinear neuron fires at J Hz) at the
    # end of each presentation of the calibration data, its peak
    rates = []
    for lmu in conv.lmus:
        with conv.network:
            probe = nengo.Probe(lmu.hidden.neurons, "input")
        out, _ = conv.run(nengo.Simulator, net.inp, x, probe, parallel=N_RUN,
                          progress_bar=False)
        rates.append(out.max() / peak)
    # The first layer's current is exact (its sampled memory holds the
    # trained state; the host scaling and the scale are exact to rounding);
    # the second's reads the first's filtered spikes, whose noise it
    # carries (measured: 1023 Hz)
    assert rates[0] == pytest.approx(1.0, rel=1e-6)
    assert rates[1] == pytest.approx(1.0, abs=0.1)


def test_per_layer_rates_follow_the_rate_network_closer(uneven):
    # The decoded output of the converted stack at the end of every
    # presentation against the rate network's steps (deterministic: spiking
    # ReLU neurons, exact memories). Measured: relative error 0.233 with
    # each layer's own scale, 1.10 with the busiest layer's for both (the
    # first layer then fires at 58 Hz at most: about one spike per
    # presentation, noise as large as the signal)
    net, x, rate, _, convs = uneven
    errors = {}
    for name, conv in convs.items():
        out, _ = conv.run(nengo.Simulator, net.inp, x, net.probe, parallel=N_RUN,
                          progress_bar=False)
        errors[name] = relative_error(out, rate)
    print(errors)
    assert errors["per layer"] < 0.4
    assert errors["single"] > 2 * errors["per layer"]


@pytest.fixture(scope="module")
def keras_stack():
    """A keras-lmu 2-layer model (LMUFeedforward, then LMU, which picks
    LMUFeedforward itself), trained on the last step; converted through
    nengo_dl.Converter; Keras's outputs."""
    import keras_lmu  # noqa: PLC0415

    import nengo_lmu.converters  # noqa: PLC0415, F401  (registers the converters)

    x, y = conversion_task()
    x = x.astype("float32")
    tf.keras.utils.set_random_seed(0)
    inp = tf.keras.Input((STEPS, 1))
    h = keras_lmu.LMUFeedforward(1, 6, 16.0, tf.keras.layers.Dense(12, activation="relu"),
                                 return_sequences=True)(inp)
    h = keras_lmu.LMU(1, 4, 8.0, tf.keras.layers.Dense(12, activation="relu"),
                      input_to_hidden=True, return_sequences=False)(h)
    model = tf.keras.Model(inp, tf.keras.layers.Dense(2)(h))
    model.compile(optimizer=tf.optimizers.Adam(0.01), loss="mse")
    model.fit(x, y, epochs=30, verbose=0)
    assert isinstance(model.layers[2].layer, keras_lmu.LMUFeedforward)
    seq = nengo_lmu.converters.sequence_model(model)
    conv = nengo_dl.Converter(seq, temporal_model=True, allow_fallback=False)
    return conv.net, conv.inputs[seq.input], conv.outputs[seq.output], x, model.predict(x, verbose=0)


# Relative error of the last outputs against Keras's, as for the native stack
# (the converted network has the same structure: the second layer's memory
# reads the first's filtered spikes). Measured, each layer at its own
# scale: 0.068 on the reference simulator, 0.172 on the emulator (0.066 and
# 0.186 with one scale for both); the control (every window doubled) 0.57
# on the reference.
KERAS_BOUNDS = {"nengo": 0.15, "loihi": 0.3}


@pytest.mark.parametrize("kind", sorted(KERAS_BOUNDS))
def test_converted_keras_stack_follows_keras(keras_stack, kind):
    from nengo_lmu import loihi  # noqa: PLC0415
    from nengo_lmu.spiking import to_spiking  # noqa: PLC0415

    net, inp, probe, x, expected = keras_stack
    simulator, kwargs = ((nengo.Simulator, {}) if kind == "nengo"
                         else (loihi.Simulator, dict(target="sim")))
    assert len([n for n in net.all_networks if isinstance(n, nengo_lmu.LMU)]) == 2
    # rate neurons: Keras's outputs (float32 Keras against float64 Nengo)
    exact = to_spiking(net, 0.02, neuron_type=None)
    np.testing.assert_allclose(run_last(exact, nengo.Simulator, inp, probe, x),
                               expected[:N_RUN], atol=1e-5 * np.abs(expected).max())
    conv = to_spiking(net, 0.02, calibration=(inp, x), simulator=kind, progress_bar=False)
    error = relative_error(run_last(conv, simulator, inp, probe, x, **kwargs),
                           expected[:N_RUN])
    print(f"{kind}: {error:.4f}")
    assert error < KERAS_BOUNDS[kind]
    if kind == "nengo":  # the control: each window doubled, the same rates
        wrong = to_spiking(net, 0.02, dt_train=0.5, scale_firing_rates=conv.rate_scales)
        control = relative_error(run_last(wrong, simulator, inp, probe, x), expected[:N_RUN])
        print(f"control: {control:.4f}")
        assert control > KERAS_BOUNDS[kind]
