#!/usr/bin/env python3
"""Generate a batch input file for the validate benchmark.

usage: gen_users.py ROWS OUT.csv [--seed N]

Rows: header `user,action,password`, then ROWS data rows: about half enable (with a password of
8-24 characters from the allowed set, some with commas, quotes or spaces, so some cells are
quoted), half disable (empty password). One row in a thousand is invalid (a space in the user
name), so the error path is exercised too. Deterministic for a given seed.
"""
import csv
import random
import sys

USER_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+=,.@-"
PASSWORD_CHARS = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&*+-=?@^_~ ,\"éñü"
)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    rows = int(sys.argv[1])
    out = sys.argv[2]
    seed = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--seed" else 42
    rng = random.Random(seed)
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["user", "action", "password"])
        for index in range(rows):
            name = "u%d.%s" % (index, "".join(rng.choice(USER_CHARS) for _ in range(rng.randint(3, 12))))
            if index % 1000 == 999:
                name = "bad " + name
            if rng.random() < 0.5:
                password = "".join(rng.choice(PASSWORD_CHARS) for _ in range(rng.randint(8, 24)))
                writer.writerow([name, "enable", password])
            else:
                writer.writerow([name, "disable", ""])


if __name__ == "__main__":
    main()
