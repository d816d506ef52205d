#!/usr/bin/env python3
"""Writes opensearch/dashboards/csoc-overview.ndjson: the OpenSearch Dashboards saved
objects for the shared index (index pattern, saved searches, visualizations and the
"CSOC overview" dashboard).

The NDJSON is what ships (importable with POST /api/saved_objects/_import, or
`csoc-forwarder dashboards install`); this script is its readable source, since saved
objects hold their visualization state as JSON text inside JSON. Deterministic: run it
again after a change and commit both (`make dashboards`). Every field used here must be
in opensearch/index-template.json (the Rust test `dashboards::` checks it).
"""

import json
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "opensearch" / "dashboards" / "csoc-overview.ndjson"
INDEX_PATTERN = "csoc-logs"
INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"
SEARCH_REF = "search_0"


def text(value):
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def search_source(query, with_index=True):
    src = {"query": {"query": query, "language": "kuery"}, "filter": []}
    if with_index:
        src["indexRefName"] = INDEX_REF
    return {"searchSourceJSON": text(src)}


def index_pattern():
    return {
        "id": INDEX_PATTERN,
        "type": "index-pattern",
        "attributes": {"title": "csoc-logs-*", "timeFieldName": "@timestamp"},
        "references": [],
        "migrationVersion": {"index-pattern": "7.6.0"},
    }


def search(id_, title, query, columns, description):
    return {
        "id": id_,
        "type": "search",
        "attributes": {
            "title": title,
            "description": description,
            "columns": columns,
            "sort": [["@timestamp", "desc"]],
            "kibanaSavedObjectMeta": search_source(query),
        },
        "references": [{"id": INDEX_PATTERN, "name": INDEX_REF, "type": "index-pattern"}],
        "migrationVersion": {"search": "7.9.3"},
    }


def count(id_="1"):
    return {"id": id_, "enabled": True, "type": "count", "schema": "metric", "params": {}}


def date_histogram(id_="2"):
    return {
        "id": id_,
        "enabled": True,
        "type": "date_histogram",
        "schema": "segment",
        "params": {"field": "@timestamp", "interval": "auto", "min_doc_count": 1, "extended_bounds": {}},
    }


def terms(id_, field, schema, size=10, label=None):
    params = {
        "field": field,
        "size": size,
        "order": "desc",
        "orderBy": "1",
        "otherBucket": False,
        "missingBucket": False,
    }
    if label:
        params["customLabel"] = label
    return {"id": id_, "enabled": True, "type": "terms", "schema": schema, "params": params}


def xy_params(kind, stacked):
    mode = "stacked" if stacked else "normal"
    return {
        "type": kind,
        "grid": {"categoryLines": False},
        "categoryAxes": [
            {
                "id": "CategoryAxis-1",
                "type": "category",
                "position": "bottom",
                "show": True,
                "style": {},
                "scale": {"type": "linear"},
                "labels": {"show": True, "filter": True, "truncate": 100},
                "title": {},
            }
        ],
        "valueAxes": [
            {
                "id": "ValueAxis-1",
                "name": "LeftAxis-1",
                "type": "value",
                "position": "left",
                "show": True,
                "style": {},
                "scale": {"type": "linear", "mode": "normal"},
                "labels": {"show": True, "rotate": 0, "filter": False, "truncate": 100},
                "title": {"text": "Count"},
            }
        ],
        "seriesParams": [
            {
                "show": True,
                "type": "histogram" if kind == "histogram" else "line",
                "mode": mode,
                "data": {"label": "Count", "id": "1"},
                "valueAxis": "ValueAxis-1",
                "drawLinesBetweenPoints": True,
                "lineWidth": 2,
                "showCircles": True,
            }
        ],
        "addTooltip": True,
        "addLegend": True,
        "legendPosition": "right",
        "times": [],
        "addTimeMarker": False,
        "labels": {"show": False},
        "thresholdLine": {"show": False, "value": 10, "width": 1, "style": "full", "color": "#E7664C"},
    }


