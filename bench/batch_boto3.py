#!/usr/bin/env python3
"""The batch job written the way a script would do it with boto3: for enable, the seed's two
calls, create_login_profile then attach_user_policy (attaching an attached policy is a no-op in
IAM, so a script does not list first; an existing profile is left alone); for disable,
delete_login_profile and, after NoSuchEntity, get_user. A thread pool of N, rows of one user in
file order, a report CSV.

    bench/batch_boto3.py INPUT.csv REPORT.csv --endpoint-url URL [--threads 8]
                         [--retry-mode standard|adaptive] [--max-attempts 5]

Credentials and region come from the environment, as for the Swift tool. Prints one JSON line:
rows, seconds, status counts, retry attempts.
"""

import argparse
import collections
import concurrent.futures
import csv
import json
import os
import sys
import threading
import time

import boto3
import botocore.config
from botocore.exceptions import ClientError

POLICY_NAME = "IAMUserChangePassword"


def code(error):
    return error.response.get("Error", {}).get("Code", "")


def retries(response):
    return response.get("ResponseMetadata", {}).get("RetryAttempts", 0)


def enable(iam, policy_arn, user, password):
    changes, attempts, status = [], 0, "changed"
    try:
        attempts += retries(iam.create_login_profile(UserName=user, Password=password, PasswordResetRequired=True)) + 1
        changes.append("profile created")
    except ClientError as e:
        attempts += e.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) + 1
        if code(e) == "NoSuchEntity":
            return "not-found", attempts, "no IAM user"
        if code(e) != "EntityAlreadyExists":
            raise
        status = "unchanged"
        changes.append("already enabled")
    attempts += retries(iam.attach_user_policy(UserName=user, PolicyArn=policy_arn)) + 1
    changes.append("policy attached")
    return status, attempts, ", ".join(changes)


def disable(iam, user):
    attempts = 0
    try:
        attempts += retries(iam.delete_login_profile(UserName=user)) + 1
        return "changed", attempts, "profile deleted"
    except ClientError as e:
        attempts += e.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) + 1
        if code(e) != "NoSuchEntity":
            raise
    try:
        attempts += retries(iam.get_user(UserName=user)) + 1
        return "unchanged", attempts, "no login profile"
    except ClientError as e:
        attempts += 1
        if code(e) == "NoSuchEntity":
            return "not-found", attempts, "no IAM user"
        raise


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("report")
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--retry-mode", default="standard")
    parser.add_argument("--max-attempts", type=int, default=5)
    args = parser.parse_args()

    start = time.monotonic()
    config = botocore.config.Config(
        retries={"mode": args.retry_mode, "max_attempts": args.max_attempts},
        max_pool_connections=args.threads)
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    session = boto3.session.Session(region_name=region)
    iam = session.client("iam", endpoint_url=args.endpoint_url, config=config)
    sts = session.client("sts", endpoint_url=args.endpoint_url, config=config)
    caller = sts.get_caller_identity()
    partition = caller["Arn"].split(":")[1]
    policy_arn = f"arn:{partition}:iam::aws:policy/{POLICY_NAME}"
    try:
        iam.get_account_password_policy()
    except ClientError as e:
        if code(e) != "NoSuchEntity":
            raise

    with open(args.input, newline="") as f:
        rows = [(i, r["user"], r["action"], r["password"]) for i, r in enumerate(csv.DictReader(f))]
    by_user = collections.OrderedDict()
    for row in rows:
        by_user.setdefault(row[1].lower(), []).append(row)

    results = [None] * len(rows)
    lock = threading.Lock()
    report = open(args.report, "w", newline="")
    writer = csv.writer(report)
    writer.writerow(["line", "user", "action", "status", "attempts", "detail"])

    def run_user(user_rows):
        for i, user, action, password in user_rows:
            try:
                if action == "enable":
                    result = enable(iam, policy_arn, user, password)
                else:
                    result = disable(iam, user)
            except ClientError as e:
                result = ("failed", 0, code(e))
            except Exception as e:  # connection errors after the retries
                result = ("failed", 0, type(e).__name__)
            with lock:
                results[i] = result
                writer.writerow([i + 2, user, action, result[0], result[1], result[2]])
                report.flush()

    with concurrent.futures.ThreadPoolExecutor(args.threads) as pool:
        for _ in pool.map(run_user, by_user.values()):
            pass
    report.close()
    statuses = collections.Counter(r[0] for r in results)
    print(json.dumps({
        "rows": len(rows), "seconds": round(time.monotonic() - start, 3),
        "statuses": dict(statuses), "attempts": sum(r[1] for r in results)}))
    return 1 if statuses.get("failed") else 0


if __name__ == "__main__":
    sys.exit(main())
