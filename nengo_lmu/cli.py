"""The ``nengo-lmu`` console command (also ``python -m nengo_lmu``).

``nengo-lmu demo`` runs the whole pipeline offline (`nengo_lmu.demo`) and
prints one table; ``nengo-lmu demo --quick`` does it with a small model,
few epochs and few test digits. It says first roughly how long it will take
(`nengo_lmu.demo.estimate_seconds`), then shows its progress: a line per
stage, and a progress bar over each long one (a few lines when standard
output is not a terminal).
Bad options print one line, ``nengo-lmu: error: ...``, and exit with status
2: every option is checked (`.DemoSettings`, and ``--out`` against the file
system) before any work starts. A failure inside the pipeline prints one
line and exits with status 1. TensorFlow's notice that TensorRT is missing
(printed while NengoDL imports it, whatever ``TF_CPP_MIN_LOG_LEVEL`` says)
is left out: TensorRT serves GPU inference, which the demo does not use.
"""

import argparse
import contextlib
import errno
import math
import os
import sys
import tempfile
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
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if not (value >= 0 if zero else value > 0):
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
                      "(default 24; --quick 12); one whose matrices cannot fit in "
                      "this machine's memory is refused")
    demo.add_argument("--theta", type=_positive(float),
                      help="LMU window in steps (pixels; at least 1; default 64)")
    demo.add_argument("--units", type=_positive(int),
                      help="hidden neurons (default 64; --quick 32)")
    demo.add_argument("--neuron-type", choices=("relu", "lif"),
                      help="hidden and memory neurons: relu (RectifiedLinear, "
                      "spiking as SpikingRectifiedLinear; default) or lif "
                      "(LIFRate, spiking as LIF)")
    demo.add_argument("--presentation-time", type=_positive(float),
                      help="seconds each pixel is held for when spiking (a whole "
                      "number, at least 1, of 1 ms steps; default 0.02)")
    demo.add_argument("--epochs", type=_positive(int),
                      help="training epochs (default 30; --quick 10)")
    demo.add_argument("--seed", type=_positive(int, zero=True),
                      help="seed, an integer from 0 to 2**32 - 1 (default 0)")
    demo.add_argument("--out", metavar="FOLDER",
                      help="folder for the PNG plots, made if needed (default "
                      "nengo_lmu_demo)")
    return parser


def _settings(parser, args):
    """The demo's settings, every value checked (`.DemoSettings`) before any work.

    A value `.DemoSettings` refuses is reported as the option that gave it.
    """
    # pylint: disable=import-outside-toplevel
    from nengo.exceptions import ValidationError

    from nengo_lmu.demo import DemoSettings

    given = {
        name: getattr(args, name)
        for name in ("order", "theta", "units", "neuron_type", "presentation_time",
                     "epochs", "seed", "out")
        if getattr(args, name) is not None
    }
    try:
        return DemoSettings.quick(**given) if args.quick else DemoSettings(**given)
    except ValidationError as error:
        option = f"--{error.attr.replace('_', '-')}"
        value = given.get(error.attr, "(default)")
        parser.error(f"{option} {value}: {' '.join(str(error.args[0]).split())}")
    return None  # not reached: parser.error exits


def _check(parser, settings):
    """Option values that only the file system can judge: ``--out`` must be a
    folder this process can make and write into (probed with a temporary
    file in it, or in the deepest folder of its path that exists)."""
    out = os.path.abspath(settings.out)
    if os.path.exists(out) and not os.path.isdir(out):
        parser.error(f"--out {settings.out!r} exists and is not a folder")
    existing = out
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    try:
        if not os.path.isdir(existing):
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        parser.error(
            f"--out {settings.out!r} cannot be written: {error.strerror} ({existing})"
        )


#: Lines of standard error that `main` leaves out: nothing a user of the
#: demo can act on.
HIDDEN_NOTICES = ("TF-TRT Warning: Could not find TensorRT",)


@contextlib.contextmanager
def _without_notices(notices=HIDDEN_NOTICES):
    """Standard error (file descriptor 2, where TensorFlow's C++ logs go)
    held back, then written out without the lines that contain one of
    ``notices``; everything else, Python's warnings included, still shows."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            text = held.read().decode(errors="replace")
            sys.stderr.write(
                "".join(
                    line for line in text.splitlines(keepends=True)
                    if not any(notice in line for notice in notices)
                )
            )
            sys.stderr.flush()


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
    settings = _settings(args.command_parser, args)
    _check(args.command_parser, settings)

    level = os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # pylint: disable=import-outside-toplevel
    from nengo.exceptions import NengoException

    from nengo_lmu.demo import format_legend, format_table, run_demo

    with _without_notices():
        import nengo_dl  # noqa: F401  (imports TensorFlow, and logs the notice)
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = level  # NengoDL sets its own

    start = time.perf_counter()
    try:
        rows, plots = run_demo(settings, log=lambda line: print(line, flush=True))
    except (NengoException, ValueError, *_tensorflow_errors()) as error:
        message = " ".join(str(error).split())  # TensorFlow's span lines
        print(f"nengo-lmu: error: {type(error).__name__}: {message}", file=sys.stderr)
        return 1
    print()
    print(f"nengo_lmu demo{' --quick' if args.quick else ''}: psDigits, an LMU of "
          f"order {settings.order}, theta {settings.theta:g} steps,")
    print(f"{settings.units} {settings.neuron_type} units, each pixel held "
          f"{settings.presentation_time * 1000:g} ms when spiking. The columns:")
    print(format_legend(settings))
    print()
    print(format_table(rows))
    print(f"\nplots in {os.path.abspath(settings.out)}: "
          + ", ".join(p.name for p in plots))
    print(f"total {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
