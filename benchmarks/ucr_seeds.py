"""Rate accuracy over many seeds: nengo_lmu against keras-lmu.

On a small test split one series is a large step (BasicMotions: 40 series,
2.5 points of one seed, half a point of a mean over five), so `ucr`'s five
seeds can put two models' means a series or two apart by chance. This runs
only `ucr`'s two rate peers, over more seeds: its LMU trained through
NengoDL (`ucr.train_nengo_lmu`) and keras-lmu's ``RNN(LMUCell)`` of the same
size (`ucr.train_keras_lmu`), on the same data with the same optimiser,
batch and epochs; ``ucr.py``'s seeds are 0-4 of these. A seed sets each
peer's own initial weights and batch order: nothing random is shared, so the
two peers' runs are independent samples, not pairs. For each dataset it
records each peer's accuracy on the whole test split (mean, population std
over seeds, per seed), the difference of the means in points (nengo_lmu
minus keras-lmu), the two-sided Mann-Whitney U test's p-value of the two
samples (`scipy.stats.mannwhitneyu`: the chance of samples at least this far
apart if both peers' accuracies had one distribution; scipy's 1 where every
run of both is the same), and the test series each peer misclassified in
each seed and in every seed. The p-values cover the spread over training
seeds on the one test split, not over other test data, each dataset by
itself.

Usage::

    python benchmarks/ucr_seeds.py [--datasets BasicMotions ...]
                                   [--seeds 0 1 ...] [--per-step] [--jobs N]
                                   [--channel-memories] [--tiny] [--results DIR]

Writes ``benchmarks/results/ucr_seeds.json`` (``ucr_seeds_per_step.json``
with ``--per-step``: every step trained on, classes from the mean readout,
as ``ucr.py --per-step``; ``ucr_seeds_channels.json`` with
``--channel-memories``: a memory channel per input dimension, on the
multi-dimensional datasets, as ``ucr.py --channel-memories``); a
dataset's runs are written once all its seeds are done, beside the datasets
already in that file with the same settings.
"""

import contextlib
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import ucr  # noqa: E402
from common import (  # noqa: E402
    Distinct, add_results, argument_parser, parse_args, random_seed)

#: the three smallest (ucr.json: keras-lmu trains OSULeaf and ACSF1 for minutes a seed)
DATASETS = ["BasicMotions", "JapaneseVowels", "ArrowHead"]
PEERS = ("nengo_lmu", "keras_lmu")


def run(name, seed, args, model, epochs):
    """One seed of both peers: for each, whether it misclassified each test series."""
    (x, y, x_test, y_test), n_classes, common = ucr.dataset_and_training(
        name, args, model, epochs)
    _, ours, _ = ucr.train_nengo_lmu(x, y, x_test, n_classes, seed, **common)
    keras, _ = ucr.train_keras_lmu(x, y, x_test, n_classes, seed, **common)
    print(f"{name} seed {seed}: nengo_lmu {np.mean(ours == y_test):.3f} keras-lmu "
          f"{np.mean(keras == y_test):.3f}", flush=True)
    return {"nengo_lmu": ours != y_test, "keras_lmu": keras != y_test}


def compare(runs):
    """The record of one dataset from its seeds' `run` results."""
    from scipy.stats import mannwhitneyu  # noqa: PLC0415

    wrong = {peer: np.array([r[peer] for r in runs]) for peer in PEERS}
    accuracy = {peer: 1 - w.mean(axis=1) for peer, w in wrong.items()}
    entry = ucr.summary([
        {f"{peer}_accuracy": accuracy[peer][i] for peer in PEERS} for i in range(len(runs))
    ])
    a, b = (accuracy[peer] for peer in PEERS)
    always = {peer: np.flatnonzero(w.all(axis=0)).tolist() for peer, w in wrong.items()}
    entry.update(
        difference_points=float(100 * (a.mean() - b.mean())),
        mann_whitney_p=float(mannwhitneyu(a, b, alternative="two-sided").pvalue),
        test_split_series=int(wrong[PEERS[0]].shape[1]),
        always_wrong=always,
        always_wrong_count={peer: len(v) for peer, v in always.items()},
        wrong_series={peer: [np.flatnonzero(seed).tolist() for seed in w]
                      for peer, w in wrong.items()},
    )
    return entry


def arguments(argv=None):
    """The command line (``argv``, by default ``sys.argv``), checked; and its parser."""
    parser = argument_parser(__doc__)
    parser.add_argument("--datasets", nargs="+", type=ucr.dataset_name, action=Distinct,
                        default=None)
    parser.add_argument("--seeds", type=random_seed, nargs="+", action=Distinct,
                        default=list(range(20)))
    ucr.add_run_options(parser)
    return parser, parse_args(parser, argv, tiny_overrides=ucr.TINY_OVERRIDES)


def main():
    parser, args = arguments()
    model, config = ucr.run_settings(parser, args, DATASETS)
    results = ucr.results_name("ucr_seeds", args)
    started = time.time()

    with contextlib.closing(ucr.each_dataset(args, model, run, compare)) as datasets:
        for dataset, entry in datasets:
            # of this invocation: since its start, and until this dataset
            entry["seconds"] = round(time.time() - started, 1)
            add_results(results, config, {dataset: entry}, args.results)
            print(f"{dataset}: nengo_lmu {entry['nengo_lmu_accuracy']['mean']:.4f} keras-lmu "
                  f"{entry['keras_lmu_accuracy']['mean']:.4f}, Mann-Whitney p "
                  f"{entry['mann_whitney_p']:.3f}", flush=True)


if __name__ == "__main__":
    main()
