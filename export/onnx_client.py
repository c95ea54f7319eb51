# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Translate with an exported model in ONNX Runtime, without TensorFlow or keras_s2s.

Needs only `onnxruntime`, `numpy` and `sentencepiece`; everything else comes from the
export's `onnx/` folder (`model.onnx`, `tokenizer.model`, `config.json`).

Usage:
    python export/onnx_client.py saved_models/quickstart/1 "2024년 3월 5일 화요일" ...
    printf '%s\\n' "two hundred and seventy-two" | python export/onnx_client.py saved_models/quickstart/1

One translation is printed per input sentence, in input order. With no sentences on the
command line, stdin is read, one sentence per line.

Exit codes: 0 on success, 2 for a usage error or a model folder that cannot be loaded.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

import numpy as np
import onnxruntime as ort
import sentencepiece as spm

PROG = "onnx_client.py"
DEFAULT_BATCH_SIZE = 64


class ClientError(Exception):
    """The model folder is missing or incomplete; the message is one line."""


class OnnxTranslator:
    """The `onnx/` folder of one exported version, ready to translate.

    Args:
        model_path: A published version dir (`saved_models/NAME/<version>`) or its
            `onnx/` folder.
        threads: ONNX Runtime intra-op threads; `None` lets ONNX Runtime decide.

    Raises:
        ClientError: if the folder, `config.json`, the model or the tokenizer is missing
            or unreadable.
    """

    def __init__(self, model_path: str, threads: int | None = None):
        if not os.path.isdir(model_path):
            raise ClientError(f"{model_path}: no such directory")
        folder = os.path.join(model_path, "onnx")
        if not os.path.isdir(folder):
            folder = model_path
        config_path = os.path.join(folder, "config.json")
        if not os.path.isfile(config_path):
            raise ClientError(f"{model_path}: no onnx/config.json (exported without ONNX?)")
        try:
            with open(config_path, encoding="utf-8") as f:
                config = json.load(f)
            special = config["special_ids"]
            self.pad_id = int(special["pad"])
            self.sos_id = int(special["sos"])
            self.eos_id = int(special["eos"])
            self.max_source_length = int(config["max_source_length"])
            self.max_length = int(config["max_length"])
            files = config.get("files", {})
            model_file = os.path.join(folder, files.get("ids", "model.onnx"))
            tokenizer_file = os.path.join(folder, files.get("tokenizer", "tokenizer.model"))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ClientError(f"{config_path}: unreadable config ({e!r})") from e
        for path in (model_file, tokenizer_file):
            if not os.path.isfile(path):
                raise ClientError(f"{path}: no such file")
        try:
            self.sp = spm.SentencePieceProcessor(model_file=tokenizer_file)
        except (OSError, RuntimeError) as e:
            raise ClientError(f"{tokenizer_file}: not a SentencePiece model ({e})") from e
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(
                model_file, options, providers=["CPUExecutionProvider"]
            )
        except Exception as e:  # ORT raises its own exception types
            raise ClientError(f"{model_file}: cannot load ({type(e).__name__})") from e

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Tokenizes, truncates to `max_source_length` and 0-pads to an int64 matrix.

        Args:
            texts: Sentences.

        Returns:
            `int64 [batch, time]` SentencePiece ids, without sos/eos; `time` is at least 1.
        """
        rows = [r[: self.max_source_length] for r in self.sp.encode(list(texts))]
        width = max([len(r) for r in rows] + [1])
        ids = np.full((len(rows), width), self.pad_id, np.int64)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = row
        return ids

    def decode(self, ids: np.ndarray) -> list[str]:
        """Turns output id rows into strings: each row is cut at eos, pad and sos dropped.

        Args:
            ids: `int [batch, time]` output ids.

        Returns:
            One string per row.
        """
        rows = []
        for row in ids.tolist():
            if self.eos_id in row:
                row = row[: row.index(self.eos_id)]
            rows.append([i for i in row if i not in (self.pad_id, self.sos_id)])
        return self.sp.decode(rows)

    def translate(
        self,
        texts: Sequence[str],
        *,
        max_length: int | None = None,
        beam: int = 1,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> list[str]:
        """Translates sentences, returning the best hypothesis of each.

        Args:
            texts: Sentences.
            max_length: Output length limit in tokens; capped at the exported maximum.
            beam: Beam width (1 is greedy search).
            batch_size: Sentences per ONNX Runtime call.

        Returns:
            One translation per sentence, in input order (empty list for no input).
        """
        texts = list(texts)
        limit = min(max_length or self.max_length, self.max_length)
        out: list[str] = []
        # An empty batch never reaches ONNX Runtime: a [0, time] input fails there.
        for start in range(0, len(texts), batch_size):
            ids, _scores = self.session.run(
                ["ids", "scores"],
                {
                    "source_ids": self.encode(texts[start : start + batch_size]),
                    "max_length": np.array(limit, np.int32),
                    "beam_width": np.array(beam, np.int32),
                    "n_best": np.array(1, np.int32),
                },
            )
            out.extend(self.decode(ids[:, 0]))
        return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Translate sentences with an exported model in ONNX Runtime.",
    )
    parser.add_argument("model", help="version dir (saved_models/NAME/<version>) or its onnx/")
    parser.add_argument("text", nargs="*", help="sentences (default: stdin, one per line)")
    parser.add_argument("--max-length", type=int, help="output length limit in tokens")
    parser.add_argument("--beam", type=int, default=1, help="beam width (1: greedy)")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--threads", type=int, help="ONNX Runtime intra-op threads")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the client.

    Args:
        argv: Command-line arguments without the program name; `None` means `sys.argv`.

    Returns:
        The exit code: 0 on success, 2 on a usage error or an unloadable model.
    """
    args = _parser().parse_args(argv)
    if args.batch_size < 1 or args.beam < 1:
        print(f"{PROG}: error: --batch-size and --beam must be at least 1", file=sys.stderr)
        return 2
    try:
        translator = OnnxTranslator(args.model, threads=args.threads)
    except ClientError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    texts = args.text or [line.rstrip("\r\n") for line in sys.stdin]
    for line in translator.translate(
        texts, max_length=args.max_length, beam=args.beam, batch_size=args.batch_size
    ):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
