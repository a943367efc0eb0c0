"""benchmarks/: every script runs in its tiny configuration and writes its results.

The tiny runs (``--tiny``: one seed, short runs, few samples) show that a
script still works end to end, not its figures: their results, written into
the folder given by ``--results``, must have the layout of the published
``benchmarks/results/NAME.json`` (every key the docs tabulate, finite numbers
where it has numbers) once there is one, and finite numbers in any case.
"""

import hashlib
import importlib.util
import json
import math
import numbers
import os
import pathlib
import subprocess
import sys

import pytest

BENCHMARKS = pathlib.Path(__file__).parents[1] / "benchmarks"
PUBLISHED = BENCHMARKS / "results"

#: script -> extra arguments of its tiny run (in tmp_path)
SCRIPTS = {
    "delay_network.py": [],
    "loihi_delay_network.py": [],
    "loihi_lmu.py": [],
    "loihi_rates.py": [],
    "parallel_convolution.py": [],
    "psdigits.py": ["--params", "out"],
    "psdigits_spiking.py": [],
    "reduced_delay.py": [],
    "train_speed.py": [],
    "ucr.py": ["--jobs", "2"],  # through the pool of processes
    "ucr_seeds.py": ["--jobs", "2"],
}


def load_benchmark(name):
    """``benchmarks/NAME.py`` as a module (one that imports ``common`` needs
    benchmarks/ on ``sys.path``)."""
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def layout_errors(tiny, published, path=""):
    """Where ``tiny`` lacks a key of ``published``, or holds another kind of value."""
    if isinstance(published, dict):
        if not isinstance(tiny, dict):
            return [f"{path}: {tiny!r} is not an object"]
        return [
            error
            for key, value in published.items()
            for error in (
                layout_errors(tiny[key], value, f"{path}/{key}")
                if key in tiny
                else [f"{path}/{key}: missing"]
            )
        ]
    if isinstance(published, list):
        if not isinstance(tiny, list) or (published and not tiny):
            return [f"{path}: {tiny!r} is not a list like {published[:2]!r}"]
        return layout_errors(tiny[0], published[0], f"{path}[0]") if published else []
    if isinstance(published, numbers.Number) and not isinstance(published, bool):
        number = isinstance(tiny, numbers.Number) and not isinstance(tiny, bool)
        return [] if number and math.isfinite(tiny) else [f"{path}: {tiny!r} is not a number"]
    return [] if type(tiny) is type(published) else [f"{path}: {tiny!r} vs {published!r}"]


#: results files a script writes under another name, with the options that do
VARIANTS = {
    "psdigits_parallel.json": ("psdigits.py", "--parallel"),
    "ucr_per_step.json": ("ucr.py", "--per-step"),
    "ucr_seeds_per_step.json": ("ucr_seeds.py", "--per-step"),
    "ucr_channels.json": ("ucr.py", "--channel-memories"),
    "ucr_channels_per_step.json": ("ucr.py", "--channel-memories", "--per-step"),
    "ucr_seeds_channels.json": ("ucr_seeds.py", "--channel-memories"),
}


def test_every_benchmark_is_tested():
    scripts = sorted(p.name for p in BENCHMARKS.glob("*.py") if p.name != "common.py")
    assert scripts == sorted(SCRIPTS)
    # every published results file has its script
    assert {p.name for p in PUBLISHED.glob("*.json")} <= {
        name.replace(".py", ".json") for name in SCRIPTS
    } | set(VARIANTS)


@pytest.mark.parametrize("results", sorted(VARIANTS))
def test_benchmark_variant_tiny(results, tmp_path):
    script, *options = VARIANTS[results]
    check_tiny(script, results[: -len(".json")], tmp_path, *options)


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_benchmark_tiny(script, tmp_path):
    check_tiny(script, script[: -len(".py")], tmp_path)


