"""The demo generator: complete, consistent, deterministic, and realistic enough for every metric."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from funnelmetrics.demo.generate import generate
from funnelmetrics.schema import TABLES

END = dt.date(2026, 5, 10)
CUTOFF = pd.Timestamp(END)
LEADS = 2000


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return generate(tmp_path_factory.mktemp("demo"), leads=LEADS, seed=7, end=END)


@pytest.fixture(scope="module")
def data(files: dict[str, Path]) -> dict[str, pd.DataFrame]:
    return {name: pq.read_table(path).to_pandas() for name, path in files.items()}


def test_every_table_is_written_with_the_contract_columns(files: dict[str, Path]) -> None:
    assert set(files) == set(TABLES)
    for name, path in files.items():
        assert path.name == f"{name}.parquet"
        columns = pq.read_schema(path).names
        assert columns[: len(TABLES[name].names)] == TABLES[name].names
        assert pq.ParquetFile(path).metadata.num_rows > 0, name


def test_leads_carry_extra_attributes(data: dict[str, pd.DataFrame]) -> None:
    leads = data["leads"]
    assert len(leads) == LEADS
    assert {"company_size", "utm_medium"} <= set(leads.columns)
    assert leads["lead_id"].iloc[0] == "L0000001"
    assert leads["created_at"].is_monotonic_increasing
    assert leads["created_at"].max() < CUTOFF


def test_same_seed_gives_identical_files(files: dict[str, Path], tmp_path: Path) -> None:
    again = generate(tmp_path, leads=LEADS, seed=7, end=END)
    for name, path in files.items():
        assert path.read_bytes() == again[name].read_bytes(), name


def test_another_seed_gives_other_data(data: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    other = generate(tmp_path, leads=LEADS, seed=8, end=END)
    leads = pq.read_table(other["leads"]).to_pandas()
    assert not leads["created_at"].equals(data["leads"]["created_at"])


def test_keys_are_unique(data: dict[str, pd.DataFrame]) -> None:
    for name, table in TABLES.items():
        if table.key:
            assert not data[name].duplicated(list(table.key)).any(), name


def test_references_are_consistent(data: dict[str, pd.DataFrame]) -> None:
    leads, opps = set(data["leads"]["lead_id"]), set(data["opportunities"]["opportunity_id"])
    accounts, reps = set(data["accounts"]["account_id"]), set(data["reps"]["rep_id"])
    campaigns = set(data["campaigns"]["campaign_id"])
    assert set(data["stage_events"]["lead_id"]) <= leads
    assert set(data["touchpoints"]["lead_id"]) <= leads
    assert set(data["deal_stage_events"]["opportunity_id"]) <= opps
    assert set(data["opportunities"]["lead_id"]) <= leads
    for name in ("leads", "opportunities", "subscriptions", "engagement_events"):
        assert set(data[name]["account_id"].dropna()) <= accounts, name
    for name in ("leads", "opportunities", "quotas"):
        assert set(data[name]["rep_id"].dropna()) <= reps, name
    assert set(data["reps"]["manager_id"].dropna()) <= reps
    assert set(data["survey_responses"]["respondent_id"]) <= reps
    for name in ("leads", "touchpoints", "spend"):
        assert set(data[name]["campaign_id"].dropna()) <= campaigns, name


def test_paid_leads_and_touches_carry_campaigns_of_their_channel(
        data: dict[str, pd.DataFrame]) -> None:
    channel = data["campaigns"].set_index("campaign_id")["channel"]
    for name, column in (("leads", "source"), ("touchpoints", "channel")):
        rows = data[name].dropna(subset=["campaign_id"])
        assert (rows["campaign_id"].map(channel) == rows[column]).all(), name


def test_events_happen_after_creation_and_before_the_cutoff(
        data: dict[str, pd.DataFrame]) -> None:
    events = data["stage_events"].merge(data["leads"][["lead_id", "created_at"]], on="lead_id")
    assert (events["occurred_at"] >= events["created_at"]).all()
    for name, column in (("stage_events", "occurred_at"), ("touchpoints", "occurred_at"),
                         ("deal_stage_events", "occurred_at"), ("opportunities", "closed_at"),
                         ("subscriptions", "started_at"), ("subscriptions", "ended_at"),
                         ("engagement_events", "occurred_at")):
        assert (data[name][column].dropna() < CUTOFF).all(), (name, column)


def test_won_deals_close_after_creation_at_their_won_event(data: dict[str, pd.DataFrame]) -> None:
    opps = data["opportunities"]
    won = opps[opps["status"] == "won"]
    assert len(won) > 0
    assert (won["closed_at"] >= won["created_at"]).all()
    assert (won["probability"] == 1.0).all() and (won["deal_stage"] == "closed").all()
    events = data["stage_events"]
    won_events = events[events["stage"] == "won"]
    matched = won.merge(won_events, left_on=["lead_id", "closed_at"],
                        right_on=["lead_id", "occurred_at"])
    assert len(matched) == len(won)


def test_lost_and_open_deals(data: dict[str, pd.DataFrame]) -> None:
    opps = data["opportunities"]
    lost, open_ = opps[opps["status"] == "lost"], opps[opps["status"] == "open"]
    assert len(lost) > 0 and lost["lost_reason"].notna().all()
    assert len(open_) > 0 and open_["closed_at"].isna().all()
    assert open_["expected_close_at"].notna().all()
    assert set(open_["deal_stage"]) <= {"discovery", "demo", "proposal", "negotiation"}
    assert (opps.loc[opps["status"] != "lost", "lost_reason"].isna()).all()
    assert {"IDR", "MYR", "USD"} <= set(opps["currency"])
    assert set(opps["contract_months"]) <= {1, 6, 12, 24, 36}


def test_deal_stage_events_lie_within_the_deal(data: dict[str, pd.DataFrame]) -> None:
    deals = data["opportunities"][["opportunity_id", "created_at", "closed_at"]]
    events = data["deal_stage_events"].merge(deals, on="opportunity_id")
    assert (events["occurred_at"] >= events["created_at"]).all()
    closed = events.dropna(subset=["closed_at"])
    assert (closed["occurred_at"] <= closed["closed_at"]).all()
    assert set(events["deal_stage"]) == {"discovery", "demo", "proposal", "negotiation", "closed"}


def test_some_stages_are_skipped(data: dict[str, pd.DataFrame]) -> None:
    events = data["stage_events"]
    has = events.assign(one=True).pivot_table(index="lead_id", columns="stage", values="one",
                                              aggfunc="any", fill_value=False)
    assert (has["sql"] & ~has["mql"]).any()
    assert (has["opportunity"] & ~has["sql"]).any()
    with_lead_event = has["lead"].sum()
    assert 0 < with_lead_event < 0.5 * LEADS


def test_product_led_leads_walk_the_product_funnel(data: dict[str, pd.DataFrame]) -> None:
    leads = data["leads"]
    product = set(leads.loc[leads["lead_type"] == "product", "lead_id"])
    assert 0.03 * LEADS < len(product) < 0.3 * LEADS
    events = data["stage_events"]
    product_stages = {"signup", "activated", "trial", "paid"}
    assert set(events.loc[events["lead_id"].isin(product), "stage"]) <= product_stages
    assert not set(events.loc[~events["lead_id"].isin(product), "stage"]) & product_stages
    assert leads.loc[leads["lead_type"] == "product", "rep_id"].isna().all()


def test_subscriptions_change_churn_and_some_end_on_a_month_start(
        data: dict[str, pd.DataFrame]) -> None:
    subs = data["subscriptions"]
    ended = subs.dropna(subset=["ended_at"])
    assert (ended["ended_at"] > ended["started_at"]).all()
    assert (ended["ended_at"] == ended["ended_at"].dt.to_period("M").dt.start_time).any()
    successor = ended.merge(subs, left_on=["account_id", "ended_at"],
                            right_on=["account_id", "started_at"])
    assert len(successor) > 0  # upgrades and downgrades
    assert len(successor) < len(ended)  # churns
    assert subs["ended_at"].isna().any()
    assert "Starter" in set(subs["plan"])  # self-serve purchases


def test_won_accounts_have_a_subscription_from_the_won_date(
        data: dict[str, pd.DataFrame]) -> None:
    won = data["opportunities"].query("status == 'won'")
    subs = data["subscriptions"]
    starts = won.merge(subs, left_on=["account_id", "closed_at"],
                       right_on=["account_id", "started_at"])
    assert set(starts["opportunity_id"]) == set(won["opportunity_id"])


def test_fx_rates_cover_every_date_with_an_amount(data: dict[str, pd.DataFrame]) -> None:
    fx = data["fx_rates"]
    days = {(c, d) for c, d in zip(fx["currency"], fx["date"], strict=True)}
    for name, columns in (("opportunities", ("created_at", "closed_at", "expected_close_at")),
                          ("subscriptions", ("started_at", "ended_at"))):
        table = data[name]
        for column in columns:
            rows = table.dropna(subset=[column])
            needed = zip(rows["currency"], rows[column].dt.floor("D"), strict=True)
            assert all(key in days for key in needed), (name, column)
    idr = fx.loc[fx["currency"] == "IDR", "rate_to_reporting"]
    assert idr.between(1 / 25_000, 1 / 10_000).all()


def test_plans_and_pulses(data: dict[str, pd.DataFrame]) -> None:
    quotas = data["quotas"]
    assert (quotas["period_start"].dt.day == 1).all()
    assert (quotas["period_end"] == quotas["period_start"] + pd.offsets.MonthEnd(0)).all()
    assert (quotas["amount"] > 0).all()
    survey = data["survey_responses"]
    assert survey["score"].between(0, 10).all() and survey["score"].dtype == np.int64
    assert survey["survey_id"].str.fullmatch(r"pulse-\d{4}Q[1-4]").all()
    targets = data["kpi_targets"]
    assert {"leads_created", "win_rate", "mrr"} <= set(targets["metric"])
    assert targets["dimension"].isna().any() and (targets["dimension"] == "source").any()
    spend = data["spend"]
    assert set(spend["category"]) == {"marketing", "sales"}
    assert spend["channel"].isna().any() and (spend["amount"] >= 0).all()
    assert 20 <= len(data["reps"]) <= 60


def test_csv_output_uses_iso_instants(tmp_path: Path) -> None:
    files = generate(tmp_path, leads=300, seed=3, end=END, file_format="csv")
    leads = pd.read_csv(files["leads"], dtype=str)
    assert leads["created_at"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all()
    quotas = pd.read_csv(files["quotas"], dtype=str)
    assert quotas["period_start"].str.fullmatch(r"\d{4}-\d\d-01").all()
    for name, path in files.items():
        assert path.suffix == ".csv"
        assert list(pd.read_csv(path, nrows=0).columns)[: len(TABLES[name].names)] == \
            TABLES[name].names


@pytest.mark.parametrize("kwargs", [{"leads": 0}, {"months": 0}, {"file_format": "xlsx"}])
def test_bad_arguments_are_refused(tmp_path: Path, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path, end=END, **kwargs)  # type: ignore[arg-type]
