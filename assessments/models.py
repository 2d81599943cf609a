# Periods, assessments, meetings and decisions arrive with the review-period issue.
