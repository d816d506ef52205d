#!/usr/bin/env python3
"""Writes fixtures/*.json: Kinesis events as Lambda receives them from a CloudWatch Logs
destination, in the shapes AWS sends (gzip'd, base64'd subscription messages).

Deterministic (gzip mtime 0), so re-running it changes nothing. Run: make fixtures
"""
import base64, gzip, json, os

ACCOUNT = "123456789012"          # the commons (child) account
CSOC = "999999999999"             # the CSOC account
STREAM = f"arn:aws:kinesis:us-east-1:{CSOC}:stream/qaplanetv1_stream"
OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures")


def gz(obj):
    return base64.b64encode(gzip.compress(json.dumps(obj, separators=(",", ":")).encode(), mtime=0)).decode()


def record(n, data, partition_key="2f1c58b54e4b2a5a53ad1cbd1c6f8a5a"):
    seq = f"4959033827149025660855969253836157109592157598913658{8800 + n:04d}"
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": seq,
            "data": data,
            "approximateArrivalTimestamp": 1520520148.18 + n,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000000:{seq}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": f"arn:aws:iam::{CSOC}:role/qaplanetv1-csoc-forwarder",
        "awsRegion": "us-east-1",
        "eventSourceARN": STREAM,
    }


def envelope(group, stream, events, filt="qaplanetv1-csoc"):
    return {
        "messageType": "DATA_MESSAGE",
        "owner": ACCOUNT,
        "logGroup": group,
        "logStream": stream,
        "subscriptionFilters": [filt],
        "logEvents": [
            {"id": f"3568926364839183747297373978172801970139024079824794{4192 + i:04d}", "timestamp": ts, "message": msg}
            for i, (ts, msg) in enumerate(events)
        ],
    }


KUBE = {
    "container_name": "revproxy",
    "namespace_name": "default",
    "pod_name": "revproxy-deployment-5d9c8b7f6-x7k2p",
    "pod_id": "7c1e6c52-22c1-11e8-b5b6-0a5f2c1a3e4e",
    "labels": {"app": "revproxy", "pod-template-hash": "1857463924", "app.kubernetes.io/name": "revproxy"},
    "host": "ip-172-24-66-12.ec2.internal",
    "master_url": "https://172.20.0.1:443/api",
}


def nginx(ts, secs, path, referer, status=200):
    return json.dumps({
        "gen3log": "nginx",
        "date_access": ts,
        "user_id": "-",
        "request_id": "0b4c7f2d9e8a1b3c",
        "network_client_ip": "73.12.201.4",
        "network_bytes_write": 5123,
        "http_status_code": status,
        "http_request": path,
        "http_verb": "GET",
        "http_referer": referer,
        "http_useragent": "Mozilla/5.0 (X11; Linux x86_64)",
        "http_upstream": "http://fence-service/user/",
        "http_response_time": secs,
        "stream": "stdout",
        "kubernetes": KUBE,
    })


kubernetes = envelope("qaplanetv1", "revproxy-deployment-5d9c8b7f6-x7k2p_default_revproxy", [
    (1520520147570, nginx("2018-03-08T14:42:27+00:00", "0.052", "/user/user", "https://qa.planx-pla.net/")),
    (1520520148130, nginx("2018-03-08T14:42:28+00:00", "12.840",
                          "/user/data/download/dg.4503/5a3c?expires_in=900&signature=c2VjcmV0",
                          "https://qa.planx-pla.net/files?token=eyJhbGciOi")),
    (1520520149002, json.dumps({
        "log": "[2018-03-08 14:42:29,002][fence.blueprints.login][  INFO] user logged in via google\n",
        "stream": "stderr",
        "time": "2018-03-08T14:42:29.002319876Z",
        "kubernetes": dict(KUBE, container_name="fence", pod_name="fence-deployment-7d9f8c6b5-q2w3e",
                           labels={"app": "fence", "app.kubernetes.io/part-of": "gen3"}),
    })),
])

