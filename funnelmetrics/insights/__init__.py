"""Insights (SPEC §4): what the numbers say — KPI targets and their status, bottlenecks, segments,
stalled deals, churn risk."""
