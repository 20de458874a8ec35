"""`--db` as a DuckDB file or an engine's URL (funnelmetrics/engines): opening, one-line errors
that name the engine and create nothing, the Spark URL's settings, and all-or-nothing loads on a
real PostgreSQL server (the session's, see conftest.postgres_server)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import funnelmetrics
from funnelmetrics.cli import app
from funnelmetrics.engines import for_target, pyspark
from funnelmetrics.errors import ConfigError, InputError

REFUSED = "postgres://nobody@127.0.0.1:1/x"


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


@pytest.mark.parametrize("command", [["init"], ["metric", "win_rate"], ["funnel"], ["mrr"]])
def test_a_url_that_cannot_be_opened_is_one_line_and_creates_no_file(tmp_path, monkeypatch,
                                                                     command):
    monkeypatch.chdir(tmp_path)
    code, output = run(*command, "--db", REFUSED)
    assert code == 1
    assert output.strip().count("\n") == 0, output
    assert output.startswith("error: postgres: cannot connect to 127.0.0.1:1/x")
    assert "nobody" not in output.split("(")[0]  # names the server, not the user
    assert list(tmp_path.iterdir()) == []  # no file `postgres:` (nor anything else)


def test_the_url_may_come_from_funnelmetrics_db(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, output = run("init", env={"FUNNELMETRICS_DB": REFUSED})
    assert (code, output.splitlines()[0][:28]) == (1, "error: postgres: cannot conn")
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_engine_is_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, output = run("init", "--db", "mysql://u@h/db")
    assert code == 1
    assert output.strip() == ("error: mysql://: unknown engine; use a DuckDB file, "
                              "pyspark:///WAREHOUSE_DIR or postgres://user:pass@host:port/db")
    assert list(tmp_path.iterdir()) == []


def test_python_open_raises_a_config_error_naming_the_engine(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"^postgres: cannot connect"):
        funnelmetrics.open(REFUSED)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("target", "engine"), [
    ("funnel.duckdb", "duckdb"), ("dir/w.duckdb", "duckdb"),
    ("pyspark:///wh", "pyspark"), ("postgres://u@h/db", "postgres"),
    ("postgresql://u@h:5433/db", "postgres")])
def test_each_target_names_its_engine(target, engine):
    assert engine == for_target(target).NAME


def test_a_spark_url_names_the_warehouse_and_passes_spark_settings_through(tmp_path,
                                                                          monkeypatch):
    monkeypatch.chdir(tmp_path)
    warehouse, conf = pyspark.settings(
        "pyspark:///wh/a?spark.master=local[2]&spark.sql.shuffle.partitions=3")
    assert warehouse == tmp_path / "wh" / "a"  # relative to the current folder
    assert conf["spark.master"] == "local[2]"
    assert conf["spark.sql.shuffle.partitions"] == "3"
    assert conf["spark.sql.warehouse.dir"] == str(tmp_path / "wh" / "a")
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert conf["spark.sql.catalogImplementation"] == "hive"  # tables found by the next process
    assert f"databaseName={tmp_path}/wh/a/metastore_db" in conf[
        "spark.hadoop.javax.jdo.option.ConnectionURL"]
    absolute, conf = pyspark.settings("pyspark:////srv/lake?spark.master=spark://h:7077")
    assert absolute == Path("/srv/lake")
    assert conf["spark.master"] == "spark://h:7077"


def test_a_spark_url_refuses_what_is_not_a_spark_setting():
    with pytest.raises(ConfigError, match=r"^pyspark: 'master' is not a Spark setting"):
        pyspark.settings("pyspark:///wh?master=local")
    with pytest.raises(ConfigError, match=r"^pyspark: the URL names no warehouse folder"):
        pyspark.settings("pyspark://")


# ---- loads on a real PostgreSQL server ------------------------------------------------------
LEADS = "lead_id,created_at,source\nL1,2026-01-05,web\nL2,2026-01-10,ads\nL3,bad date,web\n"
EVENTS = "lead_id,stage,occurred_at\nL1,mql,2026-01-07\nL9,mql,2026-01-08\n"


@pytest.fixture
def pg(postgres_server, request):
    ws = funnelmetrics.open(f"{postgres_server}?schema=t_{request.node.name[:40].lower()}"
                            .replace("[", "_").replace("]", "_").replace("-", "_"))
    yield ws
    ws.close()


def files(tmp_path: Path, **tables: str) -> Path:
    folder = tmp_path / f"in{len(list(tmp_path.glob('in*')))}"  # a new folder per load
    folder.mkdir()
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def count(ws, table: str) -> int:
    return int(ws.con.table(table).count().execute())


@pytest.mark.postgres
def test_postgres_load_writes_accepted_rows_and_the_quarantine(pg, tmp_path):
    report = pg.ingest([files(tmp_path, leads=LEADS, stage_events=EVENTS)])
    # L3's date is not a date; L9 names no lead: one rejected row in each file
    assert (report.tables["leads"].accepted, report.tables["leads"].rejected) == (2, 1)
    assert (report.tables["stage_events"].accepted,
            report.tables["stage_events"].rejected) == (1, 1)
    assert sorted(pg.con.table("leads").lead_id.execute()) == ["L1", "L2"]
    assert count(pg, "_quarantine") == 2
    pg.ingest([files(tmp_path, leads=LEADS)])  # the same file again: no new lead rows
    assert count(pg, "leads") == 2
    assert count(pg, "_quarantine") == 3  # each load keeps its own quarantine lines


@pytest.mark.postgres
def test_postgres_strict_and_dry_runs_write_nothing(pg, tmp_path):
    with pytest.raises(InputError, match="nothing loaded"):
        pg.ingest([files(tmp_path, leads=LEADS)], strict=True)
    pg.check([files(tmp_path, leads=LEADS)])
    assert (count(pg, "leads"), count(pg, "_quarantine")) == (0, 0)


@pytest.mark.postgres
def test_postgres_load_is_one_transaction(pg, tmp_path, monkeypatch):
    """A failure while writing the second table leaves the first as it was."""
    from funnelmetrics.engines import postgres

    pg.ingest([files(tmp_path, leads="lead_id,created_at\nL0,2026-01-01\n")])
    written = []
    copy = postgres._copy

    def fail_on_second(cur, name, rows):
        if name == postgres.UPSERT:  # a table's new rows (the keys asked before are not)
            written.append(rows.column_names[0])
            if len(written) == 2:
                raise RuntimeError("disk full")
        copy(cur, name, rows)

    monkeypatch.setattr(postgres, "_copy", fail_on_second)
    with pytest.raises(ConfigError, match=r"^postgres: the load was rolled back \(disk full\)"):
        pg.ingest([files(tmp_path, leads=LEADS, stage_events=EVENTS)])
    assert written == ["lead_id", "lead_id"]  # leads' rows were written, then the events failed
    assert pg.con.table("leads").lead_id.execute().tolist() == ["L0"]  # L1, L2 rolled back
    assert (count(pg, "stage_events"), count(pg, "_quarantine")) == (0, 0)


@pytest.mark.postgres
def test_postgres_tables_live_in_the_urls_schema(pg, postgres_server):
    assert "leads" in pg.con.list_tables()
    other = funnelmetrics.open(f"{postgres_server}?schema=another_workspace")
    try:
        assert "leads" in other.con.list_tables()
        with pg.con.con.cursor() as cur:
            cur.execute("SELECT count(DISTINCT table_schema) FROM information_schema.tables "
                        "WHERE table_name = 'leads'")
            assert cur.fetchone()[0] >= 2  # one canonical table per workspace schema
    finally:
        other.close()


def test_a_schema_must_be_a_plain_identifier():
    with pytest.raises(ConfigError, match=r"^postgres: schema 'a;b' is not a plain identifier"):
        funnelmetrics.open("postgres://u@127.0.0.1:1/x?schema=a;b")