# Event timestamps are when CloudWatch Logs received the line: a little after the time
# written in it, so `timestamp` (found in the text) and `@timestamp` differ.
syslog = envelope("qaplanetv1", "i-0a1b2c3d4e5f67890/var/log/messages", [
    (1520520122480, "Mar  8 14:42:01 ip-172-31-1-10 systemd[1]: Started Session 42 of user ubuntu."),
    (1520520123155, "Mar  8 14:42:02 ip-172-31-1-10 sshd[2211]: Accepted publickey for ubuntu from 73.12.201.4 port 52311 ssh2"),
    (1520520118210, "2018-03-08 14:41:57 +0000 [info]: #0 fluentd worker is now running worker=0"),
    (1520520148020, '10.0.0.1 - - [08/Mar/2018:14:42:27 +0000] "GET /index.html HTTP/1.1" 200 612 "-" "curl/7.58.0"'),
    (1520520148700, "[Thu Mar 08 14:42:27.570065 2018] [mpm_event:notice] [pid 1:tid 140] AH00489: Apache/2.4.29 configured"),
    (1520520149310, "1520520148.130    120 10.0.0.5 TCP_MISS/200 1024 GET http://example.com/ - HIER_DIRECT/93.184.216.34 text/html"),
    (1520520150000, "Thu Mar  8 14:42:29 2018 cron[812]: (root) CMD (run-parts /etc/cron.hourly)"),
    (1520520151000, "kernel: no time in this line at all"),
])


def trail(name, source, t, read_only, params=None, response=None, identity=None, error=None, extra=None):
    ev = {
        "eventVersion": "1.08",
        "userIdentity": identity or {
            "type": "IAMUser",
            "principalId": "AIDAJ45Q7YFFAREXAMPLE",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
            "accountId": ACCOUNT,
            "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
            "userName": "alice",
        },
        "eventTime": t,
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "73.12.201.4",
        "userAgent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64",
        "requestParameters": params,
        "responseElements": response,
        "requestID": "f2b5c8d1-7a4e-4e7b-9c1d-2a3b4c5d6e7f",
        "eventID": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    if error:
        ev["errorCode"], ev["errorMessage"] = error
    if extra:
        ev.update(extra)
    return json.dumps(ev)


cloudtrail = envelope("qaplanetv1-cloudtrail", f"{ACCOUNT}_CloudTrail_us-east-1", [
    (1520520160000, trail("CreateAccessKey", "iam.amazonaws.com", "2018-03-08T14:42:39Z", False,
                          {"userName": "bob"},
                          {"accessKey": {"accessKeyId": "AKIAI44QH8DHBEXAMPLE", "status": "Active",
                                         "userName": "bob", "createDate": "Mar 8, 2018 2:42:39 PM"}})),
    (1520520161000, trail("AuthorizeSecurityGroupIngress", "ec2.amazonaws.com", "2018-03-08T14:42:40Z", False,
                          {"groupId": "sg-0123456789abcdef0",
                           "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                                                        "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}},
                          {"requestId": "f2b5c8d1", "_return": True})),
    (1520520162000, trail("DescribeInstances", "ec2.amazonaws.com", "2018-03-08T14:42:41Z", True,
                          {"instancesSet": {}, "filterSet": {}}, None)),
    (1520520163000, trail("ConsoleLogin", "signin.amazonaws.com", "2018-03-08T14:42:42Z", False, None,
                          {"ConsoleLogin": "Failure"},
                          identity={"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root",
                                    "accountId": ACCOUNT},
                          error=("", "Failed authentication"),
                          extra={"eventType": "AwsConsoleSignIn",
                                 "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home",
                                                         "MobileVersion": "No", "MFAUsed": "No"}})),
])

control = {
    "messageType": "CONTROL_MESSAGE",
    "owner": "CloudwatchLogs",
    "logGroup": "",
    "logStream": "",
    "subscriptionFilters": [],
    "logEvents": [{"id": "", "timestamp": 1520520148130,
                   "message": "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}],
}


def write(name, records):
    with open(os.path.join(OUT, name), "w") as f:
        json.dump({"Records": records}, f, indent=2)
        f.write("\n")


os.makedirs(OUT, exist_ok=True)
write("kinesis-kubernetes.json", [record(0, gz(kubernetes))])
write("kinesis-syslog.json", [record(0, gz(syslog))])
write("kinesis-cloudtrail.json", [record(0, gz(cloudtrail))])
write("kinesis-control-message.json", [record(0, gz(control), partition_key="control")])
write("kinesis-mixed.json", [record(0, gz(control), partition_key="control"), record(1, gz(kubernetes)),
                             record(2, gz(syslog)), record(3, gz(cloudtrail))])
