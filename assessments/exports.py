"""The year-end spreadsheets (design.md section 8): six sheets for a period and an organisation subtree.

Each sheet is a header and a generator of rows; `write_workbook` streams them into a write-only
openpyxl workbook, so memory does not grow with the number of members. The figures count what the
decision screens count: the decided levels of the subjects to be classified.

The queries are fixed whatever the size of the tree (pinned in tests/assessments/test_export.py):
  1. the grassroots organisations of the subtree (and the one above it, for a cell's export);
  2. the organisations' levels, counted per sector;
  3. the members' levels, counted per cell (rolled up to grassroots organisations in Python);
  4. the list of organisations (a streamed iterator);
  5. the list of members (a streamed iterator);
  6. the members rated KHTNV this year and the year before (a streamed iterator).

Printing: every sheet prints on A4 landscape, one page wide and as many pages tall as it needs, its
header row repeated on every page, the organisation, the subject and the period in the page header and
"Trang 1 / 9" in the footer. Neither Excel nor LibreOffice fits a row to wrapped text when it opens a
file, so a row whose long text wraps gets its height from an estimate of its lines (`line_count`). The
tables still begin on the first row, for whoever reads the file with a program.

Formula injection: a text cell that begins with = + - @ (or a tab or carriage return) gets a leading
apostrophe ("'=HYPERLINK(...)"). It is visible, but it is the OWASP advice and it survives a copy to
CSV or a later edit of the cell, where a style flag (quotePrefix) or an invisible character would not
tell the reader why the value looks odd.
"""

import datetime
import textwrap
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Case, Count, Exists, OuterRef, Q, Value, When
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from members.models import Member
from organizations.models import Organization

from .formview import lang
from .models import Assessment
from .rulebooks import Level, get_rulebook

CHUNK = 2000
LEVELS = tuple(level.value for level in Level.best_first())
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
SHEET_TITLE_FORBIDDEN = str.maketrans({ch: " " for ch in "[]:*?/\\"})
DATE_FORMAT = "dd/mm/yyyy"
PERCENT_FORMAT = "0.0%"
# The header row: bold in the workbook's font (a font without a name prints in a serif fallback),
# centred on a grey band, on as many lines as the narrowest column needs.
HEADER_FONT = Font(name="Calibri", size=11, bold=True)
HEADER_ALIGNMENT = Alignment(wrap_text=True, horizontal="center", vertical="center")
HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")
HEADER_BORDER = Border(bottom=Side(style="thin"))
HEADER_PADDING = 4  # points
# A column's width counts the widest digits; a line of text holds more letters than that (about 1.2
# times as many in Calibri and in LibreOffice's substitutes), fewer in bold.
CHARS_PER_WIDTH = 1.1
BOLD_WIDTH = 0.9
WRAPPED = Alignment(wrap_text=True, vertical="top")
LINE_HEIGHT = 15  # points: a line of 11-point text, Excel's default row height
# Inches: room at the top for the page header and at the bottom for the page number.
PAGE_MARGINS = {"left": 0.4, "right": 0.4, "top": 0.8, "bottom": 0.6, "header": 0.3, "footer": 0.3}
# Excel refuses a page header longer than 255 characters (the name, the subject, the period and the codes).
HEADER_NAME_LENGTH = 120

# The columns the lists read: the assessments' answers (JSON) and the rest stay in the database.
MEMBER_ROW_FIELDS = (
    "classified",
    "decided_level",
    "exclusion_reason",
    "member__full_name",
    "member__card_number",
    "member__date_of_birth",
    "member__official_date",
    "member__occupation",
    "organization__name",
    "organization__path",
)
ORGANIZATION_ROW_FIELDS = (
    "classified",
    "decided_level",
    "exclusion_reason",
    "organization__code",
    "organization__name",
    "organization__path",
    "organization__kind",
    "organization__sector",
    "organization__founded_on",
)

