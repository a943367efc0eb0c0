"""The whole pipeline in one run: build, train, convert, deploy, and report.

`run_demo` is what ``nengo-lmu demo`` runs (see `nengo_lmu.cli`), offline:

1. **memory**: band-limited white noise through a `.LegendreMemory`, and
   through the same Legendre system realised by spiking neurons
   (`memory_network`: a `.LinearNetwork` in a balanced basis, the layout the
   library recommends for Loihi) on the reference simulator and on the
   nengo-loihi emulator; its delay NRMSE, and the reconstruction of the
   whole delayed window :math:`u(t - r\\theta)` from the memory's state;
2. **train**: an `.LMU` with a ``RectifiedLinear`` hidden layer (or
   ``LIFRate``: both have spiking counterparts) and a dense readout,
   trained through NengoDL on psDigits (`.ps_digits`);
3. **rate**: the trained network's test accuracy in NengoDL;
4. **spiking**: the trained weights frozen into the network, converted with
   `.to_spiking` (each pixel held for ``presentation_time``), run on the
   reference simulator and on the nengo-loihi emulator.

It returns one row per stage (`COLUMNS`: accuracy, delay NRMSE, wall time,
neurons, synaptic events) and writes PNG plots into the output folder. Every
test row (rate and both spiking ones) scores the same ``test_digits`` test
digits; the training row scores the training digits, and says so. Long work
(training, each spiking stage) shows a progress bar (`nengo_lmu.progress`):
a redrawn line on a terminal, a few lines otherwise.
"""

import contextlib
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

#: The table's columns: (heading, key of a row, format, legend); a format
#: may name other keys of the row (``split``: which digits were scored). A count's
#: heading names its unit: synaptic events are counted over the memory's whole
#: run (memory rows) or per digit (LMU rows), in columns of their own.
COLUMNS = (
    ("stage", "stage", "{}", None),
    ("accuracy", "accuracy", "{:.3f}",
     "share of the digits classified right (chance: 0.1)"),
    ("digits", "digits", "{:,d} {split}",
     "digits scored: the same test digits in every test row; train: training digits"),
    ("agree", "agreement", "{:.3f}",
     "share of the digits where the spiking net picks the rate net's class"),
    ("delay NRMSE", "delay_nrmse", "{:.3f}",
     "error of the input delayed by {delay:g} theta, read out of the memory"),
    ("wall s", "seconds", "{:.1f}", "seconds the stage took, build and run"),
    ("neurons", "neurons", "{:,d}", "neurons of the memory; hidden units of the LMU"),
    ("syn. events/run", "synaptic_events_run", "{:,.0f}",
     "synaptic events (spikes x fan-out) in the memory's {time:g} s run"),
    ("syn. events/digit", "synaptic_events_digit", "{:,.0f}",
     "synaptic events of the spiking LMU per test digit (mean)"),
    ("J/run (Loihi)", "energy_run", "{:.2g}",
     "Loihi's dynamic energy for the memory's {time:g} s run (nengo_lmu.cost)"),
    ("J/digit (Loihi)", "energy_digit", "{:.2g}",
     "Loihi's dynamic energy per test digit, host memory priced as CPU operations"),
)

