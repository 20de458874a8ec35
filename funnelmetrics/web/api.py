"""The REST API under /api/v1 (SPEC §5): the same catalogue as the CLI, as JSON, CSV and XLSX."""

from __future__ import annotations

import functools
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    Header,
    HTTPException,
    Query,
    Request,
    UploadFile,
)
from fastapi.responses import Response

from funnelmetrics.serialize import metric_frame, metric_json, records
from funnelmetrics.web import exports, rows, service, tiles
from funnelmetrics.web.auth import (
    Principal,
    admin_principal,
    check_csrf,
    current_principal,
    get_session,
    rows_principal,
)
from funnelmetrics.web.bodies import Body
from funnelmetrics.web.models import (
    AttributionOut,
    CatalogOut,
    DimensionsOut,
    ErrorOut,
    FunnelOut,
    IngestOut,
    MeOut,
    MetricOut,
    OverviewOut,
    RowsOut,
    TablesOut,
    ValuesOut,
)
from funnelmetrics.web.source import Session
from funnelmetrics.web.views.common import data_end_of

Lang = Literal["en", "id", "ms"]
Grain = Literal["day", "week", "month", "quarter", "year", "all"]
Fmt = Literal["csv", "xlsx"]
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in ((400, "A wrong query (unknown dimension, bad date, …)."),
                       (401, "No or an invalid token."),
                       (403, "Your role may not see this."),
                       (404, "No such metric or table."),
                       (422, "A parameter has the wrong type."))
}

router = APIRouter(prefix="/api/v1", responses=ERRORS)


