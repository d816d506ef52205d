#!/usr/bin/env python3
"""Draws docs/csoc-overview.svg: the aggregations of the "CSOC overview" dashboard
(opensearch/dashboards/csoc-overview.ndjson) over the bundled fixtures, as simple bar
charts, for the README.

It starts osmem-server (from ./.venv, `make tools`), indexes every fixture with the real
binary (`target/debug/csoc-forwarder process`, OPENSEARCH_URL pointed at it, so the
template is the shipped one), runs the same aggregations the visualizations run, and
writes an SVG. No dependencies beyond the standard library. `make dashboard-picture`.
"""

import glob
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "csoc-overview.svg"


def osmem_binary():
    found = glob.glob(str(ROOT / ".venv/lib/python3*/site-packages/osmem_server/bin/osmem-server"))
    if not found:
        sys.exit("osmem-server not found: run `make tools`")
    return found[0]


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)


def main():
    binary = ROOT / "target/debug/csoc-forwarder"
    if not binary.exists():
        sys.exit("build the binary first: cargo build")
    server = subprocess.Popen([osmem_binary(), "-addr", "127.0.0.1:0", "-no-stdin-watch", "-no-ja",
                               "-parent-pid", str(os.getpid())], stdout=subprocess.PIPE, text=True)
    try:
        url = json.loads(server.stdout.readline())["url"]
        fixtures = sorted(glob.glob(str(ROOT / "fixtures/*.json")))
        with tempfile.TemporaryDirectory() as out:
            for common in ["qa", "prod"]:
                env = dict(os.environ, OPENSEARCH_URL=url, OPENSEARCH_AUTH="none", RUST_LOG="error",
                           INDEX_PREFIX=f"csoc-logs-{common}")
                subprocess.run([str(binary), "process", "--out", out, "--common-name", common, *fixtures],
                               env=env, stdout=subprocess.DEVNULL, check=False)
        post(f"{url}/_refresh", {})
        q = lambda query, aggs: post(f"{url}/csoc-logs-*/_search", {"size": 0, "query": query, "aggs": aggs})["aggregations"]
        kql_all = {"match_all": {}}
        ct = {"bool": {"filter": [{"exists": {"field": "message.eventSource"}}, {"exists": {"field": "message.eventName"}}]}}
        charts = []
        a = q(kql_all, {"t": {"terms": {"field": "commons", "size": 10}}})
        charts.append(("Events per commons", [(b["key"], b["doc_count"]) for b in a["t"]["buckets"]]))
        a = q(ct, {"t": {"terms": {"field": "message.eventName", "size": 8}}})
        charts.append(("Top CloudTrail calls", [(b["key"], b["doc_count"]) for b in a["t"]["buckets"]]))
        a = q(ct, {"t": {"terms": {"field": "message.userIdentity.arn", "size": 6}}})
        charts.append(("Top CloudTrail principals", [(b["key"].split(":")[-1], b["doc_count"]) for b in a["t"]["buckets"]]))
        a = q({"exists": {"field": "message.errorCode"}}, {"t": {"terms": {"field": "message.errorCode", "size": 6}}})
        charts.append(("CloudTrail error codes", [(b["key"], b["doc_count"]) for b in a["t"]["buckets"]]))
        a = q({"term": {"message.eventName": "ConsoleLogin"}},
              {"t": {"terms": {"field": "message.sourceIPAddress", "size": 6},
                     "aggs": {"f": {"filter": {"exists": {"field": "message.errorMessage"}}}}}})
        charts.append(("Console sign-ins by source IP (failed)",
                       [(f'{b["key"]} ({b["f"]["doc_count"]} failed)', b["doc_count"]) for b in a["t"]["buckets"]]))
        a = q({"range": {"message.http_response_time": {"gte": 1}}},
              {"t": {"terms": {"field": "commons", "size": 10},
                     "aggs": {"p": {"percentiles": {"field": "message.http_response_time", "percents": [95]}}}}})
        charts.append(("Slow requests per commons (count, p95 s)",
                       [(f'{b["key"]} (p95 {list(b["p"]["values"].values())[0]:.1f} s)', b["doc_count"]) for b in a["t"]["buckets"]]))
    finally:
        server.kill()
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(svg(charts))
    print(f"wrote {OUT}")


def esc(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def svg(charts):
    w, col_w, bar_h, gap = 960, 460, 18, 6
    parts, y_cols = [], [40, 40]
    for i, (title, rows) in enumerate(charts):
        col = i % 2
        x, y = 20 + col * (col_w + 20), y_cols[col]
        parts.append(f'<text x="{x}" y="{y}" font-weight="bold">{esc(title)}</text>')
        y += 12
        top = max([n for _, n in rows] or [1])
        for label, n in rows or [("(none)", 0)]:
            bw = int((col_w - 230) * n / top) if top else 0
            parts.append(f'<text x="{x}" y="{y + 13}" font-size="11">{esc(label or "(empty)")[:34]}</text>')
            parts.append(f'<rect x="{x + 220}" y="{y}" width="{bw}" height="{bar_h}" fill="#3b7dd8"/>')
            parts.append(f'<text x="{x + 224 + bw}" y="{y + 13}" font-size="11">{n}</text>')
            y += bar_h + gap
        y_cols[col] = y + 30
    h = max(y_cols) + 10
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="13">'
            f'<rect width="{w}" height="{h}" fill="white"/>'
            f'<text x="20" y="22" font-size="16" font-weight="bold">CSOC overview: the bundled fixtures as commons qa and prod (csoc-logs-qa, csoc-logs-prod)</text>'
            + "".join(parts) + "</svg>\n")


if __name__ == "__main__":
    main()
