"""Plots of a `latflow scaling` study: training cost versus lattice size, and ESS versus training time.

usage: python plots/scaling.py STUDY_DIR

Reads STUDY_DIR/scaling.csv, the metrics.jsonl of every run it lists and, when the study ran HMC
(`hmc = true`), STUDY_DIR/hmc.csv; writes
  STUDY_DIR/cost_vs_L.{png,pdf}    versus L, log-log, per family (median and min-max over seeds): wall time and
                                   steps to target, with both fits  seconds ~ L^z  and  seconds ~ exp(c L);
                                   time per step; and the cost per effective sample including the training,
                                   with HMC's beside it
  STUDY_DIR/ess_vs_time.{png,pdf}  one panel per L: ESS/N of the periodic evaluations versus training time
Prints two lines per family, "FAMILY: z = Z +- ERR from N runs" and "FAMILY: c = C +- ERR from N runs"
(nan where there is no fit or no error; each with the rms residual of log seconds that compares the two
forms), then the paths of the PNGs written.

The cost per effective sample of a flow is what one effective sample costs when N_EFF of them are drawn from
the trained model through its Metropolis independence chain: seconds_to_target / N_EFF + 2 tau_int x
seconds_per_sample (the final evaluation's time per fresh sample). HMC's is 2 tau_int x seconds per
trajectory, from the same observable. Studies written before seconds_per_sample was recorded have no flow
points in that panel.
"""
import math
import os
import sys

import numpy as np

from common import (colors_for, cost_fit, empty_panel, eval_curve, fit_curve, format_pm, grid, integer_log_ticks,
                    legend, plain_log_axis, plt, read_csv, require, save, unique_in_order)

HEADER = ["family", "card", "L", "m2", "lambda", "seed", "parameters", "target_metric", "target", "reached",
          "steps_to_target", "seconds_to_target", "steps", "seconds", "seconds_per_step", "peak_memory_mib", "ess",
          "acceptance", "tau_int", "run_dir"]
TEXT = {"family", "card", "target_metric", "run_dir", "reused_from"}

HMC_HEADER = ["L", "m2", "lambda", "tau_int", "seconds", "cost_per_effective_sample"]
METRIC_LABEL = {"ess": "ESS/N", "acceptance": "acceptance"}
N_EFF = 10_000  # effective samples the training is amortised over in the cost per effective sample
FORMS = {"power": ("z", "L^z"), "exp": ("c", "exp(c L)")}


def reached(row):
    return row["reached"] == 1 and row["seconds_to_target"] > 0


def fit_family(rows):
    """Both fits of seconds to target over the runs that reached it: ({form: fit or None}, legend text, printed
    lines)."""
    ok = [r for r in rows if reached(r)]
    fam = rows[0]["family"]
    if not ok:
        return ({form: None for form in FORMS}, f"{fam}: target not reached",
                [f"{fam}: {sym} = nan +- nan from 0 runs (target not reached)" for sym, _ in FORMS.values()])
    fits = {form: cost_fit([r["L"] for r in ok], [r["seconds_to_target"] for r in ok], form) for form in FORMS}
    if fits["power"] is None:
        return (fits, f"{fam}: one lattice size, no fit",
                [f"{fam}: {sym} = nan +- nan from {len(ok)} runs (one lattice size, no fit)" for sym, _ in FORMS.values()])
    lines, labels = [], []
    for form, (sym, _) in FORMS.items():
        fit = fits[form]
        line = f"{fam}: {sym} = {fit['z']:.6f} +- {fit['err']:.6f} from {fit['n']} runs, rms {fit['rms']:.3f}"
        if math.isfinite(fit["err"]):
            labels.append(f"{sym} = {format_pm(fit['z'], fit['err'])}")
        else:
            what = f"{fit['n']} points" if fit["n"] == fit["n_x"] else f"{fit['n_x']} lattice sizes"
            labels.append(f"{sym} = {fit['z']:.2f} ({what}, no error)")
            line += f" ({what}, no error)"
        lines.append(line)
    return fits, f"{fam}: " + ", ".join(labels), lines


def cost_per_effective_sample(row):
    """Seconds per effective sample including the training amortised over N_EFF of them (nan when the row
    lacks what it needs)."""
    per_sample, tau = row.get("seconds_per_sample", float("nan")), row.get("tau_int", float("nan"))
    if not (isinstance(per_sample, (int, float)) and per_sample > 0 and tau > 0):
        return float("nan")
    return row["seconds_to_target"] / N_EFF + 2 * tau * per_sample


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


