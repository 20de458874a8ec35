"""Loads on PostgreSQL and Spark give DuckDB's tables, reports and quarantine, step by step, and
move rows in proportion to the files, not to the workspace (`ingest.on_engine`).

One sequence of loads covers what a load decides from stored rows: new and updated rows, a file
with some of a table's columns (the others kept), an extra attribute, references to parents
stored earlier or loaded alongside or rejected, a key with an empty part (null-safe), rows
without a key (engagement events: exact copies skipped), the same files again, `--replace-rows`,
a `--strict` load that writes nothing and a `--replace-missing` snapshot with its cascade.
PostgreSQL runs in this process (a schema of the session's server); Spark runs the whole
sequence in one new process on a fresh warehouse (`pyspark:///DIR`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import funnelmetrics
from funnelmetrics.errors import InputError
from funnelmetrics.schema import QUARANTINE_TABLE, TABLES

LEADS = ("lead_id,created_at,source,rep_id\nL1,2026-01-05,web,R1\nL2,2026-01-10,ads,R2\n"
         "L3,2026-01-12,web,R1\nL4,not a date,web,R1\n")
STEPS: list[tuple[dict[str, str], dict[str, Any]]] = [
    # 1: everything new; L4 has no date, L9 and O9 name nothing, S… a key with no campaign
    ({"leads": LEADS,
      "stage_events": "lead_id,stage,occurred_at\nL1,mql,2026-01-07\nL9,mql,2026-01-08\n",
      "opportunities": "opportunity_id,lead_id,created_at,status,amount\n"
                       "O1,L1,2026-01-20,open,1000\nO2,L2,2026-01-22,open,500\n",
      "deal_stage_events": "opportunity_id,deal_stage,occurred_at\nO1,demo,2026-01-21\n"
                           "O9,demo,2026-01-21\n",
      "spend": "date,channel,campaign_id,amount\n2026-01-01,ads,,100\n2026-01-01,ads,C1,40\n",
      "engagement_events": "account_id,occurred_at,event\nA1,2026-01-03,login\n"
                           "A1,2026-01-03,login\nA2,2026-01-04,export\n"}, {}),
    # 2: events of stored leads only (L2 stored, L4 rejected in step 1, L3 stored), a deal
    #    event of a stored deal
    ({"stage_events": "lead_id,stage,occurred_at\nL2,mql,2026-01-15\nL4,mql,2026-01-16\n"
                      "L3,sql,2026-01-17\n",
      "deal_stage_events": "opportunity_id,deal_stage,occurred_at\nO2,proposal,2026-01-25\n"},
     {}),
    # 3: a partial file (lead_id, created_at, segment: source and rep kept), a new lead, and
    #    an extra attribute; the spend row with no campaign updated, not added again
    ({"leads": "lead_id,created_at,segment,region\nL1,2026-01-06,smb,north\n"
               "L5,2026-02-01,ent,south\n",
      "spend": "date,channel,campaign_id,amount\n2026-01-01,ads,,120\n",
      "engagement_events": "account_id,occurred_at,event\nA1,2026-01-03,login\n"
                           "A3,2026-01-05,login\n"}, {}),
    # 4: step 1's files again: L1's date and the spend amount back, segment kept, no copies
    (None, {}),  # type: ignore[list-item]
    # 5: whole rows replace stored ones (segment and region of L1 emptied)
    ({"leads": "lead_id,created_at,source\nL1,2026-01-07,email\n"}, {"replace_rows": True}),
    # 6: strict with a rejected row: nothing written
    ({"leads": "lead_id,created_at\nL6,2026-02-02\nL7,never\n"}, {"strict": True}),
    # 7: a snapshot of opportunities without O1: O1 and its deal events removed
    ({"opportunities": "opportunity_id,lead_id,created_at,status,amount,closed_at\n"
                       "O2,L2,2026-01-22,won,650,2026-02-01\n"}, {"replace_missing": True}),
]
STEPS[3] = (STEPS[0][0], {})


def run_steps(target: str, folder: Path) -> list[dict[str, Any]]:
    """Each step's report (or error) and every table's rows afterwards, as plain JSON."""
    ws = funnelmetrics.open(target)
    try:
        ws.init()
        out = []
        for i, (tables, options) in enumerate(STEPS):
            step = folder / f"step{i}"
            step.mkdir()
            for name, text in tables.items():
                (step / f"{name}.csv").write_text(text, encoding="utf-8")
            try:
                report = ws.ingest([step], **options)
                said: Any = {name: [t.rows, t.accepted, t.rejected]
                             for name, t in report.tables.items()}
                said["removed"] = report.removed
            except InputError as exc:
                said = {"error": str(exc).split(";")[0]}
            out.append({"report": said, "tables": snapshot(ws)})
        return out
    finally:
        ws.close()


def snapshot(ws: Any) -> dict[str, Any]:
    """Every canonical table's rows (sorted, columns by name, values as text) and the
    quarantine's lines without their load time."""
    found = {}
    for name in [*TABLES, QUARANTINE_TABLE]:
        table = ws.con.table(name)
        columns = sorted(c for c in table.columns if c != "loaded_at")
        rows = table.select(*columns).to_pyarrow().to_pylist()
        for r in rows:  # a quarantined file by its step folder and name, wherever it was
            if name == QUARANTINE_TABLE:
                r["file"] = "/".join(Path(r["file"]).parts[-2:])
        found[name] = sorted(json.dumps([_text(r[c]) for c in columns]) for r in rows)
        found[name].insert(0, json.dumps(columns))
    return found