# Why a member is not classified, in the categories of the report; the full reason is in the list.
EXCUSED, SUSPENDED, NEW_MEMBER, BOARD, OTHER = "excused", "suspended", "new", "board", "other"
REASONS = (EXCUSED, SUSPENDED, NEW_MEMBER, BOARD, OTHER)
# Why a member is KHTNV, read from the year's records in this order (the first that applies); a KHTNV
# with none of these was the deciding committee's judgement (tasks under 50%, failing the conditions).
K_DISCIPLINE, K_DEGRADATION, K_CIVIL_SERVICE, K_JUDGEMENT = "discipline", "degradation", "civil_service", "judgement"
KHTNV_REASONS = (K_DISCIPLINE, K_DEGRADATION, K_CIVIL_SERVICE, K_JUDGEMENT)


def neutralise(text):
    """Text that a spreadsheet would read as a formula gets a leading apostrophe (see the docstring)."""
    text = str(text)
    return "'" + text if text.startswith(DANGEROUS_PREFIXES) else text


def sheet_title(text):
    """A valid sheet name: at most 31 characters, none of []:*?/\\."""
    return " ".join(str(text).translate(SHEET_TITLE_FORBIDDEN).split())[:31]


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
    subject: str  # the printed title; the tab's name is this cut to 31 characters
    columns: list
    rows: object  # an iterable of lists, one value per column
    count: int = field(default=0)

    @property
    def title(self):
        return sheet_title(self.subject)


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


