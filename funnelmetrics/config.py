"""Workspace configuration: `funnelmetrics.toml` beside the database (SPEC §2 "Funnels are configured").

Absent file → defaults. A wrong value is a `ConfigError` naming the file, the key and the reason.
"""

from __future__ import annotations

import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from funnelmetrics.errors import ConfigError

CONFIG_NAME = "funnelmetrics.toml"



def check_zone(value: str) -> str:
    """An IANA time zone name, or a ValueError saying what to write instead."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as "
                         "'Asia/Jakarta')") from None
    return value

class Mode(StrEnum):
    """How a lead reaches a stage (SPEC §2): by the stage or any later one, or by the stage only."""

    CUMULATIVE = "cumulative"
    STRICT = "strict"


class Funnel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    stages: tuple[str, ...] = Field(min_length=2)

    @field_validator("stages")
    @classmethod
    def _distinct(cls, stages: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(stages)) != len(stages):
            raise ValueError("a stage appears twice in one funnel")
        return stages

    @property
    def first(self) -> str:
        return self.stages[0]

    @property
    def last(self) -> str:
        return self.stages[-1]

    def index(self, stage: str) -> int:
        return self.stages.index(stage)


SALES_LED = Funnel(name="sales", stages=("lead", "mql", "sql", "opportunity", "won"))
PRODUCT_LED = Funnel(name="product", stages=("signup", "activated", "trial", "paid"))


class IngestSettings(BaseModel):
    """How ingest judges dates (`[ingest]`): years outside [min_year, max_year] are rejected;
    a placeholder such as 9999-12-31 in an end or close date is rejected, or with
    `placeholder_end_dates = "no date"` read as no date (open)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_year: int = Field(default=1900, ge=1, le=9998)
    max_year: int = Field(default=2100, ge=1, le=9998)
    placeholder_end_dates: Literal["reject", "no date"] = "reject"

    @model_validator(mode="after")
    def _window(self) -> IngestSettings:
        if self.min_year > self.max_year:
            raise ValueError("min_year is after max_year")
        return self


