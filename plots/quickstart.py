"""Plot of a `latflow run` directory: training progress and the model's observables against the reference
Markov chain (HMC, or Wolff for Ising spins) and exact values.

usage: python plots/quickstart.py RUN_DIR      (writes RUN_DIR/quickstart.png and .pdf)
"""
import os
import sys

from common import plt, read_json, read_jsonl, save


def main(run_dir):
    records = read_jsonl(os.path.join(run_dir, "metrics.jsonl"))
    results = read_json(os.path.join(run_dir, "results.json"))
    steps = [r for r in records if "loss" in r and "eval" not in r]
    evals = [r for r in records if "eval" in r]

    fig, ax = plt.subplots(1, 3, figsize=(13, 3.8))
    lat = results["lattice"]
    couplings = ", ".join(f"{k}={v}" for k, v in lat.items() if k not in ("T", "L"))
    title = f"{results['model']} on {lat['T']}x{lat['L']}, {couplings}"
    fig.suptitle(title, fontsize=10)

    if evals:
        t = [r["seconds"] for r in evals]
        ax[0].plot(t, [r["eval"]["ess"] for r in evals], "o-", label="ESS/N (fresh batch)")
        ax[0].plot([r["seconds"] for r in steps], [r["ess"] for r in steps], ",", alpha=0.4,
                   label="ESS/N (training batch)")
    ax[0].set(xlabel="training wall time [s]", ylabel="ESS/N", ylim=(0, 1.02), title="effective sample size")
    ax[0].legend(loc="lower right")

    if steps:
        ax[1].plot([r["step"] for r in steps], [r["loss"] for r in steps], lw=0.7, label="E_q[log q + S]")
    if evals:
        lz = [r["eval"]["log_z"]["value"] for r in evals]
        ax[1].plot([r["step"] for r in evals], [-v for v in lz], "k--", lw=1, label="-log Z estimate (KL = 0)")
    ax[1].set(xlabel="training step", ylabel="reverse-KL loss", title="loss")
    ax[1].legend(loc="upper right")

    # The observables latflow run compared (the theory's own list), against the reference chain and the
    # exact values.
    comparison = results.get("comparison", {})
    reference = comparison.get("reference", "hmc")
    keys = list(comparison.get("pull", comparison.get("pull_exact", {})).keys())
    ev = results.get("eval", {}).get("observables", {})
    exact = results.get("eval", {}).get("exact", {})
    hmc = results.get(reference, {}).get("observables", {})
    keys = [k for k in keys if isinstance(ev.get(k), dict)]
    if keys:
        for i, k in enumerate(keys):
            ref = hmc[k] if isinstance(hmc.get(k), dict) else None
            scale = abs(ref["value"]) if ref and ref["value"] != 0 else (abs(exact.get(k, 1.0)) or 1.0)
            if ref:
                ax[2].errorbar(i - 0.15, ref["value"] / scale, yerr=ref["error"] / scale, fmt="s", color="k",
                               label=("HMC" if reference == "hmc" else reference.capitalize()) if i == 0 else None)
            if k in exact:
                ax[2].plot([i - 0.3, i + 0.3], [exact[k] / scale] * 2, "g-", lw=1.5,
                           label="exact" if i == 0 else None)
            ax[2].errorbar(i + 0.15, ev[k]["value"] / scale, yerr=ev[k]["error"] / scale, fmt="o", color="C1",
                           label="model (reweighted)" if i == 0 else None)
        ax[2].set_xticks(range(len(keys)), [k.replace("_", " ") for k in keys], rotation=15, fontsize=8)
        ax[2].set(ylabel="observable / reference", title="observables")
        ax[2].legend()
    else:
        ax[2].set_axis_off()
    print(save(fig, os.path.join(run_dir, "quickstart")))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