class YearEndExport:
    """The six sheets of one period for the subtree of `organization`."""

    def __init__(self, period, organization):
        self.period = period
        self.organization = organization
        self.rulebook = get_rulebook(period.regime)
        self.params = self.rulebook.parameters(period.parameters, year=period.year)
        self._grassroots = None
        self._member_tallies = None

    # --- Shared data --------------------------------------------------------------------------

    def _assessments(self):
        return Assessment.objects.filter(period=self.period, organization__path__startswith=self.organization.path)

    def _member_assessments(self):
        return self._assessments().filter(member__isnull=False)

    def _organization_assessments(self):
        return self._assessments().filter(member__isnull=True, subject_kind=Assessment.SubjectKind.ORGANIZATION)

    def _previous_khtnv(self):
        """Last year's annual period of the same root decided this member KHTNV."""
        return Exists(
            Assessment.objects.filter(
                period__organization_id=self.period.organization_id,
                period__year=self.period.year - 1,
                period__quarter__isnull=True,
                member=OuterRef("member"),
                decided_level=Level.KHTNV,
            )
        )

    @property
    def grassroots(self):
        """{path: organisation} of the grassroots organisations the subtree's members belong to."""
        if self._grassroots is None:
            path, step = self.organization.path, self.organization.steplen
            ancestors = [path[:end] for end in range(step, len(path), step)]
            self._grassroots = {
                org.path: org
                for org in Organization.objects.filter(kind__in=Organization.GRASSROOTS_KINDS)
                .filter(Q(path__startswith=path) | Q(path__in=ancestors))
                .order_by("path")
            }
            self._lengths = sorted({len(p) for p in self._grassroots})
        return self._grassroots

    def grassroots_of(self, path):
        grassroots = self.grassroots
        for length in self._lengths:
            org = grassroots.get(path[:length])
            if org is not None:
                return org
        return None

    def _khtnv_reason(self):
        """For a KHTNV member, the first of the year's records that makes one KHTNV (else the judgement)."""
        from members.models import CivilServiceRating, DegradationConclusion, DisciplineDecision

        year = self.period.year
        return Case(
            When(~Q(decided_level=Level.KHTNV), then=Value("")),
            When(
                Exists(DisciplineDecision.objects.filter(member=OuterRef("member"), decided_on__year=year)),
                then=Value(K_DISCIPLINE),
            ),
            When(
                Exists(DegradationConclusion.objects.filter(member=OuterRef("member"), concluded_on__year=year)),
                then=Value(K_DEGRADATION),
            ),
            When(
                Exists(CivilServiceRating.objects.filter(member=OuterRef("member"), year=year, level=Level.KHTNV)),
                then=Value(K_CIVIL_SERVICE),
            ),
            default=Value(K_JUDGEMENT),
        )

    def member_tallies(self):
        """{grassroots path: Tally} of the members, from one grouped query counted per cell."""
        if self._member_tallies is not None:
            return self._member_tallies
        year_start = datetime.date(self.period.year, 1, 1)
        rows = (
            self._member_assessments()
            .annotate(
                reason=Case(
                    When(classified=True, then=Value("")),
                    When(exclusion_overridden=True, then=Value(BOARD)),
                    When(member__status=Member.Status.EXCUSED, then=Value(EXCUSED)),
                    When(member__status=Member.Status.SUSPENDED, then=Value(SUSPENDED)),
                    When(member__admission_date__gte=year_start, then=Value(NEW_MEMBER)),
                    default=Value(OTHER),
                ),
                probationary=Case(When(member__official_date__isnull=True, then=Value(True)), default=Value(False)),
                before=self._previous_khtnv(),
                khtnv_reason=self._khtnv_reason(),
            )
            .values(
                "organization__path", "classified", "decided_level", "reason", "probationary", "before", "khtnv_reason"
            )
            .annotate(n=Count("pk"))
            .order_by()
        )
        tallies = defaultdict(Tally)
        for row in rows:
            org = self.grassroots_of(row["organization__path"])
            tally = tallies[org.path if org else ""]
            n = row["n"]
            tally.total += n
            if row["probationary"]:
                tally.probationary += n
            if row["classified"]:
                tally.classified += n
                if row["decided_level"]:
                    tally.levels[row["decided_level"]] += n
                if row["decided_level"] == Level.KHTNV:
                    tally.khtnv_reasons[row["khtnv_reason"]] += n
                    if row["before"]:
                        tally.two_years += n
            else:
                tally.reasons[row["reason"]] += n
        self._member_tallies = tallies
        return tallies

    # --- The sheets ---------------------------------------------------------------------------

    def sheets(self):
        return [
            self.organizations_by_sector(),
            self.members_by_grassroots(),
            self.organization_list(),
            self.member_list(),
            self.quota_control(),
            self.two_years_running(),
        ]

    def organizations_by_sector(self):
        columns = [
            Column(_("Sector"), 46, wrap=True),
            Column(_("Organisations"), 9, "number"),
            Column(_("Classified"), 9, "number"),
            Column(_("Not classified"), 9, "number"),
            Column(_("Not yet decided"), 9, "number"),
            *level_columns(),
            Column(_("HTXSNV as a share of HTTNV"), 16, "percent"),
        ]

        def rows():
            tallies = defaultdict(Tally)
            grouped = (
                self._organization_assessments()
                .values("organization__sector", "classified", "decided_level")
                .annotate(n=Count("pk"))
                .order_by()
            )
            for row in grouped:
                tally = tallies[row["organization__sector"]]
                tally.total += row["n"]
                if row["classified"]:
                    tally.classified += row["n"]
                    if row["decided_level"]:
                        tally.levels[row["decided_level"]] += row["n"]
            total = Tally()
            for sector, label in Organization.Sector.choices:
                if sector in tallies:
                    total.add(tallies[sector])
                    yield self._summary_row(str(label), tallies[sector])
            yield self._summary_row(_("Total"), total)

        return Sheet(_("Organisations by sector"), columns, rows())

    @staticmethod
    def _summary_row(label, tally):
        return [
            label,
            tally.total,
            tally.classified,
            tally.not_classified,
            tally.undecided,
            *tally.level_cells(),
            share(tally.levels[Level.HTXSNV], tally.levels[Level.HTTNV]),
        ]

    def members_by_grassroots(self):
        reason_labels = {
            EXCUSED: _("Not classified: excused"),
            SUSPENDED: _("Not classified: suspended"),
            NEW_MEMBER: _("Not classified: admitted less than 6 months"),
            BOARD: _("Not classified: board's decision"),
            OTHER: _("Not classified: other reason"),
        }
        khtnv_labels = {
            K_DISCIPLINE: _("KHTNV: disciplined in the year"),
            K_DEGRADATION: _("KHTNV: degradation concluded"),
            K_CIVIL_SERVICE: _("KHTNV: civil-service rating KHTNV"),
            K_JUDGEMENT: _("KHTNV: the committee's judgement"),
        }
        columns = [
            Column(_("Grassroots organisation"), 36, wrap=True),
            Column(_("Members"), 8, "number"),
            Column(_("Classified"), 8, "number"),
            Column(_("Not classified"), 8, "number"),
            *(Column(reason_labels[reason], 9, "number") for reason in REASONS),
            Column(_("Not yet decided"), 8, "number"),
            *level_columns(),
            *(Column(khtnv_labels[reason], 9, "number") for reason in KHTNV_REASONS),
            Column(_("Probationary members"), 9, "number"),
            Column(_("KHTNV two years running"), 9, "number"),
        ]

        def rows():
            tallies = self.member_tallies()
            total = Tally()
            for path, org in self.grassroots.items():
                tally = tallies.get(path, Tally())
                total.add(tally)
                yield self._member_row(org.name, tally)
            yield self._member_row(_("Total"), total)

        return Sheet(_("Members by grassroots organisation"), columns, rows())

    @staticmethod
    def _member_row(label, tally):
        return [
            label,
            tally.total,
            tally.classified,
            tally.not_classified,
            *(tally.reasons[reason] for reason in REASONS),
            tally.undecided,
            *tally.level_cells(),
            *(tally.khtnv_reasons[reason] for reason in KHTNV_REASONS),
            tally.probationary,
            tally.two_years,
        ]

    def organization_list(self):
        columns = [
            Column(_("No."), 6, "number"),
            Column(_("Code"), 14, wrap=True),
            Column(_("Organisation"), 36, wrap=True),
            Column(_("Kind"), 18, wrap=True),
            Column(_("Sector"), 26, wrap=True),
            Column(_("Grassroots organisation"), 32, wrap=True),
            Column(_("Founding date"), 11, "date"),
            Column(_("Level"), 9),
            Column(_("Reason for not classifying"), 44, wrap=True),
        ]

        kinds, sectors = labels(Organization.Kind), labels(Organization.Sector)

        def rows():
            queryset = (
                self._organization_assessments()
                .select_related("organization")
                .only(*ORGANIZATION_ROW_FIELDS)
                .order_by("organization__path")
                .iterator(chunk_size=CHUNK)
            )
            for number, assessment in enumerate(queryset, start=1):
                org = assessment.organization
                grassroots = self.grassroots_of(org.path)
                yield [
                    number,
                    org.code,
                    org.name,
                    kinds.get(org.kind, org.kind),
                    sectors.get(org.sector, org.sector),
                    grassroots.name if grassroots else "",
                    org.founded_on,
                    assessment.decided_level if assessment.classified else "",
                    "" if assessment.classified else assessment.exclusion_reason,
                ]

        return Sheet(_("List of organisations"), columns, rows())

    def _member_columns(self):
        return [
            Column(_("No."), 7, "number"),
            Column(_("Full name"), 24, wrap=True),
            Column(_("Party card number"), 11),
            Column(_("Date of birth"), 11, "date"),
            Column(_("Cell"), 30, wrap=True),
            Column(_("Grassroots organisation"), 32, wrap=True),
        ]

    def _member_cells(self, number, assessment):
        member, cell = assessment.member, assessment.organization
        grassroots = self.grassroots_of(cell.path)
        return [
            number,
            member.full_name,
            member.card_number,
            member.date_of_birth,
            cell.name,
            grassroots.name if grassroots else "",
        ]

    def member_list(self):
        columns = [
            *self._member_columns(),
            Column(_("Occupation group"), 26, wrap=True),
            Column(_("Probationary"), 8),
            Column(_("Level"), 9),
            Column(_("Reason for not classifying"), 44, wrap=True),
        ]
        yes, no = _("yes"), _("no")
        occupations = labels(Member.Occupation)

        def rows():
            queryset = (
                self._member_assessments()
                .select_related("member", "organization")
                .only(*MEMBER_ROW_FIELDS)
                .order_by("organization__path", "member__sort_key", "pk")
                .iterator(chunk_size=CHUNK)
            )
            for number, assessment in enumerate(queryset, start=1):
                member = assessment.member
                yield [
                    *self._member_cells(number, assessment),
                    occupations.get(member.occupation, member.occupation),
                    yes if member.official_date is None else no,
                    assessment.decided_level if assessment.classified else "",
                    "" if assessment.classified else assessment.exclusion_reason,
                ]

        return Sheet(_("List of members"), columns, rows())

    def quota_control(self):
        columns = [
            Column(_("Grassroots organisation"), 36, wrap=True),
            Column(_("Members"), 9, "number"),
            Column(_("Classified"), 9, "number"),
            Column("HTTNV", 9, "number"),
            Column(_("Quota basis"), 9, "number"),
            Column(_("Cap of HTXSNV"), 9, "number"),
            Column(_("Proposed HTXSNV"), 9, "number"),
            Column(_("Actual share"), 9, "percent"),
            Column(_("Verdict"), 19, wrap=True),
            Column(_("Rule"), 56, wrap=True),
        ]
        language = lang()

        def rows():
            tallies = self.member_tallies()
            for path, org in self.grassroots.items():
                tally = tallies.get(path, Tally())
                quota = self.rulebook.quota(dict(tally.levels), self.params, subject_kind="member")
                verdict = (
                    _("Within the quota")
                    if quota.within
                    else _("%(count)d over the quota") % {"count": quota.count - quota.cap_count}
                )
                yield [
                    org.name,
                    tally.total,
                    tally.classified,
                    tally.levels[Level.HTTNV],
                    quota.denominator,
                    quota.cap_count,
                    quota.count,
                    share(quota.count, quota.denominator),
                    verdict,
                    quota.message(language),
                ]

        return Sheet(_("Quota control"), columns, rows())

    def two_years_running(self):
        columns = [
            *self._member_columns(),
            Column(_("Level %(year)s") % {"year": self.period.year - 1}, 11),
            Column(_("Level %(year)s") % {"year": self.period.year}, 11),
        ]

        def rows():
            queryset = (
                self._member_assessments()
                .filter(classified=True, decided_level=Level.KHTNV)
                .filter(self._previous_khtnv())
                .select_related("member", "organization")
                .only(*MEMBER_ROW_FIELDS)
                .order_by("organization__path", "member__sort_key", "pk")
                .iterator(chunk_size=CHUNK)
            )
            for number, assessment in enumerate(queryset, start=1):
                yield [*self._member_cells(number, assessment), Level.KHTNV.value, assessment.decided_level]

        return Sheet(_("KHTNV two years running"), columns, rows())