#: The units of the count columns (each heading names its own).
COUNT_UNITS = {
    "digits": "digits",
    "neurons": "neurons",
    "synaptic_events_run": "/run",
    "synaptic_events_digit": "/digit",
    "energy_run": "/run",
    "energy_digit": "/digit",
}

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
    epochs, batch, train_digits, test_digits : int
        Training epochs and minibatch; digits trained on, and tested on: the
        same test digits score the rate network and both spiking ones.
    scale_firing_rates : float
        ReLU hidden neurons fire this many times faster when spiking (with
        spikes as much smaller): see `.to_spiking`.
    memory_order, memory_theta, memory_neurons, memory_time : int, float, int, float
        The memory stage: order, window (s), neurons per state, and seconds
        of white noise (the first ``memory_theta`` is not scored).
    memory_high, memory_rms : float
        Band limit (Hz) and RMS of the memory stage's white noise.
    memory_synapse : float
        Time constant (s) of the neural memory's Lowpass synapses.
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
    scale_firing_rates: float = 300.0
    memory_order: int = 6
    memory_theta: float = 1.0
    memory_neurons: int = 166
    memory_time: float = 6.0
    memory_high: float = 1.0
    memory_rms: float = 0.3
    memory_synapse: float = 0.1
    memory_delay: float = 0.5
    out: str = "nengo_lmu_demo"

    #: The simulator time-step of the memory and spiking stages, in seconds.
    dt = 0.001

    def __post_init__(self):
        # pylint: disable=import-outside-toplevel
        from nengo.exceptions import ValidationError
        from nengo.params import EnumParam, StringParam

        from nengo_lmu.legendre import check_order
        from nengo_lmu.params import FiniteNumberParam, IntegerParam, check_param, check_seed
        from nengo_lmu.system import whole_steps

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
        whole_steps(self.presentation_time, self.dt, "presentation_time", self)
        for name in ("units", "epochs", "batch", "train_digits", "test_digits",
                     "memory_neurons"):
            setattr(self, name, check_param(IntegerParam(name, low=1), getattr(self, name), self))
        from nengo_lmu.networks.lmu import check_weights_fit

        check_weights_fit(self.units, self.order, input_to_hidden=True, obj=self)
        self.seed = check_seed(self.seed)
        self.neuron_type = check_param(
            EnumParam("neuron_type", values=tuple(NEURON_TYPES)), self.neuron_type, self
        )
        for name in ("scale_firing_rates", "memory_high", "memory_rms", "memory_synapse"):
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
            memory_neurons=80,
            memory_time=2.0,
        )
        fast.update(kwargs)
        return cls(**fast)


#: Rough costs, in seconds, of the demo's work, for `estimate_seconds`: read
#: off quick runs on a busy 2-core CPU, so the order of magnitude, not a promise.
COSTS = dict(
    fixed=30.0,  # imports, building the networks, TensorFlow's first graph
    memory=0.03,  # per neuron-second of memory, both simulators together
    train=1.2e-5,  # per digit and step of an epoch
    spiking=4.5e-5,  # per hidden unit and simulator step of a test digit, both simulators
)


def estimate_seconds(settings):
    """Roughly how long `run_demo` takes with ``settings``, in seconds.

    A cost model of the work each stage does (neuron-seconds of memory,
    training steps, spiking simulator steps) with the rough unit costs of
    `COSTS`: it tells a quick run from a full one, not the minute.
    """
    s = settings
    steps = 64  # psDigits' pixels per digit
    memory = s.memory_time * s.memory_order * s.memory_neurons
    train = s.epochs * s.train_digits * steps
    spiking = s.test_digits * steps * round(s.presentation_time / s.dt) * s.units
    return (
        COSTS["fixed"] + COSTS["memory"] * memory + COSTS["train"] * train
        + COSTS["spiking"] * spiking
    )


def describe_seconds(seconds):
    """``seconds`` in rough words: "about 2 minutes", "about 1.5 hours"."""
    minutes = seconds / 60
    if minutes < 1.5:
        return "about a minute"
    if minutes < 90:
        return f"about {minutes:.0f} minutes"
    return f"about {minutes / 60:.1f} hours"


