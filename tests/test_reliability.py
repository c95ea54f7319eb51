# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""The same answer in every backend, or one clear error: one test per broken case found
by the reliability review (whitespace, empty batches, NUL, load order, damaged and
escaping files, limits, resume, non-text input)."""

import json
import os
import shutil
import subprocess
import sys

import pytest

import keras_s2s
from keras_s2s.backends import ModelPathError
from keras_s2s.integrity import seal

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
ALL = ("keras", "savedmodel", "onnx", "onnx-text")


@pytest.fixture(scope="module")
def backends(exported_attention):
    run_dir, version_dir = exported_attention
    return {b: keras_s2s.load(run_dir if b == "keras" else version_dir, b) for b in ALL}


# 1. onnx-text kept no leading whitespace of identity-normalized (code) models.
def test_graph_detokenizer_keeps_indentation_like_sentencepiece():
    import tensorflow as tf

    from keras_s2s.config import TokenizerConfig
    from keras_s2s.tokenizer import Tokenizer

    lines = ["def f(x):", "    return x", "        total += 1", "\tpass", "  a  b  "] * 40
    for normalization in ("identity", "nmt_nfkc"):
        tok = Tokenizer.train(lines, TokenizerConfig(vocab_size=60, normalization=normalization))
        rows = tok.encode(["    return total", "        x", "\ty", "  a  b", "plain"])
        width = max(map(len, rows))
        ids = tf.constant([r + [0] * (width - len(r)) for r in rows], tf.int32)
        got = [s.decode() for s in tok.detokenize(ids).numpy()]
        assert got == tok.decode(rows), normalization
    assert got[0] == "return total"  # nmt_nfkc drops leading whitespace, as SentencePiece does
    # (the identity model keeps it: checked on trained models in test_parity_matrix.py)


# 2. onnx-text crashed (integer division by zero) on a batch with no tokens at all.
@pytest.mark.parametrize("batch", [[""], ["   "], ["\x01\x02"], ["", "\t", "\n"]])
def test_a_batch_without_tokens_translates_in_every_backend(backends, batch):
    outs = {name: [h.ids for h in m.translate_detailed(batch)] for name, m in backends.items()}
    assert outs["onnx-text"] == outs["keras"] == outs["savedmodel"] == outs["onnx"]


# 3. onnx-text cut a sentence at NUL; the rule is now: NUL is removed, in every backend.
def test_nul_is_removed_in_every_backend(backends, parity_sentences):
    source = parity_sentences[3]
    with_nul = source[:3] + "\x00" + source[3:]
    for name, model in backends.items():
        assert model.translate([with_nul]) == model.translate([source]), name


def test_the_graphs_remove_nul_too(exported_attention):
    import tensorflow as tf

    fn = tf.saved_model.load(exported_attention[1]).signatures["serving_default"]
    out = fn(text=tf.constant(["May\x00 7, 1985", "May 7, 1985"]))["translation"].numpy()
    assert out[0] == out[1]


# 4. savedmodel then onnx-text in one process ended with exit 139.
LOAD_SCRIPT = """
import json, sys
import keras_s2s
run_dir, version_dir = sys.argv[1], sys.argv[2]
out = []
for backend in sys.argv[3:]:
    model = keras_s2s.load(run_dir if backend == "keras" else version_dir, backend)
    out.append(model.translate(["May 7, 1985", "seventy-two"]))
