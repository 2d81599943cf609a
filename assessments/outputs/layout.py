"""The parts of the year-end workbook: its constants, a column, a sheet, the tally of a row, and the
cells that neutralise formulas."""

from collections import Counter
from dataclasses import dataclass, field

from vocabulary import ExclusionReason, Level

CHUNK = 2000


# The data rows of one sheet: Excel's 1,048,576 rows less the header. A list longer than that is split
# (sheets.YearEndExport.sheets: by the organisations directly under the root, then onto continuation
# sheets); tests lower it.
SHEET_ROWS = 1_048_575


LEVELS = tuple(level.value for level in Level.best_first())


DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


SHEET_TITLE_FORBIDDEN = str.maketrans({ch: " " for ch in "[]:*?/\\"})


DATE_FORMAT = "dd/mm/yyyy"


PERCENT_FORMAT = "0.0%"


# The header row: bold in the workbook's font (a font without a name prints in a serif fallback),
# centred on a grey band, on as many lines as the narrowest column needs. XlsxWriter's format properties.
HEADER_FORMAT = {
    "font_name": "Calibri",
    "font_size": 11,
    "bold": True,
    "text_wrap": True,
    "align": "center",
    "valign": "vcenter",
    "pattern": 1,
    "bg_color": "#D9D9D9",
    "bottom": 1,
}


HEADER_PADDING = 4  # points


# A column's width counts the widest digits; a line of text holds more letters than that (about 1.2
# times as many in Calibri and in LibreOffice's substitutes), fewer in bold.
CHARS_PER_WIDTH = 1.1


BOLD_WIDTH = 0.9


# The cells of a row whose text runs over several lines.
WRAPPED = {"text_wrap": True, "valign": "top"}


LINE_HEIGHT = 15  # points: a line of 11-point text, Excel's default row height


# Inches: room at the top for the page header and at the bottom for the page number.
PAGE_MARGINS = {"left": 0.4, "right": 0.4, "top": 0.8, "bottom": 0.6, "header": 0.3, "footer": 0.3}


# Excel refuses a page header longer than 255 characters (the name, the subject, the period and the codes).
HEADER_NAME_LENGTH = 120


# Why a member is not classified, in the categories of the report: the reason of the rule that keeps
# them out, the board's decision, or another (none of the rules' reasons); the full reason is in the list.
EXCUSED, SUSPENDED, NEW_MEMBER = ExclusionReason.EXCUSED, ExclusionReason.SUSPENDED, ExclusionReason.NEW_MEMBER
BOARD, OTHER = "board", "other"


REASONS = (EXCUSED, SUSPENDED, NEW_MEMBER, BOARD, OTHER)


def reason_category(reason, overridden):
    """The report's category of a member not classified, from the stored reason (an ExclusionReason code)."""
    if overridden:
        return BOARD
    return reason if reason in (EXCUSED, SUSPENDED, NEW_MEMBER) else OTHER


# Why a member is KHTNV, read from the year's records in this order (the first that applies); a KHTNV
# with none of these was the deciding committee's judgement (tasks under 50%, failing the conditions).
K_DISCIPLINE, K_DEGRADATION, K_CIVIL_SERVICE, K_JUDGEMENT = "discipline", "degradation", "civil_service", "judgement"


KHTNV_REASONS = (K_DISCIPLINE, K_DEGRADATION, K_CIVIL_SERVICE, K_JUDGEMENT)


def neutralise(text):
    """Text that a spreadsheet would read as a formula gets a leading apostrophe (see the docstring)."""
    text = str(text)
    return "'" + text if text.startswith(DANGEROUS_PREFIXES) else text


def sheet_title(text):
    """A valid sheet name: at most 31 characters, none of []:*?/\\, no space left at the end by the cut."""
    return " ".join(str(text).translate(SHEET_TITLE_FORBIDDEN).split())[:31].rstrip()


def distinct_names(names: list[str]) -> list[str]:
    """The names less the words they all begin with ("Đảng bộ tỉnh Hà Nội", "Đảng bộ tỉnh Nam Định": "Hà
    Nội", "Nam Định"), for tab names cut to 31 characters; a name that would be left empty stays whole."""
    words = [name.split() for name in names]
    common = 0
    if len(words) > 1:
        for column in zip(*words, strict=False):
            if len(set(column)) != 1:
                break
            common += 1
    return [" ".join(split[common:]) or name for split, name in zip(words, names, strict=True)]


def labels(choices):
    """{value: label} translated once: a model's get_FOO_display() per row costs more than the row."""
    return {value: str(label) for value, label in choices.choices}


def share(part, whole):
    return part / whole if whole else None


@dataclass
class Column:
    header: str
    width: float  # in characters; narrow columns take their header on several lines
    kind: str = "text"  # text, number, percent, date
    wrap: bool = False  # text longer than the width goes on several lines (the row grows to fit)


@dataclass
class Sheet:
    subject: str  # the printed title; the tab's name is this (or `tab`) cut to 31 characters
    columns: list
    rows: object  # an iterable of lists, one value per column
    count: int = field(default=0)
    tab: str = ""  # the tab's name when it is not the subject's
    recipe: object = None  # a list of one part: how another process makes it again (`parallel.Recipe`)

    @property
    def title(self):
        return sheet_title(self.tab or self.subject)


def unique_title(title: str, taken: set[str]) -> str:
    """`title` (a valid sheet name), or it cut and numbered " (2)", " (3)"… to be none of `taken` (Excel
    compares the names without case); the name is added to `taken` (a set of lower-case names)."""
    candidate, number = title, 1
    while candidate.lower() in taken:
        number += 1
        suffix = f" ({number})"
        candidate = title[: 31 - len(suffix)].rstrip() + suffix
    taken.add(candidate.lower())
    return candidate


class Tally:
    """Counts of subjects for one row of a summary sheet."""

    def __init__(self):
        self.total = 0
        self.classified = 0
        self.levels = Counter()
        self.reasons = Counter()
        self.khtnv_reasons = Counter()
        self.probationary = 0
        self.two_years = 0

    @property
    def not_classified(self):
        return self.total - self.classified

    @property
    def undecided(self):
        return self.classified - sum(self.levels.values())

    def add(self, other):
        self.total += other.total
        self.classified += other.classified
        self.levels.update(other.levels)
        self.reasons.update(other.reasons)
        self.khtnv_reasons.update(other.khtnv_reasons)
        self.probationary += other.probationary
        self.two_years += other.two_years

    def level_cells(self):
        cells = []
        for level in LEVELS:
            cells += [self.levels[level], share(self.levels[level], self.classified)]
        return cells


def level_columns():
    columns = []
    for level in LEVELS:
        columns += [Column(level, 8, "number"), Column(f"{level} (%)", 8, "percent")]
    return columns
