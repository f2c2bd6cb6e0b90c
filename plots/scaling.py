"""Plots of a `latflow scaling` study: training cost versus lattice size, and ESS versus training time.

usage: python plots/scaling.py STUDY_DIR

Reads STUDY_DIR/scaling.csv and the metrics.jsonl of every run it lists; writes
  STUDY_DIR/cost_vs_L.{png,pdf}    wall time (and steps) to target and time per step versus L, log-log, per
                                   family, with the fitted exponent z of  seconds-to-target ~ L^z
  STUDY_DIR/ess_vs_time.{png,pdf}  one panel per L: ESS/N of the periodic evaluations versus training time
Prints one line per family, "FAMILY: z = Z +- ERR from N runs" (nan where there is no fit or no error),
then the paths of the PNGs written.
"""
import math
import os
import sys

import numpy as np

from common import (colors_for, empty_panel, eval_curve, format_pm, grid, integer_log_ticks, legend, plain_log_axis,
                    plt, power_law_fit, read_csv, require, save, unique_in_order)

HEADER = ["family", "card", "L", "m2", "lambda", "seed", "parameters", "target_metric", "target", "reached",
          "steps_to_target", "seconds_to_target", "steps", "seconds", "seconds_per_step", "peak_memory_mib", "ess",
          "acceptance", "tau_int", "run_dir"]
TEXT = {"family", "card", "target_metric", "run_dir"}

METRIC_LABEL = {"ess": "ESS/N", "acceptance": "acceptance"}


def reached(row):
    return row["reached"] == 1 and row["seconds_to_target"] > 0


def fit_family(rows):
    """The power-law fit over the runs that reached the target (None when impossible) and its legend text."""
    ok = [r for r in rows if reached(r)]
    fam = rows[0]["family"]
    if not ok:
        return None, f"{fam}: z: target not reached", f"{fam}: z = nan +- nan from 0 runs (target not reached)"
    fit = power_law_fit([r["L"] for r in ok], [r["seconds_to_target"] for r in ok])
    if fit is None:
        return (None, f"{fam}: z: one lattice size, no fit",
                f"{fam}: z = nan +- nan from {len(ok)} runs (one lattice size, no fit)")
    line = f"{fam}: z = {fit['z']:.6f} +- {fit['err']:.6f} from {fit['n']} runs"
    if math.isfinite(fit["err"]):
        label = f"{fam}: z = {format_pm(fit['z'], fit['err'])}"
    else:
        what = f"{fit['n']} points" if fit["n"] == fit["n_x"] else f"{fit['n_x']} lattice sizes"
        label = f"{fam}: z = {fit['z']:.2f} ({what}, no error)"
        line += f" ({what}, no error)"
    return fit, label, line


def spread(ax, rows, value, color, label, with_points=True):
    """Median over seeds per L as marker + line, min-max as error bar, single seeds as faint points."""
    Ls = sorted(set(r["L"] for r in rows))
    med, lo, hi = [], [], []
    for L in Ls:
        v = np.array([value(r) for r in rows if r["L"] == L], dtype=float)
        med.append(np.median(v))
        lo.append(med[-1] - v.min())
        hi.append(v.max() - med[-1])
        if with_points and len(v) > 1:
            ax.plot([L] * len(v), v, "o", ms=3, color=color, alpha=0.3, zorder=2)
    if Ls:
        ax.errorbar(Ls, med, yerr=[lo, hi], fmt="o-", ms=5, lw=1.2, capsize=3, color=color, label=label, zorder=3)


def lower_bounds(ax, rows, value, color):
    """Runs that did not reach the target: their budget as an open upward triangle (a lower bound)."""
    if rows:
        ax.plot([r["L"] for r in rows], [value(r) for r in rows], "^", ms=7, mfc="none", mew=1.3, color=color,
                zorder=3)


def target_text(rows):
    pairs = unique_in_order((r["target_metric"], r["target"]) for r in rows)
    if len(pairs) == 1:
        metric, target = pairs[0]
        return f"{METRIC_LABEL.get(metric, metric)} ≥ {target:g}"
    return "the target"


