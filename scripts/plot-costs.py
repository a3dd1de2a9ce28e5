#!/usr/bin/env python3
"""Draws the cost curves of docs/performance.md from the load harness's JSON reports.

    scripts/plot-costs.py OUT.png REPORT.json... [--eval MEMBERS:ALIGNED:MICROSECONDS ...]

Three panels, each drawn from what the reports hold (a panel with no points says so):
  1. finalized tx/s and p50 submit-to-final latency against the offered load (reports of
     runs with a numeric `--rate`, grouped by their validator count);
  2. disk bytes per transaction and peak resident memory of node 0 against the chain's
     length (reports of `--rate max` runs: full blocks; emptier blocks cost more per
     transaction);
  3. time per evaluation against the earlier aligned evaluators it pays, from `--eval`
     points (the criterion figures of `cargo bench -p pov-protocol --bench evaluate`).

No third-party Python package is needed: the plot is written as SVG and turned into PNG by
a headless Chromium (`chromium`, or $CHROMIUM), which renders the text. The SVG is kept
next to the PNG. Each report's load average is printed in its panel's legend, because the
wall-clock figures depend on it.
"""

import json
import os
import subprocess
import sys
import tempfile

W, H = 1600, 470
PANEL_W, PANEL_H = 370, 330
LEFT, TOP = 80, 70
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]


