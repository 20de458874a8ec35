"""Closed-loop multi-touch attribution (SPEC §4, issue #4): won revenue, opportunities and leads
credited back to the channels and campaigns that touched them.

>>> from funnelmetrics.attribution import attribute, Markov, build_journeys  # doctest: +SKIP
>>> attribute(ws, "linear", by="channel", conversion="won")  # doctest: +SKIP
>>> Markov(order=2).fit(build_journeys(ws)).removal_effects_  # doctest: +SKIP
"""

from __future__ import annotations

from funnelmetrics.attribution.base import AttributionModel, RuleModel
from funnelmetrics.attribution.credit import credit_rows, register
from funnelmetrics.attribution.journeys import NO_TOUCH, Journeys, Summary, build_journeys
from funnelmetrics.attribution.markov import Markov
from funnelmetrics.attribution.models import MODELS, make_model, make_models, model_names
from funnelmetrics.attribution.report import (
    attribute,
    attribute_models,
    credited_revenue,
    result_table,
    side_by_side,
    spend_expr,
)
from funnelmetrics.attribution.rules import (
    FirstTouch,
    LastTouch,
    Linear,
    PositionBased,
    TimeDecay,
    WShaped,
)
from funnelmetrics.attribution.shapley import Shapley

__all__ = [
    "MODELS", "NO_TOUCH", "AttributionModel", "FirstTouch", "Journeys", "LastTouch", "Linear",
    "Markov", "PositionBased", "RuleModel", "Shapley", "Summary", "TimeDecay", "WShaped",
    "attribute", "attribute_models", "build_journeys", "credit_rows", "credited_revenue",
    "make_model", "make_models", "model_names", "register", "result_table", "side_by_side",
    "spend_expr",
]
