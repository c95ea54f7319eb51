# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
import warnings

import numpy as np


def test_plot_with_korean_tokens_has_every_glyph(tmp_path):
    from keras_s2s.plotting import plot_attention

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph is a UserWarning in matplotlib
        path = plot_attention(
            np.full((3, 4), 0.25),
            ["▁2024", "년", "▁3", "월"],
            ["▁고양이가", "▁매트", "<eos>"],
            str(tmp_path / "ko.png"),
            title="2024년 3월 5일 화요일",
        )
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_plot_crops_weights_to_the_tokens(tmp_path):
    from keras_s2s.plotting import plot_attention

    path = plot_attention(np.ones((10, 10)) / 10, ["a", "b"], ["x"], str(tmp_path / "p.png"))
    import matplotlib.image

    image = matplotlib.image.imread(path)
    assert image.shape[0] > 100 and image.shape[1] > 100
