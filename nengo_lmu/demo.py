"""The whole pipeline in one run: build, train, convert, deploy, and report.

`run_demo` is what ``nengo-lmu demo`` runs (see `nengo_lmu.cli`), offline:

1. **memory**: band-limited white noise through a `.LegendreMemory`, exact
   and realised by spiking neurons (on the reference simulator and on the
   nengo-loihi emulator); its delay NRMSE, and the reconstruction of the
   whole delayed window :math:`u(t - r\\theta)` from the memory's state;
2. **train**: an `.LMU` with a ``RectifiedLinear`` hidden layer (or
   ``LIFRate``: both have spiking counterparts) and a dense readout,
   trained through NengoDL on psDigits (`.ps_digits`);
3. **rate**: the trained network's test accuracy in NengoDL;
4. **spiking**: the trained weights frozen into the network, converted with
   `.to_spiking` (each pixel held for ``presentation_time``), run on the
   reference simulator and on the nengo-loihi emulator.

It returns one row per stage (accuracy, delay NRMSE, wall time, neurons,
synaptic events) and writes PNG plots into the output folder.
"""

import dataclasses
import pathlib
import time
import warnings

import nengo
import numpy as np

from nengo_lmu.metrics import nrmse, synaptic_events

#: Stage names, in the order they run and are tabulated.
STAGES = (
    "memory, exact",
    "memory, neural (reference)",
    "memory, neural (Loihi emulator)",
    "train (NengoDL)",
    "rate (NengoDL)",
    "spiking (reference)",
    "spiking (Loihi emulator)",
)

#: The table's columns: (heading, key of a row, format).
COLUMNS = (
    ("stage", "stage", "{}"),
    ("accuracy", "accuracy", "{:.3f}"),
    ("digits", "digits", "{:d}"),
    ("agree", "agreement", "{:.3f}"),
    ("delay NRMSE", "delay_nrmse", "{:.3f}"),
    ("wall s", "seconds", "{:.1f}"),
    ("neurons", "neurons", "{:d}"),
    ("syn. events", "synaptic_events", "{:,.0f}"),
)

#: The PNG files the demo writes.
PLOTS = ("training.png", "memory_window.png", "memory_raster.png", "predictions.png")

#: How each ``neuron_type`` choice is trained (rate) and deployed (spiking).
NEURON_TYPES = {
    "relu": (nengo.RectifiedLinear, nengo.SpikingRectifiedLinear),
    "lif": (nengo.LIFRate, nengo.LIF),
}