def on_loop(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Run a (synchronous) endpoint on the event loop when all it needs is cached, else in a
    worker thread (`Session.run`). Only for endpoints whose cached path is cheap: a file
    export stays in a worker thread, as building it would hold up every other request."""
    @functools.wraps(endpoint)
    async def run(**kwargs: Any) -> Any:
        return await kwargs["session"].run(endpoint, **kwargs)

    return run


SessionDep = Annotated[Session, Depends(get_session)]
Who = Annotated[Principal, Depends(current_principal)]
RowsWho = Annotated[Principal, Depends(rows_principal)]
ByQ = Annotated[list[str], Query(description="Split by a dimension (repeatable), e.g. source, "
                                             "rep.team, account.industry.")]
WhereQ = Annotated[list[str], Query(description="Filter DIM=VALUE (repeatable; the same DIM "
                                                "twice means either value).")]
ParamQ = Annotated[list[str], Query(description="Metric parameter KEY=VALUE (repeatable), e.g. "
                                                "from_stage=mql.")]
DateQ = Annotated[str | None, Query(description="YYYY-MM-DD (end inclusive).")]
AsOfQ = Annotated[str | None, Query(description="See the workspace as it stood at this "
                                                "date/instant.")]
MAX_FILE_NAME = 255  # bytes: the longest name most file systems take
ROW_PARAMS = {"limit", "offset", "start", "end", "where", "date_column", "lang"}


@router.get("/catalog", response_model=CatalogOut, summary="The metric catalogue")
def get_catalog(who: Who, lang: Lang = "en") -> dict[str, Any]:
    """Every metric with its labels and description in `lang`, unit, parameters, benchmark."""
    return {"lang": lang, "metrics": service.catalog_entries(lang)}


@router.get("/me", response_model=MeOut, summary="Who you are")
async def get_me(who: Who) -> dict[str, Any]:
    u = who.user
    return {"name": u.name, "role": u.role.value, "rep_id": u.rep_id, "team": u.team,
            "rep_ids": list(who.rep_ids) if who.rep_ids is not None else None}


def _metric_df(session: Session, who: Principal, metric_id: str, grain: str, by: list[str],
               start: str | None, end: str | None, where: list[str], param: list[str],
               as_of: str | None) -> Any:
    return service.metric(session, who, metric_id, grain=grain, by=by, start=start, end=end,
                          where=service.pairs(where, "where"),
                          params=service.pairs(param, "param"), as_of=as_of)


@router.get("/metric/{metric_id}", response_model=MetricOut, summary="One metric")
@on_loop
def get_metric(metric_id: str, request: Request, session: SessionDep, who: Who,
               grain: Grain = "month",
               by: ByQ = [], start: DateQ = None, end: DateQ = None,  # noqa: B006
               where: WhereQ = [], param: ParamQ = [],  # noqa: B006
               as_of: AsOfQ = None) -> Any:
    """By period (and dimension): `period_start`, dimensions, `value`, `numerator`,
    `denominator`, `immature` (cohort metrics), `partial` (the period is not over at `as_of`,
    or now) — exactly what `funnelmetrics metric ID --format json` prints."""
    df = _metric_df(session, who, metric_id, grain, by, start, end, where, param, as_of)
    entry = service.known_metric(metric_id)
    return _json(request, session, ("metric", entry.id), df,
                 lambda: metric_json(entry.id, entry.unit.value, df))


def _json(request: Request, session: Session, tag: Any, result: Any,
          build: Callable[[], Any]) -> Response:
    """The JSON answer for a cached result, serialised and gzipped once (and kept beside that
    result: `tag` and the result's identity are the key)."""
    def encode() -> tuple[Any, Body]:
        return result, Body.json(build())

    kept, body = session.remember(("json", tag, id(result)), encode, body=True)
    if kept is not result:  # an id reused by a newer object: encode afresh
        body = encode()[1]
    return body.response(request)


@router.get("/funnel", response_model=FunnelOut, summary="The funnel")
@on_loop
def get_funnel(session: SessionDep, who: Who, start: DateQ = None, end: DateQ = None,
               funnel: str | None = None, by: str | None = None,
               where: WhereQ = [],  # noqa: B006
               mode: Literal["cumulative", "strict"] | None = None,
               as_of: AsOfQ = None) -> dict[str, Any]:
    """Each stage: reached, converted to next, conversion, drop-off, median days in stage.
    Without start/end: the last full quarter."""
    df = service.funnel(session, who, start=start, end=end, funnel_name=funnel, by=by,
                        where=service.pairs(where, "where"), mode=mode, as_of=as_of)
    name = session.cached(("funnel_name", funnel), lambda ws: ws.config.funnel(funnel).name)
    return {"funnel": name, "start": start, "end": end, "rows": records(df)}


@router.get("/attribution", response_model=AttributionOut, summary="Attribution models")
@on_loop
def get_attribution(session: SessionDep, who: Who, model: str = "all",
                    by: Literal["channel", "campaign_id"] = "channel",
                    conversion: str = "won", start: DateQ = None, end: DateQ = None,
                    as_of: AsOfQ = None) -> dict[str, Any]:
    """Credited conversions, revenue, spend and ROI per channel for one model, a
    comma-separated list, or `all` side by side."""
    results = service.attribution(session, who, model=model, by=by, conversion=conversion,
                                  start=start, end=end, as_of=as_of)
    return {"results": [{"model": name, "conversion": conversion, "rows": records(df)}
                        for name, df in results.items()]}


@router.get("/overview", response_model=OverviewOut, summary="KPI tiles")
@on_loop
def get_overview(request: Request, session: SessionDep, who: Who, grain: Grain = "month",
                 start: DateQ = None, end: DateQ = None, where: WhereQ = [],  # noqa: B006
                 lang: Lang = "en", as_of: AsOfQ = None,
                 include_partial: Annotated[bool, Query(description=(
                     "Compare the current period (not over yet: `partial`) with the one "
                     "before, instead of the last full period; without `end`, the range runs "
                     "to the current period's end."))] = False) -> Any:
    """The headline metrics for the last full period of the range (or the current one with
    `include_partial`), with the change against the period before (`change_unit` "pp":
    percentage points for rates, else "relative"), a sparkline over the range (each point
    flagged `partial`), benchmark and target status."""
    service.check_dates(start, end, as_of, None, "UTC")
    # data that ends before the current period (an old export): its own last full periods,
    # as the Overview page shows them
    ended = data_end_of(session) if not (start or end or as_of) else None
    lo, hi = tiles.default_range(grain, as_of, start, end, include_partial, data_end=ended)
    filters = service.pairs(where, "where")
    service.check_aggregate_only(who, list(filters), "the overview")
    found = tiles.tiles(session, who, grain=grain, start=lo, end=hi, where=filters, lang=lang,
                        as_of=as_of, include_partial=include_partial)
    return _json(request, session, ("overview", grain, lo, hi, include_partial), found, lambda: {
        "grain": grain, "start": lo.isoformat(), "end": hi.isoformat(),
        "include_partial": include_partial,
        "data_ended": ended.isoformat() if tiles.data_ended(grain, ended) and ended else None,
        "tiles": [{**{k: v for k, v in t.__dict__.items() if k not in ("note", "params")},
                   "period_start": t.period_start.isoformat() if t.period_start else None}
                  for t in found]})


@router.get("/dimensions", response_model=DimensionsOut, summary="Dimensions")
@on_loop
def get_dimensions(session: SessionDep, who: Who, entity: str = "leads") -> dict[str, Any]:
    """Every dimension an entity (leads, opportunities, …) can be split or filtered by."""
    return {"entity": entity, "dimensions": service.dimensions(session, entity)}


@router.get("/dimensions/{name}/values", response_model=ValuesOut, summary="Dimension values")
@on_loop
def get_dimension_values(name: str, session: SessionDep, who: Who,
                         entity: str = "leads") -> dict[str, Any]:
    """The values a dimension takes in your rows, most frequent first (at most 200)."""
    service.dimensions(session, entity)
    return {"dimension": name,
            "values": service.dimension_values(session, who, name, entity=entity)}


@router.get("/tables", response_model=TablesOut, summary="Tables with rows")
async def get_tables(who: RowsWho) -> dict[str, Any]:
    return {"tables": rows.tables_for(who)}


def _row_filters(request: Request, where: list[str]) -> dict[str, Any]:
    """`where=DIM=VALUE` plus any other `DIM=VALUE` query parameter."""
    extra = [f"{k}={v}" for k, v in request.query_params.multi_items() if k not in ROW_PARAMS]
    return service.pairs([*where, *extra], "where")


@router.get("/rows/{table}", response_model=RowsOut, summary="The rows behind a number")
def get_rows(table: str, request: Request, session: SessionDep, who: RowsWho,
             limit: Annotated[int, Query(ge=1, le=rows.MAX_PAGE)] = 100,
             offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
             start: DateQ = None, end: DateQ = None, date_column: str | None = None,
             where: WhereQ = []) -> dict[str, Any]:  # noqa: B006
    """A page of a table's rows that you may see, filtered by `DIM=VALUE` (as `where=` or as
    plain query parameters, e.g. `?source=web`) and a date range on the table's time column
    (`date_column` to choose another)."""
    total, df = rows.page(session, who, table, where=_row_filters(request, where), start=start,
                          end=end, date_column=date_column, limit=limit, offset=offset)
    return {"table": table, "total": total, "limit": limit, "offset": offset,
            "columns": [str(c) for c in df.columns], "rows": records(df)}


EXPORT_OK = {200: {"content": {exports.MEDIA["csv"].split(";")[0]: {},
                               exports.MEDIA["xlsx"]: {}},
                   "description": "The file."}}


@router.get("/export/metric/{metric_id}.{fmt}", summary="Export a metric",
            response_class=Response, responses=EXPORT_OK)
def export_metric(metric_id: str, fmt: Fmt, session: SessionDep, who: Who,
                  grain: Grain = "month", by: ByQ = [],  # noqa: B006
                  start: DateQ = None, end: DateQ = None, where: WhereQ = [],  # noqa: B006
                  param: ParamQ = [], as_of: AsOfQ = None) -> Response:  # noqa: B006
    """The metric's rows (as GET /metric/{id}, `partial` the last column) as CSV or XLSX."""
    df = _metric_df(session, who, metric_id, grain, by, start, end, where, param, as_of)
    entry = service.known_metric(metric_id)
    return exports.download(metric_frame(df), fmt, metric_id,
                            {"metric": entry.id, "unit": entry.unit.value})


@router.get("/export/funnel.{fmt}", summary="Export the funnel", response_class=Response,
            responses=EXPORT_OK)
def export_funnel(fmt: Fmt, session: SessionDep, who: Who, start: DateQ = None,
                  end: DateQ = None, funnel: str | None = None, by: str | None = None,
                  where: WhereQ = [],  # noqa: B006
                  mode: Literal["cumulative", "strict"] | None = None,
                  as_of: AsOfQ = None) -> Response:
    """The funnel (as GET /funnel) as CSV or XLSX."""
    df = service.funnel(session, who, start=start, end=end, funnel_name=funnel, by=by,
                        where=service.pairs(where, "where"), mode=mode, as_of=as_of)
    return exports.download(df, fmt, "funnel")


@router.get("/export/{table}.{fmt}", summary="Export rows", response_class=Response,
            responses=EXPORT_OK)
def export_rows(table: str, fmt: Fmt, request: Request, session: SessionDep, who: RowsWho,
                start: DateQ = None, end: DateQ = None, date_column: str | None = None,
                where: WhereQ = [],  # noqa: B006
                limit: Annotated[int, Query(ge=1, le=1_000_000)] = 100_000) -> Response:
    """The rows you may see (as GET /rows/{table}, without paging) as CSV or XLSX."""
    df = rows.all_rows(session, who, table, where=_row_filters(request, where), start=start,
                       end=end, date_column=date_column, limit=limit)
    return exports.download(df, fmt, table)


@router.post("/ingest", response_model=IngestOut, summary="Upload data files (admin)")
def post_ingest(request: Request, session: SessionDep,
                who: Annotated[Principal, Depends(admin_principal)],
                files: Annotated[list[UploadFile], File(description="Files named after their "
                                                                   "table, e.g. leads.csv.")],
                table: Annotated[str | None, Form()] = None,
                strict: Annotated[bool, Form()] = False,
                csrf_token: Annotated[str | None, Form()] = None,
                x_csrf_token: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    """Validate and load files exactly as `funnelmetrics ingest` does (rejected rows go to the
    quarantine). Uploads from a browser session need the CSRF token."""
    if who.via_cookie:
        check_csrf(request, csrf_token or x_csrf_token)
    session.close()  # the load needs the file to itself
    from funnelmetrics.ingest.staging import upload_folder_prefix

    # named with this process's id: an ingest removes the folders of a server killed mid-upload
    with tempfile.TemporaryDirectory(prefix=upload_folder_prefix()) as tmp:
        paths = []
        for upload in files:
            name = Path(upload.filename or "").name
            if not name or name.startswith("."):
                raise HTTPException(400, "every file needs its table's name, e.g. leads.csv")
            if len(name.encode("utf-8")) > MAX_FILE_NAME or not name.isprintable():
                raise HTTPException(400, f"a file name must be printable and at most "
                                         f"{MAX_FILE_NAME} bytes, e.g. leads.csv")
            path = Path(tmp) / name
            with path.open("wb") as out:
                shutil.copyfileobj(upload.file, out)
            paths.append(path)
        with request.app.state.source.writing() as ws:
            # the quarantine records the uploaded file's name, not the temporary path
            report = ws.ingest(paths, table=table, strict=strict,
                               names={p: p.name for p in paths})
    return report.to_json()
