"""The parameters of regime 2025: the score bands, the shares of the task conditions and triggers, the raised quota."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..parameters import ParameterIssue, Parameters, param
from ..scales import Severity


def _points(default: str, label_vi: str, label_en: str):
    return param(Decimal(default), "number", label_vi, label_en, minimum=Decimal(0), maximum=Decimal(100))


def _fraction(default: str, label_vi: str, label_en: str):
    return param(Decimal(default), "share", label_vi, label_en, minimum=Decimal(0), maximum=Decimal(1))


@dataclass(frozen=True)
class Parameters2025(Parameters):
    temporary_comment_severity: Severity = param(
        Severity.WARN,
        "severity",
        "Thiếu nhận xét của chi bộ sinh hoạt tạm thời: chặn hay cảnh báo",
        "Missing comment of the temporary cell: block or warn",
    )
    quota_raised_rate: Decimal = _fraction(
        "0.25", "Tỉ lệ HTXSNV nâng cho đơn vị nổi trội", "Raised HTXSNV rate for an outstanding unit"
    )
    band_htxsnv: Decimal = _points("90", "Điểm tối thiểu mức HTXSNV", "Minimum score for HTXSNV")
    band_httnv: Decimal = _points("70", "Điểm tối thiểu mức HTTNV", "Minimum score for HTTNV")
    band_htnv: Decimal = _points("50", "Điểm tối thiểu mức HTNV", "Minimum score for HTNV")
    exceeding_share: Decimal = _fraction(
        "0.30", "HTXSNV: tỉ lệ nhiệm vụ vượt mức tối thiểu", "HTXSNV: minimum share of tasks beyond requirements"
    )
    late_share_max: Decimal = _fraction(
        "0.20", "HTNV: tỉ lệ nhiệm vụ chậm tiến độ tối đa", "HTNV: maximum share of late tasks"
    )
    unit_plan_threshold: Decimal = _fraction(
        "0.70",
        "KHTNV khi đơn vị hoàn thành dưới tỉ lệ kế hoạch",
        "KHTNV when the unit completes less than this share of its plan",
    )
    units_khtnv_share: Decimal = _fraction(
        "0.50",
        "Lãnh đạo KHTNV khi tỉ lệ đơn vị phụ trách KHTNV vượt quá",
        "Leader KHTNV when the share of units led at KHTNV exceeds",
    )
    low_confidence_share: Decimal = _fraction(
        "0.50",
        "Lãnh đạo KHTNV khi tỉ lệ phiếu tín nhiệm thấp vượt quá",
        "Leader KHTNV when low-confidence votes exceed",
    )
    special_unit: bool = param(
        False,
        "bool",
        "Đơn vị đặc thù: hoàn thành kiểm điểm, xếp loại trước ngày 15/01 năm sau",
        "Special unit: review and classification done by 15 January of the next year",
    )
    gap_manual_decision: bool = param(
        True,
        "bool",
        "Không đạt điều kiện HTNV nhưng không thuộc trường hợp KHTNV: cấp có thẩm quyền quyết định",
        "HTNV conditions unmet without a KHTNV trigger: the deciding level decides",
    )

    def check(self) -> list[ParameterIssue]:
        issues = []
        if not self.band_htxsnv > self.band_httnv > self.band_htnv:
            issues.append(
                ParameterIssue(
                    "band_htxsnv",
                    "Các ngưỡng điểm phải giảm dần: HTXSNV > HTTNV > HTNV.",
                    "The score thresholds must decrease: HTXSNV > HTTNV > HTNV.",
                )
            )
        if self.quota_raised_rate < self.quota_rate:
            issues.append(
                ParameterIssue(
                    "quota_raised_rate",
                    "Tỉ lệ nâng không được thấp hơn tỉ lệ khống chế thông thường.",
                    "The raised rate cannot be below the ordinary quota rate.",
                )
            )
        return issues
