"""The core of a review: the period and its states, the assessment of each subject, the workflow
table, who may see what, and the audit trail. Every stage builds on it; it imports none of them.

models     Period, Assessment, AuditEntry
workflow   which actor may take which action on an assessment in which state
access     the page's object, inside the user's business, or 404
services   opening and closing a period, the board's say on who is classified, the shared checks
facts      the member records turned into the rulebooks' facts
selectors  levels by year, a cell's level, the count of levels of a group
text       the page's language
forms      what the stages' forms share (a level, the version, a formset keyed by subject) and the
           board's roster decision
"""