@dataclasses.dataclass
class DemoSettings:
    """What the demo builds and how long it runs (``--quick``: `quick`).

    Attributes
    ----------
    order, theta, units : int, float, int
        The LMU: memory order, window (in steps of the 64-pixel sequence),
        hidden neurons.
    neuron_type : {"relu", "lif"}
        Hidden (and neural memory) neurons: ``RectifiedLinear`` trained,
        ``SpikingRectifiedLinear`` deployed; or ``LIFRate`` and ``LIF``.
    presentation_time : float
        Seconds each pixel is held for in the spiking network.
    seed : int
        Seed of the networks, initial weights and the input noise.
    epochs, batch, train_digits, test_digits, loihi_digits : int
        Training epochs and minibatch; digits trained on, tested (rate and
        reference simulator), and tested on the Loihi emulator.
    scale_firing_rates : float
        ReLU hidden neurons fire this many times faster when spiking (with
        spikes as much smaller): see `.to_spiking`.
    memory_order, memory_theta, memory_neurons, memory_time : int, float, int, float
        The memory stage: order, window (s), neurons per state, and seconds
        of white noise (the first ``memory_theta`` is not scored).
    memory_high, memory_rms : float
        Band limit (Hz) and RMS of the memory stage's white noise.
    memory_delay : float
        The delay NRMSE is that of :math:`u(t - r \\theta)` with ``r`` this.
    out : str
        Folder for the PNG plots.

    Every value is checked on construction, before any work starts: a bad
    one raises a `~nengo.exceptions.ValidationError` naming it.
    """

    order: int = 24
    theta: float = 64.0
    units: int = 64
    neuron_type: str = "relu"
    presentation_time: float = 0.02
    seed: int = 0
    epochs: int = 30
    batch: int = 64
    train_digits: int = 1344
    test_digits: int = 448
    loihi_digits: int = 64
    scale_firing_rates: float = 300.0
    memory_order: int = 6
    memory_theta: float = 1.0
    memory_neurons: int = 166
    memory_time: float = 6.0
    memory_high: float = 1.0
    memory_rms: float = 0.3
    memory_delay: float = 0.5
    out: str = "nengo_lmu_demo"

    #: The simulator time-step of the memory and spiking stages, in seconds.
    dt = 0.001

    def __post_init__(self):
        # pylint: disable=import-outside-toplevel
        from nengo.exceptions import ValidationError
        from nengo.params import EnumParam, StringParam

        from nengo_lmu.legendre import check_order
        from nengo_lmu.params import FiniteNumberParam, IntegerParam, check_param

        def positive(name, low=0, low_open=True, high=None):
            param = FiniteNumberParam(name, low=low, low_open=low_open, high=high)
            setattr(self, name, check_param(param, getattr(self, name), self))

        def refuse(name, message):
            raise ValidationError(message, attr=name, obj=self)

        # the LMU is trained stepping once per pixel (dt=1): theta is in steps
        self.order = check_order(self.order)
        self.memory_order = check_order(self.memory_order, attr="memory_order")
        positive("theta")
        if self.theta < 1:
            refuse("theta", f"{self.theta:g} is shorter than one step (one pixel): "
                   "the window is in steps, at least 1")
        positive("presentation_time")
        steps = self.presentation_time / self.dt
        if round(steps) < 1 or abs(steps - round(steps)) > 1e-6:
            refuse(
                "presentation_time",
                f"{self.presentation_time:g} is not a whole number of "
                f"{self.dt * 1000:g} ms simulator steps (at least one)",
            )
        for name in ("units", "epochs", "batch", "train_digits", "test_digits",
                     "loihi_digits", "memory_neurons"):
            setattr(self, name, check_param(IntegerParam(name, low=1), getattr(self, name), self))
        from nengo_lmu.networks.lmu import check_weights_fit

        check_weights_fit(self.units, self.order, input_to_hidden=True, obj=self)
        # NumPy's RandomState, which Nengo seeds with it, takes seeds below 2**32
        self.seed = check_param(IntegerParam("seed", low=0, high=2**32 - 1), self.seed, self)
        self.neuron_type = check_param(
            EnumParam("neuron_type", values=tuple(NEURON_TYPES)), self.neuron_type, self
        )
        for name in ("scale_firing_rates", "memory_high", "memory_rms"):
            positive(name)
        # the memory stage steps by dt, and scores what follows its first window
        positive("memory_theta", low=self.dt, low_open=False)
        positive("memory_time", low=self.memory_theta)
        positive("memory_delay", low=0, low_open=False, high=1)
        self.out = check_param(StringParam("out"), self.out, self)
        if not self.out:
            refuse("out", "must name a folder (got an empty string)")

    @classmethod
    def quick(cls, **kwargs):
        """Settings of a quick run: a small model, few epochs and test digits."""
        fast = dict(
            order=12,
            units=32,
            epochs=10,
            batch=32,
            test_digits=32,
            loihi_digits=16,
            memory_neurons=80,
            memory_time=2.0,
        )
        fast.update(kwargs)
        return cls(**fast)


