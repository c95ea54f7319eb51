# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Attention heatmaps: one PNG per sentence, source tokens against target tokens.

Korean and other non-Latin tokens need a font that has their glyphs. The package
depends on `koreanize-matplotlib`, which ships NanumGothic (SIL Open Font License); its
font files are registered with matplotlib here without importing that package (which
would change matplotlib's global settings), and DejaVu Sans stays as the fallback for
everything NanumGothic lacks.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence

FONT_FAMILIES = ["NanumGothic", "DejaVu Sans"]


def _register_fonts() -> list[str]:
    from matplotlib import font_manager

    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return ["DejaVu Sans"]
    fonts_dir = os.path.join(list(spec.submodule_search_locations)[0], "fonts")
    for name in sorted(os.listdir(fonts_dir)):
        if name.endswith(".ttf"):
            font_manager.fontManager.addfont(os.path.join(fonts_dir, name))
    return FONT_FAMILIES


def plot_attention(
    weights: Sequence[Sequence[float]],
    source_tokens: Sequence[str],
    target_tokens: Sequence[str],
    path: str,
    *,
    title: str | None = None,
) -> str:
    """Writes an attention heatmap as a PNG.

    Args:
        weights: `[len(target_tokens), len(source_tokens)]` attention weights.
        source_tokens: Source pieces (x axis).
        target_tokens: Generated pieces (y axis).
        path: Output `.png` path.
        title: Optional title (e.g. the source sentence).

    Returns:
        `path`.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    families = _register_fonts()
    data = np.asarray(weights, dtype=np.float32)[: len(target_tokens), : len(source_tokens)]
    width = max(4.0, 0.45 * len(source_tokens) + 2.0)
    height = max(3.0, 0.4 * len(target_tokens) + 1.5)
    with plt.rc_context({"font.family": families, "axes.unicode_minus": False}):
        fig, ax = plt.subplots(figsize=(width, height))
        image = ax.imshow(data, cmap="viridis", aspect="auto", vmin=0.0, vmax=1.0)
        ax.set_xticks(range(len(source_tokens)), labels=list(source_tokens), rotation=90)
        ax.set_yticks(range(len(target_tokens)), labels=list(target_tokens))
        ax.set_xlabel("source")
        ax.set_ylabel("translation")
        if title:
            ax.set_title(title)
        fig.colorbar(image, ax=ax)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
    return path
