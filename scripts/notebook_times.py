"""Print how long each notebook took to execute, from a pytest JUnit XML report.

Usage: python scripts/notebook_times.py REPORT.xml [--budget 180] [--report-only]

Exits with status 1 when a notebook failed, was skipped or took longer than the
budget, unless --report-only is given.
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--budget", type=float, default=180.0, help="seconds per notebook")
    parser.add_argument("--report-only", action="store_true", help="never fail, only print")
    args = parser.parse_args()
    if not args.report.is_file():
        print(f"error: no report at {args.report}; run the notebooks first", file=sys.stderr)
        return 2
    rows = []
    for case in ET.parse(args.report).getroot().iter("testcase"):
        # nbmake names each test after its notebook file, e.g. "01_quantizers.ipynb"
        name = case.get("name", "?")
        tags = {child.tag for child in case}
        status = "FAILED" if tags & {"failure", "error"} else "SKIPPED" if "skipped" in tags else ""
        rows.append((name, float(case.get("time", 0.0)), status))
    if not rows:
        print("error: the report lists no notebooks", file=sys.stderr)
        return 2
    width = max(len(r[0]) for r in rows)
    print(f"\n{'notebook':<{width}}  seconds  status (budget {args.budget:.0f} s)")
    bad = 0
    for name, seconds, status in sorted(rows):
        status = status or ("OVER BUDGET" if seconds > args.budget else "ok")
        bad += status != "ok"
        print(f"{name:<{width}}  {seconds:7.1f}  {status}")
    print(f"{'total':<{width}}  {sum(r[1] for r in rows):7.1f}")
    return 0 if (bad == 0 or args.report_only) else 1


if __name__ == "__main__":
    sys.exit(main())
