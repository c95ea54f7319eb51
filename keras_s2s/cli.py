# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Command-line interface: `keras-s2s <command>`; each command calls one library function.

Errors a user can fix (bad corpus, bad config, missing file) exit with code 2 and one
line on stderr, without a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

from keras_s2s import __version__

EXIT_USAGE = 2


class CliError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


def _quiet_tensorflow() -> None:
    # Must happen before TensorFlow is first imported.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


_TYPES = {"int": int, "float": float, "str": str}


def config_flags(command: str = "train") -> list[tuple[str, tuple[str, ...], dict]]:
    """The flags that set config fields, derived from the config dataclasses.

    Each field's metadata (`config._field`) gives its flag, help, choices and metavar;
    its annotation gives the type (a `bool` becomes `--x/--no-x`). Fields that share a
    flag (`--layers`) are all set by it.

    Args:
        command: The subcommand; flags marked for another command are left out.

    Returns:
        `(flag, override keys, argparse options)` rows in config order, the override
        keys being the names `RunConfig.override` takes.
    """
    from keras_s2s.config import RunConfig, override_key

    rows: dict[str, tuple[list[str], dict]] = {}
    for section in dataclasses.fields(RunConfig):
        for field in dataclasses.fields(section.default_factory):
            meta = field.metadata
            flag = meta.get("flag", True)
            if flag is False or meta.get("command") not in (None, command):
                continue
            flag = flag if isinstance(flag, str) else "--" + field.name.replace("_", "-")
            if flag in rows:
                rows[flag][0].append(override_key(field.name))
                continue
            if field.type == "bool":
                options = {"action": argparse.BooleanOptionalAction}
            else:
                options = {"type": _TYPES[field.type]}
            for key in ("choices", "metavar", "help", "default_help"):
                if meta.get(key) is not None:
                    options[key] = meta[key]
            rows[flag] = ([override_key(field.name)], options)
    return [(flag, tuple(keys), options) for flag, (keys, options) in rows.items()]


CONFIG_FLAGS = tuple(config_flags("train"))
"""`config_flags("train")`: every flag of `keras-s2s train` that sets config fields."""


def _dest(flag: str) -> str:
    return flag[2:].replace("-", "_")


def _add_train_flags(
    p: argparse.ArgumentParser, command: str, defaults, run_dir: str | None = None
) -> None:
    """Adds the run and config flags.

    Args:
        p: The subcommand's parser.
        command: The subcommand's name (`config_flags` picks its flags).
        defaults: The `RunConfig` the command starts from, shown in `--help`.
        run_dir: The default run dir; None makes `--run-dir` required.
    """
    p.add_argument(
        "--run-dir",
        required=run_dir is None,
        default=run_dir,
        help="output directory (rerun to resume)" + (f" (default: {run_dir})" if run_dir else ""),
    )
    p.add_argument("--config", help="JSON config file; flags override it")
    for flag, keys, options in config_flags(command):
        options = dict(options)
        default = defaults.get(keys[0])
        if isinstance(default, bool):
            default = "on" if default else "off"
        shown = options.pop("default_help", None) or f"default: {default}"
        help_text = options.get("help")
        options["help"] = f"{help_text} ({shown})" if help_text else shown
        # Flags default to None, so that only the flags given override a --config file.
        p.add_argument(flag, dest=_dest(flag), default=None, **options)


def _config_from_args(args: argparse.Namespace, base=None):
    from keras_s2s.config import RunConfig

    config = base or (RunConfig.load(args.config) if args.config else RunConfig())
    overrides = {}
    for flag, keys, _ in config_flags(args.command):
        for key in keys:
            overrides[key] = getattr(args, _dest(flag))
    return config.override(**overrides)


def _read(path, config, target_path=None):
    from keras_s2s.readers import read_pairs

    result = read_pairs(
        path,
        config.data.format,
        target_path=target_path,
        skip_bad_lines=config.data.skip_bad_lines,
    )
    if result.skipped:
        print(f"{path}: skipped {result.skipped} bad line(s), e.g.:", file=sys.stderr)
        for example in result.skipped_examples:
            print(f"  {example}", file=sys.stderr)
    return result.pairs


