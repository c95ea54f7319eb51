# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
import json
import os
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_quickstart_trains_exports_and_compares_every_backend(tmp_path):
    """The README's main job end to end, with a tiny model so that it runs in a minute."""
    r = subprocess.run(
        [
            sys.executable, "-m", "keras_s2s", "quickstart",
            "--run-dir", str(tmp_path / "run"), "--out", str(tmp_path / "models" / "qs"),
            "--epochs", "1", "--units", "16", "--embedding-dim", "8", "--vocab-size", "100",
        ],
        capture_output=True, text=True, timeout=900,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}, cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert report["test_sentences"] == 1200
    assert set(report["exact_match"]) == {"keras", "savedmodel", "onnx"}
    assert report["agreement"] == 1.0
    assert report["version_dir"] == str(tmp_path / "models" / "qs" / "1")
    assert "agreement between all three backends: 100.00% of 1200 sentences" in r.stdout
