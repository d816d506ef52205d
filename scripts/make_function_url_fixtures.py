#!/usr/bin/env python3
"""Writes fixtures/function-url-*.json: audit-records requests as a Lambda function URL
(payload format 2.0, AWS_IAM auth) delivers them. Deterministic."""
import datetime
import json
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
URL_ID = "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6"
WHEN = datetime.datetime(2026, 11, 22, 8, 15, 30, tzinfo=datetime.timezone.utc)


def event(node, body, method="POST"):
    text = json.dumps(body, separators=(",", ":"))
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/" + node,
        "rawQueryString": "",
        "headers": {
            "content-length": str(len(text)),
            "content-type": "application/json",
            "host": f"{URL_ID}.lambda-url.us-east-1.on.aws",
            "user-agent": "python-requests/2.32.3",
            "x-amz-content-sha256": "2f2c1a1c3b0e5d4f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f",
            "x-amz-date": WHEN.strftime("%Y%m%dT%H%M%SZ"),
            "x-amz-security-token": "IQoJb3JpZ2luX2VjEXAMPLE",
            "x-amzn-trace-id": "Root=1-67404e12-0a1b2c3d4e5f6a7b8c9d0e1f",
            "x-forwarded-for": "203.0.113.10",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": URL_ID,
            "authorizer": {
                "iam": {
                    "accessKey": "ASIAEXAMPLEKEY123456",
                    "accountId": "111122223333",
                    "callerId": "AROAEXAMPLEID:audit-service",
                    "cognitoIdentity": None,
                    "principalOrgId": None,
                    "userArn": "arn:aws:sts::111122223333:assumed-role/audit-service/audit-service",
                    "userId": "AROAEXAMPLEID:audit-service",
                }
            },
            "domainName": f"{URL_ID}.lambda-url.us-east-1.on.aws",
            "domainPrefix": URL_ID,
            "http": {
                "method": method,
                "path": "/" + node,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "python-requests/2.32.3",
            },
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "routeKey": "$default",
            "stage": "$default",
            "time": WHEN.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(WHEN.timestamp() * 1000),
        },
        "body": text,
        "isBase64Encoded": False,
    }


audit = {
    "messageType": "echo.text",
    "auditRecords": [
        {
            "attributes": {
                "action": "download",
                "file.guid": "dg.4503/6f1e2a4b-0c1d-4e5f-9a8b-7c6d5e4f3a2b",
                "bytes": 1048576,
                "authorized": True,
                "project": None,
            },
            "datetime": "2026-11-22T08:15:29.123Z",
            "trackingId": "3f9c2a1e-8b7d-4c6e-9f0a-1b2c3d4e5f60",
            "sourceNode": "fence-node-1",
        },
        {
            "attributes": {"action": "login", "idp": "google", "user": "analyst@example.org"},
            "datetime": "2026-11-22T08:15:30+01:00",
            "previousTrackingIds": ["3f9c2a1e-8b7d-4c6e-9f0a-1b2c3d4e5f60"],
            "trackingId": "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d",
        },
    ],
}

os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, "function-url-audit.json"), "w") as f:
    json.dump(event("fence-node-1", audit), f, indent=2)
    f.write("\n")