def _print_training_summary(result, label_smoothing: float, elapsed: float) -> None:
    m = result.metrics
    t = m["truncated"]
    print(
        f"pairs: train {m['train_pairs']}, valid {m['valid_pairs']}; vocab {m['vocab_size']}; "
        f"parameters {m['parameters']:,}"
    )
    if any(t.values()):
        print(
            "truncated to the length limits: "
            + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in t.items())
        )
    v = m["valid"]
    smoothing = label_smoothing or 0.0
    loss_kind = f"label-smoothed ({smoothing:g}) " if smoothing else ""
    print(
        f"validation: {loss_kind}loss {v['loss']:.4f}, token accuracy "
        f"{v['token_accuracy']:.4f}, perplexity {v['perplexity']:.3f} (exp of the "
        "cross-entropy without smoothing)"
    )
    minutes, seconds = divmod(int(round(elapsed)), 60)
    print(
        f"trained {m['epochs_run']} epoch(s) in {minutes} min {seconds} s ({m['precision']}); "
        f"run dir: {result.run_dir}"
    )
    print(f'next: keras-s2s translate --model {result.run_dir} "..."')


def cmd_train(args: argparse.Namespace) -> int:
    """`keras-s2s train`: reads the corpus, trains, writes the run dir."""
    from keras_s2s.readers import split_holdout

    if args.format is None and not args.config and args.train:
        from keras_s2s.readers import CorpusError, infer_format

        try:
            args.format = infer_format(args.train)  # .tsv or .jsonl; else the default
        except CorpusError:
            pass
    config = _config_from_args(args)
    if config.data.format == "parallel":
        if not (args.source_file and args.target_file):
            raise CliError("--format parallel needs --source-file and --target-file")
        pairs = _read(args.source_file, config, args.target_file)
    else:
        if not args.train:
            raise CliError("--train FILE is required (or --format parallel with --source-file)")
        pairs = _read(args.train, config)
    if args.valid:
        valid = _read(args.valid, config)
        train_pairs = pairs
    elif args.valid_source_file and args.valid_target_file:
        valid = _read(args.valid_source_file, config, args.valid_target_file)
        train_pairs = pairs
    else:
        train_pairs, valid = split_holdout(pairs, config.data.valid_fraction, config.train.seed)
    import time

    from keras_s2s.quiet import load_tensorflow

    start = time.perf_counter()
    load_tensorflow(show=args.verbose, run_op=config.train.strategy != "multiworker")
    from keras_s2s.training import train

    result = train(config, train_pairs, valid, args.run_dir, restart=args.restart)
    _print_training_summary(result, config.train.label_smoothing, time.perf_counter() - start)
    return 0


def _stdin_batches(batch_size: int):
    """Yields lists of stdin lines: full batches, or whatever has arrived when the input
    pauses, so an interactive pipe gets its answers before it is closed.

    Lines are read leniently: undecodable bytes become U+FFFD (then unk) rather than
    stopping the whole run.
    """
    import select

    from keras_s2s.readers import decode_line

    fd = sys.stdin.fileno()
    pending, batch, first = b"", [], True
    while True:
        if batch and not select.select([fd], [], [], 0)[0]:
            yield batch  # nothing more right now: answer what is there
            batch = []
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            # The terminator goes back on so decode_line strips a CRLF's "\r" too.
            batch.append(decode_line(line + b"\n", first=first, lenient=True))
            first = False
            if len(batch) == batch_size:
                yield batch
                batch = []
    if pending:
        batch.append(decode_line(pending + b"\n", first=first, lenient=True))
    if batch:
        yield batch


def _escape_line(text: str) -> str:
    """One output line per input line: backslash, CR and LF written as escapes."""
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def _check_decoding_flags(args: argparse.Namespace) -> None:
    """The model-independent part of `backends.check_options`, before anything loads."""
    from keras_s2s.backends import check_options
    from keras_s2s.config import MAX_BEAM_WIDTH

    try:
        # The model's own length limit and default beam are checked once it is loaded.
        n_best = getattr(args, "n_best", 1)
        beam = args.beam if args.beam is not None else min(max(n_best, 1), MAX_BEAM_WIDTH)
        check_options(beam, n_best, args.max_length, None)
    except ValueError as e:
        raise CliError(str(e)) from None