def run_demo(settings, log=print):
    """Run every stage; returns ``(rows, plot paths)``.

    Parameters
    ----------
    settings : DemoSettings
    log : callable, optional
        Called with a line of progress at the start of each stage.

    Returns
    -------
    rows : list of dict
        One per entry of `STAGES`, with the keys of `COLUMNS` (None where a
        column does not apply).
    plots : list of pathlib.Path
        The PNG files written.
    """
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg")
    out = pathlib.Path(settings.out)
    out.mkdir(parents=True, exist_ok=True)
    rows, plots = [], []
    log(f"[1/4] Legendre memory: {settings.memory_time:g} s of white noise, "
        f"exact and neural ({settings.memory_neurons} neurons per state)")
    memory_rows, memory_plots = memory_stage(settings, out)
    rows += memory_rows
    plots += memory_plots
    log(f"[2/4] Training an LMU (order {settings.order}, theta {settings.theta:g} "
        f"steps, {settings.units} {settings.neuron_type} units) on psDigits "
        f"through NengoDL, {settings.epochs} epochs")
    net, data, train_rows, train_plot = train_stage(settings, out)
    rows += train_rows
    plots.append(train_plot)
    log(f"[3/4] Spiking inference on the reference simulator "
        f"({len(data['y'])} test digits, each pixel held "
        f"{settings.presentation_time * 1000:g} ms)")
    conv = convert(net, settings)
    reference_row, reference_out = spiking_stage(
        conv, net, nengo.Simulator, data, len(data["y"]), "spiking (reference)",
        parallel=32,
    )
    rows.append(reference_row)
    log(f"[4/4] Spiking inference on the Loihi emulator "
        f"({settings.loihi_digits} test digits)")
    from nengo_lmu import loihi  # pylint: disable=import-outside-toplevel

    n = min(settings.loihi_digits, len(data["y"]))
    loihi_row, loihi_out = spiking_stage(
        conv, net, loihi.Simulator, data, n,
        "spiking (Loihi emulator)", parallel=n, target="sim",
    )
    rows.append(loihi_row)
    plots.append(
        plot_predictions(out, data["rate"], reference_out[:, -1], loihi_out[:, -1])
    )
    for row in rows:
        for _, key, _ in COLUMNS:
            row.setdefault(key, None)
    return rows, plots


def format_table(rows):
    """The rows as one plain-text table (``-`` where a column does not apply)."""
    cells = [[heading for heading, _, _ in COLUMNS]]
    for row in rows:
        cells.append(
            ["-" if row[key] is None else fmt.format(row[key]) for _, key, fmt in COLUMNS]
        )
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]

    def line(values):
        return "  ".join(
            v.ljust(w) if i == 0 else v.rjust(w)
            for i, (v, w) in enumerate(zip(values, widths))
        )

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule] + [line(c) for c in cells[1:]])


# --- the memory ---------------------------------------------------------------