def check_tiny(script, name, tmp_path, *options):
    """``script --tiny OPTIONS`` writes ``NAME.json`` laid out as the published
    one, into the folder it is given only."""
    published = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in PUBLISHED.glob("*")}
    # the environment's folder is not the one asked for: --results must win
    env = dict(
        os.environ, TF_CPP_MIN_LOG_LEVEL="2", MPLBACKEND="Agg",
        NENGO_LMU_RESULTS=str(tmp_path / "env"),
    )
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--tiny", "--results", "results",
         *options, *SCRIPTS[script]],
        capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in published} == published
    assert not (tmp_path / "env").exists()

    data = json.loads((tmp_path / "results" / f"{name}.json").read_text())
    assert isinstance(data, dict) and data and layout_errors(data, data) == []
    if name.startswith("psdigits"):
        assert [run["seed"] for run in data["runs"]] == [0]
    if name == "psdigits":
        assert (tmp_path / "out" / "psdigits_seed0.npz").stat().st_size > 0
    if name.startswith("ucr"):  # the option did what the file's name says
        assert data["config"]["readout"] == ("mean" if name.endswith("per_step") else "last")
        assert data["config"]["seeds"] == [0]
        channels = data["config"]["model"].get("memory_d") == "input_d"
        assert channels == ("_channels" in name)
    if not (PUBLISHED / f"{name}.json").exists():
        return  # a new benchmark, not run at full size yet: nothing to compare with
    reference = json.loads((PUBLISHED / f"{name}.json").read_text())
    if name == "train_speed":  # batches by size: the tiny run times one batch of 4
        assert list(data["batches"]) == ["4"]
        reference["batches"] = {"4": reference["batches"]["32"]}
    if name == "parallel_convolution":  # by length: the tiny run times two short ones
        assert list(data["lengths"]) == ["16", "40"]
        reference["lengths"] = {k: reference["lengths"]["100"] for k in data["lengths"]}
    if name.startswith("ucr"):  # by dataset: the tiny run has one, laid out like the full one's
        meta = ("benchmark", "config", "seconds", "published", "retained_energy")
        (tiny_set,) = [k for k in data if k not in meta]
        full_sets = [k for k in reference if k not in meta]
        first_full = reference[full_sets[0]]
        reference = {k: v for k, v in reference.items() if k not in full_sets}
        reference[tiny_set] = first_full
        if not name.startswith("ucr_seeds"):  # (ucr_seeds: rate runs, on every test series)
            assert list(data["retained_energy"]) == [tiny_set]
            reference["retained_energy"] = {tiny_set: reference["retained_energy"][tiny_set]}
            # the spiking test series: all (None) in full runs, a few in the tiny one
            assert data[tiny_set]["test_series"] == 4
            reference[tiny_set] = dict(first_full, test_series=4)
    if isinstance(reference.get("config"), dict):
        # a tiny run's settings differ in value by design; it must record
        # the same settings
        assert set(reference["config"]) <= set(data["config"])
        reference = {k: v for k, v in reference.items() if k != "config"}
    assert layout_errors(data, reference) == []
    if "benchmark" in reference:  # summarised over seeds: one seed
        assert data["benchmark"] == name and data["config"]["seeds"] == [0]

        def per_seed(tree):  # every list of per-seed figures, at any depth
            if isinstance(tree, dict):
                if "per_seed" in tree:
                    yield tree["per_seed"]
                for key, value in tree.items():
                    if key != "config":
                        yield from per_seed(value)

        lists = list(per_seed(data))
        assert lists and all(len(values) == 1 for values in lists)


def test_write_results_folder(tmp_path, monkeypatch):
    common = load_benchmark("common")
    monkeypatch.setenv(common.ENV, str(tmp_path / "env"))
    common.write_results("a", {"x": 1.5})
    common.write_results("b", {"y": [1, 2]}, str(tmp_path / "given"))
    assert json.loads((tmp_path / "env" / "a.json").read_text()) == {"x": 1.5}
    assert json.loads((tmp_path / "given" / "b.json").read_text()) == {"y": [1, 2]}
    monkeypatch.delenv(common.ENV)
    assert common.parse_args(common.argument_parser("doc"), []).results is None
    # a tiny run would replace the published results: it must name a folder
    with pytest.raises(SystemExit):
        common.parse_args(common.argument_parser("doc"), ["--tiny"])
    args = common.parse_args(common.argument_parser("doc"), ["--tiny", "--results", "d"])
    assert args.tiny and args.results == "d"


def test_ucr_per_step_targets_and_scores(monkeypatch):
    # what --per-step trains on and reads: labels at every step, the mean of
    # the readout over the series (refused for a readout of the last step only)
    import numpy as np  # pylint: disable=import-outside-toplevel

    monkeypatch.syspath_prepend(str(BENCHMARKS))
    ucr = load_benchmark("ucr")
    y = np.array([2, 0])
    assert np.array_equal(ucr.labels(y, 3, per_step=False), y)
    assert np.array_equal(ucr.labels(y, 3, per_step=True), [[2, 2, 2], [0, 0, 0]])
    out = np.zeros((2, 3, 4))
    out[0, :, 1] = [0, 0, 3]  # the last step says 1
    out[0, :, 2] = [2, 2, 0]  # the mean says 2
    assert list(ucr.scores(out, per_step=False).argmax(-1)) == [1, 0]
    assert list(ucr.scores(out, per_step=True).argmax(-1)) == [2, 0]
    assert np.array_equal(ucr.scores(out[:, -1], per_step=False), out[:, -1])
    with pytest.raises(ValueError, match="mean over steps"):
        ucr.scores(out[:, -1], per_step=True)


