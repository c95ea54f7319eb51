# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
import json
import os
import re
import subprocess
import sys

import pytest

from keras_s2s.cli import main

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}


def _cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "keras_s2s", *args],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=cwd,
        timeout=600,
    )


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_missing_corpus_exits_2_with_one_line(tmp_path):
    missing = tmp_path / "nope.tsv"
    r = _cli("train", "--train", str(missing), "--run-dir", str(tmp_path / "run"))
    assert r.returncode == 2
    assert r.stderr == f"keras-s2s: error: {missing}: no such file\n"


def test_bad_corpus_line_names_file_and_line(tmp_path):
    path = _write(tmp_path / "bad.tsv", "hello\tworld\nno tab here\n")
    r = _cli("train", "--train", path, "--run-dir", str(tmp_path / "run"))
    assert r.returncode == 2
    assert r.stderr == (f"keras-s2s: error: {path}:2: expected source<TAB>target, found no tab\n")


def test_bad_config_file_exits_2(tmp_path, capsys):
    cfg = _write(tmp_path / "c.json", json.dumps({"model": {"rnn": "rnn"}}))
    corpus = _write(tmp_path / "c.tsv", "a\tb\n")
    code = main(["train", "--train", corpus, "--config", cfg, "--run-dir", str(tmp_path / "r")])
    assert code == 2
    err = capsys.readouterr().err
    assert err == f"keras-s2s: error: {cfg}: rnn must be one of gru, lstm; got 'rnn'\n"


def test_parallel_needs_both_files(tmp_path, capsys):
    code = main(["train", "--format", "parallel", "--run-dir", str(tmp_path)])
    assert code == 2
    assert capsys.readouterr().err == (
        "keras-s2s: error: --format parallel needs --source-file and --target-file\n"
    )


def test_corpus_command_writes_a_named_corpus(tmp_path, capsys):
    assert main(["corpus", "--name", "cldr-names", "--out", str(tmp_path)]) == 0
    rows = (tmp_path / "train.tsv").read_text(encoding="utf-8").splitlines()
    assert (
        "Deutschland\tGermany"
        in rows
        + (tmp_path / "test.tsv").read_text().splitlines()
        + (tmp_path / "valid.tsv").read_text().splitlines()
    )
    assert f"train: {tmp_path / 'train.tsv'} ({len(rows):,} pairs)" in capsys.readouterr().out


def test_help_shows_the_defaults_of_each_command(capsys, monkeypatch):
    from keras_s2s.cli import build_parser

    monkeypatch.setenv("COLUMNS", "100")

    def help_of(command):
        with pytest.raises(SystemExit):
            build_parser().parse_args([command, "--help"])
        return capsys.readouterr().out

    train, quickstart = help_of("train"), help_of("quickstart")
    assert re.search(r"--units UNITS\s+default: 256\n", train)
    assert re.search(
        r"--bidirectional, --no-bidirectional\s+bidirectional encoder \(default: off\)", train
    )
    assert re.search(r"--vocab-size VOCAB_SIZE\s+default: 500\n", quickstart)
    assert "(default: runs/quickstart)" in quickstart


def _changed(value):
    """A valid value other than `value`, of its type."""
    if isinstance(value, float):
        return value / 2 if value else 0.5
    return value + 1


def test_every_config_flag_sets_exactly_its_config_fields():
    from keras_s2s.cli import CONFIG_FLAGS, _config_from_args, build_parser
    from keras_s2s.config import RunConfig

    def flat(config):
        values = {k: v for section in config.to_dict().values() for k, v in section.items()}
        return {("tokenizer" if k == "kind" else k): v for k, v in values.items()}

    default = flat(RunConfig())
    for flag, fields, options in CONFIG_FLAGS:
        fields = (fields,) if isinstance(fields, str) else fields
        old = default[fields[0]]
        if options.get("action"):
            argv = [f"--no-{flag[2:]}" if old else flag]
        elif "choices" in options:
            argv = [flag, next(c for c in options["choices"] if c != old)]
        else:
            argv = [flag, str(_changed(old))]
        config = _config_from_args(build_parser().parse_args(["train", "--run-dir", "r", *argv]))
        new = flat(config)
        assert {k for k in new if new[k] != default[k]} == set(fields), flag


