"""The form templates' data files: reading data/<regime>/*.json and resolving them into FormTemplates.

The loader understands three conveniences in the JSON files, resolved before validation:
- `{"include": "regime2025/annex_4.json"}` in a list of sections: the sections of that file;
- `"when": {"variant": "2B", "guidance": ["HD16"]}` on a section, item or include: kept only when every
  key matches the context (subject_kind, purpose, variant, guidance);
- `"entries_from": "manifestations_27"` on a checklist item: the entries of common/manifestations_27.json.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from .forms import FormTemplate

DATA_ROOT = Path(__file__).parent / "data"


def read_json(name: str, root: Path = DATA_ROOT):
    return json.loads((root / name).read_text(encoding="utf-8"))


def _matches(when: Mapping | None, context: Mapping) -> bool:
    if not when:
        return True
    for key, wanted in when.items():
        wanted = wanted if isinstance(wanted, list) else [wanted]
        if context.get(key) not in wanted:
            return False
    return True


def checklist_entries(name: str, root: Path = DATA_ROOT) -> list[dict]:
    """The entries of a checklist file (common/<name>.json) as template dicts.

    Only verified wording is shown as the resolution's text: a partial quotation says so, and a
    keyword-only entry is labelled as a keyword awaiting the official wording.
    """
    data = read_json(f"common/{name}.json", root)
    entries = []
    for group in data["groups"]:
        for raw in group["items"]:
            code, keyword = f"{group['code']}.{raw['number']}", raw.get("keyword_vi", "")
            if raw["wording"] == "verified":
                label_vi = raw["text_vi"]
            elif raw["wording"] == "partial":
                rest = f"; từ khóa phần còn lại: {keyword}" if keyword else ""
                label_vi = f"{raw['text_vi']} (chưa đủ nguyên văn Nghị quyết{rest})"
            else:
                label_vi = f"Biểu hiện {code} (chưa có nguyên văn Nghị quyết; từ khóa: {keyword})"
            label_en = (
                f"Manifestation {code} (official wording not yet entered; keyword: {raw['summary_en']})"
                if raw["wording"] == "keyword"
                else raw["summary_en"]
            )
            entries.append(
                {
                    "id": f"{group['code']}{raw['number']}",
                    "label_vi": label_vi,
                    "label_en": label_en,
                    "group": group["code"],
                    "awaiting_official_wording": raw["wording"] != "verified",
                    "keyword_vi": keyword,
                    "source": raw.get("source", ""),
                }
            )
    return entries


def _resolve_sections(sections, context, root) -> list[dict]:
    resolved = []
    for raw in sections:
        if not _matches(raw.get("when"), context):
            continue
        if "include" in raw:
            resolved.extend(_resolve_sections(read_json(raw["include"], root)["sections"], context, root))
            continue
        section = {key: value for key, value in raw.items() if key != "when"}
        items = []
        for item in raw["items"]:
            if not _matches(item.get("when"), context):
                continue
            item = {key: value for key, value in item.items() if key != "when"}
            if "entries_from" in item:
                item["entries"] = checklist_entries(item.pop("entries_from"), root)
            items.append(item)
        section["items"] = items
        resolved.append(section)
    return resolved


def load_template(name: str, *, regime: str, subject_kind: str, purpose: str, variant=None, context=None, root=None):
    """Load data/<name>, resolve includes and conditions for the context, and validate it."""
    root = root or DATA_ROOT
    raw = read_json(name, root)
    context = {"subject_kind": subject_kind, "purpose": purpose, "variant": variant, **(context or {})}
    suffix = f".{variant}" if variant else ""
    data = {
        **{key: value for key, value in raw.items() if key != "sections"},
        "id": f"{regime}.{subject_kind}.{purpose}{suffix}",
        "regime": regime,
        "subject_kind": subject_kind,
        "purpose": purpose,
        "variant": variant,
        "sections": _resolve_sections(raw["sections"], context, root),
    }
    for key in ("code", "title_vi", "title_en", "help_vi", "help_en"):
        # A per-variant or per-subject-kind value: {"2B": ..., "2C": ...} or {"member": ..., "leader": ...}.
        if isinstance(data.get(key), Mapping):
            data[key] = data[key].get(variant or "", data[key].get(subject_kind, ""))
    return FormTemplate.from_dict(data)
