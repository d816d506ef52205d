#!/usr/bin/env python3
"""Writes fixtures/eventbridge-*.json: EventBridge events in the shape Lambda receives them
(CloudTrail "AWS API Call via CloudTrail" / "AWS Console Sign In via CloudTrail").

One fixture per default alert rule (eventbridge-<rule id>.json fires exactly that rule;
eventbridge-access-denied-burst.json is one event of a burst, which alone fires nothing),
and eventbridge-miss-*.json, which fire no rule. Deterministic: `make fixtures`.
"""
import json
import pathlib
import uuid

OUT = pathlib.Path(__file__).resolve().parent.parent / "fixtures"
ACCOUNT = "123456789012"
REGION = "us-east-1"


def user(name="alice"):
    return {
        "type": "IAMUser",
        "principalId": "AIDAJ45Q7YFFAREXAMPLE",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
        "accountId": ACCOUNT,
        "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
        "userName": name,
        "sessionContext": {
            "attributes": {"creationDate": "2018-03-08T14:00:00Z", "mfaAuthenticated": "false"}
        },
    }


ROOT = {
    "type": "Root",
    "principalId": ACCOUNT,
    "arn": f"arn:aws:iam::{ACCOUNT}:root",
    "accountId": ACCOUNT,
    "accessKeyId": "ASIAIOSFODNN7EXAMPLE",
}


def api_call(n, source, name, identity, request=None, response=None, read_only=False, **extra):
    detail = {
        "eventVersion": "1.08",
        "userIdentity": identity,
        "eventTime": f"2018-03-08T14:{40 + n:02d}:00Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": REGION,
        "sourceIPAddress": "73.12.201.4",
        "userAgent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64",
        "requestParameters": request,
        "responseElements": response,
        "requestID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"req-{n}")),
        "eventID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"ev-{n}")),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": f"{source.split('.')[0]}.{REGION}.amazonaws.com",
        },
    }
    detail.update(extra)
    return envelope(n, "AWS API Call via CloudTrail", "aws." + source.split(".")[0], detail)


def sign_in(n, identity, outcome, mfa, **extra):
    detail = {
        "eventVersion": "1.08",
        "userIdentity": identity,
        "eventTime": f"2018-03-08T14:{40 + n:02d}:00Z",
        "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin",
        "awsRegion": REGION,
        "sourceIPAddress": "73.12.201.4",
        "userAgent": "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        "requestParameters": None,
        "responseElements": {"ConsoleLogin": outcome},
        "additionalEventData": {
            "LoginTo": "https://console.aws.amazon.com/console/home",
            "MobileVersion": "No",
            "MFAUsed": mfa,
        },
        "eventID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"ev-{n}")),
        "readOnly": False,
        "eventType": "AwsConsoleSignIn",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    detail.update(extra)
    return envelope(n, "AWS Console Sign In via CloudTrail", "aws.signin", detail)


def envelope(n, detail_type, source, detail):
    return {
        "version": "0",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"eventbridge-{n}")),
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT,
        "time": detail["eventTime"],
        "region": REGION,
        "resources": [],
        "detail": detail,
    }


def sg_ingress(n, cidr, v6=None):
    ranges = {"items": [{"cidrIp": cidr}]} if cidr else {}
    perm = {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "groups": {}, "ipRanges": ranges,
            "ipv6Ranges": {"items": [{"cidrIpv6": v6}]} if v6 else {}, "prefixListIds": {}}
    return api_call(n, "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", user(),
                    request={"groupId": "sg-0a1b2c3d4e5f67890", "ipPermissions": {"items": [perm]}},
                    response={"_return": True, "securityGroupRuleSet": {"items": [{"groupId": "sg-0a1b2c3d4e5f67890"}]}})


FIXTURES = {
    "root-activity": api_call(1, "iam.amazonaws.com", "UpdateAccountPasswordPolicy", ROOT,
                              request={"minimumPasswordLength": 8}),
    "console-signin-failure": sign_in(2, {"type": "IAMUser", "principalId": "AIDAJ45Q7YFFAREXAMPLE",
                                          "accountId": ACCOUNT, "accessKeyId": "", "userName": "alice"},
                                      "Failure", "No", errorMessage="Failed authentication"),
    "console-signin-without-mfa": sign_in(3, user("bob"), "Success", "No"),
    "iam-change": api_call(4, "iam.amazonaws.com", "AttachUserPolicy", user(),
                           request={"userName": "mallory",
                                    "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
    "cloudtrail-tampering": api_call(5, "cloudtrail.amazonaws.com", "StopLogging", user(),
                                     request={"name": f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/main"}),
    "security-group-open-to-world": sg_ingress(6, "0.0.0.0/0"),
    "s3-bucket-access-change": api_call(7, "s3.amazonaws.com", "PutBucketPolicy", user(),
                                        request={"bucketName": "commons-data", "Host": "commons-data.s3.amazonaws.com",
                                                 "bucketPolicy": {"Version": "2012-10-17", "Statement": [
                                                     {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                      "Resource": "arn:aws:s3:::commons-data/*"}]}, "policy": ""}),
    "kms-key-deletion": api_call(8, "kms.amazonaws.com", "ScheduleKeyDeletion", user(),
                                 request={"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "pendingWindowInDays": 7},
                                 response={"keyId": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                                           "deletionDate": "Mar 15, 2018, 12:00:00 AM", "keyState": "PendingDeletion",
                                           "pendingWindowInDays": 7}),
    "ec2-terminate-instances": api_call(9, "ec2.amazonaws.com", "TerminateInstances", user(),
                                        request={"instancesSet": {"items": [{"instanceId": "i-0a1b2c3d4e5f67890"}]}},
                                        response={"instancesSet": {"items": [{"instanceId": "i-0a1b2c3d4e5f67890",
                                                                              "currentState": {"code": 32, "name": "shutting-down"},
                                                                              "previousState": {"code": 16, "name": "running"}}]}}),
    "access-denied-burst": api_call(10, "s3.amazonaws.com", "PutBucketAcl", user("eve"),
                                    request={"bucketName": "commons-data", "acl": ""},
                                    errorCode="AccessDenied", errorMessage="Access Denied"),
    # Misses: no rule fires.
    "miss-read-only-root": api_call(11, "s3.amazonaws.com", "ListBuckets", ROOT, read_only=True),
    "miss-read-only-describe": api_call(12, "ec2.amazonaws.com", "DescribeSecurityGroups", user(),
                                        request={"groupIdSet": {}}, read_only=True),
    "miss-security-group-private": sg_ingress(13, "10.0.0.0/8"),
    "miss-iam-change-failed": api_call(14, "iam.amazonaws.com", "CreateUser", user("eve"),
                                       request={"userName": "backdoor"},
                                       errorCode="AccessDenied",
                                       errorMessage="User: arn:aws:iam::123456789012:user/eve is not authorized to perform: iam:CreateUser"),
    "miss-console-signin-with-mfa": sign_in(15, user("carol"), "Success", "Yes"),
}

# The IPv6 variant of the open security group.
FIXTURES["security-group-open-to-world-ipv6"] = sg_ingress(16, None, "::/0")

for name, event in FIXTURES.items():
    path = OUT / f"eventbridge-{name}.json"
    path.write_text(json.dumps(event, indent=2) + "\n")
    print(path.relative_to(OUT.parent))
