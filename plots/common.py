"""Shared plotting setup: reads only results files, writes PNG and PDF side by side."""
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams.update({"figure.dpi": 110, "axes.grid": True, "grid.alpha": 0.3, "legend.fontsize": 8})


def read_jsonl(path):
    """The records of a metrics.jsonl stream (a torn last line from a crash is skipped)."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return out


def read_json(path):
    with open(path) as f:
        return json.load(f)


def save(fig, stem):
    """Writes stem.png and stem.pdf; returns the PNG path."""
    fig.tight_layout()
    fig.savefig(stem + ".png")
    fig.savefig(stem + ".pdf")
    plt.close(fig)
    return stem + ".png"


# ---- helpers for the study plots (scaling.py, transfer.py) ---------------------------------------------

import csv  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402

import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402


def require(path, hint):
    """Exits with a one-line message (status 2) when the input file `path` is missing."""
    if not os.path.isfile(path):
        sys.stderr.write(f"error: {path} not found ({hint})\n")
        sys.exit(2)


def _number(text):
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return float("nan")


def read_csv(path, header, text_columns):
    """Rows of a study CSV as dicts. `header` lists the columns that must be present (exits with status 2
    naming the missing ones otherwise); columns in `text_columns` stay strings, every other column becomes
    an int or a float (nan where empty or unparsable)."""
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in header if c not in (reader.fieldnames or [])]
        if missing:
            sys.stderr.write(f"error: {path}: missing column(s) {', '.join(missing)}; expected header:\n"
                             f"  {','.join(header)}\n")
            sys.exit(2)
        rows = []
        for raw in reader:
            if not any((v or "").strip() for v in raw.values()):
                continue
            rows.append({k: (v if k in text_columns else _number((v or "").strip())) for k, v in raw.items()})
    return rows


def eval_curve(run_dir):
    """The periodic evaluations of a run's metrics.jsonl as sorted arrays (seconds, ess, acceptance);
    empty arrays when the file is missing or has no evaluation records."""
    records = [r for r in read_jsonl(os.path.join(run_dir, "metrics.jsonl"))
               if isinstance(r.get("eval"), dict) and "seconds" in r and "ess" in r["eval"]]
    records.sort(key=lambda r: r["seconds"])
    t = np.array([r["seconds"] for r in records], dtype=float)
    ess = np.array([r["eval"]["ess"] for r in records], dtype=float)
    acc = np.array([r["eval"].get("acceptance", float("nan")) for r in records], dtype=float)
    return t, ess, acc


def cost_fit(x, y, form="power"):
    """Least-squares fit of log y = a + z u(x) with u = log x (form "power": y ~ x^z) or u = x (form "exp":
    y ~ exp(z x)). Returns a dict with z, a, the standard error of z from the fit's covariance (nan when there
    are only 2 distinct x or no residual degrees of freedom), rms (the root-mean-square residual of log y,
    the measure the two forms are compared by), n (points) and n_x (distinct x); None with fewer than 2
    distinct x."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = (x > 0) & (y > 0) & np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n_x = len(np.unique(x))
    if n_x < 2:
        return None
    A = np.column_stack([np.ones_like(x), np.log(x) if form == "power" else x])
    coef, _, _, _ = np.linalg.lstsq(A, np.log(y), rcond=None)
    resid = np.log(y) - A @ coef
    dof = len(x) - 2
    err = float("nan")
    if n_x > 2 and dof > 0:
        err = math.sqrt(float(resid @ resid) / dof * np.linalg.inv(A.T @ A)[1, 1])
    return {"a": float(coef[0]), "z": float(coef[1]), "err": err, "rms": math.sqrt(float(resid @ resid) / len(x)),
            "n": len(x), "n_x": n_x, "form": form}


def fit_curve(fit, x):
    """The fitted cost at x."""
    x = np.asarray(x, dtype=float)
    return np.exp(fit["a"]) * (x ** fit["z"] if fit["form"] == "power" else np.exp(fit["z"] * x))


def format_pm(value, error):
    """'2.5 ± 0.3': the value rounded to the error's second significant digit (3 decimals for a zero error)."""
    if not math.isfinite(error):
        return f"{value:.2f}"
    digits = 3 if error <= 0 else min(6, max(0, 1 - math.floor(math.log10(error))))
    return f"{value:.{digits}f} ± {error:.{digits}f}"


def colors_for(labels):
    """A fixed colour per label (matplotlib's cycle), the same in every panel of a figure."""
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return {label: cycle[i % len(cycle)] for i, label in enumerate(labels)}


def unique_in_order(values):
    out = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def integer_log_ticks(ax, values, axis="x"):
    """Ticks of a log axis at the given (lattice-size) values, written as plain integers."""
    values = sorted(set(int(v) for v in values if v > 0))
    if not values:
        return
    set_ticks = ax.set_xticks if axis == "x" else ax.set_yticks
    set_ticks(values, [str(v) for v in values])
    (ax.xaxis if axis == "x" else ax.yaxis).set_minor_formatter(matplotlib.ticker.NullFormatter())


def grid(n, ncols=3, size=(4.2, 3.3)):
    """A figure with n panels in rows of at most ncols; returns (fig, flat list of the n axes), hiding spares."""
    n = max(n, 1)
    ncols = min(ncols, n)
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows), squeeze=False)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_axis_off()
    return fig, flat[:n]


def empty_panel(ax, message):
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="0.4")


def legend(ax, first=(), **kwargs):
    """A legend with the entries whose labels start with one of `first` (in that order) ahead of the rest;
    nothing when the panel has no labelled artists."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return

    def rank(i):
        for k, prefix in enumerate(first):
            if labels[i] == prefix or labels[i].startswith(prefix + ":"):
                return (k, i)
        return (len(first), i)

    order = sorted(range(len(labels)), key=rank)
    ax.legend([handles[i] for i in order], [labels[i] for i in order], **kwargs)


class _PlainLogFormatter(matplotlib.ticker.LogFormatter):
    """LogFormatter's choice of which ticks to label (minor ones only on short ranges), written as %g."""

    def __call__(self, x, pos=None):
        return f"{x:g}" if super().__call__(x, pos) else ""


def plain_log_axis(ax, axis="y"):
    """Tick labels of a log axis as plain numbers (0.5, 2, 300) instead of powers of ten."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    target.set_minor_formatter(_PlainLogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
