"""The attribution models by name (SPEC §4): which exist, and building one from its name and the
parameters it takes."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

from funnelmetrics.attribution.base import AttributionModel
from funnelmetrics.attribution.markov import Markov
from funnelmetrics.attribution.rules import (
    FirstTouch,
    LastTouch,
    Linear,
    PositionBased,
    TimeDecay,
    WShaped,
)
from funnelmetrics.attribution.shapley import Shapley
from funnelmetrics.errors import QueryError

MODELS: dict[str, type[AttributionModel]] = {
    m.name: m for m in (FirstTouch, LastTouch, Linear, TimeDecay, PositionBased, WShaped,
                        Markov, Shapley)
}

def model_names(model: str | Iterable[str]) -> list[str]:
    """`all`, one name, a comma-separated list or a list of names, checked."""
    names = [model] if isinstance(model, str) else list(model)
    names = [p.strip() for n in names for p in n.split(",") if p.strip()]
    if names == ["all"]:
        return list(MODELS)
    if not names:
        raise QueryError(f"name an attribution model: {', '.join(MODELS)} or all")
    for n in names:
        _known(n)
    return names


def _known(name: str) -> str:
    if name not in MODELS:
        raise QueryError(f"unknown attribution model {name!r}; models: {', '.join(MODELS)} or all")
    return name


def make_model(model: str | AttributionModel, **params: Any) -> AttributionModel:
    """A model from its name and the parameters it takes (others are ignored when it is one of
    several, see `make_models`)."""
    if isinstance(model, AttributionModel):
        if params:
            raise QueryError("pass parameters to the model's constructor, not with an instance")
        return model
    return make_models([_known(model)], **params)[model]


def make_models(names: Iterable[str], **params: Any) -> dict[str, AttributionModel]:
    """Models by name; each gets the parameters it accepts; a parameter none accepts is an error."""
    accepted: set[str] = set()
    models = {}
    for name in names:
        cls = MODELS[name]
        own = set(inspect.signature(cls.__init__).parameters) - {"self"}
        accepted |= own
        models[name] = cls(**{k: v for k, v in params.items() if k in own and v is not None})
    unknown = set(params) - accepted
    if unknown:
        raise QueryError(f"no attribution model here takes parameter {sorted(unknown)[0]!r}")
    return models