def _cell(ws, value, column, alignment=None):
    """A styled cell: the number format of dates and percentages, the alignment of a multi-line row."""
    cell = WriteOnlyCell(ws, value=value)
    if column.kind == "percent":
        cell.number_format = PERCENT_FORMAT
    elif column.kind == "date":
        cell.number_format = DATE_FORMAT
    if alignment is not None:
        cell.alignment = alignment
    return cell


def _header_cell(ws, column):
    cell = WriteOnlyCell(ws, value=neutralise(column.header))
    cell.font, cell.alignment, cell.fill, cell.border = HEADER_FONT, HEADER_ALIGNMENT, HEADER_FILL, HEADER_BORDER
    return cell


def line_count(text, width):
    """An estimate of the lines `text` takes, wrapped at spaces, in a column `width` wide."""
    chars = max(int(width * CHARS_PER_WIDTH), 1)
    if len(text) <= chars:
        return 1
    return len(textwrap.wrap(text, width=chars))


def header_footer_text(text):
    """Text for a page header or footer, where & starts a code (&P the page number) and && is an &."""
    return str(text).replace("&", "&&")


def sized(points, text):
    """Header or footer text in a font size: &10 and the text, spaced when the text would extend the number."""
    return f"&{points}{' ' if text[:1].isdigit() else ''}{text}"


