#!/usr/bin/env python3
"""Batch benchmark fixture: writes the input CSV and sets up moto's IAM state for it.

    bench/batch_fixture.py write ROWS OUT.csv       the input file (seed 42)
    bench/batch_fixture.py setup ROWS ENDPOINT      users and profiles in moto for that file

The rows, in a fixed shuffled order (each its own user unless noted), and the calls each makes
(console-access / the boto3 script):
  40%  enable, user without a login profile     CreateLoginProfile, AttachUserPolicy (both)
  10%  enable, user with a profile and policy   Create (EntityAlreadyExists), then ListAttached
                                                (console-access) / AttachUserPolicy (the script)
  35%  disable, user with a profile             DeleteLoginProfile
  10%  disable, user without a profile          Delete (NoSuchEntity), GetUser
   5%  a second row for a user seen earlier     (disable then enable, in file order)
So both clients make the same ~1.7 calls per row on average, every one of them a real moto call.
"""

import csv
import random
import sys

POLICY = "arn:aws:iam::aws:policy/IAMUserChangePassword"


def plan(rows):
    """[(user, action, password, has_profile, has_policy, first_row_of_user)]"""
    rng = random.Random(42)
    out = []
    singles = []
    for i in range(rows):
        r = rng.random()
        user = f"bench-user-{i:06d}"
        if r < 0.40:
            out.append((user, "enable", f"Bench-Pass-{i}!", False, False))
        elif r < 0.50:
            out.append((user, "enable", f"Bench-Pass-{i}!", True, True))
        elif r < 0.85:
            out.append((user, "disable", "", True, False))
            singles.append(len(out) - 1)
        elif r < 0.95:
            out.append((user, "disable", "", False, False))
        else:
            # a later row for an earlier user whose profile this file deletes: enable it again
            if singles:
                earlier = out[rng.choice(singles)]
                out.append((earlier[0], "enable", f"Bench-Again-{i}!", None, None))
            else:
                out.append((user, "disable", "", True, False))
    return out


def write(rows, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user", "action", "password"])
        for user, action, password, _, _ in plan(rows):
            w.writerow([user, action, password])


def setup(rows, endpoint):
    import boto3

    iam = boto3.client(
        "iam", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="bench-secret")
    for user, _, _, has_profile, has_policy in plan(rows):
        if has_profile is None:
            continue  # a second row: the user was set up by its first row
        iam.create_user(UserName=user)
        if has_profile:
            iam.create_login_profile(UserName=user, Password="Setup-Pass-1!", PasswordResetRequired=True)
        if has_policy:
            iam.attach_user_policy(UserName=user, PolicyArn=POLICY)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("write", "setup"):
        sys.exit(__doc__)
    if sys.argv[1] == "write":
        write(int(sys.argv[2]), sys.argv[3])
    else:
        setup(int(sys.argv[2]), sys.argv[3])
