"""RFT in rounds, one figure per model: accuracy per round, and what each round's samples added.

    png = rounds_plot(table, "tiny-llama-a")   # table: spark_jobs.round_results.round_progress, as pandas

Left: RFT (own paths) test accuracy per round, with the step-matched SFT control of each round
as a hollow marker; bars are the 95% Wilson interval with one seed, mean ± sd with several.
Right: the share of train questions the round's samples solve at least once, and the distinct
paths of the round's own pool that the previous round's lacked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rft.reporting.plot_parts import canvas, legend, png_bytes


def _interval(rows: pd.DataFrame) -> tuple[np.ndarray, list[np.ndarray]]:
    y = 100 * rows["rft_accuracy"].to_numpy(dtype=float)
    sd = 100 * rows["rft_sd"].fillna(0.0).to_numpy(dtype=float)
    one_seed = rows["seeds"].fillna(0).to_numpy() == 1
    low = np.where(one_seed, y - 100 * rows["rft_ci_low"].fillna(0).to_numpy(dtype=float), sd)
    high = np.where(one_seed, 100 * rows["rft_ci_high"].fillna(0).to_numpy(dtype=float) - y, sd)
    return y, [low, high]


def rounds_plot(table: pd.DataFrame, model: str) -> bytes:
    fig, (left, right) = canvas(10.0, panels=2)
    rows = table[table["model"] == model].sort_values("round")
    trained = rows[rows["rft_accuracy"].notna()]
    if not trained.empty:
        y, err = _interval(trained)
        left.errorbar(trained["round"].to_numpy(dtype=float), y, yerr=err, marker="o", capsize=3, label="RFT own")
        controls = trained[trained["matched_accuracy"].notna()]
        left.plot(controls["round"].to_numpy(dtype=float), 100 * controls["matched_accuracy"].to_numpy(dtype=float),
                  marker="s", markerfacecolor="none", linestyle="none", label="SFT, steps matched")
    left.set_xlabel("round (0: sampled from SFT; r+1: from round r's RFT model)")
    left.set_ylabel("test accuracy, greedy (%)")
    left.set_title(f"{model}: accuracy per round")
    legend(left, trained.empty, empty_note="no round evaluated yet", fontsize=8)
    if not rows.empty:
        rounds = rows["round"].to_numpy(dtype=float)
        right.bar(rounds, rows["new_distinct"].fillna(0).to_numpy(dtype=float), width=0.4, alpha=0.5,
                  label="new distinct paths (own pool)")
        share = right.twinx()
        share.plot(rounds, 100 * rows["share_solved"].to_numpy(dtype=float), marker="o", color="black",
                   label="questions solved at least once (%)")
        share.set_ylim(0, 100)
        share.set_ylabel("questions solved at least once (%)")
        share.legend(fontsize=8, loc="lower right")
    right.set_xlabel("round")
    right.set_ylabel("new distinct paths")
    right.set_title(f"{model}: what each round's samples added")
    legend(right, rows.empty, empty_note="no round sampled yet", fontsize=8)
    for ax in (left, right):
        ax.set_xticks(sorted(set(rows["round"].astype(int))) or [0])
        ax.grid(True, alpha=0.3)
    return png_bytes(fig)
