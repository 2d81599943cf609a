"""The Rulebook base class: what a regime must provide and the machinery every regime shares.

A regime subclasses Rulebook, sets its class attributes (code, titles, documents, data directory,
parameters class, template files, quota rules) and writes the checks of each subject kind as
generators of findings. Messages, sources and marks come from its data/<regime>/rules.json.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP
from pathlib import Path
from typing import ClassVar

from vocabulary import ExclusionReason, Level

from .arithmetic import counts_of
from .catalogue import RENDERED_KEPT, RuleSpec, Share, Text, default_severity, load_catalogue, render_value
from .evaluation import Evaluation, Exclusion, Finding, QuotaResult, Score
from .facts import Answers, CollectiveFacts, MemberFacts, OrganizationFacts, Schedule
from .form_files import DATA_ROOT, load_template, read_json
from .forms import FormPurpose, FormTemplate, TemplateError, TemplateKey
from .parameters import ParameterError, ParameterIssue, Parameters, Switch, build_parameters
from .scales import Severity, SubjectKind, as_member, khtnv_two_years_running

_ROUNDING = {"down": ROUND_FLOOR, "half_up": ROUND_HALF_UP, "up": ROUND_CEILING}

# The due dates of a period (Schedule's fields) as the schedule findings name them.
STAGES = {
    "self_review_due": Text("Hạn nộp bản tự kiểm điểm", "The self-review due date"),
    "cell_meeting_due": Text("Hạn họp chi bộ", "The cell-meeting due date"),
    "grassroots_decision_due": Text("Hạn quyết định xếp loại ở cấp cơ sở", "The grassroots decision due date"),
    "city_decision_due": Text("Hạn quyết định xếp loại ở cấp trên cơ sở", "The city decision due date"),
}


@dataclass(frozen=True)
class Document:
    code: str
    issued_on: date
    issuer: str
    title_vi: str
    title_en: str


# The findings `Rulebook.once` keeps, at most.
ONCE_KEPT = 4096

# The method that evaluates each kind of subject.
EVALUATORS = {
    SubjectKind.MEMBER: "evaluate_member",
    SubjectKind.LEADER: "evaluate_leader",
    SubjectKind.COLLECTIVE: "evaluate_collective",
    SubjectKind.ORGANIZATION: "evaluate_organization",
}


@dataclass
class Context:
    """What the checks of one evaluation read."""

    rulebook: Rulebook
    kind: SubjectKind
    facts: object
    answers: Answers
    params: Parameters
    template: FormTemplate | None
    score: Score | None = None
    band: Level | None = None

    def finding(self, rule_id: str, **kwargs) -> Finding | None:
        return self.rulebook.finding(rule_id, self.params, **kwargs)

    def unchecked(self, rule_id: str, **kwargs) -> Finding | None:
        return self.rulebook.unchecked(rule_id, self.params, **kwargs)


class Rulebook:
    code: ClassVar[str] = ""
    title_vi: ClassVar[str] = ""
    title_en: ClassVar[str] = ""
    documents: ClassVar[tuple[Document, ...]] = ()
    data_root: ClassVar[Path] = DATA_ROOT
    data_dir: ClassVar[str] = ""  # under data_root: holds rules.json and the templates
    parameters_class: ClassVar[type[Parameters]] = Parameters
    templates: ClassVar[Mapping[tuple[SubjectKind, FormPurpose], TemplateKey]] = {}
    # The template whose items the evaluation of a subject kind reads (ratings or points).
    evaluation_purpose: ClassVar[FormPurpose] = FormPurpose.ANALYSIS
    quota_rules: ClassVar[Mapping[SubjectKind, str]] = {}
    raised_quota_rule: ClassVar[str | None] = None
    two_years_rule: ClassVar[str | None] = None
    mitigation_rule: ClassVar[str | None] = None  # the note recorded when the deciding level mitigates
    # The receiving cell classifies a transferred member (HD 21 tiết 6); the former one comments.
    transfer_rule: ClassVar[str | None] = None
    # Points each scored group must carry, whatever the weights inside it (2025: 30 general + 70 results).
    score_groups: ClassVar[Mapping[str, int]] = {}

    def __init__(self):
        self.rules: dict[str, RuleSpec] = load_catalogue(self.data_root / self.data_dir / "rules.json", self.code)
        self._templates: dict[tuple, FormTemplate] = {}
        self._last_templates: dict[tuple, tuple[Parameters, FormTemplate]] = {}
        self._once: dict[tuple, tuple[Parameters, tuple]] = {}

    def __repr__(self):
        return f"<{type(self).__name__} {self.code}>"

    # --- Rules and findings -------------------------------------------------------------------------

    @property
    def implemented_rules(self) -> dict[str, RuleSpec]:
        return {rule_id: spec for rule_id, spec in self.rules.items() if spec.implemented}

    @property
    def switchable_rules(self) -> tuple[str, ...]:
        return tuple(rule_id for rule_id, spec in self.rules.items() if spec.switchable)

    def finding(
        self,
        rule_id: str,
        params: Parameters,
        *,
        cap: Level | None = None,
        severity: Severity | None = None,
        mitigable: bool = False,
        unchecked: bool = False,
        variant: str = "default",
        **values,
    ) -> Finding | None:
        """A finding of `rule_id` with its messages rendered; None when the board switched the rule off.

        An [R] rule takes its severity from the period's switch (INFO notes stay INFO); a [V] rule
        blocks unless the caller passes a severity (some [V] rules have a severity parameter).
        """
        spec = self.rules[rule_id]
        if not spec.implemented:
            raise LookupError(f"{rule_id} is catalogued as skipped: {spec.reason}")
        if spec.switchable:
            switch = params.switch(rule_id)
            if not switch.enabled:
                return None
            if severity != Severity.INFO:
                severity = switch.severity
        severity = as_member(Severity, severity) if severity else default_severity(spec)
        values = {"cap": cap, **values} if cap is not None else values
        # A finding is frozen: the same verdict with the same values is one object, made once (a
        # province's list finds the same few things of thousands of members). Values that cannot be a
        # key (a list) make a new one each time.
        try:
            key = (severity, cap, mitigable, unchecked, variant, (*values.items(),), (*map(type, values.values()),))
            made = spec.findings.get(key)
        except TypeError:
            key, made = None, None
        if made is None:
            made = Finding(
                rule_id=rule_id,
                severity=severity,
                message_vi=spec.render("vi", values, variant),
                message_en=spec.render("en", values, variant),
                cap=cap,
                mitigable=mitigable,
                mark=spec.mark,
                unchecked=unchecked,
            )
            if key is not None and len(spec.findings) < RENDERED_KEPT:
                spec.findings[key] = made
        return made

    def once(self, params: Parameters, key: tuple, find: Callable, ctx: Context) -> tuple[Finding | None, ...]:
        """The findings `find(ctx, *key[1:])` gives, found once for each `key` and `params`: for checks that
        read nothing else of the subject than what `key` holds (the findings are frozen, and shared).

        The parameters are kept with what they gave, so that a key is never read with others (two
        periods' lists in two threads at once); the memo is emptied past ONCE_KEPT entries."""
        memo = self._once
        made = memo.get((id(params), key))
        if made is not None and made[0] is params:
            return made[1]
        found = tuple(find(ctx, *key[1:]))
        if len(memo) >= ONCE_KEPT:
            memo.clear()
        memo[(id(params), key)] = (params, found)
        return found

    def unchecked(self, rule_id: str, params: Parameters, *, cap: Level | None = None, variant="unknown", **values):
        """A warning that `rule_id` could not be checked for lack of data."""
        return self.finding(rule_id, params, cap=cap, severity=Severity.WARN, unchecked=True, variant=variant, **values)

    def exclusion_of(self, rule_id: str, params: Parameters, reason: ExclusionReason, *, reviewed=False, **values):
        """The exclusion by `rule_id` for `reason` (the rule's message variant of that name, if it has one).

        The values are dates and whole numbers, which read the same in both languages: they are kept
        as the message writes them, so that `exclusion_message` can write it again."""
        spec = self.rules[rule_id]
        if spec.switchable and not params.switch(rule_id).enabled:
            return None
        cited = {key: render_value(value, "vi") for key, value in values.items()}
        return Exclusion(
            reason=ExclusionReason(reason),
            rule_id=rule_id,
            message_vi=spec.render("vi", cited, spec.variant_for(reason)),
            message_en=spec.render("en", cited, spec.variant_for(reason)),
            reviewed=reviewed,
            values=cited,
        )

    def transferred_out(self, params: Parameters, *, transferred_on: date, to_cell: str) -> Exclusion | None:
        """Why a member transferred to a cell outside the organisation under review is not classified by
        it: the receiving organisation classifies. None when the regime has no transfer rule or the
        board switched it off (the former organisation then classifies the member as before)."""
        if self.transfer_rule is None:
            return None
        return self.exclusion_of(
            self.transfer_rule,
            params,
            ExclusionReason.TRANSFERRED_OUT,
            transferred=transferred_on,
            to_cell=to_cell,
        )

    # --- Parameters --------------------------------------------------------------------------------

    def default_parameters(self, year: int | None = None) -> Parameters:
        """The regime's defaults; every [R] rule switched on as a warning."""
        switches = {rule_id: Switch(True, Severity.WARN) for rule_id in self.switchable_rules}
        return self.parameters_class(switches=switches)

    def parameters(self, data: Mapping | None = None, *, year: int | None = None) -> Parameters:
        """The defaults overridden by `data` (the period's JSON); raises ParameterError on bad values."""
        return build_parameters(self.default_parameters(year), data, self.switchable_rules)

    def validate_parameters(self, data: Mapping | None) -> list[ParameterIssue]:
        try:
            self.parameters(data)
        except ParameterError as error:
            return list(error.issues)
        return []

    # --- Forms -------------------------------------------------------------------------------------

    def template_context(self, params: Parameters) -> dict:
        """Extra keys the `when` conditions of the templates may test."""
        return {}

    def form_variants(self, subject_kind: SubjectKind | str, purpose=FormPurpose.SELF_REVIEW) -> tuple:
        return self._template_key(subject_kind, purpose).variants

    def choose_variant(self, subject_kind: SubjectKind | str, facts=None) -> str | None:
        """The form variant for a subject: the first one, unless the regime knows better."""
        return self.form_variants(subject_kind)[0]

    def form_template(
        self,
        subject_kind: SubjectKind | str,
        purpose: FormPurpose | str = FormPurpose.SELF_REVIEW,
        variant: str | None = None,
        params: Parameters | None = None,
    ) -> FormTemplate:
        # The template last given for these parameters, without working out the key again (a province's
        # list asks for the same one 100,000 times with the same parameters).
        last = self._last_templates.get((subject_kind, purpose, variant))
        if last is not None and params is not None and last[0] is params:
            return last[1]
        asked = (subject_kind, purpose, variant)
        kind, purpose = as_member(SubjectKind, subject_kind), as_member(FormPurpose, purpose)
        key = self._template_key(kind, purpose)
        variant = key.variants[0] if variant is None else variant
        if variant not in key.variants:
            raise ValueError(f"form variant {variant!r} does not exist for {kind} {purpose} in regime {self.code}")
        context = self.template_context(params or self.default_parameters())
        cache_key = (kind, purpose, variant, tuple(sorted(context.items())))
        if cache_key not in self._templates:
            self._templates[cache_key] = load_template(
                key.file,
                regime=self.code,
                subject_kind=kind.value,
                purpose=purpose.value,
                variant=variant,
                context=context,
                root=self.data_root,
            )
        if params is not None:
            self._last_templates[asked] = (params, self._templates[cache_key])
        return self._templates[cache_key]

    def check_template(self, template: FormTemplate) -> FormTemplate:
        """A template (e.g. the board's edited copy) checked against the regime: its kind and score groups."""
        problems = []
        if template.regime != self.code:
            problems.append(f"the template belongs to regime {template.regime!r}, not {self.code!r}")
        for group, required in self.score_groups.items():
            total = sum((s.max_points or 0 for s in template.sections if s.group == group), 0)
            if template.points_items() and total != required:
                problems.append(f"the {group} group carries {total} points; this regime requires {required}")
        if problems:
            raise TemplateError(problems)
        return template

    def all_templates(self, params: Parameters | None = None) -> Iterator[FormTemplate]:
        for kind, purpose in self.templates:
            for variant in self.form_variants(kind, purpose):
                yield self.form_template(kind, purpose, variant, params)

    def _template_key(self, subject_kind, purpose) -> TemplateKey:
        try:
            return self.templates[(as_member(SubjectKind, subject_kind), as_member(FormPurpose, purpose))]
        except KeyError:
            raise ValueError(f"regime {self.code} has no {purpose} form for {subject_kind}") from None

    def manifestations(self) -> list[dict]:
        """The 27 manifestations of Resolution 04-NQ/TW, grouped (common/manifestations_27.json)."""
        return read_json("common/manifestations_27.json", self.data_root)["groups"]

    # --- Classification ------------------------------------------------------------------------------

    def exclusion(self, facts, reference_date: date, params: Parameters | None = None) -> Exclusion | None:
        """Why the subject is not classified at `reference_date`, or None when it is classified."""
        raise NotImplementedError

    def evaluate(self, subject_kind: SubjectKind | str, facts, answers: Answers | None = None, params=None, **kwargs):
        method = getattr(self, EVALUATORS[as_member(SubjectKind, subject_kind)])
        return method(facts, answers, params, **kwargs)

    def evaluate_member(self, facts: MemberFacts, answers=None, params=None, **kwargs) -> Evaluation:
        raise NotImplementedError

    def evaluate_leader(self, facts, answers=None, params=None, **kwargs) -> Evaluation:
        raise NotImplementedError

    def evaluate_collective(self, facts: CollectiveFacts, answers=None, params=None, **kwargs) -> Evaluation:
        raise NotImplementedError

    def evaluate_organization(self, facts: OrganizationFacts, answers=None, params=None, **kwargs) -> Evaluation:
        raise NotImplementedError

    def _run(
        self,
        kind: SubjectKind,
        facts,
        answers: Answers | None,
        params: Parameters | None,
        checks: Callable[[Context], Iterable[Finding | None]],
        *,
        reference_date: date | None = None,
        proposed_level: Level | str | None = None,
        template: FormTemplate | None = None,
        variant: str | None = None,
    ) -> Evaluation:
        """Shared frame of evaluate_*: exclusion first (when a reference date is given), then the checks."""
        params = params or self.default_parameters()
        answers = answers or Answers()
        proposed = None if proposed_level is None else Level.coerce(proposed_level)
        if reference_date is not None:
            excluded = self.exclusion(facts, reference_date, params)
            if excluded is not None:
                return Evaluation(self.code, kind, not_classified=excluded, proposed_level=proposed)
        if template is None:
            variant = variant or self.choose_variant(kind, facts)
            template = self.form_template(kind, self.evaluation_purpose, variant, params)
        else:
            self.check_template(template)
        context = Context(self, kind, facts, answers, params, template)
        findings = tuple(finding for finding in checks(context) if finding is not None)
        return Evaluation(self.code, kind, findings, score=context.score, band=context.band, proposed_level=proposed)

    def mitigate(self, evaluation: Evaluation, rule_ids: Iterable[str], params: Parameters | None = None) -> Evaluation:
        """The evaluation after the deciding level set aside mitigable findings (its written reason is the caller's).

        The set-aside findings stay visible as INFO notes, so they no longer cap the level; the regime's
        mitigation rule, if any, records which ones. Raises ValueError for a rule that is not mitigable here.
        """
        rule_ids = set(rule_ids)
        mitigable = {finding.rule_id for finding in evaluation.mitigable}
        if not rule_ids or rule_ids - mitigable:
            wrong = ", ".join(sorted(rule_ids - mitigable)) or "(none given)"
            raise ValueError(f"not mitigable in this evaluation: {wrong}")
        findings = [
            replace(finding, severity=Severity.INFO, mitigable=False) if finding.rule_id in rule_ids else finding
            for finding in evaluation.findings
        ]
        if self.mitigation_rule:
            note = self.finding(
                self.mitigation_rule,
                params or self.default_parameters(),
                severity=Severity.INFO,
                rules=sorted(rule_ids),
            )
            findings.append(note)
        return replace(evaluation, findings=tuple(findings))

    # --- Schedule of a period ---------------------------------------------------------------------------

    def schedule_findings(self, schedule: Schedule, params: Parameters | None = None) -> tuple[Finding, ...]:
        """Warnings on the period's due dates against the regime's deadlines (none known: no finding)."""
        return ()

    def meeting_findings(
        self, held_on: date, schedule: Schedule, params: Parameters | None = None
    ) -> tuple[Finding, ...]:
        """Warnings on the date a review meeting was held, against the period's due dates."""
        return ()

    def _late(
        self, rule_id: str, params: Parameters, schedule: Schedule, stages, deadline: date, variant="default"
    ) -> list[Finding]:
        """A warning of `rule_id` for each of `stages` due after `deadline`."""
        return [
            self.finding(
                rule_id,
                params,
                severity=Severity.WARN,
                variant=variant,
                stage=STAGES[stage],
                due=due,
                deadline=deadline,
            )
            for stage, due in schedule.due_dates(*stages)
            if due > deadline
        ]

    # --- Quota and follow-up -----------------------------------------------------------------------------

    def quota(
        self,
        counts_by_level: Mapping[Level | str, int],
        params: Parameters | None = None,
        *,
        raised: bool = False,
        subject_kind: SubjectKind | str = SubjectKind.MEMBER,
    ) -> QuotaResult:
        """HTXSNV ≤ rate × denominator within one group, the cap rounded as the parameters say (down)."""
        params = params or self.default_parameters()
        if raised:
            if self.raised_quota_rule is None:
                raise ValueError(f"regime {self.code} has no raised quota")
            return self._quota(counts_by_level, params, self.raised_quota_rule, params.quota_raised_rate)
        return self._quota(counts_by_level, params, self.quota_rules[SubjectKind(subject_kind)], params.quota_rate)

    def exception_quota(
        self,
        counts_by_level: Mapping[Level | str, int],
        params: Parameters | None = None,
        *,
        subject_kind: SubjectKind | str = SubjectKind.MEMBER,
    ) -> QuotaResult | None:
        """The highest quota an exception decided by the competent level may reach for one group, or
        None when the regime (or the period's parameters) allows no exception. Base: the raised quota,
        when the regime has one."""
        if self.raised_quota_rule is None:
            return None
        return self.quota(counts_by_level, params, raised=True, subject_kind=subject_kind)

    def exception_rule(self, subject_kind: SubjectKind | str = SubjectKind.MEMBER) -> str:
        """The rule an exception to the quota answers to: the raised quota's, else the quota's own."""
        return self.raised_quota_rule or self.quota_rules[SubjectKind(subject_kind)]

    def _quota(self, counts_by_level: Mapping[Level | str, int], params: Parameters, rule_id: str, rate) -> QuotaResult:
        counts = counts_of(counts_by_level)
        spec = self.rules[rule_id]
        denominator = counts[Level.HTTNV]
        if params.quota_denominator == "HTTNV_OR_BETTER":
            denominator += counts[Level.HTXSNV]
        cap_count = int((rate * denominator).to_integral_value(rounding=_ROUNDING[params.quota_rounding]))
        count = counts[Level.HTXSNV]
        if spec.switchable:
            switch = params.switch(rule_id)
            severity = switch.severity if switch.enabled else Severity.INFO
        else:
            severity = params.quota_severity
        within = count <= cap_count
        values = {
            "count": count,
            "cap_count": cap_count,
            "denominator": denominator,
            "rate": Share(rate),
            "basis": Text("số HTTNV", "the HTTNV count")
            if params.quota_denominator == "HTTNV"
            else Text("số HTTNV trở lên", "the count at HTTNV or better"),
            "verdict": Text("trong giới hạn", "within the quota")
            if within
            else Text(f"vượt {count - cap_count}", f"{count - cap_count} over the quota"),
        }
        return QuotaResult(
            rule_id=rule_id,
            rate=rate,
            denominator=denominator,
            cap_count=cap_count,
            count=count,
            severity=severity,
            message_vi=spec.render("vi", values),
            message_en=spec.render("en", values),
            mark=spec.mark,
        )

    def two_years_khtnv(
        self, previous_level: Level | str | None, level: Level | str | None, params: Parameters | None = None
    ) -> Finding | None:
        """A warning when a member is KHTNV for the second year running (education, then possible removal)."""
        if self.two_years_rule is None or not khtnv_two_years_running(previous_level, level):
            return None
        return self.finding(self.two_years_rule, params or self.default_parameters(), severity=Severity.WARN)
