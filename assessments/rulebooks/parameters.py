"""The numeric parameters and rule switches of a review period.

The period stores them as JSON (`to_dict()`); the board edits them; `Rulebook.parameters(data)` reads
them back, filling the missing keys with the regime's defaults and reporting every bad value with a
Vietnamese and an English message. Each regime has its own subclass with only the fields it uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal

from .arithmetic import to_decimal
from .scales import Severity

QUOTA_DENOMINATORS = ("HTTNV", "HTTNV_OR_BETTER")
QUOTA_ROUNDINGS = ("down", "half_up", "up")
SEVERITIES = (Severity.BLOCK.value, Severity.WARN.value)


def param(default, kind, label_vi, label_en, *, choices=(), minimum=None, maximum=None):
    """A parameter field: kind is share | number | months | severity | choice | bool."""
    metadata = {
        "kind": kind,
        "label_vi": label_vi,
        "label_en": label_en,
        "choices": tuple(choices),
        "minimum": minimum,
        "maximum": maximum,
    }
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Switch:
    """The board's switch for one [R] rule: on or off, and blocking or only warning."""

    enabled: bool = True
    severity: Severity = Severity.WARN

    def to_dict(self) -> dict:
        return {"enabled": self.enabled, "severity": self.severity.value}


# A rule the period's parameters do not name is on, as a warning (a switch is frozen: one serves all).
DEFAULT_SWITCH = Switch()


@dataclass(frozen=True)
class ParameterIssue:
    field: str
    message_vi: str
    message_en: str

    def message(self, lang: str) -> str:
        return self.message_vi if lang == "vi" else self.message_en


class ParameterError(ValueError):
    def __init__(self, issues: Iterable[ParameterIssue]):
        self.issues = tuple(issues)
        super().__init__("; ".join(f"{issue.field}: {issue.message_en}" for issue in self.issues))


@dataclass(frozen=True)
class Parameters:
    """Parameters common to every regime. `switches` maps the id of an [R] rule to its Switch."""

    quota_rate: Decimal = param(
        Decimal("0.20"), "share", "Tỉ lệ khống chế HTXSNV", "HTXSNV quota rate", minimum=Decimal(0), maximum=Decimal(1)
    )
    quota_denominator: str = param(
        "HTTNV",
        "choice",
        "Mẫu số của tỉ lệ (HTTNV hoặc HTTNV trở lên)",
        "Quota denominator (HTTNV, or HTTNV or better)",
        choices=QUOTA_DENOMINATORS,
    )
    quota_rounding: str = param(
        "down", "choice", "Cách làm tròn số lượng tối đa", "Rounding of the maximum count", choices=QUOTA_ROUNDINGS
    )
    quota_severity: Severity = param(
        Severity.BLOCK, "severity", "Vượt tỉ lệ: chặn hay cảnh báo", "Quota exceeded: block or warn"
    )
    new_member_months: int = param(
        6, "months", "Số tháng kể từ ngày vào Đảng để được xếp loại", "Months since admission before classification"
    )
    new_org_months: int = param(
        6,
        "months",
        "Số tháng kể từ ngày thành lập tổ chức để được xếp loại",
        "Months since founding before classification",
    )
    sick_leave_months: int = param(
        3,
        "months",
        "Số tháng nghỉ ốm trong năm (tính 30 ngày/tháng)",
        "Months of sick leave in the year (30 days each)",
    )
    transfer_months: int = param(
        6,
        "months",
        "Số tháng ở chi bộ cũ phải có nhận xét bằng văn bản",
        "Months in the former cell that require its written comment",
    )
    temporary_comment_severity: Severity = param(
        Severity.BLOCK,
        "severity",
        "Thiếu nhận xét của chi bộ sinh hoạt tạm thời: chặn hay cảnh báo",
        "Missing comment of the temporary cell",
    )
    tasks_threshold: Decimal = param(
        Decimal("0.5"),
        "share",
        "Ngưỡng tỉ lệ nhiệm vụ (không hoàn thành nhiệm vụ)",
        "Share of tasks that triggers KHTNV",
        minimum=Decimal(0),
        maximum=Decimal(1),
    )
    # The online ballot is counted only when MORE than this share of the cell's official members have
    # voted ("0.5": more than half, as the Party Charter counts a vote); "1" asks for every one of them.
    ballot_quorum: Decimal = param(
        Decimal("0.5"),
        "share",
        "Bỏ phiếu trực tuyến: số đảng viên chính thức đã bỏ phiếu phải vượt tỉ lệ này mới kết thúc được "
        "(0.5 là quá nửa; 1 là tất cả)",
        "Online ballot: more than this share of the official members must have voted before it can be closed "
        "(0.5 is more than half; 1 is all of them)",
        minimum=Decimal(0),
        maximum=Decimal(1),
    )
    switches: Mapping[str, Switch] = field(default_factory=dict, metadata={"kind": "switches"})

    def to_dict(self) -> dict:
        """JSON-ready: Decimals as strings, severities as their codes."""
        result = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "switches":
                result[f.name] = {rule_id: switch.to_dict() for rule_id, switch in sorted(value.items())}
            elif isinstance(value, Decimal):
                result[f.name] = str(value)
            elif isinstance(value, Severity):
                result[f.name] = value.value
            else:
                result[f.name] = value
        return result

    def switch(self, rule_id: str) -> Switch:
        return self.switches.get(rule_id, DEFAULT_SWITCH)

    def with_switch(self, rule_id: str, *, enabled: bool = True, severity: Severity | str = Severity.WARN):
        switches = dict(self.switches)
        switches[rule_id] = Switch(enabled, Severity(severity))
        return replace(self, switches=switches)

    @classmethod
    def describe(cls) -> list[dict]:
        """Name, labels and kind of each field, for the board's edit form."""
        return [
            {"name": f.name, **{key: f.metadata[key] for key in ("kind", "label_vi", "label_en", "choices")}}
            for f in fields(cls)
            if f.name != "switches"
        ]

    def check(self) -> list[ParameterIssue]:
        """Cross-field checks; subclasses add theirs."""
        return []