def table_params():
    return {
        "perPage": 10,
        "showPartialRows": False,
        "showMetricsAtAllLevels": False,
        "showTotal": False,
        "totalFunc": "sum",
        "percentageCol": "",
    }


def visualization(id_, title, vis_type, params, aggs, query="", saved_search=None, description=""):
    vis_state = {"title": title, "type": vis_type, "params": params, "aggs": aggs}
    refs = []
    attrs = {
        "title": title,
        "description": description,
        "visState": text(vis_state),
        "uiStateJSON": "{}",
        "version": 1,
    }
    if saved_search:
        attrs["savedSearchRefName"] = SEARCH_REF
        attrs["kibanaSavedObjectMeta"] = search_source(query, with_index=False)
        refs.append({"id": saved_search, "name": SEARCH_REF, "type": "search"})
    else:
        attrs["kibanaSavedObjectMeta"] = search_source(query)
        refs.append({"id": INDEX_PATTERN, "name": INDEX_REF, "type": "index-pattern"})
    return {
        "id": id_,
        "type": "visualization",
        "attributes": attrs,
        "references": refs,
        "migrationVersion": {"visualization": "7.10.0"},
    }


def dashboard(id_, title, panels):
    panels_json = []
    refs = []
    for i, (vis_id, x, y, w, h) in enumerate(panels):
        ref = f"panel_{i}"
        panels_json.append(
            {
                "version": "2.11.0",
                "gridData": {"x": x, "y": y, "w": w, "h": h, "i": str(i + 1)},
                "panelIndex": str(i + 1),
                "embeddableConfig": {},
                "panelRefName": ref,
            }
        )
        refs.append({"id": vis_id, "name": ref, "type": "visualization"})
    return {
        "id": id_,
        "type": "dashboard",
        "attributes": {
            "title": title,
            "description": "csoc-forwarder: every commons' logs in the shared cluster (csoc-logs-*).",
            "hits": 0,
            "panelsJSON": text(panels_json),
            "optionsJSON": text({"hidePanelTitles": False, "useMargins": True}),
            "timeRestore": True,
            "timeFrom": "now-24h",
            "timeTo": "now",
            "refreshInterval": {"pause": True, "value": 0},
            "version": 1,
            "kibanaSavedObjectMeta": {"searchSourceJSON": text({"query": {"query": "", "language": "kuery"}, "filter": []})},
        },
        "references": refs,
        "migrationVersion": {"dashboard": "7.9.3"},
    }


CLOUDTRAIL = "message.eventSource:* and message.eventName:*"
CONSOLE = "message.eventName:ConsoleLogin"
SLOW = "message.http_response_time >= 1"
SAFE = "ingest_error.type:*"

