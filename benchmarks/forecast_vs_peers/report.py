"""Turn the runner's records into medians, ratios, goal checks and a markdown table."""

from __future__ import annotations

import statistics

FIELDS = ("fit_s", "predict_s", "process_s", "fit_cpu_s", "predict_cpu_s", "process_cpu_s", "peak_rss_mb", "mae", "mse",
          "latency_p50_ms", "latency_p95_ms")


def medians(records: list[dict]) -> dict[str, dict]:
    """run -> median of every field over its successful rounds (plus ``rounds`` and ``failed`` counts)."""
    out: dict[str, dict] = {}
    for run in dict.fromkeys(r["run"] for r in records):
        ok = [r for r in records if r["run"] == run and "error" not in r]
        row = {"rounds": len(ok), "failed": sum(1 for r in records if r["run"] == run and "error" in r)}
        if ok:
            row.update({f: statistics.median(r[f] for r in ok if f in r) for f in FIELDS if any(f in r for r in ok)})
            row["fit_predict_s"] = statistics.median(r["fit_s"] + r["predict_s"] for r in ok)
            if all("fit_cpu_s" in r for r in ok):
                row["fit_predict_cpu_s"] = statistics.median(r["fit_cpu_s"] + r["predict_cpu_s"] for r in ok)
            row["epochs_run"] = statistics.median(r.get("epochs_run", r.get("steps", 0)) for r in ok)
        out[run] = row
    return out


def goals(med: dict[str, dict], naive: dict[str, float], peers: tuple[str, ...]) -> list[str]:
    """Plain-language checks of the benchmark's goals against the medians (only those that can be judged)."""
    have = [p for p in peers if med.get(p, {}).get("rounds")]
    lines = []
    d, lfl, raw = med.get("rnnkit-default", {}), med.get("rnnkit-lfl", {}), med.get("torch", {})
    if have and d.get("rounds"):
        best_mse = min(med[p]["mse"] for p in have)
        for key, what in (("fit_predict_cpu_s", "CPU time"), ("fit_predict_s", "wall time")):
            if not all(key in m for m in (d, *(med[p] for p in have))):
                continue
            ratio = d[key] / min(med[p][key] for p in have)
            ok = d["mse"] <= best_mse and ratio <= 0.1
            lines.append(f"- goal (default MSE <= better peer, fit+predict <= 1/10 of the faster peer's), by {what}: "
                         f"{'MET' if ok else 'NOT MET'}: MSE {d['mse']:.4f} vs {best_mse:.4f}, "
                         f"{ratio:.3f}x the faster peer's {what} ({1 / ratio:.1f}x faster)")
    if d.get("rounds"):
        beat = d["mae"] < naive["mae"] and d["mse"] < naive["mse"]
        lines.append(f"- moonshot (also beat seasonal naive): {'MET' if beat else 'NOT MET'}: default MAE "
                     f"{d['mae']:.4f} / MSE {d['mse']:.4f} vs naive {naive['mae']:.4f} / {naive['mse']:.4f}")
    if lfl.get("rounds") and raw.get("rounds"):
        key = "fit_cpu_s" if "fit_cpu_s" in lfl and "fit_cpu_s" in raw else "fit_s"
        r = lfl[key] / raw[key]
        lines.append(f"- like-for-like fit no slower than the raw PyTorch loop: {'MET' if r <= 1 else 'NOT MET'}: "
                     f"{r:.2f}x its fit {'CPU' if key == 'fit_cpu_s' else 'wall'} time")
    if lfl.get("rounds") and have:
        key = "predict_cpu_s" if all("predict_cpu_s" in m for m in (lfl, *(med[p] for p in have))) else "predict_s"
        pmin = min(med[p][key] for p in have)
        lat = min(med[p].get("latency_p50_ms", float("inf")) for p in have)
        lines.append(f"- like-for-like predict no slower than the peers' ({'CPU' if key == 'predict_cpu_s' else 'wall'}"
                     f" time): {'MET' if lfl[key] <= pmin else 'NOT MET'}: all test windows {lfl[key]:.3f}s "
                     f"vs {pmin:.3f}s; one series p50 (wall) {lfl.get('latency_p50_ms', float('nan')):.2f} ms "
                     f"vs {lat:.2f} ms")
    return lines


def markdown(summary: dict, labels: dict[str, str], peers: tuple[str, ...]) -> str:
    """One table per task, then the goal checks and what was skipped."""
    parts = []
    for task, t in summary["tasks"].items():
        med = medians(t["records"])
        med = {k: med[k] for k in sorted(med, key=lambda r: list(labels).index(r) if r in labels else len(labels))}
        have = [p for p in peers if med.get(p, {}).get("rounds")]
        ref_runs = have or [r for r in ("torch",) if med.get(r, {}).get("rounds")]
        fastest = min((med[p]["fit_predict_s"] for p in ref_runs), default=None)
        fastest_cpu = min((med[p].get("fit_predict_cpu_s", float("nan")) for p in ref_runs), default=None)
        ref_name = "fastest peer" if have else "raw PyTorch loop (no peer ran)"
        spec = t["spec"]
        parts.append(f"### {task}: L={spec['input_size']}, H={spec['horizon']}, {spec['notes'].get('split', '')}\n")
        parts.append(f"Medians over up to {summary['rounds']} interleaved rounds (count per row in the last column); times are wall (CPU) seconds of a one-thread "
                     f"process. Ratio = (fit + predict) CPU time / that of the {ref_name} (wall-time ratio in "
                     f"brackets); below 1 is faster.\n")
        parts.append("| run | fit s | predict s (all test windows) | process s (with imports) | peak MiB | test MAE | "
                     "test MSE | ratio | 1-series predict p50 / p95 ms | epochs | rounds |")
        parts.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for run, m in med.items():
            if not m["rounds"]:
                parts.append(f"| {labels.get(run, run)} | failed in {m['failed']} rounds | | | | | | | | | |")
                continue
            ratio = f"{m['fit_predict_s'] / fastest:.3f}" if fastest else "-"
            if fastest_cpu and "fit_predict_cpu_s" in m:
                ratio = f"{m['fit_predict_cpu_s'] / fastest_cpu:.3f} ({ratio})"
            cpu = lambda k, m=m: f" ({m[k]:.2f})" if k in m else ""  # noqa: E731
            proc = f"{m['process_s']:.1f}{cpu('process_cpu_s')}" if "process_s" in m else "-"
            parts.append(f"| {labels.get(run, run)} | {m['fit_s']:.2f}{cpu('fit_cpu_s')} | "
                         f"{m['predict_s']:.3f}{cpu('predict_cpu_s')} | {proc} | "
                         f"{m['peak_rss_mb']:.0f} | {m['mae']:.4f} | {m['mse']:.4f} | {ratio} | "
                         f"{m.get('latency_p50_ms', float('nan')):.2f} / {m.get('latency_p95_ms', float('nan')):.2f} | "
                         f"{m['epochs_run']:g} | {m['rounds']} |")
        n = t["seasonal_naive"]
        parts.append(f"| seasonal naive (period {spec['season']}) | - | - | - | - | {n['mae']:.4f} | {n['mse']:.4f} "
                     f"| - | - | - | - |\n")
        parts += goals(med, n, peers) + [""]
    for why in summary["skipped"].values():
        parts.append(f"- {why}")
    return "\n".join(parts) + "\n"