def run_demo(settings, log=print, progress_bar=True):
    """Run every stage; returns ``(rows, plot paths)``.

    Parameters
    ----------
    settings : DemoSettings
    log : callable, optional
        Called with a line of progress: the expected duration, then the
        start of each stage.
    progress_bar : bool or nengo.utils.progress.ProgressBar, optional
        Progress of the long stages (training, each spiking stage), as
        ``nengo.Simulator`` takes it (`nengo_lmu.progress`): True, the
        default bar (a redrawn line on a terminal, a few lines otherwise);
        False, none.

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
    log(f"Expect {describe_seconds(estimate_seconds(settings))} in all (a rough "
        "guess from these settings; longer on a busy machine).")
    log(f"[1/4] Legendre memory: {settings.memory_time:g} s of white noise, "
        f"exact and neural ({settings.memory_neurons} neurons per state)")
    memory_rows, memory_plots = memory_stage(settings, out)
    rows += memory_rows
    plots += memory_plots
    log(f"[2/4] Training an LMU (order {settings.order}, theta {settings.theta:g} "
        f"steps, {settings.units} {settings.neuron_type} units) on psDigits "
        f"through NengoDL, {settings.epochs} epochs")
    net, data, train_rows, train_plot = train_stage(settings, out, progress_bar)
    rows += train_rows
    plots.append(train_plot)
    n = len(data["y"])
    log(f"[3/4] Spiking inference on the reference simulator "
        f"({n} test digits, each pixel held "
        f"{settings.presentation_time * 1000:g} ms)")
    # the host inputs' range from a sample of the training inputs and the test
    # inputs it will run (inputs only, no labels): the scale it sets is folded
    # into the hidden weights exactly and the firing rates come from
    # scale_firing_rates, so it changes no output but whether a value is
    # clipped on Loihi's link (the training inputs alone leave a test digit
    # 0.2% beyond the range)
    conv = convert(
        net, settings, calibration=np.concatenate([data["x_train"][:256], data["x"]])
    )
    reference_row, reference_out = spiking_stage(
        conv, net, nengo.Simulator, data, "spiking (reference)",
        parallel=32, progress_bar=progress_bar,
    )
    rows.append(reference_row)
    log(f"[4/4] Spiking inference on the Loihi emulator (the same {n} test digits)")
    from nengo_lmu import loihi  # pylint: disable=import-outside-toplevel

    loihi_row, loihi_out = spiking_stage(
        conv, net, loihi.Simulator, data, "spiking (Loihi emulator)",
        parallel=64, progress_bar=progress_bar, target="sim",
    )
    rows.append(loihi_row)
    plots.append(
        plot_predictions(
            out, data["rate"], reference_out[:, -1], loihi_out[:, -1], data["y"]
        )
    )
    for row in rows:
        for _, key, _, _ in COLUMNS:
            row.setdefault(key, None)
    return rows, plots


def format_legend(settings):
    """What each column of `format_table` means: a line per column."""
    width = max(len(heading) for heading, _, _, legend in COLUMNS if legend)
    return "\n".join(
        f"  {heading.ljust(width)}  "
        + legend.format(delay=settings.memory_delay, time=settings.memory_time)
        for heading, _, _, legend in COLUMNS
        if legend
    )


def format_table(rows):
    """The rows as one plain-text table (``-`` where a column does not apply)."""
    cells = [[heading for heading, _, _, _ in COLUMNS]]
    for row in rows:
        cells.append(
            ["-" if row[key] is None else fmt.format(row[key], **row)
             for _, key, fmt, _ in COLUMNS]
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


def memory_network(settings, simulator):
    """White noise into an exact `.LegendreMemory` and a neural one, probed.

    The neural memory realises the same Legendre system (``C = I``: its
    output is the memory's state, which `.legendre_readout` reads) as a
    `.LinearNetwork` of spiking neurons in a balanced basis normalised by
    RMS (``RMS(basis=Balanced())``), laid out for ``simulator`` ("nengo" or
    "loihi"; on Loihi with `nengo_lmu.loihi.MEMORY_KWARGS`' tuning and
    radius). The Legendre coordinates themselves, fed a band as low as
    ``1 / theta``, excite the high-order states so unevenly that their
    recurrent transforms outgrow Loihi's 8-bit weights
    (`.LargeTransformWarning`); the balanced basis spreads the input evenly
    over the states, so the same synapse keeps them small.
    """
    # pylint: disable=import-outside-toplevel
    from nengo_lmu import LegendreMemory, LinearNetwork, LinearSystem, legendre_memory
    from nengo_lmu.realizers import RMS, RMS_PER_RADIUS, Balanced

    s = settings
    order, theta, high, rms = s.memory_order, s.memory_theta, s.memory_high, s.memory_rms
    A, B = legendre_memory(order, theta)
    system = LinearSystem((A, B, np.eye(order), np.zeros((order, 1))))
    if simulator == "loihi":
        from nengo_lmu.loihi import MEMORY_KWARGS

        radius_rms, tuning = MEMORY_KWARGS["radius_rms"], MEMORY_KWARGS["ensemble_kwargs"]
    else:
        radius_rms, tuning = RMS_PER_RADIUS, None
    with nengo.Network(seed=s.seed) as net:
        net.stim = nengo.Node(
            # seeded itself: nengo-loihi runs host processes in a
            # simulator of random seed, whatever the network's
            nengo.processes.WhiteSignal(s.memory_time, high=high, rms=rms, y0=0, seed=s.seed)
        )
        net.exact = LegendreMemory(order, theta)
        net.neural = LinearNetwork(
            system, s.memory_neurons, synapse=s.memory_synapse, dt=s.dt,
            realizer=RMS(radius_rms, basis=Balanced()), input_high=high, input_rms=rms,
            neuron_type=NEURON_TYPES[s.neuron_type][1](), simulator=simulator,
            ensemble_kwargs=tuning, label="neural memory",
        )
        nengo.Connection(net.stim, net.exact.input, synapse=None)
        nengo.Connection(net.stim, net.neural.input, synapse=None)
        net.p_u = nengo.Probe(net.stim)
        net.p_exact = nengo.Probe(net.exact.output)
        net.p_neural = nengo.Probe(net.neural.output)
        net.p_spikes = [nengo.Probe(e.neurons) for e in net.neural.state_ensembles]
    return net


@contextlib.contextmanager
def quiet_nengo_loihi():
    """nengo-loihi's notes on its own build hidden (weight bits lost to
    rounding, ``tau_s`` already set, voltages starting at zero, its emulator's
    NaN-filled integer arrays): nothing a user of the demo can act on.
    Warnings of nengo_lmu (such as `.HostInputSaturationWarning`) still show.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="nengo_loihi")
        warnings.filterwarnings(
            "ignore", message="invalid value encountered in cast", category=RuntimeWarning
        )
        yield