def cost_figure(study, rows, hmc, families, colors, fits):
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.4))
    ax = list(axes.flat)
    target = target_text(rows) if rows else "the target"
    any_unreached = False
    for fam in families:
        fr = [r for r in rows if r["family"] == fam]
        ok = [r for r in fr if reached(r)]
        bad = [r for r in fr if not reached(r)]
        any_unreached |= bool(bad)
        fam_fits, label = fits[fam][0], fits[fam][1]
        c = colors[fam]
        spread(ax[0], ok, lambda r: r["seconds_to_target"], c, label)
        lower_bounds(ax[0], bad, lambda r: r["seconds"], c)
        if not ok:  # keep the family in the legend when it only has lower bounds
            ax[0].plot([], [], "^", mfc="none", color=c, label=label)
        if fam_fits["power"] is not None:
            x = np.geomspace(min(r["L"] for r in ok), max(r["L"] for r in ok), 50)
            ax[0].plot(x, fit_curve(fam_fits["power"], x), "--", lw=1, color=c, zorder=1)
            ax[0].plot(x, fit_curve(fam_fits["exp"], x), ":", lw=1.2, color=c, zorder=1)
        spread(ax[1], ok, lambda r: r["steps_to_target"], c, fam)
        lower_bounds(ax[1], bad, lambda r: r["steps"], c)
        if not ok:
            ax[1].plot([], [], "^", mfc="none", color=c, label=fam)
        spread(ax[2], [r for r in fr if r["seconds_per_step"] > 0], lambda r: r["seconds_per_step"], c, fam)
        spread(ax[3], [r for r in ok if math.isfinite(cost_per_effective_sample(r))], cost_per_effective_sample, c, fam)
    if hmc:
        Ls_hmc = sorted(set(r["L"] for r in hmc))
        per_L = [np.median([r["cost_per_effective_sample"] for r in hmc if r["L"] == L]) for L in Ls_hmc]
        ax[3].plot(Ls_hmc, per_L, "s-", ms=5, lw=1.4, color="k", label="HMC: 2 τ_int × s per trajectory", zorder=3)

    Ls = [r["L"] for r in rows] + [r["L"] for r in hmc]
    for a in ax:
        if not rows:
            empty_panel(a, "no runs in scaling.csv")
            continue
        a.set_xscale("log")
        a.set_yscale("log")
        integer_log_ticks(a, Ls)
        plain_log_axis(a)
        a.set_xlabel("lattice size L")
    if rows and not ax[3].get_legend_handles_labels()[0]:
        empty_panel(ax[3], "no sampling times or τ_int in scaling.csv\n(and no hmc.csv)")
    if any_unreached:
        for a in ax[:2]:
            a.plot([], [], "^", mfc="none", color="0.4", label="not reached: budget (lower bound)")
    if any(f[0]["power"] is not None for f in fits.values()):
        ax[0].plot([], [], "--", color="0.4", lw=1, label="fit  seconds ∝ L^z")
        ax[0].plot([], [], ":", color="0.4", lw=1.2, label="fit  seconds ∝ exp(c L)")
    ax[0].set(ylabel="training wall time to target [s]", title=f"cost to reach {target}")
    ax[1].set(ylabel="optimizer steps to target", title=f"steps to reach {target}")
    ax[2].set(ylabel="wall time per training step [s]", title="cost per step (median, min-max over seeds)")
    ax[3].set(ylabel="seconds per effective sample",
              title=f"per effective sample, training amortised over {N_EFF:,}")
    # The fit entries are long: smaller, so that the legend stays inside its panel.
    legend(ax[0], families, loc="best", framealpha=0.9, fontsize=6.5)
    for a in ax[1:]:
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
    hmc_path = os.path.join(study, "hmc.csv")
    hmc = read_csv(hmc_path, HMC_HEADER, {"run_dir"}) if os.path.isfile(hmc_path) else []
    families = unique_in_order(r["family"] for r in rows)
    colors = colors_for(families)
    fits = {}
    for fam in families:
        fits[fam] = fit_family([r for r in rows if r["family"] == fam])
        print("\n".join(fits[fam][2]))
    print(cost_figure(study, rows, hmc, families, colors, fits))
    print(ess_figure(study, rows, families, colors))


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        sys.exit(__doc__)
    main(sys.argv[1])
