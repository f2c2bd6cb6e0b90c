"""Plots of a `latflow transfer` study: fine-tuning a model pretrained on a small lattice versus training from
scratch on larger ones, and the pretrained model's zero-shot quality.

usage: python plots/transfer.py STUDY_DIR

Reads STUDY_DIR/transfer.csv and the metrics.jsonl of its fine-tune and scratch runs; writes
  STUDY_DIR/transfer_curves.{png,pdf}  one panel per (family, L): ESS/N versus wall time, scratch and
                                       fine-tuned (also shifted by the pretraining time)
  STUDY_DIR/zero_shot.{png,pdf}        zero-shot ESS/N and acceptance versus L, per family and seed
  STUDY_DIR/speedup.{png,pdf}          speedup to target versus L, without and with the pretraining time
and prints the paths of the PNGs written.
"""
import os
import sys

import numpy as np

from common import (colors_for, empty_panel, eval_curve, grid, integer_log_ticks, legend, plain_log_axis, plt,
                    read_csv, read_json, require, save, unique_in_order)

HEADER = ["family", "pretrain_L", "L", "seed", "parameters", "pretrain_steps", "pretrain_seconds", "zero_shot_ess",
          "zero_shot_acceptance", "target_metric", "target", "finetune_reached", "finetune_steps",
          "finetune_seconds", "scratch_reached", "scratch_steps", "scratch_seconds", "speedup",
          "speedup_with_pretraining", "finetune_dir", "scratch_dir"]
TEXT = {"family", "target_metric", "finetune_dir", "scratch_dir"}

SCRATCH, FINETUNE = "tab:blue", "tab:orange"


def speedup_text(rows):
    """'speedup 3.1x (2.5-3.8), incl. pretraining 1.2x' over the seeds whose fine-tuning reached the target;
    '>=' where a scratch run did not reach it (its time is a lower bound)."""
    ok = [r for r in rows if r["finetune_reached"] == 1]
    if not ok:
        return "fine-tuning did not reach the target"
    bound = "≥ " if any(r["scratch_reached"] != 1 for r in ok) else ""

    def summary(key):
        v = np.array([r[key] for r in ok], dtype=float)
        s = f"{bound}{np.median(v):.2g}×"
        return s + (f" ({v.min():.2g}–{v.max():.2g})" if len(v) > 1 else "")

    text = f"speedup {summary('speedup')}, incl. pretraining {summary('speedup_with_pretraining')}"
    if len(ok) < len(rows):
        text += f"\n({len(rows) - len(ok)} seed(s) left out: fine-tuning missed the target)"
    return text


def curves_figure(study, rows, families):
    groups = unique_in_order((r["family"], r["L"]) for r in sorted(rows, key=lambda r: (families.index(r["family"]),
                                                                                         r["L"])))
    fig, axes = grid(len(groups))
    missing = []
    for ax, (fam, L) in zip(axes, groups):
        g = [r for r in rows if r["family"] == fam and r["L"] == L]
        labelled = set()

        def draw(t, ess, style, color, label):
            ax.plot(t, ess, style, ms=3, lw=1, color=color, alpha=0.85, label=None if label in labelled else label)
            labelled.add(label)

        for r in g:
            t, ess, _ = eval_curve(os.path.join(study, r["scratch_dir"]))
            if len(t):
                draw(t, ess, ".-", SCRATCH, "from scratch")
            else:
                missing.append(r["scratch_dir"])
            t, ess, _ = eval_curve(os.path.join(study, r["finetune_dir"]))
            if len(t):
                draw(t, ess, ".-", FINETUNE, "pretrained (fine-tuning time)")
                draw(t + r["pretrain_seconds"], ess, ":", FINETUNE, "pretrained, incl. pretraining")
            else:
                missing.append(r["finetune_dir"])
        for target in unique_in_order(r["target"] for r in g if r["target_metric"] == "ess"):
            ax.axhline(target, ls="--", lw=1, color="k", label=f"target ESS/N = {target:g}")
        pls = ", ".join(str(p) for p in unique_in_order(r["pretrain_L"] for r in g))
        ax.set(xlabel="wall time [s]", ylabel="ESS/N (evaluation batch)", ylim=(0, 1.02))
        ax.set_title(f"{fam}: L = {L} (pretrained on L = {pls})\n{speedup_text(g)}", fontsize=9)
        if labelled:
            ax.set_xlim(left=0)
            legend(ax, loc="upper left", framealpha=0.9)
        else:
            empty_panel(ax, "no evaluation records")
    if not groups:
        empty_panel(axes[0], "no runs in transfer.csv")
    if missing:
        sys.stderr.write(f"warning: {len(missing)} run(s) without evaluation records in metrics.jsonl, "
                         f"e.g. {os.path.join(study, missing[0])}\n")
    return save(fig, os.path.join(study, "transfer_curves"))


def per_seed_and_median(ax, rows, key, color, label):
    """Every seed as a faint point, the median over seeds per L as marker + line."""
    v = [(r["L"], r[key]) for r in rows if np.isfinite(r[key])]
    if not v:
        return
    ax.plot([x for x, _ in v], [y for _, y in v], "o", ms=4, color=color, alpha=0.35)
    Ls = sorted(set(x for x, _ in v))
    ax.plot(Ls, [np.median([y for x, y in v if x == L]) for L in Ls], "o-", ms=6, color=color, label=label)


