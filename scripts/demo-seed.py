"""Creates the demo's IAM users in the local moto server (never real AWS).

Reads samples/demo-users.csv (user, console_access yes/no, access_keys count, mfa yes/no).
"""
import csv
import os
import sys

import boto3

endpoint = os.environ["CONSOLE_ACCESS_MOTO_ENDPOINT"]
if not endpoint.startswith("http://127.0.0.1:"):
    sys.exit(f"demo-seed: refusing to seed {endpoint}: the demo only talks to a local moto server")
iam = boto3.client(
    "iam",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
)
with open(sys.argv[1], newline="") as handle:
    for row in csv.DictReader(handle):
        iam.create_user(UserName=row["user"], Path="/staff/")
        if row["console_access"] == "yes":
            iam.create_login_profile(UserName=row["user"], Password="Seeded-Passw0rd!", PasswordResetRequired=False)
        for _ in range(int(row["access_keys"])):
            iam.create_access_key(UserName=row["user"])
        if row.get("mfa") == "yes":
            serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=row["user"])["VirtualMFADevice"]["SerialNumber"]
            iam.enable_mfa_device(
                UserName=row["user"], SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321")
        print(
            f"  created {row['user']} (console access: {row['console_access']}, access keys: {row['access_keys']},"
            f" MFA: {row.get('mfa', 'no')})"
        )
