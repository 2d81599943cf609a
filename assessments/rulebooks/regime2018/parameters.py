"""The parameters of regime 2018: the guidance applied (HD 16 or HD 21), the organisation's shares, and
whether the period allows an exception to the quota (the texts of 2018 provide none)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..parameters import ParameterIssue, Parameters, param
from ..scales import Severity

GUIDANCES = ("HD16", "HD21")


@dataclass(frozen=True)
class Parameters2018(Parameters):
    guidance: str = param(
        "HD21",
        "choice",
        "Hướng dẫn áp dụng (HD16: năm 2018; HD21: từ năm 2019)",
        "Guidance applied (HD16: the 2018 review; HD21: from 2019)",
        choices=GUIDANCES,
    )
    transfer_comment_severity: Severity = param(
        Severity.BLOCK,
        "severity",
        "Thiếu nhận xét của chi bộ cũ: chặn hay cảnh báo",
        "Missing written comment of the former cell: block or warn",
    )
    org_xs_share: Decimal = param(
        Decimal("0.80"),
        "share",
        "Tổ chức HTXSNV: tỉ lệ tối thiểu HTTNV trở lên",
        "Organisation HTXSNV: minimum share at HTTNV or better",
        minimum=Decimal(0),
        maximum=Decimal(1),
    )
    org_tt_share: Decimal = param(
        Decimal("0.50"),
        "share",
        "Tổ chức HTTNV: tỉ lệ tối thiểu HTTNV trở lên",
        "Organisation HTTNV: minimum share at HTTNV or better",
        minimum=Decimal(0),
        maximum=Decimal(1),
    )
    org_khtnv_share: Decimal = param(
        Decimal("0.20"),
        "share",
        "Tổ chức KHTNV khi tỉ lệ KHTNV vượt quá",
        "Organisation KHTNV when the KHTNV share exceeds",
        minimum=Decimal(0),
        maximum=Decimal(1),
    )
    # HD 16 and HD 21 provide no exception to the quota: none unless the period allows one, up to this rate.
    quota_exception_allowed: bool = param(
        False,
        "bool",
        "Cho phép cấp có thẩm quyền quyết định vượt tỉ lệ khống chế HTXSNV (có quyết định, lý do)",
        "Allow the competent level to decide an exception to the HTXSNV quota (with a decision and a reason)",
    )
    quota_exception_rate: Decimal = param(
        Decimal("0.25"),
        "share",
        "Tỉ lệ HTXSNV tối đa khi có quyết định vượt tỉ lệ",
        "Highest HTXSNV rate under an exception to the quota",
        minimum=Decimal(0),
        maximum=Decimal(1),
    )

    def check(self) -> list[ParameterIssue]:
        issues = []
        if self.org_xs_share < self.org_tt_share:
            issues.append(
                ParameterIssue(
                    "org_xs_share",
                    "Tỉ lệ HTTNV trở lên cho tổ chức HTXSNV không được thấp hơn tỉ lệ cho tổ chức HTTNV.",
                    "The HTXSNV share of an organisation cannot be below its HTTNV share.",
                )
            )
        if self.quota_exception_rate < self.quota_rate:
            issues.append(
                ParameterIssue(
                    "quota_exception_rate",
                    "Tỉ lệ khi có quyết định vượt tỉ lệ không được thấp hơn tỉ lệ khống chế thông thường.",
                    "The rate under an exception cannot be below the ordinary quota rate.",
                )
            )
        return issues
