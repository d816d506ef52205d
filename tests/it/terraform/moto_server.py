"""moto_server for the Terraform apply test (tests/it/terraform/apply.rs).

moto evaluates a bucket policy's statements without their conditions, so the archive
bucket's `DenyInsecureTransport` statement (Deny s3:* when aws:SecureTransport is false)
denies every request, although AWS only ever denies plain-HTTP ones. Real clients reach S3
over HTTPS; the test reaches moto over plain HTTP on 127.0.0.1. This launcher makes moto
read that one statement as AWS does for an HTTPS caller: a Deny whose only condition is
{"Bool": {"aws:SecureTransport": "false"}} does not apply. Every other statement is
evaluated by moto unchanged. The module is not weakened: its policy is applied as written.

Usage: python moto_server.py -H 127.0.0.1 -p PORT (moto_server's arguments).
"""

import json
import sys

from moto.s3 import models as s3_models

def _insecure_transport_only(statement):
    condition = statement.get("Condition")
    if statement.get("Effect") != "Deny" or not isinstance(condition, dict):
        return False
    if list(condition) != ["Bool"] or list(condition["Bool"]) != ["aws:SecureTransport"]:
        return False
    values = condition["Bool"]["aws:SecureTransport"]
    values = values if isinstance(values, list) else [values]
    return [str(v).lower() for v in values] == ["false"]


def get_permission(self, action, resource):
    from moto.iam.access_control import IAMPolicy, PermissionResult

    if self.policy is None:
        return PermissionResult.NEUTRAL
    policy = json.loads(self.policy)
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    kept = [s for s in statements if not _insecure_transport_only(s)]
    if not kept:
        return PermissionResult.NEUTRAL
    policy["Statement"] = kept
    return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)


s3_models.FakeBucket.get_permission = get_permission

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main(sys.argv[1:]))
