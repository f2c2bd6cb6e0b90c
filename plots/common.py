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
