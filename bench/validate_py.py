#!/usr/bin/env python3
"""The `console-access validate` work done with Python's csv module, for comparison.

usage: validate_py.py FILE

Same rules: header row mapped by name (case-insensitive, spaces ignored; user/username/user_name,
action, password optional), field count must match the header, user trimmed and matched against
IAM's [A-Za-z0-9_+=,.@-]{1,64}, action enable/disable/onboard/offboard, enable needs a password of
1-128 characters from U+0020-U+00FF plus tab, LF, CR. Prints each row error with its line, then a
summary; exit 0/1/2 like the real command.
"""
import csv
import re
import sys

USER_RE = re.compile(r"[A-Za-z0-9_+=,.@-]{1,64}")
PASSWORD_RE = re.compile(r"[\t\n\r\x20-\xff]{1,128}")
ACTIONS = {"enable": "enable", "onboard": "enable", "disable": "disable", "offboard": "disable"}
NAMES = {"user": "user", "username": "user", "user_name": "user", "action": "action", "password": "password"}


def main():
    path = sys.argv[1]
    out = sys.stdout
    try:
        handle = open(path, newline="", encoding="utf-8-sig")
        reader = csv.reader(handle, strict=True)
        header = None
        for header in reader:
            if any(cell.strip(" \t") for cell in header):
                break
        if header is None:
            sys.stderr.write("error: empty file\n")
            return 2
        columns = {}
        for index, cell in enumerate(header):
            name = NAMES.get(cell.strip(" \t").lower())
            if name:
                if name in columns:
                    sys.stderr.write("error: line 1: duplicate %s column\n" % name)
                    return 2
                columns[name] = index
        for name in ("user", "action"):
            if name not in columns:
                sys.stderr.write("error: line 1: no %s column\n" % name)
                return 2
        user_index, action_index = columns["user"], columns["action"]
        password_index = columns.get("password")
        width = len(header)
        rows = valid = invalid = enable = disable = warnings = 0
        start_line = reader.line_num + 1
        for fields in reader:
            line = start_line
            start_line = reader.line_num + 1
            if not any(cell.strip(" \t") for cell in fields):
                continue
            rows += 1
            if len(fields) != width:
                invalid += 1
                out.write("line %d: row has %d fields; the header has %d\n" % (line, len(fields), width))
                continue
            problems = []
            user = fields[user_index].strip(" \t")
            if not USER_RE.fullmatch(user):
                problems.append("invalid user name")
            action = ACTIONS.get(fields[action_index].strip(" \t").lower())
            if action is None:
                problems.append("unknown action")
            password = fields[password_index] if password_index is not None else ""
            if action == "enable":
                if not password:
                    problems.append("enable needs a password")
                elif not PASSWORD_RE.fullmatch(password):
                    problems.append("invalid password")
            elif action == "disable" and password:
                warnings += 1
                out.write("line %d: warning: password ignored for disable\n" % line)
            if problems:
                invalid += 1
                out.write("line %d: %s\n" % (line, "; ".join(problems)))
            else:
                valid += 1
                if action == "enable":
                    enable += 1
                else:
                    disable += 1
    except (csv.Error, UnicodeDecodeError, OSError) as error:
        sys.stderr.write("error: %s\n" % error)
        return 2
    out.write("%s: %d rows, %d valid, %d invalid (valid: %d enable, %d disable)\n" % (path, rows, valid, invalid, enable, disable))
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main())