def memory_stage(settings, out):
    """Exact and neural memories of the same white noise; rows and plots."""
    from nengo_lmu import (  # pylint: disable=import-outside-toplevel
        LegendreMemory,
        legendre_readout,
    )
    from nengo_lmu import loihi  # pylint: disable=import-outside-toplevel

    s = settings
    spiking_type = NEURON_TYPES[s.neuron_type][1]
    order, theta, high, rms = s.memory_order, s.memory_theta, s.memory_high, s.memory_rms

    def build(target):
        with nengo.Network(seed=s.seed) as net:
            net.stim = nengo.Node(
                # seeded itself: nengo-loihi runs host processes in a
                # simulator of random seed, whatever the network's
                nengo.processes.WhiteSignal(
                    s.memory_time, high=high, rms=rms, y0=0, seed=s.seed
                )
            )
            net.exact = LegendreMemory(order, theta)
            net.neural = LegendreMemory(
                order, theta, n_neurons=s.memory_neurons, neuron_type=spiking_type(),
                synapse=0.1, input_high=high, input_rms=rms, target=target,
                **(loihi.MEMORY_KWARGS if target == "loihi" else {}),
            )
            nengo.Connection(net.stim, net.exact.input, synapse=None)
            nengo.Connection(net.stim, net.neural.input, synapse=None)
            net.p_u = nengo.Probe(net.stim)
            net.p_exact = nengo.Probe(net.exact.output)
            net.p_neural = nengo.Probe(net.neural.output)
            net.p_spikes = [nengo.Probe(e.neurons) for e in net.neural.state_ensembles]
        return net

    def run(net, simulator, **kwargs):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nengo-loihi's "tau_s is already set"
            with simulator(net, progress_bar=False, **kwargs) as sim:
                sim.run(s.memory_time)
        return sim, time.perf_counter() - start

    net = build("nengo")
    sim, seconds = run(net, nengo.Simulator)
    loihi_net = build("loihi")
    loihi_sim, loihi_seconds = run(loihi_net, loihi.Simulator, target="sim")

    # the delayed input u(t - r theta), r = memory_delay, read out of each
    # memory and compared with the input that simulator saw
    lag = int(round(s.memory_delay * theta / sim.dt))
    readout = legendre_readout(order, s.memory_delay)
    scored = slice(int(round(theta / sim.dt)), None)  # once the window is full

    def delay_nrmse(sim, net, probe):
        u = sim.data[net.p_u]
        delayed = np.vstack([np.zeros((lag, 1)), u[: len(u) - lag]])
        return nrmse((sim.data[probe] @ readout)[scored, None], delayed[scored])

    n_neurons = order * s.memory_neurons
    rows = [
        dict(stage=STAGES[0], delay_nrmse=delay_nrmse(sim, net, net.p_exact),
             seconds=seconds, neurons=0),
        dict(stage=STAGES[1], delay_nrmse=delay_nrmse(sim, net, net.p_neural),
             seconds=seconds, neurons=n_neurons,
             synaptic_events=synaptic_events(
                 net, sim, net.neural.state_ensembles, net.p_spikes)),
        dict(stage=STAGES[2], delay_nrmse=delay_nrmse(loihi_sim, loihi_net, loihi_net.p_neural),
             seconds=loihi_seconds, neurons=n_neurons,
             synaptic_events=synaptic_events(
                 loihi_net, loihi_sim, loihi_net.neural.state_ensembles,
                 loihi_net.p_spikes)),
    ]
    plots = [
        plot_memory_window(out, sim, net, settings),
        plot_raster(out, sim, net, settings),
    ]
    return rows, plots


def plot_memory_window(out, sim, net, settings):
    """The window ``u(t - r theta)``, r in [0, 1], at the end of the run, and
    one delayed signal over time: exact and neural reconstructions (on the
    reference simulator)."""
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    from nengo_lmu import legendre_readout  # pylint: disable=import-outside-toplevel

    order, theta = settings.memory_order, settings.memory_theta
    u = sim.data[net.p_u][:, 0]
    lag = int(round(theta / sim.dt))
    r = np.linspace(0, 1, 200)
    decoders = legendre_readout(order, r)  # (200, order)
    t_end = len(u) - 1
    true_window = u[t_end - np.round(r * lag).astype(int)]
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 4))
    ax0.plot(r * theta, true_window, "k", lw=2, label="input u(t - r theta)")
    ax0.plot(r * theta, decoders @ sim.data[net.p_exact][t_end], label="exact memory")
    ax0.plot(r * theta, decoders @ sim.data[net.p_neural][t_end], label="neural")
    ax0.set_xlabel("delay r theta (s)")
    ax0.set_title(f"window held by the memory at t = {sim.trange()[-1]:.2f} s")
    ax0.legend(fontsize=8)
    r0 = settings.memory_delay
    readout = legendre_readout(order, r0)
    delay = int(round(r0 * lag))
    t = sim.trange()
    ax1.plot(t[delay:], u[: len(u) - delay], "k", lw=2, label=f"u(t - {r0:g} theta)")
    ax1.plot(t, sim.data[net.p_exact] @ readout, label="exact memory")
    ax1.plot(t, sim.data[net.p_neural] @ readout, label="neural")
    ax1.set_xlabel("time (s)")
    ax1.set_title(f"delayed input (order {order}, theta {theta:g} s)")
    ax1.legend(fontsize=8)
    return _save_figure(fig, out, "memory_window.png")


