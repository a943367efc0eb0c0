"""The ``nengo-lmu`` console command (also ``python -m nengo_lmu``).

``nengo-lmu demo`` runs the whole pipeline offline (`nengo_lmu.demo`) and
prints one table; ``nengo-lmu demo --quick`` does it with a small model,
few epochs and few test digits.
Bad options print one line, ``nengo-lmu: error: ...``, and exit with status
2; a failure inside the pipeline prints one line and exits with status 1.
"""

import argparse
import os
import sys
import time

from nengo_lmu.version import version


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block)."""

    def error(self, message):
        self.exit(2, f"nengo-lmu: error: {message} (see {self.prog} --help)\n")


def _positive(kind, zero=False):
    """An argparse type: a positive ``kind`` (or non-negative, with ``zero``)."""

    def convert(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a{'n integer' if kind is int else ' number'}"
            ) from None
        if not (value >= 0 if zero else value > 0) or value != value:  # NaN
            raise argparse.ArgumentTypeError(
                f"{text!r} is not {'non-negative' if zero else 'positive'}"
            )
        return value

    convert.__name__ = f"{'non-negative' if zero else 'positive'} {kind.__name__}"
    return convert


def make_parser():
    """The argument parser of ``nengo-lmu``."""
    parser = _Parser(
        prog="nengo-lmu",
        description="Legendre Memory Units as Nengo networks.",
    )
    parser.add_argument("--version", action="version", version=f"nengo_lmu {version}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    demo = commands.add_parser(
        "demo",
        help="build, train, convert and deploy an LMU; print a table, write plots",
        description=(
            "Run the whole pipeline offline: a Legendre memory of white noise (exact "
            "and spiking), an LMU trained through NengoDL on psDigits, run as a rate "
            "network, as a spiking network on the reference simulator and on the "
            "nengo-loihi emulator. Prints one table and writes PNG plots."
        ),
    )
    demo.set_defaults(command_parser=demo)  # for errors found after parsing
    demo.add_argument("--quick", action="store_true",
                      help="a small model, few epochs and few test digits")
    demo.add_argument("--order", type=_positive(int), help="LMU memory order "
                      "(default 24; --quick 12)")
    demo.add_argument("--theta", type=_positive(float),
                      help="LMU window in steps (pixels; default 64)")
    demo.add_argument("--units", type=_positive(int),
                      help="hidden neurons (default 64; --quick 32)")
    demo.add_argument("--neuron-type", choices=("relu", "lif"),
                      help="hidden and memory neurons: relu (RectifiedLinear, "
                      "spiking as SpikingRectifiedLinear; default) or lif "
                      "(LIFRate, spiking as LIF)")
    demo.add_argument("--presentation-time", type=_positive(float),
                      help="seconds each pixel is held for when spiking (a whole "
                      "number of 1 ms steps; default 0.02)")
    demo.add_argument("--epochs", type=_positive(int),
                      help="training epochs (default 30; --quick 10)")
    demo.add_argument("--seed", type=_positive(int, zero=True),
                      help="seed, a non-negative integer (default 0)")
    demo.add_argument("--out", metavar="FOLDER",
                      help="folder for the PNG plots (default nengo_lmu_demo)")
    return parser


def _settings(args):
    # pylint: disable=import-outside-toplevel
    from nengo_lmu.demo import DemoSettings

    given = {
        name: getattr(args, name)
        for name in ("order", "theta", "units", "neuron_type", "presentation_time",
                     "epochs", "seed", "out")
        if getattr(args, name) is not None
    }
    return DemoSettings.quick(**given) if args.quick else DemoSettings(**given)


def _check(parser, settings):
    """Option values that argparse cannot judge alone."""
    steps = settings.presentation_time / 0.001
    if abs(steps - round(steps)) > 1e-6:
        parser.error(
            f"--presentation-time {settings.presentation_time:g} is not a whole "
            "number of 1 ms simulator steps"
        )
    if os.path.exists(settings.out) and not os.path.isdir(settings.out):
        parser.error(f"--out {settings.out!r} exists and is not a folder")


def _tensorflow_errors():
    """TensorFlow's own error type, if the pipeline imported TensorFlow."""
    tf = sys.modules.get("tensorflow")
    return (tf.errors.OpError,) if tf is not None else ()


def main(argv=None):
    """Run ``nengo-lmu`` with ``argv`` (default ``sys.argv[1:]``); the exit status."""
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    settings = _settings(args)
    _check(args.command_parser, settings)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # pylint: disable=import-outside-toplevel
    from nengo.exceptions import NengoException

    from nengo_lmu.demo import format_table, run_demo

    start = time.perf_counter()
    try:
        rows, plots = run_demo(settings, log=lambda line: print(line, flush=True))
    except (NengoException, ValueError, *_tensorflow_errors()) as error:
        message = " ".join(str(error).split())  # TensorFlow's span lines
        print(f"nengo-lmu: error: {type(error).__name__}: {message}", file=sys.stderr)
        return 1
    print()
    print(f"nengo_lmu demo{' --quick' if args.quick else ''}: psDigits "
          f"(order {settings.order}, theta {settings.theta:g}, {settings.units} "
          f"{settings.neuron_type} units, {settings.presentation_time * 1000:g} ms "
          "per pixel). agree: share of digits where a spiking network predicts the "
          "rate network's class; synaptic events per digit (spiking LMU) or per "
          "run (memory)")
    print(format_table(rows))
    print(f"\nplots in {os.path.abspath(settings.out)}: "
          + ", ".join(p.name for p in plots))
    print(f"total {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
