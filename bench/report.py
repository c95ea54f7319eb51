# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""The README's Performance table and plot, generated from `bench/results/*.json`.

Reads whichever of these exist (a missing or older-format file leaves its rows out):

- `decode_latency.json` (`bench/decode_latency.py`): decoding latency per backend, BLEU,
  targets and profiles;
- `text_onnx_latency.json` (`bench/text_onnx_latency.py`): text-to-text ONNX vs ids ONNX
  with Python SentencePiece;
- `train_throughput.json` (`bench/train_throughput.py`): Keras vs PyTorch training;
- `multi30k.json` (`bench/multi30k.py`): test BLEU after the time-budgeted training;
- `load.json` (`bench/load.py`): concurrent requests.

Writes `performance.md` (a summary table whose every row names the command and machine
that produced it, then details) and `performance.png` (matplotlib, Agg). With
`--update-readme`, the README's "## Performance" section is replaced by the summary
table, the plot and how to regenerate them.

Usage (from the repository root):

    .venv/bin/python bench/report.py [--update-readme]
"""

from __future__ import annotations

import argparse
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
README = os.path.join(ROOT, "README.md")
BACKEND_LABELS = {
    "predict_loop": "per-token `predict()` loop",
    "savedmodel": "SavedModel (`tf.while_loop`)",
    "onnx": "ONNX Runtime fp32",
    "onnx-int8": "ONNX Runtime int8",
}
CELLS = (("batch_1", "greedy"), ("batch_1", "beam5"), ("batch_64", "greedy"), ("batch_64", "beam5"))
REGENERATE = "`.venv/bin/python bench/report.py --update-readme`"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--results-dir", default=RESULTS, help="where the JSON files are")
    p.add_argument("--out-dir", default=None, help="default: --results-dir")
    p.add_argument(
        "--update-readme", action="store_true", help="replace README.md's Performance section"
    )
    p.add_argument("--readme", default=README)
    return p.parse_args(argv)


def load(results_dir: str, name: str) -> dict | None:
    path = os.path.join(results_dir, f"{name}.json")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# Formatting.


def ms(value) -> str:
    if value is None:
        return "n/a"
    if value >= 100:
        return f"{value:,.0f} ms"
    if value >= 10:
        return f"{value:.1f} ms"
    return f"{value:.2f} ms"


def num(value, digits=0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def source(report: dict) -> tuple[str, str]:
    """(command, machine) cells for a row from `report`."""
    m = report.get("machine", {})
    load = report.get("load_average_1_5_15", {})
    start, end = (load.get("start") or [None])[0], (load.get("end") or [None])[0]
    machine = f"{m.get('nproc', '?')}-core {m.get('cpu', '?')}, {report.get('date', '?')[:16]}"
    if start is not None and end is not None:
        machine += f" UTC, load {start:.1f}→{end:.1f}"
    other = (report.get("other_processes_cpu_share") or {}).get("whole_run")
    if other is not None:
        machine += f", other processes' CPU {other * 100:.0f}%"
    return f"`{report.get('command', '?')}`", machine


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# Decode latency.


def _cell(decode: dict, key: str, search: str, name: str):
    cell = decode.get("results", {}).get(key, {}).get(search, {}).get(name)
    return cell if isinstance(cell, dict) else None


def decode_rows(decode: dict) -> list[list[str]]:
    """Summary rows: latency per cell, BLEU, and the targets."""
    cmd, machine = source(decode)
    rows = []
    model = decode.get("model", {})
    what_model = (
        f"{model.get('parameters', 0) / 1e6:.1f}M-parameter {model.get('rnn', '').upper()} "
        f"{model.get('attention', '')}-attention model, Multi30k test_2016_flickr"
    )
    for key, search in CELLS:
        values = []
        for name in BACKEND_LABELS:
            c = _cell(decode, key, search, name)
            if c:
                values.append(
                    f"{BACKEND_LABELS[name]} {ms(c['median_ms'])} "
                    f"({num(c['sentences_per_second'], 1)} sent/s)"
                )
        if values:
            batch = key.split("_")[1]
            steps = _cell(decode, key, search, "savedmodel") or {}
            rows.append(
                [
                    f"decode latency, batch {batch}, {search.replace('beam5', 'beam 5')}, "
                    f"median ({what_model}; SavedModel ran {num(steps.get('mean_steps'), 1)} "
                    f"steps, {num(steps.get('mean_output_tokens'), 1)} output tokens)",
                    "; ".join(values),
                    cmd,
                    machine,
                ]
            )
    scores = decode.get("quality", {}).get("scores", {})
    n = decode.get("quality", {}).get("sentences")
    for search in ("greedy", "beam5"):
        values = []
        for name in BACKEND_LABELS:
            q = scores.get(name, {}).get(search)
            if isinstance(q, dict):
                values.append(f"{BACKEND_LABELS[name]} {q['bleu']:.2f} / {q['bleu_lowercase']:.2f}")
        if values:
            rows.append(
                [
                    f"BLEU cased / lowercase (sacrebleu), {n} test sentences, "
                    f"{search.replace('beam5', 'beam 5')}",
                    "; ".join(values),
                    cmd,
                    machine,
                ]
            )
    targets = decode.get("targets", {})
    if targets:
        met = [t for t in targets.values() if t["met"]]
        rows.append(
            [
                "decoding targets (issue 7) met, measured side by side in one run",
                f"{len(met)} of {len(targets)} (see the targets table)",
                cmd,
                machine,
            ]
        )
    return rows


def target_rows(decode: dict, train: dict | None, with_limits: bool) -> list[list[str]]:
    """One row per target: decoding targets, then Keras vs PyTorch training."""
    cmd, machine = source(decode) if decode else ("", "")
    rows = []
    for t in (decode or {}).get("targets", {}).values():
        row = [
            f"{t['what']} ({t['cell']})",
            t["target"],
            t["measured"],
            "met" if t["met"] else "**missed**",
        ]
        if with_limits:
            row.append(t.get("limited_by", ""))
        rows.append(row + [cmd, machine])
    kv = (train or {}).get("keras_vs_pytorch")
    if isinstance(kv, dict) and kv.get("ratio_keras_over_pytorch") is not None:
        ratio = kv["ratio_keras_over_pytorch"]
        row = [
            "Keras training throughput over PyTorch's (target tokens/s, medians)",
            ">= 1.0",
            ratio,
            "met" if ratio >= 1.0 else "**missed**",
        ]
        if with_limits:
            row.append(kv.get("limited_by", "see bench/README.md"))
        tcmd, tmachine = source(train)
        rows.append(row + [tcmd, tmachine])
    return rows


TARGET_HEADER = ["target", "goal", "measured", "met"]


def decode_details(decode: dict) -> str:
    cmd, machine = source(decode)
    out = [
        "## Decoding latency and quality",
        "",
        f"Command: {cmd}. Machine: {machine}.",
        "",
    ]
    header = ["backend"] + [
        f"{k.replace('_', ' ')} {s.replace('beam5', 'beam 5')} median / min" for k, s in CELLS
    ]
    header += ["BLEU greedy (cased / lc)", "BLEU beam 5 (cased / lc)"]
    rows = []
    scores = decode.get("quality", {}).get("scores", {})
    for name, label in BACKEND_LABELS.items():
        row = [label]
        for key, search in CELLS:
            c = _cell(decode, key, search, name)
            row.append(
                f"{ms(c['median_ms'])} / {ms(c['min_ms'])} ({num(c['mean_steps'], 1)} steps)"
                if c
                else "n/a"
            )
        for search in ("greedy", "beam5"):
            q = scores.get(name, {}).get(search)
            row.append(
                f"{q['bleu']:.2f} / {q['bleu_lowercase']:.2f}" if isinstance(q, dict) else "n/a"
            )
        rows.append(row)
    out += [table(header, rows), ""]
    shares = [
        f"{k.replace('_', ' ')} {sr.replace('beam5', 'beam 5')} "
        f"{decode['results'][k][sr]['other_processes_cpu_share'] * 100:.0f}%"
        for k, sr in CELLS
        if decode.get("results", {}).get(k, {}).get(sr, {}).get("other_processes_cpu_share")
        is not None
    ]
    if shares:
        out += [
            "Other processes' share of the CPU while each cell was timed (from /proc/stat; "
            "0% is a quiet machine): " + ", ".join(shares) + ".",
            "",
        ]
    agreement = decode.get("quality", {}).get("agreement_with_savedmodel", {})
    if agreement:
        out.append(
            "Output ids equal to the SavedModel's (full test set): "
            + "; ".join(
                f"{name.replace('_vs_savedmodel', '')} {s}: {v['rows_identical']}/{v['rows']}"
                for name, by in agreement.items()
                for s, v in by.items()
            )
            + "."
        )
        out.append("")
    return "\n".join(out)


# The other benchmarks.


def text_rows(text: dict) -> list[list[str]]:
    cmd, machine = source(text)
    rows = []
    for key, by_search in text.get("results", {}).items():
        for search in ("greedy", "beam5"):
            c = by_search.get(search)
            if not c:
                continue
            same = c.get("strings_identical", {})
            rows.append(
                [
                    f"text-to-text ONNX (in-graph SentencePiece) vs ids ONNX + Python "
                    f"SentencePiece, {key.replace('_', ' ')}, {search.replace('beam5', 'beam 5')}, "
                    "median",
                    f"{ms(c['onnx-text']['median_ms'])} vs {ms(c['onnx+sentencepiece']['median_ms'])} "
                    f"(ratio {c['onnx-text_over_onnx+sentencepiece']['median']}); strings "
                    f"identical {same.get('rows_identical')}/{same.get('rows')}",
                    cmd,
                    machine,
                ]
            )
    agreement = text.get("agreement_full_test_set", {})
    if agreement:
        rows.append(
            [
                "text-to-text ONNX vs ids ONNX + SentencePiece, identical output strings",
                "; ".join(
                    f"{s}: {a['strings_identical']}/{a['sentences']}" for s, a in agreement.items()
                ),
                cmd,
                machine,
            ]
        )
    return rows


def train_rows(train: dict) -> list[list[str]]:
    cmd, machine = source(train)
    rows = []
    kv = train.get("keras_vs_pytorch")
    if isinstance(kv, dict) and "keras_tokens_per_second" in kv:
        k, p = kv["keras_tokens_per_second"], kv["pytorch_tokens_per_second"]
        ratio = kv.get("ratio_keras_over_pytorch")
        met = "met" if ratio is not None and ratio >= 1.0 else "missed"
        rows.append(
            [
                f"training throughput, Keras `fit` vs PyTorch, same model and batches "
                f"({kv.get('config', '')}), target tokens/s, median",
                f"Keras {num(k.get('median'))}, PyTorch {num(p.get('median'))}: "
                f"{ratio}× (target ≥ 1.0×: {met})",
                cmd,
                machine,
            ]
        )
        helped = kv.get("keras_speedups_that_helped")
        tried = kv.get("keras_speedups_tried") or []
        if tried:
            rows.append(
                [
                    "Keras speed-ups tried (speed-up over plain `fit`)",
                    "; ".join(f"{t['name']} {t['speedup_vs_baseline']}×" for t in tried)
                    + (f" (helped: {', '.join(helped)})" if isinstance(helped, list) else ""),
                    cmd,
                    machine,
                ]
            )
    headline = train.get("headline")
    if isinstance(headline, dict) and "train_only_tokens_per_second" in headline:
        rows.append(
            [
                "training throughput, `keras_s2s.training.train`, default config, last epoch",
                f"{num(headline['train_only_tokens_per_second'])} target tokens/s (train only)",
                cmd,
                machine,
            ]
        )
    return rows


def multi30k_rows(m30k: dict) -> list[list[str]]:
    cmd, machine = source(m30k)
    rows = []
    for name, model in m30k.get("models", {}).items():
        test = model.get("test", {})
        g, b = test.get("greedy"), test.get("beam5")
        if not g:
            continue
        rows.append(
            [
                f"Multi30k de→en after the time-budgeted training: {name} "
                f"({model.get('parameters', 0) / 1e6:.2f}M parameters, "
                f"{num(model.get('epochs_fraction'), 1)} data passes), test BLEU cased / lc",
                f"greedy {g['bleu']:.2f} / {g['bleu_lowercase']:.2f}"
                + (f"; beam 5 {b['bleu']:.2f} / {b['bleu_lowercase']:.2f}" if b else ""),
                cmd,
                machine,
            ]
        )
    return rows


def load_rows(load_report: dict) -> list[list[str]]:
    cmd, machine = source(load_report)
    rows = []
    for r in load_report.get("results", []):
        lat = r.get("latency_ms", {})
        rows.append(
            [
                f"concurrent load, {load_report.get('settings', {}).get('threads', 8)} client "
                f"threads, {r['backend']}, {r['batch']} sentence(s)/request",
                f"{num(r.get('requests_per_s'), 1)} requests/s, p50 {ms(lat.get('p50'))}, "
                f"p99 {ms(lat.get('p99'))}, {r.get('errors')} errors, "
                f"{r.get('mismatches')} mismatches",
                cmd,
                machine,
            ]
        )
    return rows


# Plot.


def plot(decode: dict | None, text: dict | None, train: dict | None, path: str) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    panels = []
    if decode:
        panels.append("decode")
    if decode and decode.get("quality", {}).get("scores"):
        panels.append("bleu")
    kv = (train or {}).get("keras_vs_pytorch")
    if isinstance(kv, dict) and "keras_tokens_per_second" in kv:
        panels.append("train")
    if not panels:
        return False
    widths = {"decode": 3.0, "bleu": 1.4, "train": 1.0}
    fig, axes = plt.subplots(
        1,
        len(panels),
        figsize=(4.2 * sum(widths[p] for p in panels), 4.6),
        gridspec_kw={"width_ratios": [widths[p] for p in panels]},
        squeeze=False,
    )
    colors = {"predict_loop": "#999999", "savedmodel": "#ff8f00", "onnx": "#1565c0"}
    colors["onnx-int8"] = "#64b5f6"
    for ax, panel in zip(axes[0], panels, strict=True):
        if panel == "decode":
            names = list(BACKEND_LABELS)
            x = np.arange(len(CELLS))
            width = 0.8 / len(names)
            for i, name in enumerate(names):
                values = [
                    (_cell(decode, k, s, name) or {}).get("median_ms", np.nan) for k, s in CELLS
                ]
                bars = ax.bar(
                    x + (i - (len(names) - 1) / 2) * width,
                    values,
                    width,
                    label=BACKEND_LABELS[name].replace("`", ""),
                    color=colors[name],
                )
                for bar, v in zip(bars, values, strict=True):
                    if np.isfinite(v):
                        ax.annotate(
                            f"{v:,.0f}" if v >= 10 else f"{v:.1f}",
                            (bar.get_x() + bar.get_width() / 2, v),
                            ha="center",
                            va="bottom",
                            fontsize=6.5,
                        )
                    else:
                        ax.annotate(
                            "n/a",
                            (bar.get_x() + bar.get_width() / 2, 0.02),
                            xycoords=("data", "axes fraction"),
                            ha="center",
                            va="bottom",
                            fontsize=6.5,
                            color="#777777",
                        )
            ax.set_yscale("log")
            ax.set_xticks(x)
            ax.set_xticklabels(
                [f"batch {k.split('_')[1]}\n{s.replace('beam5', 'beam 5')}" for k, s in CELLS]
            )
            ax.set_ylabel("median latency per call, ms (log scale)")
            ax.set_title("Decoding latency, trained Multi30k model")
            ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=4)
            top = max(
                (_cell(decode, k, s, n) or {}).get("median_ms", 0) for k, s in CELLS for n in names
            )
            ax.set_ylim(top=top * 4)
            ax.grid(axis="y", which="both", alpha=0.25)
        elif panel == "bleu":
            scores = decode["quality"]["scores"]
            names = list(BACKEND_LABELS)
            x = np.arange(2)
            width = 0.8 / len(names)
            for i, name in enumerate(names):
                values = [
                    scores.get(name, {}).get(s, {}).get("bleu", np.nan)
                    if isinstance(scores.get(name, {}).get(s), dict)
                    else np.nan
                    for s in ("greedy", "beam5")
                ]
                bars = ax.bar(
                    x + (i - (len(names) - 1) / 2) * width, values, width, color=colors[name]
                )
                for bar, v in zip(bars, values, strict=True):
                    if np.isfinite(v):
                        ax.annotate(
                            f"{v:.2f}",
                            (bar.get_x() + bar.get_width() / 2, v),
                            ha="center",
                            va="bottom",
                            fontsize=6.5,
                        )
            ax.set_xticks(x)
            ax.set_xticklabels(["greedy", "beam 5"])
            ax.set_ylabel("BLEU (sacrebleu, cased)")
            ax.set_title(f"Test BLEU, {decode['quality'].get('sentences')} sentences")
            ax.grid(axis="y", alpha=0.25)
        else:
            k = kv["keras_tokens_per_second"].get("median")
            p = kv["pytorch_tokens_per_second"].get("median")
            bars = ax.bar(["Keras fit", "PyTorch"], [k, p], color=["#d32f2f", "#ee4c2c"])
            for bar, v in zip(bars, [k, p], strict=True):
                ax.annotate(
                    f"{v:,.0f}",
                    (bar.get_x() + bar.get_width() / 2, v),
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
            ax.set_ylabel("target tokens/s (median)")
            ax.set_title(f"Training, ratio {kv.get('ratio_keras_over_pytorch')}×")
            ax.grid(axis="y", alpha=0.25)
    machine = (decode or train or text or {}).get("machine", {})
    fig.suptitle(
        f"keras-s2s on {machine.get('nproc', '?')}-core {machine.get('cpu', '?')} "
        "(bench/results/*.json; regenerate with bench/report.py)",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


# Output.


def summary(reports: dict) -> list[list[str]]:
    rows = []
    if reports.get("decode_latency"):
        rows += decode_rows(reports["decode_latency"])
    if reports.get("text_onnx_latency"):
        rows += text_rows(reports["text_onnx_latency"])
    if reports.get("train_throughput"):
        rows += train_rows(reports["train_throughput"])
    if reports.get("multi30k"):
        rows += multi30k_rows(reports["multi30k"])
    if reports.get("load"):
        rows += load_rows(reports["load"])
    return rows


HEADER = ["what", "figure", "command", "machine"]


def update_readme(readme: str, section: str) -> None:
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    start = text.index("\n## Performance\n") + 1
    end = text.find("\n## ", start + 1)
    end = len(text) if end < 0 else end + 1
    with open(readme, "w", encoding="utf-8") as f:
        f.write(text[:start] + section + "\n" + text[end:])


def main(argv=None):
    args = parse_args(argv)
    out_dir = args.out_dir or args.results_dir
    names = ("decode_latency", "text_onnx_latency", "train_throughput", "multi30k", "load")
    reports = {name: load(args.results_dir, name) for name in names}
    missing = [n for n, r in reports.items() if r is None]
    rows = summary(reports)
    png = os.path.join(out_dir, "performance.png")
    has_plot = plot(
        reports["decode_latency"], reports["text_onnx_latency"], reports["train_throughput"], png
    )
    md = [
        "# Performance",
        "",
        f"Generated by {REGENERATE} from `bench/results/*.json`"
        + (f" (not found: {', '.join(f'{m}.json' for m in missing)})" if missing else "")
        + ". Every figure comes from the run its row names; ratios are from one run, "
        "side by side, on a shared machine (the load average is given).",
        "",
        table(HEADER, rows),
        "",
    ]
    trows = target_rows(reports["decode_latency"], reports["train_throughput"], True)
    if trows:
        md += [
            "## Targets",
            "",
            table(TARGET_HEADER + ["what limits it (from the profile)"] + HEADER[2:], trows),
            "",
        ]
    if has_plot:
        md += ["![Decoding latency, BLEU and training throughput](performance.png)", ""]
    if reports["decode_latency"]:
        md += [decode_details(reports["decode_latency"]), ""]
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "performance.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(md))
    print(f"wrote {os.path.join(out_dir, 'performance.md')} ({len(rows)} rows)")
    if has_plot:
        print(f"wrote {png}")
    if args.update_readme:
        rel_png = os.path.relpath(png, os.path.dirname(os.path.abspath(args.readme)))
        rel_md = os.path.relpath(
            os.path.join(out_dir, "performance.md"), os.path.dirname(os.path.abspath(args.readme))
        )
        section = [
            "## Performance",
            "",
            "Measured on this project's shared 2-core CPU machine; each row names the "
            "command and the run that produced it. Targets, profiles of the missed ones "
            f"and per-backend details are in [{rel_md}]({rel_md}) and `bench/README.md`.",
            "",
            table(HEADER, rows),
            "",
        ]
        trows = target_rows(reports["decode_latency"], reports["train_throughput"], False)
        if trows:
            section += [
                "Targets from issue 7 (what limits each missed one, from a profile, is in "
                f"[{rel_md}]({rel_md})):",
                "",
                table(TARGET_HEADER + HEADER[2:], trows),
                "",
            ]
        if has_plot:
            section += [f"![Decoding latency, BLEU and training throughput]({rel_png})", ""]
        section += [f"Regenerate the table and plot from the JSON results with {REGENERATE}."]
        update_readme(args.readme, "\n".join(section) + "\n")
        print(f"updated the Performance section of {args.readme}")


if __name__ == "__main__":
    main()
