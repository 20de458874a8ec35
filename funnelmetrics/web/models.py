"""Response models of the REST API (they make its OpenAPI schema)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

Row = dict[str, Any]


class ErrorOut(BaseModel):
    detail: str = Field(description="What was wrong, in one line.")


class ParamOut(BaseModel):
    name: str
    default: str | int | float | bool | None
    description: str
    choices: list[str] | None
    kind: str


class MetricInfo(BaseModel):
    id: str
    name: str
    description: str
    unit: str
    group: str
    higher_is_better: bool
    is_ratio: bool
    formula: str
    entity: str
    time: str
    benchmark: list[float] | None = Field(description="(good, great) marks, where one exists.")
    params: list[ParamOut]


class CatalogOut(BaseModel):
    lang: str
    metrics: list[MetricInfo]


class MetricOut(BaseModel):
    """Exactly the CLI's `metric --format json` object (SPEC §5)."""

    metric: str
    unit: str
    rows: list[Row] = Field(description="period_start, dimensions, value, numerator, "
                                        "denominator (null: no data), immature (cohort "
                                        "metrics), partial (the period is not over at the "
                                        "as-of instant, or now).")


class FunnelOut(BaseModel):
    funnel: str
    start: str | None
    end: str | None
    rows: list[Row] = Field(description="stage, reached, converted_to_next, "
                                        "conversion_to_next, drop_off, median_days_in_stage.")


class AttributionModelOut(BaseModel):
    model: str
    conversion: str
    rows: list[Row] = Field(description="channel (or campaign_id), credited_conversions, "
                                        "credited_revenue, spend, roi, …")


class AttributionOut(BaseModel):
    results: list[AttributionModelOut]


class RowsOut(BaseModel):
    table: str
    total: int = Field(description="Rows matching the filters (all pages).")
    limit: int
    offset: int
    columns: list[str]
    rows: list[Row]


class TablesOut(BaseModel):
    tables: list[str]


class DimensionsOut(BaseModel):
    entity: str
    dimensions: list[str]


class ValuesOut(BaseModel):
    dimension: str
    values: list[str | None]


class MeOut(BaseModel):
    name: str
    role: str
    rep_id: str | None
    team: str | None
    rep_ids: list[str] | None = Field(description="The reps whose rows you see (null: all).")


class TileOut(BaseModel):
    metric: str
    label: str
    unit: str
    period_start: str | None
    value: float | None
    previous: float | None
    change: float | None = Field(description="Percentage points for rates (change_unit "
                                             "\"pp\"), else relative (\"relative\").")
    change_unit: str
    benchmark_status: str | None
    target: float | None
    target_status: str | None
    available: bool
    immature: bool = Field(description="A cohort still inside its conversion window.")
    partial: bool = Field(description="The period shown is not over at the as-of instant.")
    sparkline: list[Row] = Field(description="period_start, value, partial.")


class OverviewOut(BaseModel):
    grain: str
    start: str
    end: str
    include_partial: bool
    data_ended: str | None = Field(None, description=(
        "The data's last day, when it ends before the current period and the range "
        "defaulted to the data's own last full periods (an old export); else null."))
    tiles: list[TileOut]


class TableCounts(BaseModel):
    rows: int
    accepted: int
    rejected: int


class IngestOut(BaseModel):
    """Exactly the CLI's `ingest --format json` object (SPEC §5)."""

    tables: dict[str, TableCounts]
    quarantine: str | None
