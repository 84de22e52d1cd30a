#!/usr/bin/env python3
"""Many-accounts benchmark fixture: writes the input CSV and sets up the member accounts in moto.

    bench/accounts_fixture.py write ROWS OUT.csv                  the input file
    bench/accounts_fixture.py setup ROWS ENDPOINT ACCOUNT...      the users in each account

The file has ROWS `disable` rows, one per user (`acct-user-000000`, ...), no account column, so
`batch --accounts A,B,...` runs every row in each account. `setup` reaches each member account the
way console-access does: it assumes `arn:aws:iam::ACCOUNT:role/OrganizationAccountAccessRole`
with the base credentials (moto's `AssumeRole` does not need the role to exist, and the
credentials it returns act in the role's account), creates that role there too (as AWS
Organizations would have; moto does not check trust policies), then the ROWS users, each with a
console password (a login profile), so every row of the run deletes one: `changed`, one
`DeleteLoginProfile` call. The accounts are set up in parallel, straight against moto (not
through the benchmark proxy), with the base key the benchmark uses.
"""

import concurrent.futures
import csv
import json
import sys

BASE_KEY = "AKIAIOSFODNN7EXAMPLE"
ROLE_NAME = "OrganizationAccountAccessRole"


def user(i):
    return f"acct-user-{i:06d}"


def write(rows, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user", "action", "password"])
        for i in range(rows):
            w.writerow([user(i), "disable", ""])


def setup_account(rows, endpoint, account):
    import boto3

    base = dict(endpoint_url=endpoint, region_name="us-east-1")
    sts = boto3.client("sts", aws_access_key_id=BASE_KEY, aws_secret_access_key="bench-secret", **base)
    caller = sts.get_caller_identity()["Account"]
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{ROLE_NAME}", RoleSessionName="bench-setup")["Credentials"]
    iam = boto3.client(
        "iam", aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"], **base)
    member_sts = boto3.client(
        "sts", aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"], **base)
    acting = member_sts.get_caller_identity()["Account"]
    if acting != account:
        raise SystemExit(f"setup: the role assumed for {account} acts in {acting}")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{caller}:root"},
                       "Action": "sts:AssumeRole"}],
    }
    iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))
    for i in range(rows):
        iam.create_user(UserName=user(i))
        iam.create_login_profile(UserName=user(i), Password="Setup-Pass-1!", PasswordResetRequired=True)
    return account


def setup(rows, endpoint, accounts):
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(accounts)) as pool:
        for _ in pool.map(lambda a: setup_account(rows, endpoint, a), accounts):
            pass


if __name__ == "__main__":
    if len(sys.argv) < 4 or sys.argv[1] not in ("write", "setup") or (sys.argv[1] == "setup" and len(sys.argv) < 5):
        sys.exit(__doc__)
    if sys.argv[1] == "write":
        write(int(sys.argv[2]), sys.argv[3])
    else:
        setup(int(sys.argv[2]), sys.argv[3], sys.argv[4:])
