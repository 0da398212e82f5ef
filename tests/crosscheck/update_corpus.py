"""Re-derive KLayout's answer for every corpus case and store it in corpus_klayout.json.

Run after adding or changing a case: `python tests/crosscheck/update_corpus.py`.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ANSWERS = HERE / "corpus_klayout.json"


def derive() -> dict:
    sys.path.insert(0, str(HERE))
    from corpus import CASES
    from klayout_ref import klayout_result, write_gds

    with tempfile.TemporaryDirectory() as tmp:
        return {c["name"]: klayout_result(write_gds(c, Path(tmp)), c) for c in CASES}


def dump(answers: dict) -> str:
    """One case per line, sorted: diffs show which case's answer changed."""
    lines = [f" {json.dumps(k)}: {json.dumps(answers[k], sort_keys=True)}" for k in sorted(answers)]
    return "{\n" + ",\n".join(lines) + "\n}\n"


if __name__ == "__main__":
    ANSWERS.write_text(dump(derive()))
    print(f"wrote {ANSWERS}")
