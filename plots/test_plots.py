"""Smoke test of the study plots: runs scaling.py and transfer.py on copies of plots/fixtures/ in a temporary
directory and checks that every PNG and PDF is written and non-empty, that the power-law exponent of the
fixture family with seconds = c L^2.5 comes out as 2.5, and that missing or header-only inputs are handled.

usage: python plots/test_plots.py      exit 0: passed, 1: failed, 77: skipped (matplotlib not importable)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")

failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


def run(script, study):
    return subprocess.run([sys.executable, os.path.join(HERE, script), study], capture_output=True, text=True,
                          timeout=300)


def check_outputs(proc, study, stems, what):
    check(proc.returncode == 0, f"{what}: exit status 0 (got {proc.returncode}; stderr: {proc.stderr.strip()})")
    for stem in stems:
        for ext in ("png", "pdf"):
            path = os.path.join(study, f"{stem}.{ext}")
            check(os.path.isfile(path) and os.path.getsize(path) > 0, f"{what}: {stem}.{ext} written, non-empty")
        check(os.path.join(study, stem + ".png") in proc.stdout.splitlines(), f"{what}: prints {stem}.png")


def main():
    try:
        import matplotlib  # noqa: F401
        import numpy  # noqa: F401
    except ImportError as e:
        print(f"skipped: {e} (the plots need matplotlib and numpy)")
        return 77

    with tempfile.TemporaryDirectory(prefix="latflow-plots-") as tmp:
        # scaling study
        study = os.path.join(tmp, "scaling")
        shutil.copytree(os.path.join(FIXTURES, "scaling"), study)
        proc = run("scaling.py", study)
        check_outputs(proc, study, ["cost_vs_L", "ess_vs_time"], "scaling")
        fits = {m.group(1): m for m in re.finditer(r"^(\S+): z = (\S+) \+- (\S+) from (\d+) runs", proc.stdout, re.M)}
        z = fits.get("coupling")
        check(z is not None and abs(float(z.group(2)) - 2.5) <= 1e-6 and int(z.group(4)) == 8,
              f"scaling: coupling (seconds = c L^2.5) fitted z = 2.5 +- 1e-6 from 8 runs ({z and z.group(0)})")
        check(z is not None and float(z.group(3)) > 0, "scaling: coupling has a fit error (two seeds, 4 sizes)")
        exps = {m.group(1): m for m in
                re.finditer(r"^(\S+): c = (\S+) \+- (\S+) from (\d+) runs, rms (\S+)", proc.stdout, re.M)}
        rms = re.search(r"^coupling: z = .* rms (\S+)", proc.stdout, re.M)
        c = exps.get("coupling")
        check(c is not None and int(c.group(4)) == 8 and float(c.group(3)) > 0,
              f"scaling: coupling has an exponential fit with an error from 8 runs ({c and c.group(0)})")
        check(rms is not None and c is not None and float(rms.group(1)) < float(c.group(5)),
              "scaling: an exact power law fits better as a power than as an exponential (smaller rms)")
        o = fits.get("operator_cnf")
        check(o is not None and int(o.group(4)) == 2 and o.group(3) == "nan" and "no error" in o.group(0) + proc.stdout,
              "scaling: operator_cnf fits its 2 reached runs only, without an error")
        h = fits.get("hierarchical")
        check(h is not None and h.group(2) == "nan" and int(h.group(4)) == 0,
              "scaling: hierarchical (never reached) has no fit")

        # transfer study
        study = os.path.join(tmp, "transfer")
        shutil.copytree(os.path.join(FIXTURES, "transfer"), study)
        check_outputs(run("transfer.py", study), study, ["transfer_curves", "zero_shot", "speedup"], "transfer")

        # header-only CSVs: empty figures, no crash
        for script, name, stems in (("scaling.py", "scaling", ["cost_vs_L", "ess_vs_time"]),
                                    ("transfer.py", "transfer", ["transfer_curves", "zero_shot", "speedup"])):
            study = os.path.join(tmp, "empty-" + name)
            os.makedirs(study)
            with open(os.path.join(FIXTURES, name, name + ".csv")) as f:
                header = f.readline()
            with open(os.path.join(study, name + ".csv"), "w") as f:
                f.write(header)
            check_outputs(run(script, study), study, stems, f"{name}, header only")

        # missing inputs: a non-zero exit with a message naming the file
        for script, name in (("scaling.py", "scaling.csv"), ("transfer.py", "transfer.csv")):
            study = os.path.join(tmp, "missing")
            os.makedirs(study, exist_ok=True)
            proc = run(script, study)
            check(proc.returncode != 0 and name in proc.stderr,
                  f"{script} on a directory without {name}: non-zero exit naming it ({proc.stderr.strip()})")

        # a CSV with a wrong header
        study = os.path.join(tmp, "bad-header")
        os.makedirs(study)
        with open(os.path.join(study, "scaling.csv"), "w") as f:
            f.write("family,L\ncoupling,8\n")
        proc = run("scaling.py", study)
        check(proc.returncode != 0 and "seconds_to_target" in proc.stderr,
              "scaling.py on a CSV with missing columns: non-zero exit naming them")

    print(f"{len(failures)} failure(s)" if failures else "all plot checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
