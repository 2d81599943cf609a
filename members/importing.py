"""Import of organisations and members from a spreadsheet (.xlsx or .csv).

One entry point, `run_import(kind, upload, user, commit=...)`: it reads the file, checks every row
and column, and with `commit=True` writes all the rows in one transaction, or nothing if any row is
bad. The dry run and the commit run the same checks; the commit re-reads the uploaded file, so the
screens keep no state between the two steps (the user uploads the file again to commit).

The column headers are a file format, not interface text: they are the Vietnamese headers of the
downloadable template in every interface language, matched without regard to case or diacritics.
Each row is checked by the ModelForm of what it creates (`forms.MemberImportForm`,
`forms.OrganizationImportForm`): the model's field rules and `clean`, with fields that read what a
spreadsheet holds (choice columns accept the code, the English label or the Vietnamese label of a
choice). What takes the whole file or the database is checked here, in bulk: card numbers and codes
taken or repeated, the cells and parents, the user's scope.

Members are created, never updated: a party card number that already exists is an error.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from organizations import policy
from organizations.audit import announce
from organizations.models import Cluster, Organization
from organizations.uploads import UploadLimits, UploadRejected, read_rows
from organizations.vietnamese import fold

from .forms import CardNumberField, MemberImportForm, OrganizationImportForm, cell_text
from .models import Member

BATCH_SIZE = 1000
# A background commit (members.background) reports its progress every this many rows checked or written.
PROGRESS_CHUNK = 500
# Card numbers are checked against the database in chunks of this many (one query for a city).
LOOKUP_CHUNK = 10000
MEMBERS, ORGANIZATIONS = "members", "organizations"
KINDS = (MEMBERS, ORGANIZATIONS)

# (header, field) in template order.
ORGANIZATION_COLUMNS = (
    ("Mã", "code"),
    ("Tên", "name"),
    ("Loại tổ chức", "kind"),
    ("Mã tổ chức cấp trên", "parent"),
    ("Loại hình", "sector"),
    ("Cụm", "cluster"),
    ("Ngày thành lập", "founded_on"),
)
MEMBER_COLUMNS = (
    ("Họ và tên", "full_name"),
    ("Giới tính", "gender"),
    ("Ngày sinh", "date_of_birth"),
    ("Số thẻ đảng viên", "card_number"),
    ("Ngày vào Đảng", "admission_date"),
    ("Ngày chính thức", "official_date"),
    ("Mã chi bộ", "cell"),
    ("Đơn vị công tác", "work_unit"),
    ("Nhóm nghề nghiệp", "occupation"),
    ("Chức vụ Đảng", "party_post"),
    ("Chức vụ chính quyền", "government_post"),
    ("Lãnh đạo quản lý", "is_leader"),
    ("Tình trạng", "status"),
    ("Email", "email"),
    ("Điện thoại", "phone"),
)
COLUMNS = {MEMBERS: MEMBER_COLUMNS, ORGANIZATIONS: ORGANIZATION_COLUMNS}
# Columns written as text in the template, so that Excel keeps leading zeros.
TEXT_COLUMNS = {"card_number", "phone", "code", "parent", "cell"}


class ImportRejected(Exception):
    """The file as a whole cannot be read: the message says why."""


@dataclass(frozen=True)
class RowError:
    row: int  # the row number as the spreadsheet shows it (the header is row 1)
    column: str  # the header of the column, or "" for the row as a whole
    message: str


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    errors: list = field(default_factory=list)
    created: int = 0

    @property
    def ok(self):
        return not self.errors


def max_bytes():
    return UploadLimits.from_settings().max_bytes


# --- Reading the file -------------------------------------------------------------------------------


def read_table(upload):
    """(header row, headers, rows) of the first sheet; rows are (row number, [values]) with blank rows
    left out. The file is read within the upload limits (organizations.uploads)."""
    try:
        table = read_rows(upload)
    except UploadRejected as exc:
        raise ImportRejected(str(exc)) from exc
    headers = None
    rows = []
    for number, values in enumerate(table, start=1):
        values = [_clean_cell(value) for value in values]
        if headers is None:
            if not any(value != "" for value in values):
                continue  # blank lines above the header
            headers = values
            header_row = number
            continue
        if any(value != "" for value in values):
            rows.append((number, values))
    if headers is None:
        raise ImportRejected(_("The file is empty."))
    return header_row, headers, rows


def _clean_cell(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return " ".join(value.split())
    return value


def map_headers(kind, header_row, headers):
    """{field: column index}, or ImportRejected naming the missing headers."""
    wanted = {fold(header): (header, name) for header, name in COLUMNS[kind]}
    found = {}
    for index, header in enumerate(headers):
        key = fold(str(header))
        if key in wanted and wanted[key][1] not in found:
            found[wanted[key][1]] = index
    missing = [header for header, name in COLUMNS[kind] if name not in found]
    if missing:
        raise ImportRejected(
            _("Row %(row)s misses these column headers: %(headers)s. Use the template.")
            % {"row": header_row, "headers": ", ".join(missing)}
        )
    return found


# --- Checking rows ----------------------------------------------------------------------------------


class _Row:
    """One row of the file: its cells by field, and its errors keyed by the column header."""

    def __init__(self, kind, result, number, values, index):
        self.headers = {name: header for header, name in COLUMNS[kind]}
        self.result, self.number = result, number
        self.data = {name: values[position] if position < len(values) else "" for name, position in index.items()}
        self.failed = False

    def text(self, name):
        return cell_text(self.data.get(name, ""))

    def error(self, name, message):
        self.failed = True
        self.result.errors.append(RowError(self.number, self.headers.get(name, ""), str(message)))

    def form_errors(self, form):
        """The form's messages, each under the header of its column (the row's own under none)."""
        for name, messages in form.errors.items():
            for message in messages:
                self.error(name, message)


def _card_number(value):
    """The card number of a cell, or None when it is not one (the row's form says why)."""
    try:
        return CardNumberField(max_length=20).clean(value)
    except ValidationError:
        return None


def _report(progress, done: int, total: int, step: str) -> None:
    """Tell a background job how far the import is, every PROGRESS_CHUNK rows (and at the end of a step);
    `progress` raises JobCancelled when the job was cancelled, which rolls the import back."""
    if progress is not None and (done % PROGRESS_CHUNK == 0 or done == total):
        progress(done, total, step)


def _check_members(rows, index, user, result, progress=None):
    rows = [_Row(MEMBERS, result, number, values, index) for number, values in rows]
    total, step = 2 * len(rows), _("Checking the rows")
    codes = {row.text("cell") for row in rows} - {""}
    cells = {org.code: org for org in Organization.objects.filter(code__in=codes).only("pk", "code", "kind", "path")}
    cards = sorted({_card_number(row.data["card_number"]) for row in rows} - {None})
    taken = set()
    for start in range(0, len(cards), LOOKUP_CHUNK):
        chunk = cards[start : start + LOOKUP_CHUNK]
        taken.update(Member.objects.filter(card_number__in=chunk).values_list("card_number", flat=True))

    members, seen_cards = [], {}
    for position, row in enumerate(rows, start=1):
        _report(progress, position, total, step)
        cell_code = row.text("cell")
        cell = None
        if not cell_code:
            row.error("cell", _("This field is required."))
        elif len(cell_code) > 40:
            row.error("cell", _("At most %(limit_value)s characters.") % {"limit_value": 40})
        elif cell_code not in cells:
            row.error("cell", _("No organisation has the code “%(code)s”.") % {"code": cell_code})
        elif cells[cell_code].kind not in Organization.CELL_KINDS:
            row.error("cell", _("“%(code)s” is not a cell: members belong to cells.") % {"code": cell_code})
        elif not policy.may(user, "import.members", cells[cell_code]):
            row.error("cell", _("The cell “%(code)s” is outside your organisations.") % {"code": cell_code})
        else:
            cell = cells[cell_code]
        # The field rules and the model's own checks; the cell is set when it is one the user may fill.
        form = MemberImportForm(row.data, instance=Member(cell=cell))
        row.form_errors(form)
        card = form.cleaned_data.get("card_number")
        if card:
            if card in seen_cards:
                row.error(
                    "card_number",
                    _("The card number %(card)s is repeated: it is already on row %(row)s.")
                    % {"card": card, "row": seen_cards[card]},
                )
            else:
                seen_cards[card] = row.number
            if card in taken:
                row.error(
                    "card_number",
                    _(
                        "A member with card number %(card)s already exists; "
                        "the import creates members, it does not update them."
                    )
                    % {"card": card},
                )
        if not row.failed:
            members.append(form.instance)
    return members


def _write_members(members, progress=None):
    for member in members:
        member.fill_derived()  # bulk_create skips save(), which computes the search and sort keys
    total = 2 * len(members)
    for start in range(0, len(members), BATCH_SIZE):
        Member.objects.bulk_create(members[start : start + BATCH_SIZE], batch_size=BATCH_SIZE)
        if progress is not None:
            progress(len(members) + min(start + BATCH_SIZE, len(members)), total, _("Writing the rows"))
    return len(members)


def _check_organizations(rows, index, user, result, progress=None):
    clusters = {}
    for cluster in Cluster.objects.all():
        clusters[cluster.code.lower()] = cluster
        clusters[cluster.name.lower()] = cluster
        clusters.setdefault(fold(cluster.name), cluster)

    parsed = []
    total, step = 2 * len(rows), _("Checking the rows")
    for position, (number, values) in enumerate(rows, start=1):
        _report(progress, position, total, step)
        row = _Row(ORGANIZATIONS, result, number, values, index)
        form = OrganizationImportForm(row.data)
        row.form_errors(form)
        code = form.cleaned_data.get("code", "")
        parent = row.text("parent")
        if len(parent) > 40:
            row.error("parent", _("At most %(limit_value)s characters.") % {"limit_value": 40})
            parent = ""
        cluster_text = row.text("cluster")
        cluster = None
        if len(cluster_text) > 200:
            row.error("cluster", _("At most %(limit_value)s characters.") % {"limit_value": 200})
        elif cluster_text:
            cluster = clusters.get(cluster_text.lower()) or clusters.get(fold(cluster_text))
            if cluster is None:
                row.error("cluster", _("No cluster has the code or name “%(value)s”.") % {"value": cluster_text})
        form.instance.cluster = cluster
        parsed.append((row, code, form.instance, form.cleaned_data.get("kind"), parent))

    codes = {item[1] for item in parsed if item[1]}
    parents = {item[4] for item in parsed if item[4]}
    existing = {
        org.code: org
        for org in Organization.objects.filter(code__in=codes | parents).only("pk", "code", "kind", "path", "depth")
    }
    file_kinds, seen = {}, {}
    for row, code, _org, kind, _parent in parsed:
        if not code:
            continue
        if code in seen:
            row.error(
                "code",
                _("The code %(code)s is repeated: it is already on row %(row)s.") % {"code": code, "row": seen[code]},
            )
        else:
            seen[code] = row.number
            file_kinds[code] = kind
        if code in existing:
            row.error("code", _("An organisation with the code %(code)s already exists.") % {"code": code})

    planned = []
    for row, _code, org, _kind, parent in parsed:
        if not parent:
            if not policy.may(user, "import.roots", None):
                row.error("parent", _("This field is required."))
        elif parent in existing:
            if not policy.may(user, "import.organizations", existing[parent]):
                row.error("parent", _("The organisation “%(code)s” is outside your organisations.") % {"code": parent})
            elif existing[parent].kind in Organization.CELL_KINDS:
                row.error(
                    "parent", _("“%(code)s” is a cell: a cell holds members, not organisations.") % {"code": parent}
                )
        elif parent in file_kinds:
            if file_kinds[parent] in Organization.CELL_KINDS:
                row.error(
                    "parent", _("“%(code)s” is a cell: a cell holds members, not organisations.") % {"code": parent}
                )
        else:
            row.error("parent", _("No organisation has the code “%(code)s”.") % {"code": parent})
        if not row.failed:
            planned.append((row, org, parent))

    # Parents may come after their children in the file: place them in an order where each parent exists.
    ordered, placed = [], set(existing)
    pending = planned
    while pending:
        ready = [item for item in pending if not item[2] or item[2] in placed]
        if not ready:
            break
        ordered.extend(ready)
        placed.update(item[1].code for item in ready)
        pending = [item for item in pending if item not in ready]
    for row, _org, parent in pending:
        row.error("parent", _("The organisation “%(code)s” cannot be placed: its row has errors.") % {"code": parent})
    return ordered


def _write_organizations(ordered, progress=None):
    """Through treebeard, one node at a time: a tree import is hundreds of rows, not thousands."""
    created = {}
    total = 2 * len(ordered)
    for position, (_row, org, parent_code) in enumerate(ordered, start=1):
        _report(progress, len(ordered) + position, total, _("Writing the rows"))
        if not parent_code:
            node = Organization.objects.add_root(instance=org)
        else:
            parent = created.get(parent_code) or Organization.objects.get(code=parent_code)
            parent.refresh_from_db()  # earlier insertions may have shifted its path
            node = Organization.objects.add_child(parent, instance=org)
        created[node.code] = node
    return len(created)


# --- The entry point --------------------------------------------------------------------------------


def importable_kinds(user):
    """The kinds `user` may import: members for those who manage a cell, organisations for the board
    (and for an administrator, who alone adds roots). Each row is checked again against its own cell
    or parent."""
    kinds = []
    if policy.may_somewhere(user, "import.members"):
        kinds.append(MEMBERS)
    if policy.may_somewhere(user, "import.organizations") or policy.may(user, "import.roots", None):
        kinds.append(ORGANIZATIONS)
    return tuple(kinds)


def run_import(
    kind: str,
    upload: Any,
    user: Any,
    *,
    commit: bool = False,
    progress: Callable[..., None] | None = None,
    on_written: Callable[[ImportResult], None] | None = None,
    audit_data: dict[str, Any] | None = None,
) -> ImportResult:
    """Check every row of the upload; with commit, write all the rows or none. Raises ImportRejected,
    and `policy.Refused` (before the file is read) for a user who may import no such thing.

    For a background commit (members.background): `progress(done, total, step)` is called every
    PROGRESS_CHUNK rows checked or written (a JobCancelled it raises rolls everything back);
    `on_written(result)` is called inside the transaction once the rows are written (the job records
    there that it imported, so a retry after a lost worker finds it done), and `audit_data` is added to
    the audit entry's details."""
    if kind not in KINDS:
        raise ImportRejected(_("Unknown kind of import."))
    if kind not in importable_kinds(user):
        raise policy.Refused(str(policy.RULES[f"import.{kind}"].refusal))
    header_row, headers, rows = read_table(upload)
    index = map_headers(kind, header_row, headers)
    result = ImportResult(kind=kind, rows=len(rows))
    if not rows:
        raise ImportRejected(_("The file has headers but no rows."))
    check, write = (_check_members, _write_members) if kind == MEMBERS else (_check_organizations, _write_organizations)
    if not commit:
        check(rows, index, user, result)
        return result
    try:
        with transaction.atomic():
            # Checked again inside the transaction: what the dry run saw may have changed since.
            valid = check(rows, index, user, result, progress)
            if result.errors:
                return result
            result.created = write(valid, progress)
            announce(
                f"import_{kind}",
                actor=user,
                data={"rows": result.rows, "created": result.created, **(audit_data or {})},
            )
            if on_written is not None:
                on_written(result)
    except IntegrityError:
        result.created = 0
        result.errors.append(
            RowError(0, "", _("A code or a card number was just taken by someone else. Nothing was imported."))
        )
    return result


# --- The template -----------------------------------------------------------------------------------


def template_workbook(kind):
    """The empty template of a kind, as .xlsx bytes: the headers, and a sheet listing accepted values."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Data")[:31]
    bold = Font(bold=True)
    for column, (header, name) in enumerate(COLUMNS[kind], start=1):
        cell = sheet.cell(row=1, column=column, value=header)
        cell.font = bold
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = max(14, len(header) + 4)
        if name in TEXT_COLUMNS:
            # Text, so that Excel keeps leading zeros of card numbers and phone numbers.
            for row in range(2, 1002):
                sheet.cell(row=row, column=column).number_format = "@"
    sheet.freeze_panes = "A2"
    guide = workbook.create_sheet(_("Accepted values")[:31])
    guide.append([_("Column"), _("Accepted values")])
    for cell in guide[1]:
        cell.font = bold
    for header, values in _accepted_values(kind):
        guide.append([header, values])
    guide.column_dimensions["A"].width = 24
    guide.column_dimensions["B"].width = 100
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _accepted_values(kind):
    date_note = _("dd/mm/yyyy or an Excel date")
    if kind == ORGANIZATIONS:
        return [
            ("Mã", _("a unique code: letters without diacritics, digits, hyphens")),
            ("Loại tổ chức", "; ".join(str(label) for _value, label in Organization.Kind.choices)),
            ("Mã tổ chức cấp trên", _("the code of an existing organisation or of a row of this file")),
            ("Loại hình", "; ".join(str(label) for _value, label in Organization.Sector.choices)),
            ("Cụm", _("the code or the name of an existing cluster (optional)")),
            ("Ngày thành lập", date_note),
        ]
    return [
        ("Giới tính", "; ".join(str(label) for _value, label in Member.Gender.choices)),
        ("Ngày sinh, Ngày vào Đảng, Ngày chính thức", date_note),
        ("Ngày chính thức", _("empty while the member is probationary")),
        ("Số thẻ đảng viên", _("unique; a card number that already exists is an error (members are not updated)")),
        ("Mã chi bộ", _("the code of a cell that you manage")),
        ("Nhóm nghề nghiệp", "; ".join(str(label) for _value, label in Member.Occupation.choices)),
        ("Chức vụ Đảng", "; ".join(str(label) for value, label in Member.PartyPost.choices if value)),
        ("Lãnh đạo quản lý", "Có; Không"),
        ("Tình trạng", "; ".join(str(label) for _value, label in Member.Status.choices)),
    ]
