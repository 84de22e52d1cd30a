#!/usr/bin/env python3
"""Review benchmark fixture: creates USERS IAM users in moto with boto3, straight to moto (not
through the latency proxy), 8 threads. Users `bench-review-NNNNNN`: every third has a login
profile (console password), every fourth an access key, every tenth an MFA device.
Creates only the users from FROM on, so a run can grow the account step by step
(1,000 then 5,000) without starting over.

    bench/review_fixture.py ENDPOINT USERS [FROM]
"""

import sys
from concurrent.futures import ThreadPoolExecutor

import boto3


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    endpoint, users = sys.argv[1], int(sys.argv[2])
    start = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")

    def make(i):
        name = f"bench-review-{i:06d}"
        iam.create_user(UserName=name, Path="/bench/")
        if i % 3 == 0:
            iam.create_login_profile(UserName=name, Password=f"Bench-Review-{i}!")
        if i % 4 == 0:
            iam.create_access_key(UserName=name)
        if i % 10 == 0:
            serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]["SerialNumber"]
            iam.enable_mfa_device(
                UserName=name, SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
            )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(make, range(start, users)))


if __name__ == "__main__":
    main()
