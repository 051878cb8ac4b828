"""Rebuild the results table from a run folder, also while the run is still going or after it was stopped.

    python benchmarks/forecast_vs_peers/summarize.py OUT_DIR [--write]

Reads every ``TASK-RUN-rK.json`` record and the task files in OUT_DIR; rows show medians over the rounds that
finished (the ``rounds`` count is in results.json). Records from a runner that did not store process times get
them from the runner's log line when ``--log`` is given.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402
import report  # noqa: E402
import run  # noqa: E402

LOG_LINE = re.compile(r"^\s+(\S+): fit .* process ([\d.]+)s \(CPU ([\d.]+)s\)")


def process_times(log: Path) -> dict[tuple[str, int], tuple[float, float]]:
    """(run, round) -> (process wall s, process CPU s) from a runner log (rounds counted per run, in order)."""
    out, seen = {}, {}
    for line in log.read_text().splitlines():
        m = LOG_LINE.match(line)
        if m:
            r = m.group(1)
            k = seen.get(r, 0)
            seen[r] = k + 1
            out[(r, k)] = (float(m.group(2)), float(m.group(3)))
    return out


def summarize(out_dir: Path, log: Path | None = None) -> dict:
    summary = {"tasks": {}, "skipped": {}, "rounds": 0, "argv": ["summarize", str(out_dir)]}
    logged = process_times(log) if log else {}
    for task_file in sorted(out_dir.glob("*.npz")):
        spec, series = common.read_task(task_file)
        records = []
        for f in sorted(out_dir.glob(f"{task_file.stem}-*-r*.json")):
            rec = json.loads(f.read_text())
            rnd = int(f.stem.rsplit("-r", 1)[1])
            rec.setdefault("round", rnd)
            if "process_s" not in rec and (rec["run"], rnd) in logged:
                rec["process_s"], rec["process_cpu_s"] = logged[(rec["run"], rnd)]
            records.append(rec)
        te = common.origins(spec, "test")
        _, y_te = common.windows(series, te, spec.input_size, spec.horizon)
        naive = common.metrics(common.seasonal_naive(series, te, spec.horizon, spec.season), y_te)
        summary["tasks"][spec.name] = {"spec": common.asdict(spec), "records": records, "seasonal_naive": naive}
        summary["rounds"] = max([summary["rounds"]] + [r["round"] + 1 for r in records])
    return summary


def main(argv: list[str] | None = None) -> str:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out_dir")
    p.add_argument("--log", default=None, help="the runner's stdout, for process times missing from records")
    p.add_argument("--write", action="store_true", help="write results.md / results.json into OUT_DIR")
    args = p.parse_args(argv)
    out_dir = Path(args.out_dir)
    summary = summarize(out_dir, Path(args.log) if args.log else None)
    text = report.markdown(summary, {k: v[4] for k, v in run.RUNS.items()}, run.PEERS)
    if args.write:
        (out_dir / "results.json").write_text(json.dumps(summary, indent=1))
        (out_dir / "results.md").write_text(text)
    print(text)
    return text


if __name__ == "__main__":
    main()