def test_ucr_channel_memories(monkeypatch):
    # --channel-memories: by default the multi-dimensional datasets only (for
    # the others only the encoder, 1 / std, would change), a memory channel per
    # input dimension starting at nengo_lmu.measure.channel_encoders of the
    # training series
    import argparse  # pylint: disable=import-outside-toplevel

    import numpy as np  # pylint: disable=import-outside-toplevel

    from nengo_lmu.measure import channel_encoders  # pylint: disable=import-outside-toplevel

    monkeypatch.syspath_prepend(str(BENCHMARKS))
    ucr = load_benchmark("ucr")
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", nargs="*", default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--tiny", action="store_true")
    ucr.add_run_options(parser)
    for options, datasets, name, model in [
        ([], ucr.DATASETS, "ucr", ucr.MODEL),
        (["--datasets"], [], "ucr", ucr.MODEL),  # (ucr.py: only the anchors written)
        (["--channel-memories"], ["BasicMotions", "JapaneseVowels"], "ucr_channels",
         dict(ucr.MODEL, memory_d="input_d")),
        (["--channel-memories", "--datasets", "ArrowHead"], ["ArrowHead"], "ucr_channels",
         dict(ucr.MODEL, memory_d="input_d")),
        (["--channel-memories", "--per-step"], ["BasicMotions", "JapaneseVowels"],
         "ucr_channels_per_step", dict(ucr.MODEL, memory_d="input_d")),
        (["--channel-memories", "--tiny"], ucr.TINY["datasets"], "ucr_channels",
         dict(ucr.TINY["model"], memory_d="input_d")),
    ]:
        args = parser.parse_args(options)
        got, config = ucr.run_settings(parser, args, ucr.DATASETS)
        assert args.datasets == datasets
        assert ucr.results_name("ucr", args) == name
        assert got == model and config["model"] == model
    x = np.array([1.0, 5.0, 0.2]) * np.random.RandomState(0).standard_normal((4, 10, 3))
    lmu = ucr.build_network(2, 0, dict(ucr.MODEL, memory_d="input_d"), x).lmu
    assert lmu.memory_d == 3
    assert np.allclose(lmu.input_encoders.transform.init, channel_encoders(x))
    one = ucr.build_network(2, 0, ucr.MODEL, x).lmu
    assert one.memory_d == 1 and np.allclose(one.input_encoders.transform.init, 1)


def test_ucr_seeds_compare(monkeypatch):
    # each peer's accuracy from the series it missed, their difference
    # (nengo_lmu minus keras-lmu), the series missed in every seed, and the
    # Mann-Whitney p-value: samples of three wholly apart are 2 of the
    # C(6, 3) = 20 splits as extreme, p = 0.1 (two-sided, exact)
    import numpy as np  # pylint: disable=import-outside-toplevel

    monkeypatch.syspath_prepend(str(BENCHMARKS))
    seeds = load_benchmark("ucr_seeds")

    def missed(*series):
        return np.isin(np.arange(8), series)

    runs = [
        {"nengo_lmu": missed(), "keras_lmu": missed(0, 1, 2, 5)},
        {"nengo_lmu": missed(5), "keras_lmu": missed(0, 2, 5, 6, 7)},
        {"nengo_lmu": missed(3, 5), "keras_lmu": missed(0, 1, 2, 4, 5, 7)},
    ]
    entry = seeds.compare(runs)
    assert entry["nengo_lmu_accuracy"]["per_seed"] == [1.0, 0.875, 0.75]
    assert entry["keras_lmu_accuracy"]["per_seed"] == [0.5, 0.375, 0.25]
    assert entry["difference_points"] == pytest.approx(50.0)
    assert entry["mann_whitney_p"] == pytest.approx(0.1)
    assert entry["always_wrong"] == {"nengo_lmu": [], "keras_lmu": [0, 2, 5]}
    assert entry["always_wrong_count"] == {"nengo_lmu": 0, "keras_lmu": 3}
    assert entry["wrong_series"]["nengo_lmu"] == [[], [5], [3, 5]]
    assert entry["test_split_series"] == 8
    # peers swapped: the difference changes sign, the p-value does not
    swapped = seeds.compare([{"nengo_lmu": r["keras_lmu"], "keras_lmu": r["nengo_lmu"]}
                             for r in runs])
    assert swapped["difference_points"] == pytest.approx(-50.0)
    assert swapped["mann_whitney_p"] == pytest.approx(0.1)
    # every run alike: no difference, and no evidence of one
    same = seeds.compare([{"nengo_lmu": missed(1), "keras_lmu": missed(2)}] * 3)
    assert same["difference_points"] == 0 and same["mann_whitney_p"] == 1.0


