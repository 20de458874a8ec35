"""Interface texts of the dashboard in en, id and ms (metric labels come from the catalogue).

`TEXTS` holds each text's key and its English; the Indonesian and Malay are in the gettext
catalogues (`locale/{id,ms}/LC_MESSAGES/funnelmetrics.po`) with the key as msgctxt and the
English as msgid. A new text: add it here and its two translations there (a test checks).
"""

from __future__ import annotations

from funnelmetrics.i18n.gettext import pgettext

LANG_NAMES = {"en": "English", "id": "Bahasa Indonesia", "ms": "Bahasa Melayu"}

# key (the msgctxt): English (the msgid)
TEXTS: dict[str, str] = {
    # navigation
    "overview": "Overview",
    "funnel": "Funnel",
    "trends": "Trends",
    "cohorts": "Cohorts",
    "revenue": "Revenue",
    "marketing": "Marketing",
    "team": "Team",
    "forecast": "Forecast",
    "bookings_forecast": "Bookings forecast (P10–P90)",
    "bookings_p50": "Bookings forecast (P50)",
    "forecast_accuracy": "Forecast back-test",
    "cohort_survival": "Cohort survival (sBG)",
    "no_insights": "Nothing stands out in this period.",
    "rows": "Rows",
    # filters
    "filters": "Filters",
    "start": "From",
    "end": "To",
    "grain": "Grain",
    "split_by": "Split by",
    "filter_by": "Filter",
    "value": "Value",
    "apply": "Apply",
    "reset": "Reset",
    "none": "(none)",
    "metric": "Metric",
    "day": "Day",
    "week": "Week",
    "month": "Month",
    "quarter": "Quarter",
    "year": "Year",
    # tiles and statuses
    "vs_previous": "vs previous period",
    "vs_prior": "vs prior",
    "kpi_summary": "KPI summary",
    "benchmark": "Benchmark",
    "great": "great",
    "good": "good",
    "below": "below benchmark",
    "target": "Target",
    "on_track": "on track",
    "at_risk": "at risk",
    "behind": "behind",
    "targets": "KPI targets this period",
    "actual": "Actual",
    "expected": "Expected so far",
    "status": "Status",
    "days_unit": "days",
    "by": "by",
    "no_data": "no data",
    "not_available": "not available yet",
    "not_for_role": "not available for your role",
    "period": "Period",
    # actions
    "drill_down": "Rows behind this",
    "export_rows": "Export rows",
    "export_data": "Export figures",
    "previous": "Previous",
    "next": "Next",
    "showing": "Showing {a}–{b} of {n}",
    # funnel page
    "stage": "Stage",
    "reached": "Reached",
    "conversion_to_next": "Conversion to next",
    "drop_off": "Drop-off",
    "median_days": "Median days in stage",
    "time_in_stage": "Time in stage",
    "funnel_by": "Funnel by {dim}",
    # cohorts
    "cohort": "Cohort",
    "conversion_heatmap": "Stage conversion by cohort",
    "lead_conversion_heatmap": "Lead conversion by cohort and {dim}",
    "retention_heatmap": "MRR retention by cohort",
    "retention_note": "Columns: periods since the cohort's first paid subscription; 100% = the "
                       "cohort's MRR in its first period.",
    "immature_note": "cohort younger than its conversion window",
    "immature_short": "immature cohort",
    # periods not over yet, and how a change reads
    "partial_note": "period not over yet: its figures may still change",
    "partial_short": "partial period",
    "include_partial": "Include the current period",
    "filter_not_applicable": "This filter or split does not apply to this figure",
    "axis_cut": "Axis cut at {cut}: the longer bar is labelled with its value",
    "data_ends_page": "The data ends on {end}: the figures are for its last full periods, up "
                       "to {last}.",
    "not_comparable": "not yet comparable",
    "data_ends": "The data ends on {end}: figures are for its last full periods (as of "
                  "{as_of}); --as-of for another date.",
    "pp_note": "pp = percentage points: the difference between two rates, not a relative "
                "change",
    # revenue / marketing / team
    "mrr_movements": "MRR movements",
    "start_mrr": "Start MRR",
    "end_mrr": "End MRR",
    "churn": "Churn",
    "attribution": "Attribution models side by side",
    "credited_revenue": "Credited revenue",
    "channel": "Channel",
    "spend": "Spend",
    "numerator": "Numerator",
    "denominator": "Denominator",
    "marketing_metrics": "Spend, CPL and CAC",
    "model": "Model",
    "leaderboard": "Leaderboard",
    "rep": "Rep",
    "won_amount": "Won amount",
    "quota": "Quota",
    "rank": "#",
    "insights": "Insights",
    # access
    "login": "Sign in",
    "logout": "Sign out",
    "token": "API token",
    "token_help": "Paste the token `funnelmetrics user add` printed for you.",
    "bad_token": "That token is not valid.",
    "signed_in_as": "{name} ({role})",
    "rows_forbidden": "Your role sees aggregates only, not rows.",
    "table": "Table",
    "language": "Language",
}


def t(key: str, lang: str = "en", **values: object) -> str:
    """The interface text `key` in `lang` (English when missing), with `{name}` filled in."""
    english = TEXTS.get(key)
    if english is None:
        return key
    text = pgettext(key, english, lang)
    return text.format(**values) if values else text


def choose_lang(lang: str | None, config_locale: str | None = None) -> str:
    """The language of an answer: --lang, else $FUNNELMETRICS_LANG, else the workspace's
    `locale`, else English (a region such as id_ID or ms-MY counts as its language). Every
    command that speaks a language chooses it here."""
    import os

    from funnelmetrics.errors import QueryError

    chosen = (lang or os.environ.get("FUNNELMETRICS_LANG") or config_locale or "en").strip()
    chosen = chosen.replace("-", "_").split("_")[0].lower()
    if chosen not in LANG_NAMES:
        raise QueryError(f"--lang must be one of {', '.join(LANG_NAMES)}, not {chosen!r}")
    return chosen
