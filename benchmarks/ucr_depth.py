"""Depth and readout across the UCR suite: which LMU stack generalises.

`ucr` measures one configuration of a model end to end (NengoDL, keras-lmu,
parallel, spiking) on each dataset; this chooses between configurations,
which needs every one on every dataset and several seeds, so it runs only
the quick peer: each model trained through `nengo_lmu.parallel` (`ucr.fit_parallel`,
`ucr.py`'s data, optimiser, batch, epochs and width) and scored on the whole
test split. For each dataset and seed it trains every stack of `STACKS`
(`ucr.layer_shapes`: each layer's window a share of the series, its order in
proportion) with each readout of `READOUTS`: ``"last"``, the readout after the
last step, trained on the label there; ``"mean"``, trained on the label at
every step and classified by the readout averaged over the series
(``ucr.py --per-step``). It records each one's accuracy and training time
(mean, population std over seeds, per seed), the best mean of each dataset,
and its distance to InceptionTime's published accuracy on the same split
(`ucr.PUBLISHED`). A configuration that wins on one dataset and loses on
another shows in the table; the docs' advice quotes it.

Usage::

    python benchmarks/ucr_depth.py [--datasets ArrowHead ...] [--seeds 0 1 2 3 4]
                                   [--jobs N] [--tiny] [--results DIR]

Writes ``benchmarks/results/ucr_depth.json``; a dataset's runs are written
once all its seeds are done, beside the datasets already in that file with
the same settings.
"""

import argparse
import contextlib
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import ucr  # noqa: E402
from common import (  # noqa: E402
    Distinct, add_results, argument_parser, parse_args, positive_int, random_seed)

#: each stack's layer windows, first to last, as shares of the series
#: (`ucr.layer_shapes`), by the name the results file gives it
STACKS = {
    "1 layer": [1.0],
    "2 layers": [1.0, 1.0],
    "2 layers, windows 1/8 1": [0.125, 1.0],
    "3 layers": [1.0, 1.0, 1.0],
}
#: readout -> whether it is trained on every step and averaged (``--per-step``)
READOUTS = {"last": False, "mean": True}


def run(name, seed, args, model, epochs):
    """One seed of every stack and readout: test accuracy and training seconds."""
    (x, y, x_test, y_test), n_classes, common = ucr.dataset_and_training(
        name, args, model, epochs)
    result = {}
    for readout, per_step in READOUTS.items():
        result[readout] = {}
        for stack, windows in STACKS.items():
            kwargs = dict(common, model=ucr.stack_model(model, windows), per_step=per_step)
            pred, seconds = ucr.train_parallel(x, y, x_test, n_classes, seed, **kwargs)
            accuracy = float(np.mean(pred == y_test))
            result[readout][stack] = {"accuracy": accuracy, "train_seconds": seconds}
            print(f"{name} seed {seed} {readout} {stack}: {accuracy:.3f}", flush=True)
    return result


def combine(runs):
    """The record of one dataset from its seeds' `run` results, with its best
    configuration (by mean accuracy) and that one's distance to InceptionTime."""
    entry = ucr.summary(runs)
    best = max(((r, s) for r in READOUTS for s in STACKS),
               key=lambda k: entry[k[0]][k[1]]["accuracy"]["mean"])
    entry["best"] = {"readout": best[0], "stack": best[1],
                     "accuracy": entry[best[0]][best[1]]["accuracy"]["mean"]}
    return entry


def arguments(argv=None):
    """The command line (``argv``, by default ``sys.argv``), checked; and its parser."""
    parser = argument_parser(__doc__)
    parser.add_argument("--datasets", nargs="+", type=ucr.dataset_name, action=Distinct,
                        default=list(ucr.DATASETS))
    parser.add_argument("--seeds", type=random_seed, nargs="+", action=Distinct,
                        default=[0, 1, 2, 3, 4])
    parser.add_argument("--jobs", type=positive_int, default=1,
                        help="runs (dataset, seed) at once, each in its own process")
    parser.add_argument("--train", type=positive_int, default=None, help=argparse.SUPPRESS)
    return parser, parse_args(parser, argv, tiny_overrides=ucr.TINY_OVERRIDES)


def main():
    _, args = arguments()
    # (ucr's run settings: one uniform layer, classified after the last step;
    # the stacks and readouts are this script's axes, named in its config)
    args.per_step, args.channel_memories, args.layers, args.windows = False, False, 1, None
    model = ucr.TINY["model"] if args.tiny else ucr.MODEL
    if args.tiny:
        args.datasets, args.seeds, args.train = (
            ucr.TINY["datasets"], ucr.TINY["seeds"], ucr.TINY["train"])
    config = dict(model=model, train=ucr.TRAIN, stacks=STACKS, readouts=list(READOUTS),
                  peer="nengo_lmu.parallel", seeds=args.seeds, std="population (ddof=0)",
                  tiny=args.tiny)
    if args.train:
        config["train_series"] = args.train
    started = time.time()
    with contextlib.closing(ucr.each_dataset(args, model, run, combine)) as datasets:
        for dataset, entry in datasets:
            inception = ucr.PUBLISHED[dataset]["InceptionTime"]
            entry["best"]["inception_time_minus_best_points"] = round(
                100 * (inception - entry["best"]["accuracy"]), 2)
            entry["seconds"] = round(time.time() - started, 1)
            add_results("ucr_depth", config, {
                "published": {"accuracy": ucr.PUBLISHED, "sources": ucr.PUBLISHED_SOURCES},
                dataset: entry}, args.results)
            best = entry["best"]
            print(f"{dataset}: best {best['readout']} / {best['stack']} "
                  f"{best['accuracy']:.3f} (InceptionTime {inception:.3f})", flush=True)


if __name__ == "__main__":
    main()
