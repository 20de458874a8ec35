"""The catalogue documents itself (STYLE.md, Tests: a docs test) and the README lists every command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from funnelmetrics.catalog import LANGS, Unit, all_metrics
from funnelmetrics.cli import app

README = Path(__file__).resolve().parent.parent / "README.md"
METRICS = all_metrics()


def test_catalogue_is_not_empty_and_ids_are_unique():
    ids = [m.id for m in METRICS]
    assert len(ids) == len(set(ids))
    # SPEC §3: at least the funnel and deal metrics are in it
    assert {"leads_created", "stage_conversion_rate", "win_rate", "pipeline_value"} <= set(ids)


@pytest.mark.parametrize("metric", METRICS, ids=lambda m: m.id)
def test_entry_has_names_and_descriptions_in_every_language(metric):
    for lang in LANGS:
        assert metric.name(lang).strip(), f"{metric.id}: empty name in {lang}"
        assert metric.description(lang).strip(), f"{metric.id}: empty description in {lang}"
    # a translation, not a copy of the English text
    assert metric.name("id") != metric.name("en"), metric.id
    assert metric.description("id") != metric.description("en"), metric.id
    assert metric.description("ms") != metric.description("en"), metric.id


@pytest.mark.parametrize("metric", METRICS, ids=lambda m: m.id)
def test_entry_has_unit_formula_and_measures(metric):
    assert isinstance(metric.unit, Unit)
    assert metric.formula.strip(), f"{metric.id}: no formula"
    assert metric.measures, f"{metric.id}: no measures"
    for param in metric.params:
        assert param.description.strip(), f"{metric.id}: parameter {param.name} undocumented"


def _commands() -> list[str]:
    names = [c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands]
    names += [g.name for g in app.registered_groups if g.name]
    return sorted(names)


def _command_reference(text: str) -> str:
    """The README section whose heading mentions commands (the CLI reference)."""
    sections = re.split(r"(?m)^(?=#{1,6} )", text)
    chosen = [s for s in sections if re.match(r"#{1,6} .*\bcommand", s, flags=re.I)]
    return "\n".join(chosen) or text


def test_every_cli_command_is_in_the_readme_reference():
    assert README.exists(), f"{README} is missing: it should hold the command reference"
    reference = _command_reference(README.read_text(encoding="utf-8"))
    missing = [name for name in _commands()
               if not re.search(rf"(funnelmetrics {re.escape(name)}\b|`{re.escape(name)}[` ])",
                                reference)]
    assert missing == [], f"commands missing from README.md's command reference: {missing}"


def test_command_names_are_found():
    # guards the README test against passing vacuously
    assert {"metric", "metrics", "funnel", "glossary"} <= set(_commands())


def test_the_readme_metric_table_is_the_catalogue():
    """README's metric list is generated (`python -m funnelmetrics.catalog.docs README.md`):
    a definition changed in the catalogue must change there too."""
    from funnelmetrics.catalog.docs import END, START, markdown

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index(START) + len(START):readme.index(END)].strip()
    assert table == markdown()
