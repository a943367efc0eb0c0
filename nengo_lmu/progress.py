"""Progress of long runs, shown with Nengo's progress bars.

A ``progress_bar`` argument takes ``nengo.Simulator``'s convention: True for
the default bar (`nengo.utils.progress.get_default_progressbar`, which
``nengo.rc`` configures), False or None for none, or a
`~nengo.utils.progress.ProgressBar`. Nengo's default redraws one line with
carriage returns, whether or not its output is a terminal: written to a file
or a log, that is a run of overwritten updates, which many log viewers show
as a line each. So where standard output is not a terminal, the default
becomes `LinesProgressBar` instead: a few whole lines.
"""

import sys

from nengo.exceptions import ValidationError
from nengo.utils.progress import (
    AutoProgressBar,
    Progress,
    ProgressBar,
    ProgressTracker,
    TerminalProgressBar,
    timestamp2timedelta,
    to_progressbar,
)

from nengo_lmu.params import IntegerParam, check_param


class LinesProgressBar(ProgressBar):
    """Progress as a few whole lines, for output that is not a terminal.

    Writes a line to standard output as the progress passes each of
    ``lines - 1`` evenly spaced marks (its percentage and ETA), and one when
    it ends (how long it took): at most ``lines`` lines, however long the
    run and however often it is updated.

    Parameters
    ----------
    lines : int, optional
        The most lines written.
    """

    def __init__(self, lines=4):
        super().__init__()
        self.lines = check_param(IntegerParam("lines", low=1), lines)
        self._marks = 0  # marks passed (and written)
        self._ended = False

    def update(self, progress):
        if progress.finished:
            if not self._ended:  # a tracker's thread may report the end again
                self._ended = True
                verb = "stopped after" if progress.success is False else "finished in"
                elapsed = timestamp2timedelta(progress.elapsed_seconds())
                self._write(f"{progress.name_after} {verb} {elapsed}.")
            return
        mark = int(progress.progress * self.lines)
        if self._marks < mark < self.lines:
            self._marks = mark
            self._write(
                f"{progress.name_during}... {100 * progress.progress:.0f}%, "
                f"ETA: {timestamp2timedelta(progress.eta())}"
            )

    @staticmethod
    def _write(line):
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def on_terminal():
    """Whether standard output is a terminal (not a file, pipe or capture)."""
    try:
        return bool(sys.stdout.isatty())
    except (AttributeError, ValueError):  # none, or closed
        return False


def as_progress_bar(progress_bar):
    """``progress_bar`` (True, False, None or a ProgressBar) as a ProgressBar.

    As `nengo.utils.progress.to_progressbar`, except that Nengo's default
    terminal bar becomes a `LinesProgressBar` (shown as late, after the same
    ``min_eta``) where standard output is not a terminal. Anything else is
    refused, naming ``progress_bar``.
    """
    if not (
        progress_bar is True
        or progress_bar is False
        or progress_bar is None
        or isinstance(progress_bar, ProgressBar)
    ):
        raise ValidationError(
            "must be True (the default progress bar), False or None (none), or a "
            f"nengo.utils.progress.ProgressBar (got {progress_bar!r})",
            attr="progress_bar",
        )
    bar = to_progressbar(progress_bar)
    if (
        progress_bar is True
        and isinstance(bar, AutoProgressBar)
        and type(bar.delegate) is TerminalProgressBar
        and not on_terminal()
    ):
        bar = AutoProgressBar(LinesProgressBar(), min_eta=bar.min_eta)
    return bar


def tracker(progress_bar, name, max_steps):
    """A `~nengo.utils.progress.ProgressTracker` of ``max_steps`` steps named
    ``name``, shown on `as_progress_bar` ``(progress_bar)``.

    Use it in a ``with`` statement and advance it with
    ``tracker.total_progress.step(n)``; it reports the end (and closes the
    bar) on leaving.
    """
    return ProgressTracker(
        as_progress_bar(progress_bar), Progress(name, max_steps=max(int(max_steps), 1))
    )


def plural(n, what="sequence"):
    """``"1 sequence"``, ``"2 sequences"``: a count for a progress label."""
    return f"{n} {what}{'' if n == 1 else 's'}"