def print_setup(ws, sheet, organization, period):
    """A4 landscape, one page wide and as many pages tall as the rows need, the header row on every page.

    The title goes in the page header (the organisation on the left, the sheet's subject in the middle,
    the period on the right), so that the table still begins on the first row for whoever reads the file
    with a program. The fit to the page is a sheet property, written before the first row: call this
    before `ws.append`.
    """
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.orientation = Worksheet.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages tall as needed
    ws.page_margins = PageMargins(**PAGE_MARGINS)
    ws.print_options.gridLines = True
    ws.print_options.horizontalCentered = True
    ws.print_title_rows = "1:1"
    ws.oddHeader.left.text = sized(10, header_footer_text(organization.name[:HEADER_NAME_LENGTH]))
    ws.oddHeader.center.text = sized(12, "&B" + header_footer_text(sheet.subject))
    ws.oddHeader.right.text = sized(10, header_footer_text(period))
    # The pagination's words ("Trang 2 / 9"), with the codes of the page number and the page count.
    page = header_footer_text(_("Page %(number)s of %(total)s")) % {"number": "&P", "total": "&N"}
    ws.oddFooter.center.text = sized(9, page)


def write_workbook(period, organization, target):
    """Write the six sheets to `target` (a path or a binary file); return {sheet title: data rows}."""
    export = YearEndExport(period, organization)
    workbook = Workbook(write_only=True)
    workbook.properties.title = f"{period} – {organization.name}"
    written = {}
    for sheet in export.sheets():
        ws = workbook.create_sheet(sheet.title)
        columns = sheet.columns
        # Write-only sheets take the frozen pane, the widths and the fit to the page only before their
        # first row, and a row's height only before it is written.
        ws.freeze_panes = "A2"
        for index, column in enumerate(columns, start=1):
            ws.column_dimensions[get_column_letter(index)].width = column.width
        print_setup(ws, sheet, organization, period)
        header_lines = max(line_count(column.header, column.width * BOLD_WIDTH) for column in columns)
        ws.row_dimensions[1].height = header_lines * LINE_HEIGHT + HEADER_PADDING
        ws.append([_header_cell(ws, column) for column in columns])
        count = 0
        # Only dates and percentages need a styled cell; plain values are cheaper to stream.
        styled = [i for i, column in enumerate(columns) if column.kind in ("percent", "date")]
        wrapped = [i for i, column in enumerate(columns) if column.wrap]
        for number, row in enumerate(sheet.rows, start=2):
            values = [neutralise(value) if isinstance(value, str) else value for value in row]
            lines = max(
                (line_count(values[i], columns[i].width) for i in wrapped if isinstance(values[i], str)), default=1
            )
            if lines > 1:
                # Neither Excel nor LibreOffice fits a row to wrapped text when it opens a file: the row
                # gets its height here, and it is dropped once written so that memory stays flat.
                ws.row_dimensions[number].height = lines * LINE_HEIGHT
                values = [_cell(ws, value, column, WRAPPED) for value, column in zip(values, columns, strict=True)]
            else:
                for i in styled:
                    values[i] = _cell(ws, values[i], columns[i])
            ws.append(values)
            if lines > 1:
                del ws.row_dimensions[number]
            count += 1
        written[sheet.title] = count
    workbook.save(target)
    return written
