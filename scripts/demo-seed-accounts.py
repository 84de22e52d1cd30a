"""Creates IAM users with console access in several accounts of the local moto server (never real AWS).

Usage: demo-seed-accounts.py ACCOUNT=user,user ... (the first account is the base credentials' own).
Every other account is reached as AWS Organizations sets it up: the role OrganizationAccountAccessRole
assumed there from the base credentials (moto lets them assume it in any account id).
"""
import os
import sys

import boto3

endpoint = os.environ["CONSOLE_ACCESS_MOTO_ENDPOINT"]
if not endpoint.startswith("http://127.0.0.1:"):
    sys.exit(f"demo-seed-accounts: refusing to seed {endpoint}: the demo only talks to a local moto server")
base = dict(
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
)
base_account = boto3.client("sts", **base).get_caller_identity()["Account"]
for argument in sys.argv[1:]:
    account, users = argument.split("=", 1)
    settings = dict(base)
    how = "the base credentials"
    if account != base_account:
        role = f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
        credentials = boto3.client("sts", **base).assume_role(RoleArn=role, RoleSessionName="demo-seed")["Credentials"]
        settings.update(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        how = role
    iam = boto3.client("iam", **settings)
    for user in users.split(","):
        iam.create_user(UserName=user, Path="/staff/")
        iam.create_login_profile(UserName=user, Password="Seeded-Passw0rd!", PasswordResetRequired=False)
        print(f"  created {user} in account {account} (console access; through {how})")