def cost_figure(study, rows, families, colors, fits):
    fig, ax = plt.subplots(1, 3, figsize=(15, 4.4))
    target = target_text(rows) if rows else "the target"
    any_unreached = False
    for fam in families:
        fr = [r for r in rows if r["family"] == fam]
        ok = [r for r in fr if reached(r)]
        bad = [r for r in fr if not reached(r)]
        any_unreached |= bool(bad)
        fit, label = fits[fam][0], fits[fam][1]
        c = colors[fam]
        spread(ax[0], ok, lambda r: r["seconds_to_target"], c, label)
        lower_bounds(ax[0], bad, lambda r: r["seconds"], c)
        if not ok:  # keep the family in the legend when it only has lower bounds
            ax[0].plot([], [], "^", mfc="none", color=c, label=label)
        if fit is not None:
            x = np.geomspace(min(r["L"] for r in ok), max(r["L"] for r in ok), 50)
            ax[0].plot(x, np.exp(fit["a"]) * x ** fit["z"], "--", lw=1, color=c, zorder=1)
        spread(ax[1], ok, lambda r: r["steps_to_target"], c, fam)
        lower_bounds(ax[1], bad, lambda r: r["steps"], c)
        if not ok:
            ax[1].plot([], [], "^", mfc="none", color=c, label=fam)
        spread(ax[2], [r for r in fr if r["seconds_per_step"] > 0], lambda r: r["seconds_per_step"], c, fam)

    Ls = [r["L"] for r in rows]
    for a in ax:
        if not rows:
            empty_panel(a, "no runs in scaling.csv")
            continue
        a.set_xscale("log")
        a.set_yscale("log")
        integer_log_ticks(a, Ls)
        plain_log_axis(a)
        a.set_xlabel("lattice size L")
    if any_unreached:
        for a in ax[:2]:
            a.plot([], [], "^", mfc="none", color="0.4", label="not reached: budget (lower bound)")
    if any(f[0] is not None for f in fits.values()):
        ax[0].plot([], [], "--", color="0.4", lw=1, label="fit  seconds ∝ L^z")
    ax[0].set(ylabel="training wall time to target [s]", title=f"cost to reach {target}")
    ax[1].set(ylabel="optimizer steps to target", title=f"steps to reach {target}")
    ax[2].set(ylabel="wall time per training step [s]", title="cost per step (median, min-max over seeds)")
    for a in ax:
        legend(a, families, loc="best", framealpha=0.9)
    return save(fig, os.path.join(study, "cost_vs_L"))


def ess_figure(study, rows, families, colors):
    Ls = sorted(set(r["L"] for r in rows))
    fig, axes = grid(len(Ls))
    no_curve = []
    for ax, L in zip(axes, Ls):
        at_L = [r for r in rows if r["L"] == L]
        drawn = False
        for fam in families:
            labelled = False
            for r in (r for r in at_L if r["family"] == fam):
                t, ess, _ = eval_curve(os.path.join(study, r["run_dir"]))
                if len(t) == 0:
                    no_curve.append(r["run_dir"])
                    continue
                ax.plot(t, ess, ".-", ms=3, lw=0.9, alpha=0.85, color=colors[fam],
                        label=None if labelled else fam)
                labelled = drawn = True
        for target in unique_in_order(r["target"] for r in at_L if r["target_metric"] == "ess"):
            ax.axhline(target, ls="--", lw=1, color="k", label=f"target ESS/N = {target:g}")
        r0 = at_L[0]
        ax.set(title=f"L = {L}  (m² = {r0['m2']:g}, λ = {r0['lambda']:g})", xlabel="training wall time [s]",
               ylabel="ESS/N (evaluation batch)", ylim=(0, 1.02))
        if drawn:
            ax.set_xlim(left=0)
            ax.legend(loc="upper left")
        else:
            empty_panel(ax, "no evaluation records")
    if not Ls:
        empty_panel(axes[0], "no runs in scaling.csv")
    if no_curve:
        sys.stderr.write(f"warning: {len(no_curve)} run(s) without evaluation records in metrics.jsonl, "
                         f"e.g. {os.path.join(study, no_curve[0])}\n")
    return save(fig, os.path.join(study, "ess_vs_time"))


def main(study):
    path = os.path.join(study, "scaling.csv")
    require(path, "a scaling study directory holds it; write one with `latflow scaling STUDY.toml`")
    rows = read_csv(path, HEADER, TEXT)
    families = unique_in_order(r["family"] for r in rows)
    colors = colors_for(families)
    fits = {}
    for fam in families:
        fits[fam] = fit_family([r for r in rows if r["family"] == fam])
        print(fits[fam][2])
    print(cost_figure(study, rows, families, colors, fits))
    print(ess_figure(study, rows, families, colors))


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        sys.exit(__doc__)
    main(sys.argv[1])
