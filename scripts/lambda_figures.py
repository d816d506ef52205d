#!/usr/bin/env python3
"""Lambda figures for BENCHMARKS.md: cold start and peak RSS of the packaged binary
under cargo-lambda's runtime API emulator, against moto, and the zip size.

Usage (after `make tools` and `make package ARCH=x86_64`, on an x86_64 host):
    .venv/bin/python scripts/lambda_figures.py [ZIP] [--records 100] [--events 50] [--gzip]
(ZIP defaults to target/lambda/csoc-forwarder/bootstrap.zip.)

The function's own EMF line gives `cold_start_ms` (process start to first batch handled)
and `max_rss_kb` (VmHWM) for one Kinesis event of 100 records x 50 log events (~1 KB),
indexed into osmem-server and archived through moto's Firehose; `startup_ms` is the cold
start less the batch's own `Duration` (process start to ready for the first event).
"""

import base64
import gzip
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, what, within=60):
    until = time.time() + within
    while time.time() < until:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"{what} did not listen on {port}")


def start_osmem():
    """osmem-server from the venv on a free port; its URL from its ready line."""
    import osmem_server  # installed by `make tools` (requirements-test.txt)
    proc = subprocess.Popen([osmem_server.resolve_binary(), "-addr", "127.0.0.1:0", "-no-stdin-watch",
                             "-no-ja", "-parent-pid", str(os.getpid())],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in proc.stdout:
        try:
            url = json.loads(line).get("url")
        except ValueError:
            continue
        if url:
            return proc, url
    sys.exit("osmem-server did not print its url")


def record(i, n_events=50):
    events = []
    for j in range(n_events):
        msg = json.dumps({
            "remote_addr": f"10.0.{i % 250}.{j}", "time": "2018-03-08T14:42:27+00:00",
            "request": f"GET /api/v0/submission/program/project/{i}/{j} HTTP/1.1",
            "status": 200, "http_response_time": 0.012 + j / 1000,
            "http_user_agent": "Mozilla/5.0 (X11; Linux x86_64) " + "x" * 700,
        })
        events.append({"id": str(i * 1000 + j), "timestamp": 1520520147000 + j, "message": msg})
    env = {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/bench",
           "logStream": f"s{i}", "subscriptionFilters": ["f"], "logEvents": events}
    return base64.b64encode(gzip.compress(json.dumps(env).encode())).decode()


def main():
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("zip", nargs="?", default=os.path.join(ROOT, "target/lambda/csoc-forwarder/bootstrap.zip"))
    parser.add_argument("--records", type=int, default=100, help="Kinesis records in the event")
    parser.add_argument("--events", type=int, default=50, help="log events per record")
    parser.add_argument("--gzip", action="store_true", help="gzip the _bulk request bodies (OPENSEARCH_GZIP)")
    args = parser.parse_args()
    zip_path = args.zip
    work = tempfile.mkdtemp(prefix="lambda-figures-")
    with zipfile.ZipFile(zip_path) as z:
        z.extract("bootstrap", work)
    bootstrap = os.path.join(work, "bootstrap")
    os.chmod(bootstrap, 0o755)

    moto_port, rt_port = free_port(), free_port()
    procs = [subprocess.Popen([os.path.join(VENV_BIN, "moto_server"), "-H", "127.0.0.1", "-p",
                               str(moto_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        wait_port(moto_port, "moto")
        osmem, osmem_url = start_osmem()
        procs.append(osmem)
        endpoint = f"http://127.0.0.1:{moto_port}"
        kw = dict(endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
        s3 = boto3.client("s3", **kw)
        for b in ("figures-archive", "figures-dead-letter"):
            s3.create_bucket(Bucket=b)
        boto3.client("firehose", **kw).create_delivery_stream(
            DeliveryStreamName="figures_firehose",
            ExtendedS3DestinationConfiguration={"RoleARN": "arn:aws:iam::123456789012:role/x",
                                                "BucketARN": "arn:aws:s3:::figures-archive"})
        procs.append(subprocess.Popen(
            [os.path.join(VENV_BIN, "cargo-lambda"), "lambda", "watch", "--only-lambda-apis",
             "--manifest-path", os.path.join(ROOT, "Cargo.toml"), "-A", "127.0.0.1", "-P", str(rt_port)],
            cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=dict(os.environ, PATH=VENV_BIN + ":" + os.environ["PATH"])))
        wait_port(rt_port, "cargo lambda watch")
        log = open(os.path.join(work, "function.log"), "w+")
        env = {"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1",
               "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
               "COMMON_NAME": "figures", "FIREHOSE_STREAM": "figures_firehose",
               "DEAD_LETTER_BUCKET": "figures-dead-letter", "OUT_DIR": os.path.join(work, "out"),
               "OPENSEARCH_URL": osmem_url, "OPENSEARCH_AUTH": "none",
               "AWS_LAMBDA_RUNTIME_API": f"http://127.0.0.1:{rt_port}/.rt",
               "AWS_LAMBDA_FUNCTION_NAME": "_", "AWS_LAMBDA_FUNCTION_VERSION": "1",
               "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
               "OPENSEARCH_GZIP": "true" if args.gzip else "false"}
        event = json.dumps({"Records": [{
            "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "pk",
                        "sequenceNumber": str(49590000 + i), "data": record(i, args.events),
                        "approximateArrivalTimestamp": 1520520148.1},
            "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventName": "aws:kinesis:record",
            "eventID": f"shardId-000000000000:{49590000 + i}", "awsRegion": "us-east-1",
            "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/figures"}
            for i in range(args.records)]}).encode()
        procs.append(subprocess.Popen([bootstrap], env=env, cwd=work, stdout=log, stderr=log))
        req = urllib.request.Request(
            f"http://127.0.0.1:{rt_port}/2015-03-31/functions/_/invocations", data=event,
            headers={"Content-Type": "application/json"})
        response = json.load(urllib.request.urlopen(req, timeout=300))
        time.sleep(0.2)
        log.seek(0)
        emf = [json.loads(l) for l in log if l.startswith("{") and '"_aws"' in l]
        if not emf:
            log.seek(0)
            sys.exit("no EMF line:\n" + log.read())
        m = emf[0]
        print(json.dumps({
            "zip_bytes": os.path.getsize(zip_path),
            "bootstrap_bytes": os.path.getsize(bootstrap),
            "event_bytes": len(event),
            "records": m["Records"], "log_events": m["LogEvents"], "indexed": m["Indexed"],
            "archived": m["Archived"],
            "retried": m["Retried"], "duration_ms": m["Duration"],
            "cold_start_ms": m.get("cold_start_ms"),
            "startup_ms": round(m["cold_start_ms"] - m["Duration"], 2) if m.get("cold_start_ms") else None,
            "max_rss_kb": m.get("max_rss_kb"),
            "response": response,
        }, indent=1))
    finally:
        for p in reversed(procs):
            p.kill()
            p.wait()


if __name__ == "__main__":
    main()
