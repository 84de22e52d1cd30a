#!/usr/bin/env python3
"""Benchmark proxy in front of moto: a fixed added latency per call and, optionally, a token
bucket that answers `Throttling` (HTTP 400, IAM's error XML) when a call comes faster than the
allowed rate. Both clients of the batch benchmark talk to moto through it, so they see the same
server.

    bench/proxy.py --upstream http://127.0.0.1:PORT [--latency 0.05] [--rate R] [--burst B]
                   [--log FILE]

Listens on a free 127.0.0.1 port and prints `PORT <n>` on stdout when ready. HTTP/1.1 with
keep-alive on the client side; each call is forwarded to moto on its own connection.

`GET /__stats` answers JSON counters (calls, throttled, forwarded, by action);
`POST /__stats/reset` zeroes them (and empties the log). With `--log`, one line per call:
seconds since the last reset when it arrived, action, `ok` or `throttled`. Loopback only; stops
on SIGTERM/SIGINT.
"""

import argparse
import asyncio
import json
import signal
import time
import urllib.parse

THROTTLE_BODY = (
    '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
    "<Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
    "<RequestId>bench-proxy-throttle</RequestId></ErrorResponse>"
).encode()


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
    def __init__(self, upstream, latency, bucket, log=None):
        parsed = urllib.parse.urlsplit(upstream)
        self.host = parsed.hostname
        self.port = parsed.port or 80
        self.latency = latency
        self.bucket = bucket
        self.log_path = log
        self.log = None
        self.reset()

    def reset(self):
        self.stats = {"calls": 0, "throttled": 0, "forwarded": 0, "actions": {}}
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
        allowed = self.bucket is None or self.bucket.take()
        if self.log:
            self.log.write(f"{now - self.zero:.4f} {action} {'ok' if allowed else 'throttled'}\n")
            self.log.flush()
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        if not allowed:
            self.stats["throttled"] += 1
            counts["throttled"] += 1
            self.last = time.monotonic()
            await respond(writer, 400, "text/xml", THROTTLE_BODY)
            return
        status, reason, response_headers, response_body = await self.forward(method, target, headers, body)
        self.stats["forwarded"] += 1
        self.last = time.monotonic()
        head = [f"HTTP/1.1 {status} {reason}"]
        for name, value in response_headers.items():
            if name not in ("connection", "content-length", "transfer-encoding", "keep-alive"):
                head.append(f"{name}: {value}")
        head.append(f"content-length: {len(response_body)}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response_body)
        await writer.drain()

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
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", help="write one line per call to this file")
    args = parser.parse_args()
    bucket = None
    if args.rate > 0:
        bucket = Bucket(args.rate, args.burst if args.burst > 0 else max(1.0, args.rate / 4))
    proxy = Proxy(args.upstream, args.latency, bucket, args.log)
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