print(json.dumps(out))
"""

# Every ordered pair of {a TensorFlow backend, onnx, onnx-text}, each in a fresh process.
ORDERS = [
    ("savedmodel", "onnx"),
    ("savedmodel", "onnx-text"),
    ("onnx", "savedmodel"),
    ("onnx", "onnx-text"),
    ("onnx-text", "savedmodel"),
    ("onnx-text", "onnx"),
]


@pytest.fixture(scope="module")
def load_orders(exported_attention):
    """Runs every order at once (two cores; each process mostly waits on imports)."""
    procs = {
        order: subprocess.Popen(
            [sys.executable, "-c", LOAD_SCRIPT, *exported_attention, *order],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        for order in ORDERS
    }
    return {order: (p.communicate(timeout=900), p.returncode) for order, p in procs.items()}


@pytest.mark.slow
@pytest.mark.parametrize("first,second", ORDERS)
def test_backends_load_in_any_order_in_one_process(load_orders, first, second):
    (stdout, stderr), code = load_orders[(first, second)]
    assert code == 0, stderr[-2000:]  # was -11 (SIGSEGV, exit 139) for savedmodel, onnx-text
    a, b = json.loads(stdout.strip().splitlines()[-1])
    assert a == b


def test_extensions_imported_after_tensorflow_are_refused_not_a_crash(exported_attention):
    script = (
        "import sys, tensorflow, onnxruntime_extensions, keras_s2s\n"
        "from keras_s2s.backends import BackendConflictError\n"
        "try:\n"
        "    keras_s2s.load(sys.argv[1], 'onnx-text')\n"
        "except BackendConflictError as e:\n"
        "    print('refused:', e)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, exported_attention[1]],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "refused: onnx-text cannot run in this process" in proc.stdout


# 5. A corrupted ONNX file translated to blank lines with exit 0.
@pytest.mark.parametrize("file", ["model.onnx", "model.text.onnx", "model.int8.onnx"])
def test_flipped_bits_in_an_onnx_file_are_detected(exported_attention, tmp_path, file):
    version = str(tmp_path / "1")
    shutil.copytree(exported_attention[1], version)
    path = os.path.join(version, "onnx", file)
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0x10]))
    with pytest.raises(ModelPathError, match=f"{path}: damaged .*SHA-256.*config.json"):
        keras_s2s.load(path)


# 6. Damaged files gave tracebacks (the table of every file and damage is in
#    test_damaged_files.py); here the library-level errors name the file.
def test_damaged_json_and_tokenizer_files_are_one_error_naming_the_file(exported, tmp_path):
    from keras_s2s.tokenizer import Tokenizer

    bad = tmp_path / "tokenizer.model"
    bad.write_bytes(b"\x00garbage\xff")
    with pytest.raises(ModelPathError, match=f"{bad}: damaged"):
        Tokenizer.load(str(bad))
    version = tmp_path / "v"
    shutil.copytree(exported[2], version)
    (version / "metadata.json").write_bytes(b'{"config": ')
    with pytest.raises(ModelPathError, match="metadata.json: damaged \\(not valid JSON"):
        keras_s2s.load(str(version), "savedmodel")


def test_disk_full_inside_saved_model_save_is_one_error(exported, tmp_path):
    env = dict(ENV, KERAS_S2S_FAULT="disk_full")
    proc = subprocess.run(
        [sys.executable, "-m", "keras_s2s", "export", "--run-dir", exported[0],
         "--out", str(tmp_path / "out"), "--format", "savedmodel"],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-2000:]
    # (TensorFlow's own C++ start-up lines are not the package's; the CLI issue owns them.)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("keras-s2s:")]
    assert len(lines) == 1 and "cannot write the SavedModel" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert "no space left" in lines[0].lower()
    assert os.listdir(tmp_path / "out") == []  # nothing published, no temporary left


# 7. A path in onnx/config.json read files outside the model folder.
@pytest.mark.parametrize("path", ["../../../etc/hostname", "/etc/hostname", "../assets/x"])
def test_config_paths_cannot_leave_the_onnx_folder(exported, tmp_path, path):
    version = tmp_path / "1"
    shutil.copytree(exported[2], version)
    config = version / "onnx" / "config.json"
    data = json.loads(config.read_text())
    data["files"]["tokenizer"] = path
    config.write_text(json.dumps(seal(data)))  # a crafted config, correctly sealed
    onnx_file = str(version / "onnx" / "model.onnx")
    # Inside the version dir, metadata.json's hash of config.json catches the edit first;
    # a bare ONNX folder has only the path rule.
    with pytest.raises(ModelPathError, match="config.json: damaged"):
        keras_s2s.load(onnx_file)
    os.remove(version / "metadata.json")
    with pytest.raises(ModelPathError, match=f"file path '{path}' (points outside|must be rel)"):
        keras_s2s.load(onnx_file)


# 8. Backends disagreed on limits (the keras backend had no beam cap, exports clipped).
@pytest.mark.parametrize(
    "options,message",
    [
        ({"beam": 65}, "beam must be between 1 and 64; got 65"),
        ({"beam": 0}, "beam must be between 1 and 64; got 0"),
        ({"beam": 2, "n_best": 3}, "n_best must be between 1 and beam \\(2\\); got 3"),
        ({"beam": 64, "n_best": 100}, "n_best must be between 1 and beam \\(64\\); got 100"),
        ({"max_length": 0}, "max_length must be between 1 and this model's limit"),
        ({"max_length": -3}, "max_length must be between 1 and this model's limit"),
        ({"max_length": 10_000}, "max_length must be between 1 and this model's limit"),
        ({"beam": True}, "beam must be an integer"),
    ],
)
def test_out_of_range_options_are_the_same_error_in_every_backend(backends, options, message):
    for model in backends.values():
        with pytest.raises(ValueError, match=message):
            model.translate(["May 7, 1985"], **options)


def test_the_widest_beam_works_in_every_backend(backends):
    outs = {
        name: [h.ids for h in m.translate_nbest("May 7, 1985", beam=64, n_best=64, max_length=6)]
        for name, m in backends.items()
    }
    assert len(outs["keras"]) == 64
    assert outs["keras"] == outs["savedmodel"] == outs["onnx"] == outs["onnx-text"]


def test_savedmodel_signatures_reject_out_of_range_options(exported):
    import tensorflow as tf

    fn = tf.saved_model.load(exported[2]).signatures["translate_with_options"]
    args = {"text": tf.constant(["x"]), "beam_width": tf.constant(1), "n_best": tf.constant(1)}
    with pytest.raises(tf.errors.InvalidArgumentError, match="max_length must be between 1"):
        fn(max_length=tf.constant(0), **args)
    args["max_length"] = tf.constant(5)
    args["beam_width"] = tf.constant(65)
    with pytest.raises(tf.errors.InvalidArgumentError, match="beam_width must be between 1"):
        fn(**args)


def test_cli_options_out_of_range_exit_2_before_loading(exported, capsys):
    from keras_s2s.cli import main

    for flags in (["--beam", "0"], ["--beam", "2", "--n-best", "3"], ["--max-length", "-1"]):
        assert main(["translate", "--model", "/nonexistent", *flags, "x"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and ("must be between" in err[0] or "at least 1" in err[0]), err
    assert main(["translate", "--model", exported[2], "--max-length", "1000", "x"]) == 2
    assert "this model's limit (64)" in capsys.readouterr().err


# 9. Resume silently started over when no checkpoint could be restored: see
#    test_checkpointing.py (test_train_refuses_unrestorable_checkpoints_unless_restarted,
#    test_keys_are_paths_that_..., test_checkpoints_with_positional_keys_still_resume,
#    test_model_keras_is_replaced_atomically).


# 10. Inputs that are not str gave different answers or exceptions per backend.
def test_one_input_rule_for_bytes_surrogates_none_and_a_lone_string(backends):
    invalid = b"May 7, 1985 \xff\xfe"
    surrogate = "May 7, 1985 \ud800"
    expect = None
    for name, model in backends.items():
        got = model.translate([invalid, surrogate, bytearray(b"May 7, 1985")])
        replaced = model.translate(["May 7, 1985 \ufffd\ufffd", "May 7, 1985 \ufffd"])
        assert got[:2] == replaced, name
        expect = expect or got
        assert got == expect, name
        single = model.translate("May 7, 1985")
        assert isinstance(single, str) and single == model.translate(["May 7, 1985"])[0]
        hypothesis = model.translate_detailed("May 7, 1985")
        assert hypothesis.text == single
        with pytest.raises(TypeError, match="texts\\[1\\] is NoneType; expected str or bytes"):
            model.translate(["x", None])
        with pytest.raises(TypeError, match="texts\\[0\\] is int"):
            model.translate([7])


def test_a_folder_with_a_non_ascii_digit_name_is_not_a_version(exported, tmp_path):
    from keras_s2s.backends import resolve
    from keras_s2s.exporting import version_dirs

    model_dir = tmp_path / "m"
    shutil.copytree(exported[2], model_dir / "3")
    (model_dir / "²").mkdir()
    assert version_dirs(str(model_dir)) == [3]
    assert resolve(str(model_dir)) == ("savedmodel", str(model_dir / "3"))
