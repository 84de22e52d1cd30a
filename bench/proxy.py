#!/usr/bin/env python3
"""Benchmark proxy in front of moto: a fixed added latency per call and, optionally, a token
bucket that answers `Throttling` (HTTP 400, IAM's error XML) when a call comes faster than the
allowed rate. Both clients of the batch benchmark talk to moto through it, so they see the same
server.

    bench/proxy.py --upstream http://127.0.0.1:PORT [--latency 0.05] [--rate R] [--burst B]
                   [--per-key] [--log FILE]

Listens on a free 127.0.0.1 port and prints `PORT <n>` on stdout when ready. HTTP/1.1 with
keep-alive on the client side; each call is forwarded to moto on its own connection.

`GET /__stats` answers JSON counters (calls, throttled, forwarded, by action);
`POST /__stats/reset` zeroes them (and empties the log). With `--log`, one line per call:
seconds since the last reset when it arrived, action, `ok` or `throttled`. Loopback only; stops
on SIGTERM/SIGINT.

moto (5.2) lacks IAM's `ListServiceSpecificCredentials` (it answers 500): the proxy answers it
itself, after the same latency, with an empty list (no user has one), as the tests'
ServiceCredentialFront does. It is counted as a call, not as forwarded.

`--per-key` (the many-accounts benchmark): one token bucket per access key id, read from the
SigV4 `Authorization` header (`Credential=AKID/date/region/service/aws4_request`); a call without
one shares a bucket of its own. IAM's limits are per account and an assumed role's session has its
own key, so this is a limit per account. Only IAM calls (credential scope service `iam`) take
tokens and can be throttled: STS (AssumeRole, GetCallerIdentity) and any other service pass
unthrottled, though they are counted and delayed by `--latency` like every call (real STS has its
own, separate limits). `/__stats` then also has `keys`: per access key id its calls, throttled,
forwarded, by action, and the account it acts in when an answer said so (AssumeRole's
`AssumedRoleUser` ARN for the key it returns, GetCallerIdentity's `Account` for the caller's key).
The log lines gain the key. Without `--per-key` nothing changes: one bucket for every call.
"""

import argparse
import asyncio
import json
import re
import signal
import time
import urllib.parse

THROTTLE_BODY = (
    '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
    "<Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
    "<RequestId>bench-proxy-throttle</RequestId></ErrorResponse>"
).encode()

EMPTY_SERVICE_CREDENTIALS = (
    '<ListServiceSpecificCredentialsResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
    "<ListServiceSpecificCredentialsResult><ServiceSpecificCredentials></ServiceSpecificCredentials>"
    "<IsTruncated>false</IsTruncated></ListServiceSpecificCredentialsResult>"
    "<ResponseMetadata><RequestId>bench-proxy-service-credentials</RequestId></ResponseMetadata>"
    "</ListServiceSpecificCredentialsResponse>"
).encode()

# SigV4: `Authorization: AWS4-HMAC-SHA256 Credential=AKID/20261206/us-east-1/iam/aws4_request, ...`
CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]*/[^/]*/([^/,\s]+)/")
ASSUMED_KEY = re.compile(rb"<AccessKeyId>\s*([^<\s]+)\s*</AccessKeyId>")
ASSUMED_ACCOUNT = re.compile(rb"<AssumedRoleUser>.*?<Arn>\s*arn:[^:]+:sts::(\d{12}):", re.S)
CALLER_ACCOUNT = re.compile(rb"<Account>\s*(\d{12})\s*</Account>")
UNSIGNED = "-"  # the key of calls without a SigV4 credential: one shared bucket