def test_every_config_field_has_a_flag_derived_from_the_dataclasses():
    import dataclasses

    from keras_s2s.cli import config_flags
    from keras_s2s.config import RunConfig, override_key

    fields = {
        override_key(f.name)
        for section in dataclasses.fields(RunConfig)
        for f in dataclasses.fields(section.default_factory)
    }
    covered = {key for _, keys, _ in config_flags("train") for key in keys}
    assert fields - covered == {"n_best"}  # the one field declared without a flag
    quickstart = {flag for flag, _, _ in config_flags("quickstart")}
    train = {flag for flag, _, _ in config_flags("train")}
    assert train - quickstart == {"--format", "--valid-fraction", "--skip-bad-lines"}


def test_train_defaults_to_attention_and_the_plain_model_is_one_flag_away():
    from keras_s2s.cli import _config_from_args, build_parser

    def config_of(*argv):
        return _config_from_args(build_parser().parse_args(["train", "--run-dir", "r", *argv]))

    default = config_of()
    assert (default.model.attention, default.model.luong_score) == ("luong", "general")
    plain = config_of("--attention", "none")
    assert plain.model.attention == "none"
    assert plain.override(attention="luong") == default
    # "general" scores take any encoder width, so --bidirectional alone is valid.
    assert config_of("--bidirectional").model.attention == "luong"


def test_corpus_command_writes_the_embedded_corpus(tmp_path):
    assert main(["corpus", "--out", str(tmp_path)]) == 0
    lines = (tmp_path / "train.tsv").read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 18000 and all(line.count("\t") == 1 for line in lines)