def _user_errors() -> tuple[type[BaseException], ...]:
    """The exceptions the CLI reports in one line (exit code 2)."""
    from keras_s2s.config import ConfigError
    from keras_s2s.exporting import ExportError
    from keras_s2s.integrity import ModelPathError
    from keras_s2s.readers import CorpusError

    return (CliError, ConfigError, CorpusError, ExportError, ModelPathError, OSError)


def _load_model(args: argparse.Namespace):
    """`keras_s2s.load` with TensorFlow's start-up lines kept off stderr."""
    from keras_s2s.backends import load
    from keras_s2s.quiet import captured_stderr

    with captured_stderr(show=args.verbose, expected=_user_errors()):
        return load(args.model, args.backend)


def cmd_translate(args: argparse.Namespace) -> int:
    """`keras-s2s translate`: one output line per input line, in input order.

    Text mode prints the best translation with backslash, CR and LF escaped (so a
    translation never spans lines); JSON mode (`--format json`, and any `--n-best` > 1)
    prints `{"source", "hypotheses": [{"text", "score"}, ...]}` per line. Stdin is read
    in batches of `--batch-size`, each printed and flushed as soon as it is translated.
    """

    _check_decoding_flags(args)
    if args.batch_size < 1:
        raise CliError(f"--batch-size must be at least 1; got {args.batch_size}")
    if args.plot_attention and os.path.exists(args.plot_attention):
        if not os.path.isdir(args.plot_attention):
            raise CliError(f"{args.plot_attention}: --plot-attention needs a directory")
    if args.output and os.path.isdir(args.output):
        raise CliError(f"{args.output}: --output needs a file, not a directory")
    model = _load_model(args)
    if args.plot_attention and not model.attention:
        raise CliError("--plot-attention needs a model with attention; this one has none")
    as_json = args.format == "json" or args.n_best > 1
    if args.text:
        batches = (
            args.text[i : i + args.batch_size] for i in range(0, len(args.text), args.batch_size)
        )
    else:
        batches = _stdin_batches(args.batch_size)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        index = 0
        for texts in batches:
            try:
                results = model.translate_nbest(
                    texts,
                    beam=args.beam,
                    n_best=args.n_best,
                    max_length=args.max_length,
                    batch_size=args.batch_size,
                )
            except ValueError as e:
                raise CliError(str(e)) from None
            for text, hypotheses in zip(texts, results, strict=True):
                if as_json:
                    record = {
                        "source": text,
                        "hypotheses": [{"text": h.text, "score": h.score} for h in hypotheses],
                    }
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
                else:
                    out.write(_escape_line(hypotheses[0].text) + "\n")
                if args.plot_attention:
                    _plot(model, text, hypotheses[0], args.plot_attention, index)
                index += 1
            out.flush()
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


def _plot(model, text: str, hypothesis, out_dir: str, index: int) -> str:
    from keras_s2s.plotting import plot_attention

    os.makedirs(out_dir, exist_ok=True)
    tokenizer = model.tokenizer
    source_ids = tokenizer.encode([text])[0][: model.max_source_length]
    return plot_attention(
        hypothesis.alignment,
        tokenizer.id_to_piece(source_ids),
        tokenizer.id_to_piece(hypothesis.ids),
        os.path.join(out_dir, f"{index:04d}.png"),
        title=text[:80],
    )