def plot_raster(out, sim, net, settings, per_ensemble=15):
    """Spikes of a few neurons of each memory-state ensemble."""
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    t = sim.trange()
    fig, ax = plt.subplots(figsize=(10, 5))
    row = 0
    for i, probe in enumerate(net.p_spikes):
        spikes = sim.data[probe][:, :per_ensemble] > 0
        for j in range(spikes.shape[1]):
            times = t[spikes[:, j]]
            ax.plot(times, np.full_like(times, row), "|", color=f"C{i % 10}", ms=3)
            row += 1
    ax.set_yticks(np.arange(len(net.p_spikes)) * per_ensemble + per_ensemble / 2)
    ax.set_yticklabels([f"m{i}" for i in range(len(net.p_spikes))])
    ax.set_xlabel("time (s)")
    ax.set_title(
        f"memory spikes: {per_ensemble} of {settings.memory_neurons} neurons per state "
        "(reference simulator)"
    )
    return _save_figure(fig, out, "memory_raster.png")


# --- training and deployment -----------------------------------------------------


def build_classifier(settings):
    """input -> LMU -> dense readout of 10 classes, configured for NengoDL."""
    from nengo_lmu import lmu_model  # pylint: disable=import-outside-toplevel

    rate_type, _ = NEURON_TYPES[settings.neuron_type]
    return lmu_model(
        10, seed=settings.seed, settings=dict(stateful=False, keep_history=False),
        units=settings.units, order=settings.order, theta=settings.theta,
        input_to_hidden=True, hidden_neuron_type=rate_type(),
    )


def train_stage(settings, out):
    """Train on psDigits; returns the network (trained values frozen in), the
    test data with the rate predictions, the train and rate rows, the plot."""
    import nengo_dl  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    import nengo_lmu.dl  # pylint: disable=import-outside-toplevel
    from nengo_lmu.datasets import ps_digits  # pylint: disable=import-outside-toplevel

    s = settings
    x_train, y_train, x_test, y_test = ps_digits(split_seed=s.seed)
    n_train = min(s.train_digits, len(x_train)) // s.batch * s.batch
    n_test = min(s.test_digits, len(x_test)) // s.batch * s.batch
    if n_train == 0 or n_test == 0:
        raise ValueError(
            f"train and test digits must be at least one minibatch ({s.batch})"
        )
    x_train, y_train = x_train[:n_train], y_train[:n_train]
    x_test, y_test = x_test[:n_test], y_test[:n_test]
    steps = x_train.shape[1]
    unroll = nengo_lmu.dl.RECOMMENDED_UNROLL
    unroll = unroll if steps % unroll == 0 else 1
    tf.random.set_seed(s.seed)
    net = build_classifier(s)
    start = time.perf_counter()
    with nengo_dl.Simulator(
        net, dt=1.0, minibatch_size=s.batch, unroll_simulation=unroll,
        progress_bar=True, seed=s.seed,
    ) as sim:
        sim.compile(
            optimizer=tf.optimizers.Adam(3e-3),
            loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        history = sim.fit(
            {net.inp: x_train}, {net.probe: y_train[:, None, None]},
            validation_data=({net.inp: x_test}, {net.probe: y_test[:, None, None]}),
            epochs=s.epochs, verbose=2,
        )
        train_seconds = time.perf_counter() - start
        start = time.perf_counter()
        rate = sim.predict({net.inp: x_test}, verbose=0)[net.probe][:, -1]
        rate_seconds = time.perf_counter() - start
        sim.freeze_params(net)
    train_accuracy = history.history["probe_accuracy"][-1]
    rows = [
        dict(stage=STAGES[3], accuracy=float(train_accuracy), digits=int(n_train),
             seconds=train_seconds, neurons=s.units),
        dict(stage=STAGES[4], accuracy=float(np.mean(rate.argmax(-1) == y_test)),
             digits=int(n_test), seconds=rate_seconds, neurons=s.units),
    ]
    data = dict(x=x_test, y=y_test, rate=rate)
    return net, data, rows, plot_training(out, history.history)


def plot_training(out, history):
    """Loss and accuracy per epoch (training set, and test set as validation)."""
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 4))
    ax0.plot(epochs, history["loss"], "o-", label="train")
    ax0.plot(epochs, history["val_loss"], "o-", label="test")
    ax0.set_ylabel("cross-entropy loss")
    ax1.plot(epochs, history["probe_accuracy"], "o-", label="train")
    ax1.plot(epochs, history["val_probe_accuracy"], "o-", label="test")
    ax1.set_ylabel("accuracy")
    for ax in (ax0, ax1):
        ax.set_xlabel("epoch")
        ax.legend()
    fig.suptitle("psDigits training through NengoDL")
    return _save_figure(fig, out, "training.png")


