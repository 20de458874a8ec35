"""Attribution models as `marketing_roi` credit models (SPEC §3 marketing_roi, §4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_attribution_journeys import journeys_for, won

from funnelmetrics.attribution import MODELS, attribute, credit_rows
from funnelmetrics.semantic.model import Scope

# A: ads → email, won Jan 31 for 1000; B: ads, won Feb 15 for 500; C: no touch, won Feb 20 (100).
LEADS = {
    "A": {"created": "2026-01-01", "touches": ["2026-01-02 ads c1", "2026-01-03 email c2"],
          **won("2026-01-31", 1000)},
    "B": {"created": "2026-01-01", "touches": ["2026-01-05 ads c1"], **won("2026-02-15", 500)},
    "C": {"created": "2026-01-01", **won("2026-02-20", 100)},
}
SPEND = [("2026-01-15", 200.0, "ads", "c1"), ("2026-02-15", 300.0, "ads", "c1"),
         ("2026-01-20", 1000.0, "email", "c2")]


@pytest.mark.parametrize("model", list(MODELS))
def test_rows_add_up_to_the_model_credit(backend: str, tmp_path: Path, model: str) -> None:
    """Summed over all time, the per-deal rows give exactly the model's credited revenue."""
    with journeys_for(tmp_path, LEADS, SPEND, backend=backend) as ws:
        rows = credit_rows(Scope(ws), model).execute()
        got = rows.groupby("channel")["amount"].sum().to_dict()
        want = attribute(ws, model).set_index("channel")["credited_revenue"].to_dict()
        assert {k: v for k, v in got.items() if v} == pytest.approx(
            {k: v for k, v in want.items() if v})
        assert set(rows.columns) == {"closed_at", "channel", "campaign_id", "amount"}


def test_marketing_roi_by_month_with_linear(backend: str, tmp_path: Path) -> None:
    """Linear: January — A's 1000 split ads 500 / email 500; spend ads 200, email 1000.
    ads ROI (500 − 200)/200 = 1.5; email (500 − 1000)/1000 = −0.5.
    February — B's 500 to ads; spend ads 300 → (500 − 300)/300 = 2/3."""
    with journeys_for(tmp_path, LEADS, SPEND, backend=backend) as ws:
        df = ws.metric("marketing_roi", grain="month", by="channel", start="2026-01-01",
                       end="2026-02-28", params={"model": "linear"})
        got = {(str(r["period_start"])[:7], r["channel"]): r["value"] for _, r in df.iterrows()
               if r["value"] == r["value"] and r["value"] is not None}
        assert got[("2026-01", "ads")] == pytest.approx(1.5)
        assert got[("2026-01", "email")] == pytest.approx(-0.5)
        assert got[("2026-02", "ads")] == pytest.approx(2 / 3)
