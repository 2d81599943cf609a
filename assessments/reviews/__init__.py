"""The forms people fill: members' self-reviews (online, by a secretary, or on paper), the analysis
forms of raters, and the cell's follow-up of them (dashboard, reminders, call list).

models     Analysis
formview   a form template turned into the page's sections and fields
forms      the answers as a Django form built from the template (checked by the rulebook), the
           reason for returning a form, the rows of the self-reviews handed in on paper
services   save, submit, return, paper self-reviews, analysis forms, reminders
views      the pages of one form;  progress: the pages that follow a cell's forms
history    a form's audit trail in the reader's words
documents  a self-review as .docx
"""