def convert(net, settings):
    """The trained network converted to spiking inference (`.to_spiking`)."""
    from nengo_lmu.spiking import to_spiking  # pylint: disable=import-outside-toplevel

    scale = settings.scale_firing_rates if settings.neuron_type == "relu" else 1.0
    with warnings.catch_warnings():
        # copying the network re-validates its passthrough nodes
        warnings.filterwarnings("ignore", message=".*Node.size_out.*")
        return to_spiking(
            net, presentation_time=settings.presentation_time, scale_firing_rates=scale
        )


def spiking_stage(conv, net, simulator, data, n, stage, parallel, **sim_kwargs):
    """Run the converted network on the first ``n`` test digits; its row
    (with the agreement of its predictions with the rate network's) and
    outputs."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nengo-loihi's build warnings
        outputs, spikes = conv.run(
            simulator, conv.find(net.inp, net), data["x"][:n], conv.find(net.probe, net),
            parallel=parallel, **sim_kwargs,
        )
    seconds = time.perf_counter() - start
    (lmu,) = conv.lmus
    pred = outputs[:, -1].argmax(-1)
    row = dict(
        stage=stage,
        accuracy=float(np.mean(pred == data["y"][:n])),
        digits=int(n),
        agreement=float(np.mean(pred == data["rate"][:n].argmax(-1))),
        seconds=seconds,
        neurons=lmu.units,
        # per digit, summed over the spiking populations
        synaptic_events=float(
            sum(v for k, v in spikes[0].items() if k.endswith("synaptic_events"))
        ),
    )
    return row, outputs


def plot_predictions(out, rate, reference, loihi):
    """Final outputs of the rate network against the spiking networks'."""
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4.5))
    n = len(loihi)
    ax0.plot(rate.ravel(), reference.ravel(), ".", ms=3, alpha=0.5,
             label="reference simulator")
    ax0.plot(rate[:n].ravel(), loihi.ravel(), ".", ms=3, alpha=0.5,
             label="Loihi emulator")
    lims = [rate.min(), rate.max()]
    ax0.plot(lims, lims, "k--", lw=1)
    ax0.set_xlabel("rate network output (NengoDL)")
    ax0.set_ylabel("spiking network output")
    ax0.set_title("all 10 outputs after the last pixel")
    ax0.legend()
    k = min(n, 16)
    idx = np.arange(k)
    ax1.plot(idx, rate[:k].argmax(-1), "ks", ms=9, mfc="none", label="rate")
    ax1.plot(idx, reference[:k].argmax(-1), "o", label="spiking, reference")
    ax1.plot(idx, loihi[:k].argmax(-1), "x", ms=8, label="spiking, Loihi emulator")
    ax1.set_xlabel("test digit")
    ax1.set_ylabel("predicted class")
    ax1.set_yticks(range(10))
    ax1.set_title("predictions")
    ax1.legend(fontsize=8)
    return _save_figure(fig, out, "predictions.png")


def _save_figure(fig, out, name):
    """Write ``fig`` to ``out / name`` and close it; returns the path."""
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    fig.tight_layout()
    path = out / name
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
