"""The rule ids of a regime's notes (data/regime-*.md, outside the repository) and their copy in the package.

`data/<regime>/regime_ids.txt` copies the ids of the notes' section "Machine-checkable rules"; the tests
check that the catalogue (rules.json) accounts for each of them. To copy them again:

    .venv/bin/python -m assessments.rulebooks.notes ../shared/data/regime-2025.md \\
        > assessments/rulebooks/data/regime2025/regime_ids.txt
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# A rule of the notes' list of machine-checkable rules: "12. **R2018-M-DISCIPLINE** · member · ...".
_NOTES_RULE = re.compile(r"^\d+\.\s+\*\*(R\d{4}-[A-Z0-9-]+)\*\*", re.MULTILINE)


def parse_regime_ids(notes: str) -> list[str]:
    """The rule ids of a regime's notes (data/regime-*.md), in order, from its section "Machine-checkable rules"."""
    start = notes.find("Machine-checkable rules")
    if start < 0:
        raise ValueError("the notes have no section 'Machine-checkable rules'")
    end = notes.find("\n## ", start)
    return _NOTES_RULE.findall(notes[start : end if end >= 0 else None])


def regime_ids_text(notes: str, regime: str) -> str:
    """The text of data/regime<regime>/regime_ids.txt copied from the notes of the regime."""
    header = (
        f"# The rule ids of the notes data/regime-{regime}.md, section 8 (Machine-checkable rules), in order.\n"
        "# Copied from the notes, which live outside the repository; tests/assessments/rulebooks/test_rule_ids.py\n"
        "# compares this copy with them when they are present. To copy them again:\n"
        f"#   .venv/bin/python -m assessments.rulebooks.notes ../shared/data/regime-{regime}.md"
        f" > assessments/rulebooks/data/regime{regime}/regime_ids.txt\n"
    )
    return header + "".join(f"{rule_id}\n" for rule_id in parse_regime_ids(notes))


def read_regime_ids(path: Path) -> list[str]:
    """The copy of those ids shipped beside rules.json (regime_ids.txt): one id a line, # for comments."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


if __name__ == "__main__":  # print the regime_ids.txt of the notes named on the command line
    notes_path = Path(sys.argv[1])
    sys.stdout.write(regime_ids_text(notes_path.read_text(encoding="utf-8"), notes_path.stem.removeprefix("regime-")))
