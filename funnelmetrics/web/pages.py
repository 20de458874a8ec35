"""The dashboard pages (Jinja2): global filters from the query string, one view per page, the
login page and the rows (drill-down) page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from funnelmetrics.catalog.model import LANGS
from funnelmetrics.compile.time import parse_date
from funnelmetrics.errors import QueryError
from funnelmetrics.i18n.ui import LANG_NAMES, t
from funnelmetrics.web import rows, service, tiles
from funnelmetrics.web.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    Principal,
    check_csrf,
    csrf_token,
    end_session,
    get_session,
    optional_principal,
    read_session_cookie,
    session_cookie,
    set_cookie,
)
from funnelmetrics.web.bodies import CSRF_MARK, Page
from funnelmetrics.web.source import Session
from funnelmetrics.web.users import check_token, credentials
from funnelmetrics.web.views import cohorts, marketing, overview, revenue, team, trends
from funnelmetrics.web.views import forecast as forecast_view
from funnelmetrics.web.views import funnel as funnel_view
from funnelmetrics.web.views import insights as insights_view
from funnelmetrics.web.views.common import GRAINS, Filters, data_end_of, split_dimensions

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
LANG_COOKIE = "fm_lang"
NAV = ("overview", "funnel", "trends", "cohorts", "revenue", "marketing", "team", "insights",
       "forecast")
PATHS = {"overview": "/", **{name: f"/{name}" for name in NAV[1:]}}
router = APIRouter(include_in_schema=False)


def lang_of(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if asked in LANGS:
        return str(asked)
    locale = request.app.state.source.config().locale
    return locale if locale in LANGS else "en"


def filters_of(request: Request, session: Session | None = None) -> Filters:
    """The global filters of a page from its query string (defaults: the last 12 months; the
    data's own last 12 full months when it ends before the current one)."""
    args = request.query_params
    grain = args.get("grain") if args.get("grain") in GRAINS else "month"
    start = parse_date(args.get("start") or None, "start")
    end = parse_date(args.get("end") or None, "end")
    as_of = args.get("as_of") or None
    include_partial = str(args.get("include_partial") or "").lower() in ("1", "true", "on")
    service.check_dates(start, end, as_of, grain, "UTC")
    ended = data_end_of(session) if session is not None and not (start or end or as_of) \
        else None
    lo, hi = tiles.default_range(grain, as_of, start, end, include_partial, data_end=ended)
    if hi < lo:
        raise QueryError(f"end {hi} is before start {lo}")
    where = service.pairs(args.getlist("where"), "where")
    fdim, fval = (args.get("fdim") or "").strip(), (args.get("fval") or "").strip()
    if fdim and fval:
        where[fdim] = fval
    config = request.app.state.source.config()
    return Filters(grain=grain, start=lo, end=hi, where=where, by=args.get("by") or None,
                   lang=lang_of(request), currency=config.currency, as_of=as_of,
                   include_partial=include_partial,
                   data_ended=ended if tiles.data_ended(grain, ended) else None)


def page_of(request: Request, template: str, who: Principal | None, f: Filters | None,
            session: Session | None, **context: Any) -> Page:
    """A page rendered with the shared context (texts in the page's language, navigation,
    filters), a marker where the browser's CSRF token goes."""
    lang = f.lang if f else lang_of(request)
    dims = split_dimensions(session) if session is not None and f else []  # bounded ones
    here = str(request.url.path)
    kept = [kv for kv in request.query_params.multi_items() if kv[0] != "lang"]
    switch = {code: f"{here}?{urlencode([*kept, ('lang', code)])}" for code in LANGS}
    html = TEMPLATES.get_template(template).render({
        "request": request, "t": lambda key, **kw: t(key, lang, **kw), "lang": lang,
        "langs": LANG_NAMES, "switch": switch, "nav": [(name, PATHS[name]) for name in NAV],
        "who": who, "f": f, "dims": dims, "grains": GRAINS, "auth": request.app.state.auth,
        "csrf": CSRF_MARK, **context})
    return Page.of(html)


def respond(request: Request, page: Page, *, status_code: int = 200) -> Response:
    """The page with this browser's CSRF token (a new one, and its cookie, if it has none)."""
    csrf = csrf_token(request)
    response = page.response(request, csrf, status_code)
    if request.query_params.get("lang") in LANGS:
        set_cookie(response, LANG_COOKIE, str(request.query_params["lang"]),
                   max_age=365 * 86400)
    if request.cookies.get(CSRF_COOKIE) != csrf:
        set_cookie(response, CSRF_COOKIE, csrf)
    return response


def render(request: Request, template: str, who: Principal | None, f: Filters | None,
           session: Session | None, *, status_code: int = 200, **context: Any) -> Response:
    """A page (see `page_of`) as the response."""
    return respond(request, page_of(request, template, who, f, session, **context),
                   status_code=status_code)


def _login_redirect(request: Request) -> RedirectResponse:
    target = str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def _dashboard(name: str, build: Callable[..., dict[str, Any]]) -> Callable[..., Response]:
    def handler(request: Request, session: Session, who: Principal | None) -> Response:
        if who is None:
            return _login_redirect(request)
        f = filters_of(request, session)
        key = ("page", name, who.role.value, who.rep_ids, f.lang, f.start, f.end, f.grain,
               service.frozen(f.where), f.by, f.as_of, f.include_partial,
               tuple(sorted(request.query_params.multi_items())))

        def build_page() -> tuple[dict[str, Any], dict[str, Any]]:
            with session.batch():  # the page's metrics share one library batch
                return build(session, who, f, request), dict(f.extra)

        def render_page() -> Page:
            context, extra = session.remember(key, build_page)
            f.extra.update(extra)
            return page_of(request, f"{name}.html", who, f, session, page=name, **context)

        # The rendered page, per user (their name is on it) and per query (language included).
        user = who.user
        page = session.remember(("html", *key, user.user_id, user.name, user.role.value,
                                 str(request.url.path), request.app.state.auth), render_page,
                                body=True)
        return respond(request, page)

    async def endpoint(request: Request, session: Session = Depends(get_session),
                       who: Principal | None = Depends(optional_principal)) -> Response:
        return await session.run(handler, request, session, who)

    endpoint.__name__ = f"page_{name}"
    return endpoint


def _stages(request: Request) -> list[str]:
    return list(request.app.state.source.config().stages)


def _funnel_page(session: Session, who: Principal, f: Filters, request: Request) -> dict:
    config = request.app.state.source.config()
    chosen = request.query_params.get("funnel") or config.default_funnel
    f.extra["funnel"] = chosen
    return {"cards": funnel_view.funnel_cards(session, who, f, chosen),
            "funnels": [x.name for x in config.funnels], "funnel": chosen}


def _cohorts_page(session: Session, who: Principal, f: Filters, request: Request) -> dict:
    config = request.app.state.source.config()
    return cohorts.page(session, who, f, list(config.funnel().stages))


BUILDERS: dict[str, Callable[..., dict[str, Any]]] = {
    "overview": lambda s, w, f, r: overview.page(s, w, f),
    "funnel": _funnel_page,
    "trends": lambda s, w, f, r: trends.page(s, w, f, r.query_params, _stages(r)),
    "cohorts": _cohorts_page,
    "revenue": lambda s, w, f, r: revenue.page(s, w, f),
    "marketing": lambda s, w, f, r: marketing.page(s, w, f),
    "team": lambda s, w, f, r: team.page(s, w, f),
    "insights": lambda s, w, f, r: insights_view.page(s, w, f, r),
    "forecast": lambda s, w, f, r: forecast_view.page(s, w, f, r.query_params),
}
for _name, _build in BUILDERS.items():
    router.add_api_route(PATHS[_name], _dashboard(_name, _build), methods=["GET"],
                         response_class=HTMLResponse)


@router.get("/rows/{table}", response_class=HTMLResponse)
def rows_page(table: str, request: Request, session: Session = Depends(get_session),
              who: Principal | None = Depends(optional_principal)) -> Response:
    """The rows behind a number, a page at a time, with CSV and XLSX exports."""
    if who is None:
        return _login_redirect(request)
    lang = lang_of(request)
    if not who.sees_rows:
        return render(request, "rows.html", who, None, None, page="rows", table=table,
                      forbidden=t("rows_forbidden", lang), status_code=403)
    args = request.query_params
    limit = _int(args.get("limit"), 50, 1, rows.MAX_PAGE)
    offset = _int(args.get("offset"), 0, 0, 10**9)
    where = service.pairs(args.getlist("where"), "where")
    date_column = args.get("date_column") or None
    total, df = rows.page(session, who, table, where=where, start=args.get("start") or None,
                          end=args.get("end") or None, date_column=date_column, limit=limit,
                          offset=offset)
    keep = [(k, v) for k, v in args.multi_items() if k not in ("offset", "limit")]
    qs = urlencode(keep)
    pager = {"prev": f"?{urlencode([*keep, ('offset', max(offset - limit, 0))])}"
           if offset > 0 else None,
           "next": f"?{urlencode([*keep, ('offset', offset + limit)])}"
           if offset + limit < total else None}
    from funnelmetrics.serialize import records

    return render(request, "rows.html", who, None, None, page="rows", table=table,
                  columns=[str(c) for c in df.columns], records=records(df), total=total,
                  first=offset + 1 if total else 0, last=min(offset + limit, total), pager=pager,
                  where=where, exports={"csv": f"/api/v1/export/{table}.csv?{qs}",
                                        "xlsx": f"/api/v1/export/{table}.xlsx?{qs}"})


def _int(value: Any, default: int, lo: int, hi: int) -> int:
    try:
        return min(max(int(value), lo), hi)
    except (TypeError, ValueError):
        return default


# ---- login --------------------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:  # noqa: A002
    if not request.app.state.auth:
        return RedirectResponse("/", status_code=303)
    return render(request, "login.html", None, None, None, page="login", next=_safe(next),
                  error=None)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, token: str = Form(""), csrf_token: str = Form(""),
          next: str = Form("/"), session: Session = Depends(get_session)) -> Response:  # noqa: A002
    check_csrf(request, csrf_token)
    user = check_token(token, session.cached(("users",), credentials))
    if user is None:
        return render(request, "login.html", None, None, None, page="login", next=_safe(next),
                      error=t("bad_token", lang_of(request)), status_code=401)
    response = RedirectResponse(_safe(next), status_code=303)
    set_cookie(response, SESSION_COOKIE, session_cookie(request.app.state.secret, user.user_id),
               secure=request.url.scheme == "https")
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form("")) -> Response:
    if read_session_cookie(request) is not None:
        check_csrf(request, csrf_token)
        end_session(request)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _safe(target: str) -> str:
    """Only local paths after login (no open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") else "/"