def cmd_evaluate(args: argparse.Namespace) -> int:
    """`keras-s2s evaluate`: BLEU, chrF and exact match (sacrebleu) on a test set."""
    from keras_s2s.evaluation import evaluate

    _check_decoding_flags(args)
    if args.test and (args.source_file or args.reference_file):
        raise CliError("give --test, or --source-file and --reference-file, not both")
    if args.test:
        from keras_s2s.readers import infer_format, read_pairs

        pairs = read_pairs(args.test, infer_format(args.test)).pairs
        sources, references = [s for s, _ in pairs], [t for _, t in pairs]
    elif args.source_file and args.reference_file:
        from keras_s2s.readers import read_lines

        sources = read_lines(args.source_file)
        references = read_lines(args.reference_file)
        if len(sources) != len(references):
            raise CliError(
                f"{args.source_file} has {len(sources)} lines but {args.reference_file} "
                f"has {len(references)}"
            )
    else:
        raise CliError("evaluate needs --test FILE, or --source-file and --reference-file")
    model = _load_model(args)
    try:
        result = evaluate(model, sources, references, beam=args.beam, max_length=args.max_length)
    except ValueError as e:
        raise CliError(str(e)) from None
    print(json.dumps(result))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """`keras-s2s export`: publishes the next version of a run under --out."""
    from keras_s2s.exporting import export
    from keras_s2s.quiet import captured_stderr

    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    # The converters (tf2onnx, onnxruntime.quantization) log at length; an error still
    # reaches the user as one line, and a crash with everything that was written.
    with captured_stderr(show=args.verbose, expected=_user_errors()):
        version_dir = export(args.run_dir, args.out, formats=formats, quantize=args.quantize)
    print(version_dir)
    return 0


def cmd_corpus(args: argparse.Namespace) -> int:
    """`keras-s2s corpus`: writes a built-in corpus as train/valid/test TSV files."""
    from keras_s2s.application_corpora import MissingDataError, build_corpus
    from keras_s2s.generated_corpus import write_corpus

    try:
        corpus = build_corpus(args.name, seed=args.seed)
    except MissingDataError as e:
        raise CliError(str(e)) from None
    for name, path in write_corpus(corpus, args.out).items():
        print(f"{name}: {path} ({len(corpus.splits()[name]):,} pairs)")
    return 0


def cmd_quickstart(args: argparse.Namespace) -> int:
    """`keras-s2s quickstart`: train, export, translate the test split with every backend."""
    from keras_s2s.quiet import load_tensorflow

    load_tensorflow(show=args.verbose)
    from keras_s2s.quickstart import run_quickstart

    result = run_quickstart(_quickstart_run_config(args), args.run_dir, args.out)
    print(json.dumps(result))
    return 0


def _quickstart_run_config(args: argparse.Namespace):
    """`--config` replaces the quickstart's own settings; flags override either."""
    return _config_from_args(args, base=None if args.config else quickstart_config())


def quickstart_config():
    """The configuration `keras-s2s quickstart` (and `make demo`) trains with."""
    from keras_s2s.config import RunConfig

    # The default architecture (Luong attention), kept small so that `make demo` takes
    # ~2 minutes on an AVX-512 host and ~4.5-5 on an AVX2 one (2 cores): 128 units at
    # learning rate 3e-3 reached 96.3% exact match on the test split after 7 epochs,
    # still improving (2e-3: 76.8% after 6). After 8 epochs the result depends on float
    # rounding: 98.50% (AVX2 host), 98.33% (AVX-512 host), but 94.92% on the AVX-512
    # host once the GRUs summed their input products in another order (same
    # mathematics, keras_s2s.recurrent); 9 epochs there: 98.42% (2026-12-01), and
    # 99.42% once `--precision auto` trained it in bf16 there (2 min 0 s).
    return RunConfig().override(
        vocab_size=500,
        embedding_dim=64,
        units=128,
        bidirectional=True,
        dropout=0.0,
        learning_rate=3e-3,
        epochs=9,
        batch_size=64,
    )