def own_evaluation(study, family, pretrain_L, seed):
    """The final evaluation of the pretraining run on its own lattice, or None where it is not there."""
    path = os.path.join(study, "runs", f"{family}-pretrain-L{pretrain_L}-seed{seed}", "results.json")
    try:
        ev = read_json(path).get("eval")
    except (OSError, ValueError, AttributeError):
        return None
    return ev if isinstance(ev, dict) else None


def zero_shot_figure(study, rows, families, colors):
    fig, ax = plt.subplots(1, 2, figsize=(11, 4.2))
    for fam in families:
        fr = [r for r in rows if r["family"] == fam]
        per_seed_and_median(ax[0], [r for r in fr if r["zero_shot_ess"] > 0], "zero_shot_ess", colors[fam], fam)
        per_seed_and_median(ax[1], fr, "zero_shot_acceptance", colors[fam], fam)
        for pL in unique_in_order(r["pretrain_L"] for r in fr):
            for a in ax:
                a.axvline(pL, ls=":", lw=1.2, color=colors[fam], label=f"{fam}: trained on L = {pL}")
            # The pretrained model on its own lattice, where the study kept its run (runs/F-pretrain-LN-seedS).
            own = [own_evaluation(study, fam, pL, seed) for seed in unique_in_order(r["seed"] for r in fr)]
            own = [e for e in own if e]
            for a, key in ((ax[0], "ess"), (ax[1], "acceptance")):
                v = [e[key] for e in own if isinstance(e.get(key), (int, float)) and e[key] > 0]
                if v:
                    a.plot([pL] * len(v), v, "*", ms=11, color=colors[fam], mec="k", mew=0.5,
                           label=f"{fam}: pretrained model at L = {pL}")
    if rows:
        ticks = [r["L"] for r in rows] + [r["pretrain_L"] for r in rows]
        for a in ax:
            a.set_xscale("log")
            integer_log_ticks(a, ticks)
        if any(r["zero_shot_ess"] > 0 for r in rows):
            ax[0].set_yscale("log")
            ax[0].set_ylim(top=1.3)
            plain_log_axis(ax[0])
        ax[1].set_ylim(0, 1.02)
    else:
        for a in ax:
            empty_panel(a, "no runs in transfer.csv")
    ax[0].set(xlabel="lattice size L", ylabel="zero-shot ESS/N",
              title="zero-shot ESS (pretrained weights, no training)")
    ax[1].set(xlabel="lattice size L", ylabel="zero-shot acceptance (independence Metropolis)",
              title="zero-shot acceptance (pretrained weights, no training)")
    for a in ax:
        legend(a, families, loc="best", framealpha=0.9)
    return save(fig, os.path.join(study, "zero_shot"))


def speedup_figure(study, rows, families, colors):
    """Filled: both runs reached the target; open up-triangle: scratch missed it (a lower bound); x: the
    fine-tuning missed it (the ratio means nothing)."""
    fig, ax = plt.subplots(1, 2, figsize=(11, 4.2))
    kinds = {"reached": {"marker": "o"}, "lower": {"marker": "^", "mfc": "none", "mew": 1.3},
             "failed": {"marker": "x", "mew": 1.3}}
    used = set()
    for a, key, title in ((ax[0], "speedup", "scratch / fine-tune time to target"),
                          (ax[1], "speedup_with_pretraining", "scratch / (fine-tune + pretraining) time")):
        for fam in families:
            fr = [r for r in rows if r["family"] == fam and np.isfinite(r[key]) and r[key] > 0]
            ok = [r for r in fr if r["finetune_reached"] == 1 and r["scratch_reached"] == 1]
            if ok:
                Ls = sorted(set(r["L"] for r in ok))
                a.plot(Ls, [np.median([r[key] for r in ok if r["L"] == L]) for L in Ls], "-", lw=1,
                       color=colors[fam])
            for kind, sel in (("reached", ok),
                              ("lower", [r for r in fr if r["finetune_reached"] == 1 and r["scratch_reached"] != 1]),
                              ("failed", [r for r in fr if r["finetune_reached"] != 1])):
                if sel:
                    a.plot([r["L"] for r in sel], [r[key] for r in sel], ls="none", ms=7, color=colors[fam],
                           **kinds[kind], label=fam if kind == "reached" else None)
                    used.add(kind)
            if not ok and fr:
                a.plot([], [], "o", color=colors[fam], label=fam)
        a.axhline(1.0, ls="--", lw=1, color="0.3", label="break-even")
        a.set(xlabel="lattice size L", ylabel="speedup (ratio of wall times)", title=title)
        if rows:
            a.set_xscale("log")
            a.set_yscale("log")
            integer_log_ticks(a, [r["L"] for r in rows])
            plain_log_axis(a)
        else:
            empty_panel(a, "no runs in transfer.csv")
    notes = {"lower": "scratch missed target (lower bound)", "failed": "fine-tuning missed target (no meaning)"}
    for kind in ("lower", "failed"):
        if kind in used:
            for a in ax:
                a.plot([], [], ls="none", ms=7, color="0.4", **kinds[kind], label=notes[kind])
    for a in ax:
        legend(a, families, loc="best", framealpha=0.9)
    return save(fig, os.path.join(study, "speedup"))


def main(study):
    path = os.path.join(study, "transfer.csv")
    require(path, "a transfer study directory holds it; write one with `latflow transfer STUDY.toml`")
    rows = read_csv(path, HEADER, TEXT)
    families = unique_in_order(r["family"] for r in rows)
    colors = colors_for(families)
    print(curves_figure(study, rows, families))
    print(zero_shot_figure(study, rows, families, colors))
    print(speedup_figure(study, rows, families, colors))


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        sys.exit(__doc__)
    main(sys.argv[1])
