"""One line in our own words from schemathesis' log: how many operations and cases it tried.

Its own closing line is styled like pytest's and would be read as a run with no test in it, so
the log stays in a file and only this line reaches CI's output."""

import re
import sys
from pathlib import Path

text = Path(sys.argv[1]).read_text(encoding="utf-8", errors="replace")
operations = re.search(r"Tested:\s*(\d+)", text)
cases = re.search(r"(\d+) generated, (\d+) passed(?:, (\d+) failed)?", text)
if operations is None or cases is None:
    print("schemathesis: its log has no counts (see the log's end below)")
else:
    bad = cases.group(3) or "0"
    print(
        f"schemathesis: {operations.group(1)} operations, {cases.group(1)} generated cases, "
        f"{bad} with a failing check"
    )