def memory_stage(settings, out):
    """Exact and neural memories of the same white noise; rows and plots."""
    from nengo_lmu import legendre_readout  # pylint: disable=import-outside-toplevel
    from nengo_lmu import loihi  # pylint: disable=import-outside-toplevel

    s = settings
    order, theta = s.memory_order, s.memory_theta

    def run(net, simulator, **kwargs):
        start = time.perf_counter()
        with quiet_nengo_loihi():
            with simulator(net, progress_bar=False, **kwargs) as sim:
                sim.run(s.memory_time)
        return sim, time.perf_counter() - start

    net = memory_network(s, "nengo")
    sim, seconds = run(net, nengo.Simulator)
    loihi_net = memory_network(s, "loihi")
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
    steps = int(round(s.memory_time / sim.dt))

    def energy_run(events):
        """Loihi's joules for ``events`` synaptic events and every neuron
        updated each step (keras-spiking's figures; None without it)."""
        try:
            from nengo_lmu.cost import device_energy  # pylint: disable=import-outside-toplevel

            loihi = device_energy("loihi")
        except ImportError:
            return None
        return events * loihi["energy_per_synop"] + n_neurons * steps * loihi[
            "energy_per_neuron"]

    rows = [
        dict(stage=STAGES[0], delay_nrmse=delay_nrmse(sim, net, net.p_exact),
             seconds=seconds, neurons=0),
        dict(stage=STAGES[1], delay_nrmse=delay_nrmse(sim, net, net.p_neural),
             seconds=seconds, neurons=n_neurons,
             synaptic_events_run=synaptic_events(
                 net, sim, net.neural.state_ensembles, net.p_spikes)),
        dict(stage=STAGES[2], delay_nrmse=delay_nrmse(loihi_sim, loihi_net, loihi_net.p_neural),
             seconds=loihi_seconds, neurons=n_neurons,
             synaptic_events_run=synaptic_events(
                 loihi_net, loihi_sim, loihi_net.neural.state_ensembles,
                 loihi_net.p_spikes)),
    ]
    for row in rows[1:]:
        row["energy_run"] = energy_run(row["synaptic_events_run"])
    plots = [
        plot_memory_window(out, sim, net, settings),
        plot_raster(out, sim, net, settings),
    ]
    return rows, plots