@pytest.mark.parametrize("name", ["ucr", "ucr_per_step", "ucr_channels"])
def test_ucr_seeds_holds_the_ucr_runs(name):
    # the docs' claim: ucr.json's seeds (0-4) are the first of ucr_seeds.json's,
    # with the same accuracies for both peers
    ucr = json.loads((PUBLISHED / f"{name}.json").read_text())
    seeds = json.loads((PUBLISHED / f"{name.replace('ucr', 'ucr_seeds', 1)}.json").read_text())
    n = len(ucr["config"]["seeds"])
    assert seeds["config"]["seeds"][:n] == ucr["config"]["seeds"]
    assert seeds["config"]["model"] == ucr["config"]["model"]
    assert seeds["config"]["train"] == ucr["config"]["train"]
    shared = [k for k in seeds if k in ucr and k not in ("benchmark", "config", "seconds")]
    assert shared
    for dataset in shared:
        for ours, theirs in [("nengo_lmu_accuracy", "rate_accuracy"),
                             ("keras_lmu_accuracy", "keras_lmu_accuracy")]:
            assert seeds[dataset][ours]["per_seed"][:n] == ucr[dataset][theirs]["per_seed"]


def test_each_dataset_keeps_the_others(monkeypatch, capsys):
    # a dataset whose runs fail is skipped and named at the end; the others
    # are yielded, each combined from its seeds' results in order
    import types  # pylint: disable=import-outside-toplevel

    monkeypatch.syspath_prepend(str(BENCHMARKS))
    ucr = load_benchmark("ucr")

    def run_one(name, seed, args, model, epochs):
        if name == "bad":
            raise ValueError("no such series")
        return (name, seed, epochs)

    args = types.SimpleNamespace(datasets=["a", "bad", "c"], seeds=[0, 1], jobs=1, tiny=True)
    got = []
    with pytest.raises(RuntimeError, match=r"runs of \['bad'\] failed"):
        for name, entry in ucr.each_dataset(args, None, run_one, list):
            got.append((name, entry))
    epochs = ucr.TINY["epochs"]
    assert got == [("a", [("a", 0, epochs), ("a", 1, epochs)]),
                   ("c", [("c", 0, epochs), ("c", 1, epochs)])]
    assert "no such series" in capsys.readouterr().err


def test_add_results_merges_same_config(tmp_path):
    common = load_benchmark("common")
    common.add_results("r", {"k": 1}, {"a": 1.0}, str(tmp_path))
    common.add_results("r", {"k": 1}, {"b": 2.0}, str(tmp_path))
    assert common.read_results("r", str(tmp_path)) == {
        "benchmark": "r", "config": {"k": 1}, "a": 1.0, "b": 2.0}
    common.add_results("r", {"k": 2}, {"c": 3.0}, str(tmp_path))  # other settings: anew
    assert common.read_results("r", str(tmp_path)) == {
        "benchmark": "r", "config": {"k": 2}, "c": 3.0}


@pytest.mark.parametrize("name", ["ucr", "ucr_per_step", "ucr_channels"])
def test_ucr_retained_energy_is_the_models(name, monkeypatch):
    # the published share of each dataset that the memory keeps is what the
    # benchmark's model keeps of that dataset now
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    ucr = load_benchmark("ucr")
    published = json.loads((PUBLISHED / f"{name}.json").read_text())
    model = published["config"]["model"]
    channels = name.startswith("ucr_channels")
    assert model == (dict(ucr.MODEL, memory_d="input_d") if channels else ucr.MODEL)
    now = ucr.retained_energies(ucr.MULTIVARIATE if channels else ucr.DATASETS, model)
    assert published["retained_energy"].keys() == now.keys()
    for dataset, entry in now.items():
        assert published["retained_energy"][dataset] == pytest.approx(entry, abs=1e-4), dataset
    if channels:  # each dimension in its own memory, at unit variance
        assert all(0 < entry["share"] <= 1 for entry in now.values())
    else:  # the multi-dimensional series have none (their mix is learned)
        assert now["BasicMotions"]["share"] is None and now["ArrowHead"]["share"] > 0.9