class CrmSettings(BaseModel):
    """Facts about the workspace's CRM that its exports do not carry (`[crm]`): the time zone
    of offset-less timestamps, the currency of amounts without one, deal stages → open/won/lost
    (e.g. `"Closed: abandoned" = "lost"`) and lifecycle stages → funnel stages. A preset or
    mapping file may override them; see README "Bring your CRM data"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str | None = None  # None: the workspace time zone
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    deal_stages: dict[str, Literal["open", "won", "lost"]] = Field(default_factory=dict)
    lifecycle_stages: dict[str, str] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_zone(value)

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value else None


class ReportSchedule(BaseModel):
    """One scheduled review (`[[reports]]`): written by `funnelmetrics report --due` once its
    period (month, quarter or year) has ended, as `format` in `lang` into `folder` (relative to
    the workspace's directory)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    period: Literal["month", "quarter", "year"] = "month"
    format: Literal["html", "pdf", "xlsx"] = "html"
    lang: Literal["en", "id", "ms"] | None = None  # None: the workspace's locale
    folder: str = "reviews"
    where: dict[str, str] = Field(default_factory=dict)


class Config(BaseModel):
    """Settings of one workspace; every field has a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    funnels: tuple[Funnel, ...] = (SALES_LED, PRODUCT_LED)
    default_funnel: str = "sales"
    mode: Mode = Mode.CUMULATIVE
    conversion_window_days: float = Field(default=180.0, gt=0)
    timezone: str = "UTC"
    currency: str = Field(default="USD", min_length=3, max_length=3)
    gross_margin: float = Field(default=1.0, gt=0, le=1)
    qualified_stage: str = "sql"
    locale: str = "en"
    # eNPS is shown only for a group of at least this many respondents (survey anonymity)
    enps_min_respondents: int = Field(default=5, ge=1, le=10_000)
    ingest: IngestSettings = IngestSettings()
    crm: CrmSettings = CrmSettings()
    # `[[alerts]]` rules and `[benchmarks.METRIC]` overrides: read as given here, each checked
    # by `funnelmetrics.insights` (a bad rule's message names the rule)
    alerts: tuple[dict[str, Any], ...] = ()
    benchmarks: dict[str, dict[str, Any]] = Field(default_factory=dict)
    reports: tuple[ReportSchedule, ...] = ()  # `[[reports]]`: reviews written by `report --due`

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_zone(value)

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @model_validator(mode="after")
    def _consistent(self) -> Config:
        names = [f.name for f in self.funnels]
        if len(set(names)) != len(names):
            raise ValueError("two funnels share a name")
        if self.default_funnel not in names:
            raise ValueError(f"default_funnel {self.default_funnel!r} is not a configured funnel")
        if self.qualified_stage not in self.funnel().stages:
            raise ValueError(f"qualified_stage {self.qualified_stage!r} is not a stage of the "
                             f"{self.default_funnel!r} funnel")
        return self

    def __hash__(self) -> int:  # the raw alert and benchmark tables hold dicts: not hashed
        return hash(tuple(v for k, v in self.__dict__.items()
                          if k not in ("alerts", "benchmarks", "reports")))

    def funnel(self, name: str | None = None) -> Funnel:
        """The named funnel, or the default one."""
        name = name or self.default_funnel
        for f in self.funnels:
            if f.name == name:
                return f
        raise ConfigError(f"no funnel named {name!r}; configured: "
                          f"{', '.join(f.name for f in self.funnels)}")

    def funnel_of(self, stage: str) -> Funnel:
        """The funnel a stage belongs to (the default funnel first)."""
        ordered = sorted(self.funnels, key=lambda f: f.name != self.default_funnel)
        for f in ordered:
            if stage in f.stages:
                return f
        raise ConfigError(f"unknown stage {stage!r}; stages: {', '.join(self.stages)}")

    @property
    def stages(self) -> list[str]:
        return [s for f in self.funnels for s in f.stages]


def load_config(directory: Path | None) -> Config:
    """Read `funnelmetrics.toml` from `directory`; defaults when there is none."""
    if directory is None:
        return Config()
    path = Path(directory) / CONFIG_NAME
    if not path.exists():
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    if isinstance(data.get("funnels"), dict):  # [funnels.sales] stages = [...]
        data["funnels"] = [{"name": k, **v} for k, v in data["funnels"].items()]
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(file)"
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None


DEFAULT_TOML = """\
# funnelmetrics workspace settings (every key is optional).
timezone = "UTC"              # periods are calendar-aligned in this IANA zone
currency = "USD"              # reporting currency
gross_margin = 1.0            # used by ltv and cac_payback_months
conversion_window_days = 180  # cohort conversion window
mode = "cumulative"           # or "strict"
qualified_stage = "sql"       # lead_velocity_rate counts this stage
default_funnel = "sales"
locale = "en"                 # en, id or ms
enps_min_respondents = 5      # eNPS of a smaller group (a split, a filter) is not shown

[funnels.sales]
stages = ["lead", "mql", "sql", "opportunity", "won"]

[funnels.product]
stages = ["signup", "activated", "trial", "paid"]

[ingest]
min_year = 1900               # dates outside these years are rejected
max_year = 2100
placeholder_end_dates = "reject"  # or "no date": 9999-12-31 as a close/end date means none

[crm]                          # facts CRM exports leave out (used by ingest --preset / --map)
# timezone = "Asia/Jakarta"    # offset-less timestamps of exports (default: timezone above)
# currency = "IDR"             # currency of amounts the export gives none for
# [crm.deal_stages]            # deal stage -> open, won or lost, where the CRM's own flag is absent
# "Closed: abandoned" = "lost"
# [crm.lifecycle_stages]       # CRM lifecycle stage -> funnel stage
# "Marketing Qualified Lead" = "mql"
"""