def plot_memory_window(out, sim, net, settings):
    """The window ``u(t - r theta)``, r in [0, 1], at the end of the run, and
    one delayed signal over time: exact and neural reconstructions (the
    neural one on the reference simulator, as the legends say)."""
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
    ax0.plot(r * theta, decoders @ sim.data[net.p_neural][t_end],
             label="neural memory (reference simulator)")
    ax0.set_xlabel("delay r theta (s)")
    ax0.set_ylabel("input value, and its reconstruction")
    ax0.set_title(f"window held by the memory at t = {sim.trange()[-1]:.2f} s")
    ax0.legend(fontsize=8)
    r0 = settings.memory_delay
    readout = legendre_readout(order, r0)
    delay = int(round(r0 * lag))
    t = sim.trange()
    ax1.plot(t[delay:], u[: len(u) - delay], "k", lw=2, label=f"u(t - {r0:g} theta)")
    ax1.plot(t, sim.data[net.p_exact] @ readout, label="exact memory")
    ax1.plot(t, sim.data[net.p_neural] @ readout,
             label="neural memory (reference simulator)")
    ax1.set_xlabel("time (s)")
    ax1.set_ylabel(f"u(t - {r0:g} theta), and its reconstruction")
    ax1.set_title(f"delayed input (order {order}, theta {theta:g} s)")
    ax1.legend(fontsize=8)
    return _save_figure(fig, out, "memory_window.png")


def plot_raster(out, sim, net, settings, per_ensemble=15):
    """Spikes of a few neurons of each memory-state ensemble (the states of
    the balanced basis the neural memory is realised in)."""
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
    ax.set_yticklabels([f"x{i}" for i in range(len(net.p_spikes))])
    ax.set_ylabel("state (balanced basis)")
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


