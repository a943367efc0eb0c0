"""benchmarks/: every command-line option is checked as it is parsed.

A bad value (zero or negative counts, NaN or infinite times and rates,
seeds NumPy refuses, unknown datasets, a value given twice, a results
folder that is a file) ends the script at once with argparse's one-line
error naming the option and exit status 2, before any training; so does an
option that ``--tiny`` sets. Only the parsers run here (each script's
``arguments``), never a benchmark.
"""

import sys

import pytest
from test_benchmarks import BENCHMARKS, SCRIPTS, VARIANTS, load_benchmark

#: one worker builds this file's module-scoped fixtures once (``--dist loadgroup``)
pytestmark = pytest.mark.xdist_group(__name__)

#: ``(script, arguments, the option the error must name)``: each must be refused
REFUSED = [
    # train_speed.py
    ("train_speed", ["--threads", "2"], "--threads"),
    ("train_speed", ["--threads", "2,1,1"], "--threads"),
    ("train_speed", ["--threads", "2,x"], "--threads"),
    ("train_speed", ["--threads", "0,1"], "--threads"),
    ("train_speed", ["--threads", "2,-1"], "--threads"),
    ("train_speed", ["--threads", ""], "--threads"),
    ("train_speed", ["--rounds", "0"], "--rounds"),
    ("train_speed", ["--rounds", "-2"], "--rounds"),
    ("train_speed", ["--rounds", "1.5"], "--rounds"),
    ("train_speed", ["--steps", "0"], "--steps"),
    ("train_speed", ["--batch", "0"], "--batch"),
    ("train_speed", ["--batch", "32", "-1"], "--batch"),
    ("train_speed", ["--batch", "32", "32"], "--batch"),
    ("train_speed", ["--configs", "nope"], "--configs"),
    ("train_speed", ["--configs", "paper", "paper"], "--configs"),
    ("train_speed", ["--tiny", "--results", "r", "--batch", "4"], "--batch"),
    ("train_speed", ["--tiny", "--results", "r", "--rounds", "1"], "--rounds"),
    ("train_speed", ["--tiny", "--results", "r", "--steps", "1"], "--steps"),
    # parallel_convolution.py
    ("parallel_convolution", ["--rounds", "0"], "--rounds"),
    ("parallel_convolution", ["--rounds", "-1"], "--rounds"),
    ("parallel_convolution", ["--rounds", "nan"], "--rounds"),
    ("parallel_convolution", ["--tiny", "--results", "r", "--rounds", "2"], "--rounds"),
    # loihi_rates.py
    ("loihi_rates", ["--rates", "0"], "--rates"),
    ("loihi_rates", ["--rates", "-250"], "--rates"),
    ("loihi_rates", ["--rates", "nan"], "--rates"),
    ("loihi_rates", ["--rates", "inf"], "--rates"),
    ("loihi_rates", ["--rates", "fast"], "--rates"),
    ("loihi_rates", ["--rates", "500", "500.0"], "--rates"),
    ("loihi_rates", ["--rates", "1000", "1000.0000001"], "--rates"),  # both "1000 Hz"
    ("loihi_rates", ["--seeds", "-1"], "--seeds"),
    ("loihi_rates", ["--seeds", str(2**32)], "--seeds"),
    ("loihi_rates", ["--seeds", "0", "0"], "--seeds"),
    ("loihi_rates", ["--tiny", "--results", "r", "--seeds", "0"], "--seeds"),
    # psdigits.py
    ("psdigits", ["--epochs", "0"], "--epochs"),
    ("psdigits", ["--epochs", "-5"], "--epochs"),
    ("psdigits", ["--seeds", "-1"], "--seeds"),
    ("psdigits", ["--seeds", "1", "2", "1"], "--seeds"),
    ("psdigits", ["--tiny", "--results", "r", "--seeds", "0"], "--seeds"),
    ("psdigits", ["--params", __file__], "--params"),
    ("psdigits", ["--params", f"{__file__}/below"], "--params"),
    ("psdigits", ["--params", ""], "--params"),
    ("psdigits", ["--tiny", "--results", "r", "--epochs", "1"], "--epochs"),
    # psdigits_spiking.py
    ("psdigits_spiking", ["--presentation", "0"], "--presentation"),
    ("psdigits_spiking", ["--presentation", "nan"], "--presentation"),
    ("psdigits_spiking", ["--presentation", "-1"], "--presentation"),
    ("psdigits_spiking", ["--presentation", "inf"], "--presentation"),
    # (to_spiking's dt is 1 ms: a presentation is whole steps of it)
    ("psdigits_spiking", ["--presentation", "0.0005"], "--presentation"),
    ("psdigits_spiking", ["--presentation", "0.0215"], "--presentation"),
    ("psdigits_spiking", ["--epochs", "0"], "--epochs"),
    ("psdigits_spiking", ["--defaults-digits", "0"], "--defaults-digits"),
    ("psdigits_spiking", ["--seeds", "x"], "--seeds"),
    ("psdigits_spiking", ["--tiny", "--results", "r", "--seeds", "1"], "--seeds"),
    ("psdigits_spiking", ["--tiny", "--results", "r", "--epochs", "2"], "--epochs"),
    ("psdigits_spiking", ["--tiny", "--results", "r", "--defaults-digits", "4"],
     "--defaults-digits"),
    # ucr.py
    ("ucr", ["--presentation", "0"], "--presentation"),
    ("ucr", ["--presentation", "nan"], "--presentation"),
    ("ucr", ["--presentation", "-1"], "--presentation"),
    ("ucr", ["--presentation", "1e-4"], "--presentation"),
    ("ucr", ["--test", "0"], "--test"),
    ("ucr", ["--jobs", "0"], "--jobs"),
    ("ucr", ["--jobs", "-1"], "--jobs"),
    ("ucr", ["--train", "0"], "--train"),
    ("ucr", ["--seeds", "-1"], "--seeds"),
    ("ucr", ["--seeds", "0", "0"], "--seeds"),
    ("ucr", ["--datasets", "Nope"], "--datasets"),
    ("ucr", ["--datasets", "arrowhead"], "--datasets"),  # (names are case-sensitive)
    ("ucr", ["--datasets", "ArrowHead", "ArrowHead"], "--datasets"),
    ("ucr", ["--tiny", "--results", "r", "--datasets", "ArrowHead"], "--datasets"),
    ("ucr", ["--tiny", "--results", "r", "--datasets"], "--datasets"),
    ("ucr", ["--tiny", "--results", "r", "--seeds", "0"], "--seeds"),
    ("ucr", ["--tiny", "--results", "r", "--test", "4"], "--test"),
    ("ucr", ["--tiny", "--results", "r", "--train", "16"], "--train"),
    ("ucr", ["--layers", "0"], "--layers"),
    ("ucr", ["--layers", "-1"], "--layers"),
    ("ucr", ["--layers", "2.5"], "--layers"),
    ("ucr", ["--layers", "two"], "--layers"),
    ("ucr", ["--layers", ""], "--layers"),
    # ucr_seeds.py
    ("ucr_seeds", ["--jobs", "0"], "--jobs"),
    ("ucr_seeds", ["--train", "-3"], "--train"),
    ("ucr_seeds", ["--seeds", "3", "3"], "--seeds"),
    ("ucr_seeds", ["--seeds", str(2**32)], "--seeds"),
    ("ucr_seeds", ["--datasets", "Nope"], "--datasets"),
    ("ucr_seeds", ["--tiny", "--results", "r", "--datasets", "BasicMotions"], "--datasets"),
    ("ucr_seeds", ["--tiny", "--results", "r", "--seeds", "0"], "--seeds"),
    ("ucr_seeds", ["--tiny", "--results", "r", "--train", "8"], "--train"),
    ("ucr_seeds", ["--layers", "0"], "--layers"),
]