OBJECTS = [
    index_pattern(),
    search(
        "csoc-cloudtrail-by-principal",
        "CSOC: CloudTrail by principal",
        CLOUDTRAIL,
        [
            "commons",
            "message.userIdentity.type",
            "message.userIdentity.arn",
            "message.eventSource",
            "message.eventName",
            "message.awsRegion",
            "message.sourceIPAddress",
            "message.errorCode",
        ],
        "CloudTrail events (log streams and EventBridge); filter on message.userIdentity.arn.",
    ),
    search(
        "csoc-console-sign-ins",
        "CSOC: console sign-ins",
        CONSOLE,
        [
            "commons",
            "message.userIdentity.type",
            "message.userIdentity.arn",
            "message.sourceIPAddress",
            "message.errorMessage",
            "message.userAgent",
        ],
        "ConsoleLogin events; failures carry message.errorMessage.",
    ),
    search(
        "csoc-slow-requests",
        "CSOC: slow requests",
        SLOW,
        [
            "commons",
            "logStream",
            "message.kubernetes.pod_name",
            "message.http_verb",
            "message.http_status_code",
            "message.http_response_time",
            "message.network_client_ip",
        ],
        "Access-log requests that took 1 s or more (query strings are redacted at ingest).",
    ),
    search(
        "csoc-safe-form-and-ingest-errors",
        "CSOC: safe-form and ingest errors",
        SAFE,
        ["commons", "logGroup", "logStream", "ingest_error.type", "ingest_error.reason"],
        "Documents the index refused as sent, stored with their message as text (message.log).",
    ),
    visualization(
        "csoc-events-per-commons",
        "CSOC: events per commons over time",
        "histogram",
        xy_params("histogram", True),
        [count(), date_histogram(), terms("3", "commons", "group", 20)],
    ),
    visualization(
        "csoc-top-cloudtrail-calls",
        "CSOC: top CloudTrail calls",
        "table",
        table_params(),
        [count(), terms("2", "message.eventSource", "bucket", 10, "service"), terms("3", "message.eventName", "bucket", 20, "call")],
        saved_search="csoc-cloudtrail-by-principal",
    ),
    visualization(
        "csoc-top-principals",
        "CSOC: top CloudTrail principals",
        "table",
        table_params(),
        [count(), terms("2", "message.userIdentity.arn", "bucket", 20, "principal"), terms("3", "commons", "bucket", 5, "commons")],
        saved_search="csoc-cloudtrail-by-principal",
    ),
    visualization(
        "csoc-console-sign-ins-by-ip",
        "CSOC: console sign-ins and failures by source IP",
        "histogram",
        xy_params("histogram", True),
        [
            count(),
            terms("2", "message.sourceIPAddress", "segment", 20, "source IP"),
            {
                "id": "3",
                "enabled": True,
                "type": "filters",
                "schema": "group",
                "params": {
                    "filters": [
                        {"input": {"query": "not message.errorMessage:*", "language": "kuery"}, "label": "success"},
                        {"input": {"query": "message.errorMessage:*", "language": "kuery"}, "label": "failure"},
                    ]
                },
            },
        ],
        saved_search="csoc-console-sign-ins",
    ),
    visualization(
        "csoc-error-codes-over-time",
        "CSOC: CloudTrail error codes (AccessDenied, …) over time",
        "line",
        xy_params("line", False),
        [count(), date_histogram(), terms("3", "message.errorCode", "group", 10)],
        query="message.errorCode:*",
    ),
    visualization(
        "csoc-slow-requests-per-commons",
        "CSOC: slow requests per commons (count, p95)",
        "table",
        table_params(),
        [
            count(),
            {
                "id": "4",
                "enabled": True,
                "type": "percentiles",
                "schema": "metric",
                "params": {"field": "message.http_response_time", "percents": [95], "customLabel": "p95 (s)"},
            },
            terms("2", "commons", "bucket", 20),
        ],
        saved_search="csoc-slow-requests",
    ),
    visualization(
        "csoc-safe-form-documents",
        "CSOC: documents stored in the safe form",
        "table",
        table_params(),
        [count(), terms("2", "commons", "bucket", 20), terms("3", "ingest_error.type", "bucket", 10, "why")],
        saved_search="csoc-safe-form-and-ingest-errors",
    ),
]

OBJECTS.append(
    dashboard(
        "csoc-overview",
        "CSOC overview",
        [
            ("csoc-events-per-commons", 0, 0, 48, 12),
            ("csoc-top-cloudtrail-calls", 0, 12, 24, 15),
            ("csoc-top-principals", 24, 12, 24, 15),
            ("csoc-console-sign-ins-by-ip", 0, 27, 24, 15),
            ("csoc-error-codes-over-time", 24, 27, 24, 15),
            ("csoc-slow-requests-per-commons", 0, 42, 24, 12),
            ("csoc-safe-form-documents", 24, 42, 24, 12),
        ],
    )
)


def main():
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("".join(text(o) + "\n" for o in OBJECTS))
    print(f"wrote {OUT} ({len(OBJECTS)} saved objects)")


if __name__ == "__main__":
    main()