def train_stage(settings, out, progress_bar=True):
    """Train on psDigits; returns the network (trained values frozen in), the
    test data with the rate predictions, the train and rate rows, the plot.

    Progress is one bar over the epochs (``progress_bar``, as `run_demo`
    takes it) instead of Keras' lines per epoch; NengoDL's own bars (a
    dozen for each graph it builds) only on a terminal.
    """
    # pylint: disable=import-outside-toplevel
    import nengo_dl
    import tensorflow as tf

    import nengo_lmu.dl
    from nengo_lmu.datasets import ps_digits
    from nengo_lmu.progress import on_terminal, tracker

    class EpochProgress(tf.keras.callbacks.Callback):
        """Steps a progress tracker at the end of each epoch."""

        def __init__(self, progress):
            super().__init__()
            self.progress = progress

        def on_epoch_end(self, epoch, logs=None):
            self.progress.total_progress.step()

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
    with warnings.catch_warnings():
        # NengoDL's "No GPU support detected": the demo runs where it is
        warnings.filterwarnings("ignore", message="No GPU support detected")
        sim = nengo_dl.Simulator(
            net, dt=1.0, minibatch_size=s.batch, unroll_simulation=unroll,
            progress_bar=progress_bar is not False and on_terminal(), seed=s.seed,
        )
    with sim, tracker(progress_bar, "Training", s.epochs) as progress:
        sim.compile(
            optimizer=tf.optimizers.Adam(3e-3),
            loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        history = sim.fit(
            {net.inp: x_train}, {net.probe: y_train[:, None, None]},
            validation_data=({net.inp: x_test}, {net.probe: y_test[:, None, None]}),
            epochs=s.epochs, verbose=0, callbacks=[EpochProgress(progress)],
        )
        train_seconds = time.perf_counter() - start
        start = time.perf_counter()
        rate = sim.predict({net.inp: x_test}, verbose=0)[net.probe][:, -1]
        rate_seconds = time.perf_counter() - start
        sim.freeze_params(net)
    train_accuracy = history.history["probe_accuracy"][-1]
    rows = [
        dict(stage=STAGES[3], accuracy=float(train_accuracy), digits=int(n_train),
             split="train", seconds=train_seconds, neurons=s.units),
        dict(stage=STAGES[4], accuracy=float(np.mean(rate.argmax(-1) == y_test)),
             digits=int(n_test), split="test", seconds=rate_seconds, neurons=s.units),
    ]
    data = dict(x=x_test, y=y_test, rate=rate, x_train=x_train)
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


def convert(net, settings, calibration=None):
    """The trained network converted to spiking inference (`.to_spiking`).

    ``calibration`` (inputs, ``(n, 64, 1)``) scales what the host sends the
    hidden layer into [-1, 1], the range Loihi's host-to-chip link carries
    (else it warns, `.HostInputSaturationWarning`, and clips). The scale is
    folded into the hidden weights, exactly: it changes no output, only
    whether a value is clipped. The
    firing rates come from ``scale_firing_rates``, not from a simulator's
    peak rate, so the conversion suits both simulators it runs on.
    """
    from nengo_lmu.spiking import to_spiking  # pylint: disable=import-outside-toplevel

    scale = settings.scale_firing_rates if settings.neuron_type == "relu" else 1.0
    with warnings.catch_warnings():
        # copying the network re-validates its passthrough nodes
        warnings.filterwarnings("ignore", message=".*Node.size_out.*")
        return to_spiking(
            net, presentation_time=settings.presentation_time, scale_firing_rates=scale,
            calibration=None if calibration is None else (net.inp, calibration),
            progress_bar=False,
        )


def spiking_stage(conv, net, simulator, data, stage, parallel, progress_bar=True,
                  **sim_kwargs):
    """Run the converted network on every test digit (the ones the rate network
    scored); its row (with the agreement of its predictions with the rate
    network's) and outputs."""
    n = len(data["y"])
    start = time.perf_counter()
    with quiet_nengo_loihi():
        outputs, spikes = conv.run(
            simulator, conv.find(net.inp, net), data["x"], conv.find(net.probe, net),
            parallel=min(parallel, n), progress_bar=progress_bar, **sim_kwargs,
        )
    seconds = time.perf_counter() - start
    (lmu,) = conv.lmus
    pred = outputs[:, -1].argmax(-1)
    row = dict(
        stage=stage,
        accuracy=float(np.mean(pred == data["y"])),
        digits=int(n),
        split="test",
        agreement=float(np.mean(pred == data["rate"].argmax(-1))),
        seconds=seconds,
        neurons=lmu.units,
        # per digit (conv.run's mean), summed over the spiking populations
        synaptic_events_digit=float(
            sum(v for k, v in spikes[0].items() if k.endswith("synaptic_events"))
        ),
        # conv.run's cost report (nengo_lmu.cost.InferenceCost), per digit
        energy_digit=_loihi_energy(spikes),
    )
    return row, outputs


def _loihi_energy(cost):
    """Joules per inference on Loihi of a run's cost report; None without
    keras-spiking (the ``energy`` extra), whose figures it uses."""
    try:
        return cost.energy("loihi")
    except ImportError:
        return None


def plot_predictions(out, rate, reference, loihi, labels):
    """Final outputs of the rate network against the spiking networks', and the
    first test digits' predictions against their true labels (wrong ones in red)."""
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 4.5))
    ax0.plot(rate.ravel(), reference.ravel(), ".", ms=3, alpha=0.5,
             label="reference simulator")
    ax0.plot(rate.ravel(), loihi.ravel(), ".", ms=3, alpha=0.5, label="Loihi emulator")
    lims = [rate.min(), rate.max()]
    ax0.plot(lims, lims, "k--", lw=1)
    ax0.set_xlabel("rate network output (NengoDL)")
    ax0.set_ylabel("spiking network output")
    ax0.set_title("all 10 outputs after the last pixel")
    ax0.legend()
    k = min(len(labels), 16)
    idx = np.arange(k)
    ax1.plot(idx, labels[:k], "_", color="0.6", ms=22, mew=6, label="true label")
    shown = [("rate", rate, "s", -0.25), ("spiking, reference", reference, "o", 0),
             ("spiking, Loihi emulator", loihi, "^", 0.25)]
    for name, outputs, marker, offset in shown:
        pred = outputs[:k].argmax(-1)
        right = pred == labels[:k]
        ax1.plot(idx[right] + offset, pred[right], marker, color="C2", ms=7,
                 label=f"{name}: right")
        ax1.plot(idx[~right] + offset, pred[~right], marker, color="C3", ms=7,
                 mfc="none", mew=2, label=f"{name}: wrong")
    ax1.set_xlabel("test digit (markers left to right: rate, reference, Loihi emulator)")
    ax1.set_ylabel("class")
    ax1.set_xticks(idx)
    ax1.set_yticks(range(10))
    ax1.set_ylim(-0.7, 9.7)
    ax1.set_title(f"predictions of the first {k} test digits: green right, red wrong")
    ax1.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return _save_figure(fig, out, "predictions.png")


def _save_figure(fig, out, name):
    """Write ``fig`` to ``out / name`` and close it; returns the path."""
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    fig.tight_layout()
    path = out / name
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