def _text(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, float):
        return round(value, 9)
    return value


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("duckdb")
    return run_steps(str(folder / "w.duckdb"), folder)


def test_the_reference_is_what_each_step_says(reference):
    """The sequence, worked out by hand on DuckDB (what the engines must equal)."""
    reports = [r["report"] for r in reference]
    assert reports[0]["leads"] == [4, 3, 1] and reports[0]["stage_events"] == [2, 1, 1]
    assert reports[0]["deal_stage_events"] == [2, 1, 1]
    assert reports[0]["engagement_events"] == [3, 3, 0]  # the copy is skipped, not rejected
    assert reports[1]["stage_events"] == [3, 2, 1]  # L4 was rejected: unknown
    assert reports[5] == {"error": "1 row(s) rejected, nothing loaded (strict mode)"}
    assert reports[6]["removed"] == {"opportunities": 1, "deal_stage_events": 1}
    after_3 = reference[2]["tables"]
    l1 = rows(after_3, "leads")[0]
    assert (l1["created_at"], l1["source"], l1["rep_id"], l1["segment"], l1["region"]) == (
        "2026-01-06T00:00:00", "web", "R1", "smb", "north")
    assert sorted(r["amount"] for r in rows(after_3, "spend")) == [40.0, 120.0]  # the no-campaign row updated
    assert len(after_3["engagement_events"]) - 1 == 3  # A1 login stored once, A3 added
    again = reference[3]["tables"]
    l1 = rows(again, "leads")[0]
    assert (l1["created_at"], l1["source"], l1["segment"]) == ("2026-01-05T00:00:00", "web",
                                                              "smb")
    assert sorted(r["amount"] for r in rows(again, "spend")) == [40.0, 100.0]
    for name in ("stage_events", "deal_stage_events", "engagement_events", "opportunities"):
        assert again[name] == after_3[name], name
    assert len(again[QUARANTINE_TABLE]) - len(after_3[QUARANTINE_TABLE]) == 3
    final = reference[6]["tables"]
    assert [(r["lead_id"], r["source"], r["segment"]) for r in rows(final, "leads")] == [
        ("L1", "email", None), ("L2", "ads", None), ("L3", "web", None), ("L5", None, "ent")]
    assert [(r["opportunity_id"], r["status"], r["amount"])
            for r in rows(final, "opportunities")] == [("O2", "won", 650.0)]
    assert len(final["deal_stage_events"]) - 1 == 1  # O2's proposal