def _issue(name, label_vi, label_en, problem_vi, problem_en, value) -> ParameterIssue:
    return ParameterIssue(
        name, f"{label_vi}: {problem_vi} (nhận được {value!r}).", f"{label_en}: {problem_en} (got {value!r})."
    )


def _convert(f, value) -> tuple[object, ParameterIssue | None]:
    meta = f.metadata
    kind, label_vi, label_en = meta["kind"], meta["label_vi"], meta["label_en"]

    def issue(problem_vi, problem_en):
        return None, _issue(f.name, label_vi, label_en, problem_vi, problem_en, value)

    if kind in ("share", "number"):
        if isinstance(value, float):
            return issue('ghi số thập phân dưới dạng chuỗi, ví dụ "0.20"', 'write decimals as strings, e.g. "0.20"')
        try:
            number = to_decimal(value)
        except ValueError:
            return issue("phải là một số", "must be a number")
        low, high = meta["minimum"], meta["maximum"]
        if (low is not None and number < low) or (high is not None and number > high):
            return issue(f"phải nằm trong khoảng {low} đến {high}", f"must be between {low} and {high}")
        return number, None
    if kind == "months":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 120:
            return issue("phải là số tháng nguyên từ 0 đến 120", "must be a whole number of months from 0 to 120")
        return value, None
    if kind == "severity":
        if value not in SEVERITIES:
            return issue('phải là "block" (chặn) hoặc "warn" (cảnh báo)', 'must be "block" or "warn"')
        return Severity(value), None
    if kind == "choice":
        if value not in meta["choices"]:
            choices = ", ".join(meta["choices"])
            return issue(f"phải là một trong: {choices}", f"must be one of: {choices}")
        return value, None
    if kind == "bool":
        if not isinstance(value, bool):
            return issue("phải là true hoặc false", "must be true or false")
        return value, None
    raise AssertionError(f"unknown parameter kind {kind}")


def _convert_switches(value, switchable: Iterable[str]) -> tuple[dict[str, Switch], list[ParameterIssue]]:
    switchable = set(switchable)
    issues, result = [], {}
    if not isinstance(value, Mapping):
        issue = ParameterIssue(
            "switches",
            "Công tắc quy tắc phải là một bảng {mã quy tắc: {enabled, severity}}.",
            "Rule switches must be a mapping {rule id: {enabled, severity}}.",
        )
        return {}, [issue]
    for rule_id, raw in value.items():
        name = f"switches.{rule_id}"
        if rule_id not in switchable:
            issues.append(
                ParameterIssue(
                    name,
                    f"{rule_id} không phải là quy tắc [R] có thể bật/tắt của chế độ này.",
                    f"{rule_id} is not a switchable [R] rule of this regime.",
                )
            )
            continue
        if not isinstance(raw, Mapping) or set(raw) - {"enabled", "severity"}:
            issues.append(
                ParameterIssue(
                    name,
                    "Mỗi công tắc chỉ có hai khóa: enabled (true/false) và severity (block/warn).",
                    "Each switch has only two keys: enabled (true/false) and severity (block/warn).",
                )
            )
            continue
        enabled, severity = raw.get("enabled", True), raw.get("severity", Severity.WARN.value)
        if not isinstance(enabled, bool):
            issues.append(ParameterIssue(name, "enabled phải là true hoặc false.", "enabled must be true or false."))
            continue
        if severity not in SEVERITIES:
            issues.append(
                ParameterIssue(name, 'severity phải là "block" hoặc "warn".', 'severity must be "block" or "warn".')
            )
            continue
        result[rule_id] = Switch(enabled, Severity(severity))
    return result, issues


def build_parameters(defaults: Parameters, data: Mapping | None, switchable: Iterable[str]) -> Parameters:
    """`defaults` overridden by `data`; raises ParameterError listing every problem."""
    data = dict(data or {})
    known = {f.name: f for f in fields(defaults)}
    issues: list[ParameterIssue] = []
    changes: dict[str, object] = {}
    for name, value in data.items():
        if name not in known:
            issues.append(
                ParameterIssue(
                    name,
                    f"Tham số {name!r} không có trong chế độ này.",
                    f"Unknown parameter {name!r} for this regime.",
                )
            )
            continue
        if name == "switches":
            switches, switch_issues = _convert_switches(value, switchable)
            issues.extend(switch_issues)
            changes[name] = {**defaults.switches, **switches}
            continue
        converted, issue = _convert(known[name], value)
        if issue:
            issues.append(issue)
        else:
            changes[name] = converted
    if issues:
        raise ParameterError(issues)
    result = replace(defaults, **changes)
    issues = result.check()
    if issues:
        raise ParameterError(issues)
    return result