def build_parser() -> argparse.ArgumentParser:
    """Returns the `keras-s2s` argument parser."""
    # Importing these registers the built-in backends and export formats.
    import keras_s2s.backends  # noqa: F401
    import keras_s2s.exporting  # noqa: F401
    from keras_s2s.application_corpora import NAMES as CORPUS_NAMES
    from keras_s2s.config import RunConfig
    from keras_s2s.registry import backend_names, formats

    parser = argparse.ArgumentParser(
        prog="keras-s2s", description="RNN sequence-to-sequence models in Keras 3."
    )
    parser.add_argument("--version", action="version", version=f"keras-s2s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a model on a text-pair corpus")
    p.add_argument("--train", help="training corpus file")
    p.add_argument("--valid", help="validation corpus file (default: hold out a fraction)")
    p.add_argument("--source-file", help="source side (with --format parallel)")
    p.add_argument("--target-file", help="target side (with --format parallel)")
    p.add_argument("--valid-source-file", help="validation source side (parallel)")
    p.add_argument("--valid-target-file", help="validation target side (parallel)")
    p.add_argument(
        "--restart",
        action="store_true",
        help="delete the run dir's resume checkpoints and train from epoch 0 "
        "(without it, checkpoints that cannot be restored stop the run)",
    )
    _add_train_flags(p, "train", RunConfig())
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("quickstart", help="train on the embedded corpus (the README demo)")
    _add_train_flags(p, "quickstart", quickstart_config(), run_dir="runs/quickstart")
    p.add_argument(
        "--out",
        default="saved_models/quickstart",
        help="export destination (default: saved_models/quickstart)",
    )
    p.set_defaults(func=cmd_quickstart)

    p = sub.add_parser("translate", help="translate TEXT arguments or stdin lines")
    p.add_argument("--model", required=True, help="run dir, version dir or .onnx file")
    p.add_argument("--backend", choices=backend_names())
    p.add_argument(
        "--beam", type=int, help="beam width (1: greedy; default: the model's own, as served)"
    )
    p.add_argument(
        "--n-best", type=int, default=1, help="hypotheses per sentence (JSON) (default: 1)"
    )
    p.add_argument("--max-length", type=int)
    p.add_argument("--plot-attention", metavar="DIR", help="write one heatmap PNG per sentence")
    p.add_argument(
        "--format",
        choices=["text", "json"],
        default="text",
        help="text: the best translation per line, with \\, CR and LF escaped; json: "
        "one object per line with every hypothesis and its score (default: text)",
    )
    p.add_argument("--output", metavar="FILE", help="write here instead of stdout")
    p.add_argument(
        "--batch-size",
        type=int,
        default=32,
        help="sentences per model call; stdin is answered batch by batch (default: 32)",
    )
    p.add_argument("text", nargs="*", help="sentences (default: read stdin)")
    p.set_defaults(func=cmd_translate)

    p = sub.add_parser("evaluate", help="BLEU, chrF and exact match on a test set (JSON)")
    p.add_argument("--model", required=True)
    p.add_argument("--test", help="test pairs, .tsv or .jsonl (or the two files below)")
    p.add_argument("--source-file", help="sources, one per line")
    p.add_argument("--reference-file", help="references, one per line")
    p.add_argument("--backend", choices=backend_names())
    p.add_argument(
        "--beam", type=int, help="beam width (1: greedy; default: the model's own, as served)"
    )
    p.add_argument("--max-length", type=int)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("export", help="publish a run as the next version (SavedModel, ONNX)")
    p.add_argument("--run-dir", required=True)
    p.add_argument("--out", required=True, help="model dir, e.g. saved_models/NAME")
    p.add_argument(
        "--format",
        default="savedmodel,onnx",
        help="comma list of "
        + ", ".join(f"{f.name} ({f.help})" if f.help else f.name for f in formats().values())
        + "; default: savedmodel,onnx",
    )
    p.add_argument(
        "--quantize",
        choices=["int8"],
        help="also write onnx/model.int8.onnx (dynamic int8 weights; needs the onnx format)",
    )
    p.set_defaults(func=cmd_export)

    for command in sub.choices.values():
        command.add_argument(
            "--verbose",
            action="store_true",
            help="also show TensorFlow's start-up lines and the converters' logs",
        )

    p = sub.add_parser("corpus", help="write a built-in corpus as TSV (train, valid, test)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument(
        "--name",
        choices=CORPUS_NAMES,
        default="default",
        help="default: dates and numbers (the demo's); cldr-names: names in six "
        "languages -> English names; stdlib-signatures: docstring -> def line; "
        "stdlib-summaries: docstring body -> its summary; chatterbot: utterance -> reply "
        "(needs keras-s2s[recipes]) (default: default)",
    )
    p.add_argument("--seed", type=int, default=0, help="split seed (default: 0)")
    p.set_defaults(func=cmd_corpus)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `keras-s2s` console script."""
    _quiet_tensorflow()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except _user_errors() as e:
        print(f"keras-s2s: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("keras-s2s: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