def rows(tables: dict[str, Any], name: str) -> list[dict[str, Any]]:
    columns = json.loads(tables[name][0])
    return [dict(zip(columns, json.loads(r), strict=True)) for r in tables[name][1:]]


def _compare(found: list[dict[str, Any]], reference: list[dict[str, Any]]) -> None:
    for i, (got, want) in enumerate(zip(found, reference, strict=True)):
        assert got["report"] == want["report"], f"step {i + 1}"
        for name in want["tables"]:
            assert got["tables"][name] == want["tables"][name], f"step {i + 1}: {name}"


@pytest.mark.postgres
def test_postgres_loads_give_duckdbs_tables(reference, postgres_server, tmp_path):
    _compare(run_steps(f"{postgres_server}?schema=loads_{os.getpid()}", tmp_path), reference)


DRIVER = """import json, sys
sys.path.insert(0, sys.argv[3])
from test_engines_ingest import run_steps
from pathlib import Path
print("RESULT" + json.dumps(run_steps(sys.argv[1], Path(sys.argv[2]))))
"""


@pytest.mark.spark
def test_spark_loads_give_duckdbs_tables(reference, tmp_path):
    target = f"pyspark:///{tmp_path}/warehouse?spark.master=local[2]"  # //// + absolute
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-c", DRIVER, target, str(tmp_path),
                           str(Path(__file__).parent)], capture_output=True, text=True,
                          env=env, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT"))
    _compare(json.loads(line.removeprefix("RESULT")), reference)
    assert (tmp_path / "warehouse").is_dir()  # the tables are in the warehouse the URL names


@pytest.mark.postgres
def test_a_load_moves_the_rows_of_its_files_not_the_workspace(postgres_server, tmp_path,
                                                              monkeypatch):
    """A day's new lead and its event, into a workspace of 500 leads: the engine is asked for
    the stored rows of two keys and writes two rows (and the lead of the event: one row)."""
    from funnelmetrics.engines import postgres

    ws = funnelmetrics.open(f"{postgres_server}?schema=moves_{os.getpid()}")
    try:
        ws.init()
        many = tmp_path / "many"
        many.mkdir()
        (many / "leads.csv").write_text("lead_id,created_at\n" + "".join(
            f"L{i},2026-01-01\n" for i in range(500)), encoding="utf-8")
        ws.ingest([many])
        asked, written = [], {}
        matching, merge = postgres.matching_rows, postgres.merge_tables

        def counting_match(con, name, columns, keys):
            rows = matching(con, name, columns, keys)
            asked.append((name, keys.num_rows, rows.num_rows))
            return rows

        def counting_merge(con, upserts, appended):
            written.update({name: rows.num_rows for name, (_, rows) in upserts.items()})
            merge(con, upserts, appended)

        monkeypatch.setattr(postgres, "matching_rows", counting_match)
        monkeypatch.setattr(postgres, "merge_tables", counting_merge)
        day = tmp_path / "day"
        day.mkdir()
        (day / "leads.csv").write_text("lead_id,created_at\nL500,2026-01-02\nL7,2026-01-03\n",
                                       encoding="utf-8")
        (day / "stage_events.csv").write_text("lead_id,stage,occurred_at\nL3,mql,2026-01-04\n",
                                              encoding="utf-8")
        ws.ingest([day])
        # leads: the two loaded keys and the referenced L3, one question (L7 and L3 stored);
        # no stage event is stored yet: nothing to ask
        assert asked == [("leads", 3, 2)]
        assert written == {"leads": 2, "stage_events": 1}  # L500 new, L7 changed; L3 not
        assert ws.con.table("leads").count().execute() == 501
        l7 = ws.con.table("leads").filter(lambda t: t.lead_id == "L7").created_at.execute()
        assert l7.tolist() == [dt.datetime(2026, 1, 3)]
    finally:
        ws.close()