class Bucket:
    """Token bucket: `rate` tokens per second, at most `burst` stored. A throttled call takes no
    token."""

    def __init__(self, rate, burst):
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.last = time.monotonic()

    def take(self):
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Proxy:
    def __init__(self, upstream, latency, bucket, log=None, per_key=None):
        """`per_key`: None for one bucket (`bucket`) for every call; else a function making a new
        bucket, called once per access key id (only IAM calls take tokens then)."""
        parsed = urllib.parse.urlsplit(upstream)
        self.host = parsed.hostname
        self.port = parsed.port or 80
        self.latency = latency
        self.bucket = bucket
        self.per_key = per_key
        self.buckets = {}
        self.log_path = log
        self.log = None
        self.reset()

    def reset(self):
        self.stats = {"calls": 0, "throttled": 0, "forwarded": 0, "actions": {}}
        if self.per_key is not None:
            self.stats["keys"] = {}
        self.first = None
        self.last = None
        self.zero = time.monotonic()
        if self.log_path:
            if self.log:
                self.log.close()
            self.log = open(self.log_path, "w")

    async def handle(self, reader, writer):
        try:
            while True:
                request = await read_message(reader, is_request=True)
                if request is None:
                    break
                method, target, headers, body = request
                if target.startswith("/__stats"):
                    if method == "POST":
                        self.reset()
                    stats = dict(self.stats)
                    if self.first is not None:
                        stats["span_seconds"] = self.last - self.first
                    await respond(writer, 200, "application/json", json.dumps(stats).encode())
                    continue
                await self.call(writer, method, target, headers, body)
                if headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def call(self, writer, method, target, headers, body):
        now = time.monotonic()
        self.first = now if self.first is None else self.first
        self.stats["calls"] += 1
        action = urllib.parse.parse_qs(body.decode("latin-1")).get("Action", ["?"])[0]
        counts = self.stats["actions"].setdefault(action, {"calls": 0, "throttled": 0})
        counts["calls"] += 1
        key_stats = None
        if self.per_key is None:
            allowed = self.bucket is None or self.bucket.take()
            logged = f"{now - self.zero:.4f} {action} {'ok' if allowed else 'throttled'}\n"
        else:
            match = CREDENTIAL.search(headers.get("authorization", ""))
            key, service = (match.group(1), match.group(2)) if match else (UNSIGNED, "?")
            key_stats = self.stats["keys"].setdefault(
                key, {"calls": 0, "throttled": 0, "forwarded": 0, "actions": {}})
            key_stats["calls"] += 1
            key_counts = key_stats["actions"].setdefault(action, {"calls": 0, "throttled": 0})
            key_counts["calls"] += 1
            allowed = True
            if service == "iam":
                if key not in self.buckets:
                    self.buckets[key] = self.per_key()
                allowed = self.buckets[key] is None or self.buckets[key].take()
            logged = f"{now - self.zero:.4f} {action} {'ok' if allowed else 'throttled'} {key}\n"
        if self.log:
            self.log.write(logged)
            self.log.flush()
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        if not allowed:
            self.stats["throttled"] += 1
            counts["throttled"] += 1
            if key_stats is not None:
                key_stats["throttled"] += 1
                key_counts["throttled"] += 1
            self.last = time.monotonic()
            await respond(writer, 400, "text/xml", THROTTLE_BODY)
            return
        if action == "ListServiceSpecificCredentials":
            self.last = time.monotonic()
            await respond(writer, 200, "text/xml", EMPTY_SERVICE_CREDENTIALS)
            return
        status, reason, response_headers, response_body = await self.forward(method, target, headers, body)
        self.stats["forwarded"] += 1
        if key_stats is not None:
            key_stats["forwarded"] += 1
            if status == 200:
                self.learn_account(key, key_stats, action, response_body)
        self.last = time.monotonic()
        head = [f"HTTP/1.1 {status} {reason}"]
        for name, value in response_headers.items():
            if name not in ("connection", "content-length", "transfer-encoding", "keep-alive"):
                head.append(f"{name}: {value}")
        head.append(f"content-length: {len(response_body)}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response_body)
        await writer.drain()

    def learn_account(self, key, key_stats, action, body):
        """Notes which account a key acts in, from the answers that say so."""
        if action == "AssumeRole":
            new_key, account = ASSUMED_KEY.search(body), ASSUMED_ACCOUNT.search(body)
            if new_key and account:
                entry = self.stats["keys"].setdefault(
                    new_key.group(1).decode(), {"calls": 0, "throttled": 0, "forwarded": 0, "actions": {}})
                entry["account"] = account.group(1).decode()
        elif action == "GetCallerIdentity":
            account = CALLER_ACCOUNT.search(body)
            if account:
                key_stats["account"] = account.group(1).decode()

    async def forward(self, method, target, headers, body):
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            head = [f"{method} {target} HTTP/1.1"]
            for name, value in headers.items():
                if name not in ("connection", "keep-alive", "content-length", "transfer-encoding"):
                    head.append(f"{name}: {value}")
            head += [f"content-length: {len(body)}", "connection: close"]
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
            await writer.drain()
            response = await read_message(reader, is_request=False)
            if response is None:
                raise ConnectionError("moto closed the connection")
            return response
        finally:
            writer.close()


async def read_message(reader, is_request):
    """(method, target, headers, body) for a request; (status, reason, headers, body) for a
    response; None at a clean end of stream."""
    line = await reader.readline()
    if not line:
        return None
    first = line.decode("latin-1").rstrip("\r\n")
    headers = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readline()).strip().split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                break
            body += await reader.readexactly(size)
            await reader.readline()
    elif is_request:
        body = b""
    else:
        body = await reader.read()
    if is_request:
        method, target, _ = first.split(" ", 2)
        return method, target, headers, body
    _, status, reason = (first.split(" ", 2) + [""])[:3]
    return int(status), reason, headers, body


async def respond(writer, status, content_type, body):
    reason = {200: "OK", 400: "Bad Request"}.get(status, "OK")
    head = f"HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n\r\n"
    writer.write(head.encode() + body)
    await writer.drain()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every call")
    parser.add_argument("--rate", type=float, default=0, help="allowed calls per second (0: no limit)")
    parser.add_argument("--burst", type=float, default=0, help="token bucket size (default: rate / 4, at least 1)")
    parser.add_argument(
        "--per-key", action="store_true",
        help="one bucket per access key id (SigV4 Credential); only IAM calls take tokens; per-key counts in /__stats")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", help="write one line per call to this file")
    args = parser.parse_args()
    bucket = per_key = None
    if args.rate > 0:
        burst = args.burst if args.burst > 0 else max(1.0, args.rate / 4)
        if args.per_key:
            per_key = lambda: Bucket(args.rate, burst)  # noqa: E731
        else:
            bucket = Bucket(args.rate, burst)
    elif args.per_key:
        per_key = lambda: None  # noqa: E731  (counted per key, never throttled)
    proxy = Proxy(args.upstream, args.latency, bucket, args.log, per_key)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", args.port, backlog=256)
    print("PORT", server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
