# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""`python -m keras_s2s` runs the command-line interface."""

from keras_s2s.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