def esc(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def nice_max(value):
    """A round number at or above `value`, for an axis's end."""
    if value <= 0:
        return 1.0
    step = 10 ** len(str(int(value))) / 10
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * step >= value:
            return m * step
    return 10 * step


class Panel:
    """One chart: x axis, a left y axis and optionally a right one."""

    def __init__(self, x0, title, xlabel, ylabel, y2label=None):
        self.x0, self.title, self.xlabel = x0, title, xlabel
        self.ylabel, self.y2label = ylabel, y2label
        self.series = []  # (points, colour, axis, label, dashed)

    def add(self, points, colour, axis, label, dashed=False):
        if points:
            self.series.append((sorted(points), colour, axis, label, dashed))

    def svg(self):
        out = [f'<text x="{self.x0 + PANEL_W / 2}" y="{TOP - 30}" text-anchor="middle" '
               f'font-size="15" font-weight="bold">{esc(self.title)}</text>']
        if not self.series:
            out.append(f'<text x="{self.x0 + PANEL_W / 2}" y="{TOP + PANEL_H / 2}" '
                       'text-anchor="middle" font-size="13">no data in the reports</text>')
            return out
        xmax = nice_max(max(p[0] for s in self.series for p in s[0]))
        ymax = {a: nice_max(max([p[1] for s in self.series if s[2] == a for p in s[0]] or [1]))
                for a in (1, 2)}
        x = lambda v: self.x0 + v / xmax * PANEL_W
        y = lambda v, a: TOP + PANEL_H - v / ymax[a] * PANEL_H
        out.append(f'<rect x="{self.x0}" y="{TOP}" width="{PANEL_W}" height="{PANEL_H}" '
                   'fill="none" stroke="#444"/>')
        for i in range(6):
            fx, fy = xmax * i / 5, ymax[1] * i / 5
            out.append(f'<line x1="{x(fx)}" y1="{TOP}" x2="{x(fx)}" y2="{TOP + PANEL_H}" stroke="#eee"/>')
            out.append(f'<text x="{x(fx)}" y="{TOP + PANEL_H + 16}" text-anchor="middle" '
                       f'font-size="11">{fx:g}</text>')
            out.append(f'<text x="{self.x0 - 6}" y="{y(fy, 1) + 4}" text-anchor="end" '
                       f'font-size="11">{fy:g}</text>')
            if self.y2label:
                out.append(f'<text x="{self.x0 + PANEL_W + 6}" y="{y(ymax[2] * i / 5, 2) + 4}" '
                           f'font-size="11">{ymax[2] * i / 5:g}</text>')
        out.append(f'<text x="{self.x0 + PANEL_W / 2}" y="{TOP + PANEL_H + 36}" '
                   f'text-anchor="middle" font-size="12">{esc(self.xlabel)}</text>')
        out.append(f'<text transform="translate({self.x0 - 50},{TOP + PANEL_H / 2}) rotate(-90)" '
                   f'text-anchor="middle" font-size="12">{esc(self.ylabel)}</text>')
        if self.y2label:
            out.append(f'<text transform="translate({self.x0 + PANEL_W + 50},{TOP + PANEL_H / 2}) '
                       f'rotate(90)" text-anchor="middle" font-size="12">{esc(self.y2label)}</text>')
        for n, (points, colour, axis, label, dashed) in enumerate(self.series):
            path = " ".join(f"{x(px):.1f},{y(py, axis):.1f}" for px, py in points)
            dash = ' stroke-dasharray="6,4"' if dashed else ""
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
            for px, py in points:
                out.append(f'<circle cx="{x(px):.1f}" cy="{y(py, axis):.1f}" r="3.5" fill="{colour}"/>')
            ly = TOP + 14 + 16 * n
            out.append(f'<line x1="{self.x0 + 10}" y1="{ly - 4}" x2="{self.x0 + 30}" y2="{ly - 4}" '
                       f'stroke="{colour}" stroke-width="2"{dash}/>')
            out.append(f'<text x="{self.x0 + 35}" y="{ly}" font-size="11">{esc(label)}</text>')
        return out


def main(argv):
    if len(argv) < 2 or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    out_png, rest = argv[0], argv[1:]
    reports, evals = [], []
    while rest:
        arg = rest.pop(0)
        if arg == "--eval":
            members, aligned, micros = rest.pop(0).split(":")
            evals.append((int(members), float(aligned), float(micros)))
        else:
            with open(arg) as f:
                reports.append(json.load(f))

    load = Panel(LEFT, "Throughput and latency against offered load", "offered tx/s",
                 "finalized tx/s (solid)", "p50 submit-to-final, s (dashed)")
    by_validators = {}
    for r in reports:
        rate = r["setup"]["offered_rate"]
        if isinstance(rate, (int, float)) or str(rate).replace(".", "").isdigit():
            by_validators.setdefault(r["setup"]["validators"], []).append(r)
    for n, (validators, runs) in enumerate(sorted(by_validators.items())):
        colour = COLOURS[n % len(COLOURS)]
        loads = sorted({float(r["machine"]["load_average_at_end"].split()[0]) for r in runs})
        label = f"{validators} validator(s), load average {loads[0]:g}-{loads[-1]:g}"
        rate = lambda r: float(r["setup"]["offered_rate"])
        load.add([(rate(r), r["finality"]["finalized_per_second_sustained"]) for r in runs],
                 colour, 1, label)
        load.add([(rate(r), r["finality"]["latency_s"]["p50"]) for r in runs], colour, 2,
                 "p50", dashed=True)

    footprint = Panel(LEFT + 540, "Footprint against chain length (node 0, full blocks)",
                      "transactions in the chain", "disk bytes per tx (solid)",
                      "peak RSS, MiB (dashed)")
    points = [(r["nodes"][0]["chain_txs"], r["nodes"][0]["disk_bytes_per_tx"],
               r["nodes"][0]["peak_rss_mib"]) for r in reports
              if r.get("nodes") and r["setup"]["offered_rate"] == "max"]
    footprint.add([(t, d) for t, d, _ in points], COLOURS[0], 1, "disk bytes per tx")
    footprint.add([(t, m) for t, _, m in points], COLOURS[1], 2, "peak RSS MiB", dashed=True)

    evaluation = Panel(LEFT + 1090, "Time per evaluation (state machine)",
                       "earlier aligned evaluators paid", "µs per evaluation")
    evaluation.add([(a, us) for _, a, us in evals], COLOURS[2], 1,
                   "steady mix at " + ", ".join(f"{m:,}" for m, _, _ in sorted(evals)) + " members")

    body = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
            'font-family="DejaVu Sans, sans-serif">', f'<rect width="{W}" height="{H}" fill="white"/>']
    for panel in (load, footprint, evaluation):
        body.extend(panel.svg())
    body.append("</svg>")
    svg_path = os.path.splitext(out_png)[0] + ".svg"
    with open(svg_path, "w") as f:
        f.write("\n".join(body) + "\n")
    chromium = os.environ.get("CHROMIUM", "chromium")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", f"--user-data-dir={profile}",
                        f"--screenshot={os.path.abspath(out_png)}", f"--window-size={W},{H}",
                        "file://" + os.path.abspath(svg_path)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=120)
    print(f"wrote {out_png} and {svg_path} from {len(reports)} reports")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