@pytest.mark.slow
def test_train_command_on_anki_file_with_skipped_lines(tmp_path):
    rows = [f"I have {n} cats.\t고양이가 {n}마리 있어요.\tCC-BY 2.0 (France)" for n in range(60)]
    rows.insert(10, "broken line without tabs")
    corpus = _write(tmp_path / "kor.txt", "\ufeff" + "\n".join(rows) + "\n")
    run = tmp_path / "run"
    r = _cli(
        "train", "--train", corpus, "--format", "anki", "--skip-bad-lines",
        "--run-dir", str(run), "--epochs", "2", "--units", "16", "--embedding-dim", "8",
        "--vocab-size", "60", "--batch-size", "16",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert f"{corpus}: skipped 1 bad line(s)" in r.stderr
    assert "pairs: train 57, valid 3" in r.stdout
    assert "validation: loss" in r.stdout
    config = json.loads((run / "config.json").read_text())
    assert config["data"]["format"] == "anki" and config["model"]["units"] == 16
    assert (run / "model.keras").is_file() and (run / "tokenizer.model").is_file()


def test_translate_reads_args_and_stdin_in_every_backend(exported):
    run_dir, _, version_dir = exported
    sentences = ["May 7, 1985", "two hundred and seventy-two", ""]
    outputs = {}
    for backend, path in (("keras", run_dir), ("savedmodel", version_dir), ("onnx", version_dir)):
        r = _cli("translate", "--model", path, "--backend", backend, *sentences)
        assert r.returncode == 0, r.stderr
        outputs[backend] = r.stdout.split("\n")[:-1]
        assert len(outputs[backend]) == 3
    assert outputs["keras"] == outputs["savedmodel"] == outputs["onnx"]
    r = subprocess.run(
        [sys.executable, "-m", "keras_s2s", "translate", "--model", version_dir],
        input="\n".join(sentences) + "\n",
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:-1] == outputs["savedmodel"]


def test_model_path_errors_exit_2(tmp_path, capsys):
    missing = tmp_path / "missing"
    assert main(["translate", "--model", str(missing), "x"]) == 2
    assert capsys.readouterr().err == (f"keras-s2s: error: {missing}: no such file or directory\n")
    assert main(["translate", "--model", str(tmp_path), "x"]) == 2
    assert capsys.readouterr().err == (
        f"keras-s2s: error: {tmp_path}: not a model "
        "(expected a run dir, version dir or .onnx file)\n"
    )


def test_evaluate_prints_sacrebleu_json(exported, tmp_path, small_corpus):
    _, _, version_dir = exported
    pairs = small_corpus.test[:20]
    src = _write(tmp_path / "src.txt", "\n".join(s for s, _ in pairs) + "\n")
    ref = _write(tmp_path / "ref.txt", "\n".join(t for _, t in pairs) + "\n")
    r = _cli(
        "evaluate", "--model", version_dir, "--backend", "onnx",
        "--source-file", src, "--reference-file", ref,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert set(result) >= {"bleu", "bleu_lowercase", "chrf", "sentences", "seconds"}
    assert result["sentences"] == 20
    assert 0.0 <= result["bleu"] <= 100.0 and 0.0 <= result["chrf"] <= 100.0
    # The same pairs as one TSV file: the same scores.
    tsv = _write(tmp_path / "test.tsv", "".join(f"{s}\t{t}\n" for s, t in pairs))
    r = _cli("evaluate", "--model", version_dir, "--backend", "onnx", "--test", tsv)
    assert r.returncode == 0, r.stderr
    by_tsv = json.loads(r.stdout)
    assert {k: v for k, v in by_tsv.items() if k != "seconds"} == {
        k: v for k, v in result.items() if k != "seconds"
    }


def test_export_command_publishes_a_version(exported, tmp_path):
    run_dir, _, _ = exported
    out = tmp_path / "saved_models" / "cli"
    r = _cli("export", "--run-dir", run_dir, "--out", str(out), "--format", "savedmodel")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(out / "1")
    assert (out / "1" / "saved_model.pb").is_file()
    assert not (out / "1" / "onnx").exists()


def test_export_errors_exit_2_with_one_line(exported, tmp_path, capsys):
    run_dir, _, _ = exported
    out = str(tmp_path / "saved_models" / "bad")
    args = ["export", "--run-dir", run_dir, "--out", out]
    assert main([*args, "--format", "savedmodel", "--quantize", "int8"]) == 2
    assert capsys.readouterr().err == (
        "keras-s2s: error: quantize needs the onnx format (it quantizes onnx/model.onnx)\n"
    )
    assert main([*args, "--format", "savedmodel,tflite"]) == 2
    assert capsys.readouterr().err == (
        "keras-s2s: error: unknown export format(s): tflite "
        "(expected savedmodel, onnx, onnx-text)\n"
    )
    assert not os.path.exists(out)


def test_no_flags_switch_off_what_a_config_switched_on(tmp_path):
    from keras_s2s.cli import _config_from_args, build_parser
    from keras_s2s.config import RunConfig

    path = str(tmp_path / "c.json")
    RunConfig().override(
        bidirectional=True, input_feeding=True, deterministic=True, skip_bad_lines=True
    ).save(path)
    args = build_parser().parse_args(
        ["train", "--run-dir", "r", "--config", path]
        + ["--no-bidirectional", "--no-input-feeding", "--no-deterministic", "--no-skip-bad-lines"]
    )
    config = _config_from_args(args)
    assert not config.model.bidirectional and not config.model.input_feeding
    assert not config.train.deterministic and not config.data.skip_bad_lines
    unchanged = _config_from_args(
        build_parser().parse_args(["train", "--run-dir", "r", "--config", path])
    )
    assert unchanged.model.bidirectional and unchanged.data.skip_bad_lines


def test_training_to_a_file_logs_one_line_per_epoch_and_reads_jsonl_by_name(tmp_path):
    lines = [json.dumps({"source": f"{i} plus {i}", "target": f"{2 * i}"}) for i in range(40)]
    path = _write(tmp_path / "pairs.jsonl", "\n".join(lines) + "\n")
    r = _cli(
        "train", "--train", path, "--run-dir", str(tmp_path / "run"), "--epochs", "3",
        "--tokenizer", "char", "--units", "8", "--embedding-dim", "4",
        "--label-smoothing", "0.1",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["data"]["format"] == "jsonl"  # inferred from the name: no "found no tab"
    # stdout is a pipe: Keras' one-line-per-epoch form, no progress-bar redraws.
    out = r.stdout
    assert [line for line in out.splitlines() if line.startswith("Epoch ")] == [
        "Epoch 1/3",
        "Epoch 2/3",
        "Epoch 3/3",
    ]
    assert "\b" not in out and "\x1b" not in out and "\r" not in out
    assert "label-smoothed (0.1) loss" in out
    assert r.stderr == ""  # TensorFlow's start-up lines are captured
    assert f"next: keras-s2s translate --model {tmp_path / 'run'}" in out


def test_quickstart_honours_config(tmp_path):
    from keras_s2s.cli import _quickstart_run_config, build_parser, quickstart_config
    from keras_s2s.config import RunConfig

    path = str(tmp_path / "c.json")
    RunConfig().override(units=24, epochs=2).save(path)

    def config_of(*argv):
        return _quickstart_run_config(build_parser().parse_args(["quickstart", *argv]))

    assert config_of() == quickstart_config()
    assert config_of("--config", path) == RunConfig.load(path)
    assert config_of("--config", path, "--epochs", "3").train.epochs == 3


def test_translate_answers_a_pipe_that_stays_open(exported, tmp_path):
    import select

    _, _, version_dir = exported
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "keras_s2s",
            "translate",
            "--model",
            version_dir,
            "--backend",
            "onnx",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
    )
    try:
        proc.stdin.write(b"May 7, 1985\n")
        proc.stdin.flush()
        # The pipe is still open: the answer must come before stdin is closed.
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        assert ready, "no translation before stdin was closed"
        first = proc.stdout.readline().decode("utf-8")
        proc.stdin.write(b"two hundred\n")
        proc.stdin.close()
        rest = proc.stdout.read().decode("utf-8")
        assert proc.wait(timeout=120) == 0, proc.stderr.read().decode()[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
    batch = _cli(
        "translate", "--model", version_dir, "--backend", "onnx", "May 7, 1985", "two hundred"
    )
    assert first + rest == batch.stdout
    out_file = tmp_path / "out.jsonl"
    r = _cli(
        "translate", "--model", version_dir, "--backend", "onnx", "--format", "json",
        "--output", str(out_file), "--batch-size", "1", "May 7, 1985", "two hundred",
    )  # fmt: skip
    assert r.returncode == 0 and r.stdout == ""
    records = [json.loads(line) for line in out_file.read_text(encoding="utf-8").splitlines()]
    assert [r["source"] for r in records] == ["May 7, 1985", "two hundred"]
    assert [r["hypotheses"][0]["text"] + "\n" for r in records] == batch.stdout.splitlines(True)


def test_text_output_escapes_line_breaks_so_lines_stay_aligned():
    from keras_s2s.cli import _escape_line

    assert _escape_line("def f():\n    return 1\r") == "def f():\\n    return 1\\r"
    assert _escape_line("a\\nb") == "a\\\\nb"  # a literal backslash-n stays distinguishable
    assert _escape_line("plain") == "plain"


def test_successful_commands_leave_stderr_empty_and_errors_keep_their_line(exported, tmp_path):
    # TensorFlow's C++ start-up lines (absl, oneDNN, CUDA probing) are captured; the
    # package writes nothing on success.
    run_dir, _, version_dir = exported
    r = _cli("translate", "--model", version_dir, "--backend", "savedmodel", "May 7, 1985")
    assert r.returncode == 0 and r.stdout.strip()
    assert r.stderr == ""
    out = tmp_path / "saved_models" / "int8"
    r = _cli("export", "--run-dir", run_dir, "--out", str(out), "--quantize", "int8")
    assert r.returncode == 0, r.stderr
    assert (out / "1" / "onnx" / "model.int8.onnx").is_file()
    assert r.stderr == ""
    # An error found after the model has loaded (its length limit) is still one line.
    r = _cli(
        "translate", "--model", version_dir, "--backend", "savedmodel", "--max-length", "9999", "x"
    )
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1
    assert r.stderr.startswith("keras-s2s: error: max_length must be between 1 and this model's")
    # --verbose shows what was captured.
    r = _cli("translate", "--model", version_dir, "--backend", "savedmodel", "--verbose", "x")
    assert r.returncode == 0 and r.stderr != ""


_TRAIN = ["train", "--train", "pairs.tsv", "--run-dir", "run"]
_TRANSLATE = ["translate", "--model", "missing-model", "x"]
_EVALUATE = ["evaluate", "--model", "m", "--source-file", "s", "--reference-file", "r"]
BAD_INVOCATIONS = [
    # translate: decoding options, checked before the model loads
    [*_TRANSLATE, "--beam", "0"],
    [*_TRANSLATE, "--beam", "65"],
    [*_TRANSLATE, "--n-best", "0"],
    [*_TRANSLATE, "--n-best", "5", "--beam", "2"],
    [*_TRANSLATE, "--n-best", "65"],
    [*_TRANSLATE, "--max-length", "0"],
    [*_TRANSLATE, "--max-length", "-1"],
    [*_TRANSLATE, "--batch-size", "0"],
    [*_TRANSLATE, "--plot-attention", "FILE"],
    [*_TRANSLATE, "--output", "DIR"],
    _TRANSLATE,  # no such model
    [*_EVALUATE, "--beam", "0"],
    [*_EVALUATE, "--max-length", "0"],
    [*_EVALUATE, "--test", "t.tsv"],  # both kinds of test set
    ["evaluate", "--model", "m", "--source-file", "s"],  # no references
    ["evaluate", "--model", "m", "--test", "missing.tsv"],
    ["corpus", "--name", "chatterbot", "--out", "c"],  # without chatterbot-corpus (below)
    # train: every numeric flag out of range
    [*_TRAIN, "--epochs", "0"],
    [*_TRAIN, "--batch-size", "0"],
    [*_TRAIN, "--learning-rate", "0"],
    [*_TRAIN, "--learning-rate", "-1"],
    [*_TRAIN, "--dropout", "1.5"],
    [*_TRAIN, "--label-smoothing", "1"],
    [*_TRAIN, "--teacher-forcing-ratio", "1.5"],
    [*_TRAIN, "--vocab-size", "0"],
    [*_TRAIN, "--embedding-dim", "0"],
    [*_TRAIN, "--units", "0"],
    [*_TRAIN, "--layers", "0"],
    [*_TRAIN, "--max-source-length", "0"],
    [*_TRAIN, "--max-target-length", "1"],
    [*_TRAIN, "--checkpoint-steps", "-1"],
    [*_TRAIN, "--bucket-width", "-1"],
    [*_TRAIN, "--time-budget", "-1"],
    [*_TRAIN, "--beam-width", "0"],
    [*_TRAIN, "--beam-width", "65"],
    [*_TRAIN, "--valid-fraction", "1.5"],
    [*_TRAIN, "--seed", "-1"],
    _TRAIN,  # no such corpus
    ["export", "--run-dir", "missing-run", "--out", "out"],
]


@pytest.mark.parametrize("argv", BAD_INVOCATIONS, ids=lambda a: " ".join(a[:1] + a[-2:]))
def test_bad_invocations_exit_2_with_one_line_before_tensorflow_loads(argv, tmp_path):
    (tmp_path / "FILE").write_text("x")
    (tmp_path / "DIR").mkdir()
    (tmp_path / "s").write_text("x\n")
    (tmp_path / "r").write_text("x\n")
    code = (
        "import sys; sys.modules['chatterbot_corpus'] = None; "
        "from keras_s2s.cli import main; rc = main(sys.argv[1:]); "
        "print('tensorflow' in sys.modules); sys.exit(rc)"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True, text=True, env=ENV, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith("keras-s2s: error: ") and r.stderr.count("\n") == 1, r.stderr
    assert r.stdout == "False\n"  # TensorFlow was never imported


def test_evaluate_names_the_line_of_an_undecodable_reference_file(tmp_path):
    (tmp_path / "s").write_text("x\ny\n")
    (tmp_path / "r").write_bytes(b"x\n\xff\n")
    r = subprocess.run(
        [sys.executable, "-m", "keras_s2s", *_EVALUATE],
        capture_output=True, text=True, env=ENV, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert r.returncode == 2
    assert r.stderr == "keras-s2s: error: r:2: not valid UTF-8 (byte 0xff at column 1)\n"


def test_identity_normalization_model_translates_with_an_empty_stderr(tmp_path):
    # SentencePiece logs "precompiled_charsmap is empty" when a model with identity
    # normalization is loaded, in Python and in the graph's op. (Training still shows it
    # once, from TensorFlow Text's op in the input pipeline.)
    rows = [f"def f{i}(x):\treturn x + {i}" for i in range(40)]
    path = _write(tmp_path / "code.tsv", "\n".join(rows) + "\n")
    run = str(tmp_path / "run")
    r = _cli(
        "train", "--train", path, "--run-dir", run, "--epochs", "1", "--vocab-size", "40",
        "--normalization", "identity", "--units", "8", "--embedding-dim", "4",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    for backend in ("keras", None):
        args = ["--backend", backend] if backend else []
        if backend is None:
            assert _cli("export", "--run-dir", run, "--out", str(tmp_path / "m")).returncode == 0
            args = []
        model = run if backend else str(tmp_path / "m" / "1")
        r = _cli("translate", "--model", model, *args, "def f3(x):")
        assert r.returncode == 0 and r.stdout.count("\n") == 1
        assert r.stderr == "", r.stderr
