#!/usr/bin/env python3
"""The per-user review most scripts do, in boto3: ListUsers (paged), then per user
GetLoginProfile, ListMFADevices, ListAccessKeys, GetAccessKeyLastUsed per key and
ListAttachedUserPolicies, THREADS users at a time; one CSV row per user.

    bench/review_boto3.py OUT.csv --endpoint-url URL [--threads 8]
"""

import argparse
import csv
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    iam = boto3.client(
        "iam", endpoint_url=args.endpoint_url, region_name="us-east-1",
        config=Config(max_pool_connections=args.threads, retries={"mode": "standard"}),
    )
    users = [u for page in iam.get_paginator("list_users").paginate() for u in page["Users"]]

    def review(user):
        name = user["UserName"]
        try:
            profile = iam.get_login_profile(UserName=name)["LoginProfile"]
        except iam.exceptions.NoSuchEntityException:
            profile = None
        mfa = iam.list_mfa_devices(UserName=name)["MFADevices"]
        keys = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
        last = [iam.get_access_key_last_used(AccessKeyId=k["AccessKeyId"])["AccessKeyLastUsed"] for k in keys]
        policies = iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]
        return [
            name, profile is not None, user.get("PasswordLastUsed", ""), len(mfa), len(keys),
            " ".join(str(x.get("LastUsedDate", "")) for x in last),
            any(p["PolicyName"] == "IAMUserChangePassword" for p in policies),
        ]

    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        rows = list(pool.map(review, users))
    with open(args.out, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user", "console_access", "password_last_used", "mfa_devices", "access_keys",
                         "keys_last_used", "change_password_policy_attached"])
        writer.writerows(rows)


if __name__ == "__main__":
    main()
