# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""The deployment recipe in export/, checked the way its consumers read it.

TF Serving cannot run on the test machine, so each piece is fed to what the server
would do with it: the model config goes through the ModelServerConfig text-format
parser, and the REST bodies are turned into tensors by TF Serving's JSON rules and run
through the exported signatures. The ONNX client runs as its own process.
"""

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the SentencePiece ops, as a server must)
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

import keras_s2s

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPORT_DIR = os.path.join(ROOT, "export")
CLIENT = os.path.join(EXPORT_DIR, "onnx_client.py")
REQUESTS = os.path.join(EXPORT_DIR, "requests")
HEADER = "# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0"

SENTENCES = [
    "2024년 3월 5일 화요일",
    "two hundred and seventy-two",
    "Dienstag, 1. Juli 1986",
    "mercredi 10 mars 1965",
    "1989年10月12日木曜日",
]


def _read_request(name):
    with open(os.path.join(REQUESTS, name), encoding="utf-8") as f:
        return json.load(f)


def _to_tensor(value, spec, name):
    """A JSON value as TF Serving decodes it: the signature's dtype, the value's shape."""
    tensor = tf.constant(value, dtype=spec.dtype)
    assert spec.shape.is_compatible_with(tensor.shape), (name, spec.shape, tensor.shape)
    return tensor


def rest_to_tensors(body, signature):
    """Decodes a REST predict body as TF Serving's json_tensor does.

    Row format (`instances`): a list with one entry per example; bare values feed the
    signature's only input, objects name the inputs. Columnar format (`inputs`): an
    object of whole tensors (a bare value again feeds the only input).
    """
    specs = signature.structured_input_signature[1]
    if "instances" in body:
        instances = body["instances"]
        assert isinstance(instances, list) and instances
        if all(isinstance(row, dict) for row in instances):
            columns = {k: [row[k] for row in instances] for k in specs}
        else:
            assert len(specs) == 1, "bare instances need a one-input signature"
            columns = {next(iter(specs)): instances}
    else:
        inputs = body["inputs"]
        if not isinstance(inputs, dict):
            assert len(specs) == 1
            inputs = {next(iter(specs)): inputs}
        columns = inputs
    assert set(columns) == set(specs), (set(columns), set(specs))
    return {k: _to_tensor(v, specs[k], k) for k, v in columns.items()}


@pytest.fixture(scope="module")
def loaded(exported):
    return tf.saved_model.load(exported[2])


def _run_client(args, *, stdin=None, python_flags=()):
    env = dict(os.environ, PYTHONUTF8="1", PYTHONIOENCODING="utf-8")
    return subprocess.run(
        [sys.executable, *python_flags, CLIENT, *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=ROOT,
        timeout=300,
    )


def test_no_importable_export_package_and_headers():
    assert not os.path.exists(os.path.join(EXPORT_DIR, "__init__.py"))
    for name in ("onnx_client.py", "models.config"):
        with open(os.path.join(EXPORT_DIR, name), encoding="utf-8") as f:
            assert f.readline().rstrip("\n") == HEADER, name


def test_models_config_parses_as_model_server_config():
    with open(os.path.join(EXPORT_DIR, "models.config"), encoding="utf-8") as f:
        config = text_format.Parse(f.read(), model_server_config_pb2.ModelServerConfig())
    models = config.model_config_list.config
    assert len(models) == 1
    (model,) = models
    assert model.name == "quickstart"
    assert model.base_path == "/models/quickstart"
    assert model.model_platform == "tensorflow"
    assert model.model_version_policy.WhichOneof("policy_choice") == "latest"
    assert model.model_version_policy.latest.num_versions == 1


def test_readme_shows_the_request_files_and_the_recipe():
    with open(os.path.join(EXPORT_DIR, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    payloads = [json.loads(p) for p in re.findall(r"-d '(\{.*?\})'", readme, re.DOTALL)]
    assert _read_request("serving_default.json") in payloads
    assert _read_request("translate_with_options.json") in payloads
    for needle in (
        "tensorflow/serving",
        "-p 8501:8501",
        "$(pwd)/saved_models/quickstart",
        "/models/quickstart",
        "-e MODEL_NAME=quickstart",
        "--model_config_file=/models/models.config",
        "/v1/models/quickstart:predict",
    ):
        assert needle in readme, needle


def test_serving_default_rest_body_runs_through_the_signature(loaded):
    body = _read_request("serving_default.json")
    assert body == {"instances": ["2024년 3월 5일 화요일", "two hundred and seventy-two"]}
    fn = loaded.signatures["serving_default"]
    tensors = rest_to_tensors(body, fn)
    assert tensors["text"].dtype == tf.string and tensors["text"].shape == (2,)
    out = fn(**tensors)
    assert set(out) == {"translation", "score"}
    assert out["translation"].dtype == tf.string and out["translation"].shape == (2,)
    assert out["score"].dtype == tf.float32 and out["score"].shape == (2,)
    # The row-format response TF Serving would send: one object per instance, as JSON.
    predictions = [
        {"translation": t.decode("utf-8"), "score": float(s)}
        for t, s in zip(out["translation"].numpy(), out["score"].numpy(), strict=True)
    ]
    response = json.loads(json.dumps({"predictions": predictions}))
    assert len(response["predictions"]) == len(body["instances"])
    for p in response["predictions"]:
        assert isinstance(p["translation"], str)
        assert p["score"] <= 0.0  # a sum of log-probabilities


def test_translate_with_options_columnar_body_runs_through_the_signature(loaded):
    body = _read_request("translate_with_options.json")
    assert body["signature_name"] == "translate_with_options"
    fn = loaded.signatures[body["signature_name"]]
    tensors = rest_to_tensors(body, fn)
    for name in ("max_length", "beam_width", "n_best"):
        assert tensors[name].dtype == tf.int32 and tensors[name].shape == ()
    out = fn(**tensors)
    assert out["translations"].dtype == tf.string
    assert out["translations"].shape == (2, 1)
    assert out["scores"].shape == (2, 1)
    ids = out["ids"].numpy()
    assert ids.shape[:2] == (2, 1) and ids.shape[2] <= body["inputs"]["max_length"]
    # Same answers as the text-only signature, which uses the configured defaults.
    default = loaded.signatures["serving_default"](text=tensors["text"])
    assert out["translations"].numpy()[:, 0].tolist() == default["translation"].numpy().tolist()


def test_beam_options_in_a_rest_request(loaded):
    body = _read_request("translate_with_options.json")
    fn = loaded.signatures[body["signature_name"]]
    body["inputs"]["beam_width"] = 4
    body["inputs"]["n_best"] = 3
    out = fn(**rest_to_tensors(body, fn))
    assert out["translations"].shape == (2, 3)
    scores = out["scores"].numpy()
    assert (scores[:, :-1] >= scores[:, 1:]).all()  # best first


def test_savedmodel_needs_only_core_and_tensorflow_text_ops(exported):
    """The README's claim: a model server needs TF Text's SentencePiece ops, nothing else."""
    script = textwrap.dedent(
        """
        import json, sys
        import tensorflow  # registers the core ops, as a plain ModelServer has them
        from tensorflow.core.protobuf import saved_model_pb2
        from tensorflow.python.framework import op_def_registry

        sm = saved_model_pb2.SavedModel()
        with open(sys.argv[1], "rb") as f:
            sm.ParseFromString(f.read())
        ops, functions = set(), set()
        for mg in sm.meta_graphs:
            ops |= {n.op for n in mg.graph_def.node}
            for fn in mg.graph_def.library.function:
                functions.add(fn.signature.name)
                ops |= {n.op for n in fn.node_def}
        ops -= functions
        core_missing = sorted(o for o in ops if op_def_registry.get(o) is None)
        import tensorflow_text
        text_missing = sorted(o for o in ops if op_def_registry.get(o) is None)
        print(json.dumps([core_missing, text_missing]))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script, os.path.join(exported[2], "saved_model.pb")],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
    )
    assert out.returncode == 0, out.stderr
    core_missing, text_missing = json.loads(out.stdout.strip().splitlines()[-1])
    assert core_missing == [
        "SentencepieceOp",
        "SentencepieceTokenizeOp",
    ]
    assert text_missing == []
    with open(os.path.join(EXPORT_DIR, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    for op in core_missing:
        assert f"`{op}`" in readme, op


def _imported_modules(importtime_stderr):
    """Module names from `python -X importtime` lines: `import time: self | cum | name`."""
    names = []
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            names.append(line.rsplit("|", 1)[1].strip())
    return names


def test_onnx_client_matches_savedmodel_and_never_imports_tensorflow(exported):
    _, _, version_dir = exported
    expected = keras_s2s.load(version_dir, "savedmodel").translate(SENTENCES)
    result = _run_client([version_dir, *SENTENCES], python_flags=("-X", "importtime"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split("\n") == [*expected, ""]

    modules = _imported_modules(result.stderr)
    top_level = {m.split(".")[0] for m in modules}
    assert {"onnxruntime", "sentencepiece", "numpy"} <= top_level  # the check is live
    assert not top_level & {"tensorflow", "tensorflow_text", "keras", "keras_s2s", "tf2onnx"}
    assert not [m for m in modules if "tensorflow" in m]


def test_readme_onnx_snippet_runs_and_agrees_with_the_client(exported):
    _, _, version_dir = exported
    with open(os.path.join(EXPORT_DIR, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    snippet, _ = re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
    placeholder = '"saved_models/quickstart/1/onnx"'
    assert placeholder in snippet
    snippet = snippet.replace(placeholder, repr(os.path.join(version_dir, "onnx")))
    env = dict(os.environ, PYTHONUTF8="1")
    by_snippet = subprocess.run(
        [sys.executable, "-c", snippet],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=300,
    )
    assert by_snippet.returncode == 0, by_snippet.stderr[-2000:]
    texts = _read_request("serving_default.json")["instances"]
    assert f"texts = {json.dumps(texts, ensure_ascii=False)}" in snippet
    by_client = _run_client([version_dir, *texts])
    assert by_client.returncode == 0, by_client.stderr[-2000:]
    assert by_snippet.stdout == by_client.stdout


def test_readme_text_to_text_snippet_agrees_with_the_savedmodel(exported_attention):
    version_dir = exported_attention[1]
    with open(os.path.join(EXPORT_DIR, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    _, snippet = re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
    placeholder = '"saved_models/mine/1/onnx/model.text.onnx"'
    assert placeholder in snippet
    path = os.path.join(version_dir, "onnx", "model.text.onnx")
    by_snippet = subprocess.run(
        [sys.executable, "-c", snippet.replace(placeholder, repr(path))],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=dict(os.environ, PYTHONUTF8="1"),
        timeout=300,
    )
    assert by_snippet.returncode == 0, by_snippet.stderr[-2000:]
    texts = ["Ein Hund rennt.", "2024년 3월 5일 화요일"]
    assert f"np.array({json.dumps(texts, ensure_ascii=False)}, dtype=object)" in snippet
    expected = keras_s2s.load(version_dir, "savedmodel").translate(texts, beam=5)
    assert by_snippet.stdout == "".join(t + "\n" for t in expected)


def test_onnx_client_reads_stdin_lines(exported):
    _, _, version_dir = exported
    by_args = _run_client([version_dir, *SENTENCES])
    by_stdin = _run_client([version_dir], stdin="".join(s + "\n" for s in SENTENCES))
    assert by_stdin.returncode == 0, by_stdin.stderr[-2000:]
    assert by_stdin.stdout == by_args.stdout
    assert len(by_stdin.stdout.splitlines()) == len(SENTENCES)


def test_onnx_client_empty_input_prints_nothing(exported):
    result = _run_client([exported[2]], stdin="")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == ""


def test_onnx_client_missing_dir_exits_2_with_one_line(tmp_path):
    missing = str(tmp_path / "no-such-model" / "1")
    result = _run_client([missing, "hello"])
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert missing in lines[0]
