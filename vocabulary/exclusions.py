"""Why a subject is not classified (không xếp loại): the reasons the regulations give.

The rulebooks say which rule applies (`Exclusion.reason`, `Exclusion.rule_id`); the assessments store
the reason and the rule, and the year-end workbook counts the members by reason. A subject the board
keeps out of the classification has no reason here: the board writes its own.
"""

from __future__ import annotations

from enum import StrEnum


class ExclusionReason(StrEnum):
    EXCUSED = "excused"  # miễn công tác và sinh hoạt đảng
    SUSPENDED = "suspended"  # đình chỉ sinh hoạt đảng
    NEW_MEMBER = "new_member"  # mới kết nạp, chưa đủ thời gian
    NEW_ORGANIZATION = "new_organization"  # mới thành lập, chưa đủ thời gian
    TRANSFERRED_OUT = "transferred_out"  # chuyển sinh hoạt ra ngoài đảng bộ: nơi tiếp nhận xếp loại

    @property
    def label_vi(self) -> str:
        return _LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _LABELS[self][1]

    def label(self, lang: str) -> str:
        return self.label_vi if lang == "vi" else self.label_en


_LABELS = {
    ExclusionReason.EXCUSED: ("Miễn công tác và sinh hoạt đảng", "Excused from work and party activities"),
    ExclusionReason.SUSPENDED: ("Đình chỉ sinh hoạt đảng", "Suspended from party activities"),
    ExclusionReason.NEW_MEMBER: (
        "Mới kết nạp, chưa đủ thời gian để xếp loại",
        "Admitted too recently to be classified",
    ),
    ExclusionReason.NEW_ORGANIZATION: (
        "Mới thành lập, chưa đủ thời gian để xếp loại",
        "Founded too recently to be classified",
    ),
    ExclusionReason.TRANSFERRED_OUT: (
        "Chuyển sinh hoạt đảng ra ngoài đảng bộ: tổ chức đảng nơi tiếp nhận đánh giá, xếp loại",
        "Transferred out of the organisation: the receiving organisation classifies",
    ),
}