@pytest.fixture(scope="module")
def benchmark():
    """``benchmark(name)``: ``benchmarks/NAME.py`` loaded once (they import
    ``common`` and each other from benchmarks/)."""
    loaded = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(BENCHMARKS))

        def get(name):
            if name not in loaded:
                loaded[name] = load_benchmark(name)
            return loaded[name]

        yield get


def parse(module, argv):
    """``module.arguments(argv)``'s options (ucr's give their parser too)."""
    parsed = module.arguments(argv)
    return parsed[1] if isinstance(parsed, tuple) else parsed


def assert_refused(module, argv, option, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse(module, argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    # argparse's usage, then one line naming the option
    assert " error: " in err[-1] and option in err[-1], err
    assert sum(" error: " in line for line in err) == 1, err


@pytest.mark.parametrize(("script", "argv", "option"), REFUSED,
                         ids=[f"{s}:{' '.join(a)}" for s, a, _ in REFUSED])
def test_bad_option_refused(benchmark, script, argv, option, capsys):
    assert_refused(benchmark(script), argv, option, capsys)


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_results_folder_checked(benchmark, script, tmp_path, monkeypatch, capsys):
    module = benchmark(script[: -len(".py")])
    a_file = tmp_path / "results.json"
    a_file.write_text("{}")
    assert_refused(module, ["--results", str(a_file)], "--results", capsys)
    assert_refused(module, ["--results", ""], "--results", capsys)
    assert_refused(module, ["--results", str(a_file / "below")], "--results", capsys)
    assert_refused(module, ["--no-such-option"], "--no-such-option", capsys)
    # the environment's folder is checked alike, and named
    monkeypatch.setenv("NENGO_LMU_RESULTS", str(a_file))
    assert_refused(benchmark(script[: -len(".py")]), [], "NENGO_LMU_RESULTS", capsys)


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_tiny_runs_still_parse(benchmark, script):
    # every command line of test_benchmarks.py's tiny runs is accepted
    module = benchmark(script[: -len(".py")])
    variants = [options for s, *options in VARIANTS.values() if s == script]
    for options in [[], *variants]:
        args = parse(module, ["--tiny", "--results", "results", *options, *SCRIPTS[script]])
        assert args.tiny and args.results == "results"


def test_good_options_parse(benchmark, tmp_path):
    args = parse(benchmark("train_speed"), ["--threads", "2,1", "--batch", "8", "16",
                                            "--rounds", "2", "--steps", "1"])
    assert args.threads == (2, 1) and args.batch == [8, 16]
    assert (args.rounds, args.steps) == (2, 1)
    # an option --tiny sets, left out, keeps its default (main then replaces it)
    args = parse(benchmark("train_speed"), ["--tiny", "--results", "r", "--threads", "1,1"])
    assert (args.batch, args.rounds, args.steps) == ([32, 100], 3, 4)
    args = parse(benchmark("loihi_rates"), ["--rates", "800", "62.5", "--seeds", "3"])
    assert args.rates == [800.0, 62.5] and args.seeds == [3]
    args = parse(benchmark("psdigits_spiking"), ["--tiny", "--results", "r",
                                                 "--presentation", "0.05"])
    assert args.presentation == 0.05 and args.epochs == 40
    assert parse(benchmark("ucr"), ["--presentation", "0.001"]).presentation == 0.001
    args = parse(benchmark("ucr"), ["--datasets", "GunPoint", "ArrowHead", "--test", "3",
                                    "--seeds", str(2**32 - 1)])
    assert args.datasets == ["GunPoint", "ArrowHead"] and args.test == 3
    assert args.seeds == [2**32 - 1]
    assert parse(benchmark("ucr"), ["--datasets"]).datasets == []  # only the anchors
    assert parse(benchmark("ucr_seeds"), []).datasets is None  # run_settings' default
    args = parse(benchmark("psdigits"), ["--params", str(tmp_path / "new")])
    assert args.params == tmp_path / "new"


def test_main_refuses_before_any_work(benchmark, monkeypatch, capsys, tmp_path):
    # main() itself stops at parsing: what would train or time is never
    # reached (nor, were it, would anything be written outside tmp_path)
    def never(*args, **kwargs):
        raise AssertionError("a benchmark ran")

    safe = ["--results", str(tmp_path / "results")]
    for script, work, argv in [
        ("train_speed", "time_models", ["--threads", "2"]),
        ("loihi_rates", "run", ["--rates", "0"]),
        ("ucr", "retained_energies", ["--presentation", "nan"]),
        ("psdigits", "train", ["--params", str(tmp_path / "out"), "--tiny", "--epochs", "3"]),
        ("parallel_convolution", "time_lengths", ["--rounds", "0"]),
    ]:
        module = benchmark(script)
        monkeypatch.setattr(module, work, never)
        monkeypatch.setattr(sys, "argv", [f"{script}.py", *safe, *argv])
        with pytest.raises(SystemExit) as exit_info:
            module.main()
        assert exit_info.value.code == 2
        assert argv[-2] in capsys.readouterr().err.strip().splitlines()[-1]
    assert not (tmp_path / "out").exists() and not (tmp_path / "results").exists()
