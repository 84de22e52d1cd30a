"""Prints a CSV file as an aligned table (for the demo), optionally only some columns."""
import csv
import sys

path = sys.argv[1]
wanted = sys.argv[2].split(",") if len(sys.argv) > 2 else None
with open(path, newline="") as handle:
    rows = list(csv.reader(handle))
if not rows:
    sys.exit(0)
header = rows[0]
if "line" in header:
    at = header.index("line")
    rows = [header] + sorted(rows[1:], key=lambda row: int(row[at]) if row[at].isdigit() else 0)
indexes = [header.index(name) for name in wanted] if wanted else list(range(len(header)))
table = [[row[i] if i < len(row) else "" for i in indexes] for row in rows]
widths = [min(max(len(row[c]) for row in table), 90) for c in range(len(indexes))]
for number, row in enumerate(table):
    print("  " + "  ".join(cell[:90].ljust(widths[c]) for c, cell in enumerate(row)).rstrip())
    if number == 0:
        print("  " + "  ".join("-" * width for width in widths))
