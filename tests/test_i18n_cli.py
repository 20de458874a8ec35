"""The command line's help in en, id and ms (issue 16 item 4): every help text of the click
tree has a translation in the catalogues (msgctxt `cli`) with the same placeholders, and
$FUNNELMETRICS_LANG switches the help of the real entry point."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import typer

from funnelmetrics.cli import app
from funnelmetrics.cli.app import COMMAND_PANELS
from funnelmetrics.cli.i18n import CONTEXT, cli_language, help_texts, translate
from funnelmetrics.i18n.gettext import contexts, pgettext

PLACEHOLDER = re.compile(r"\{\w*\}|--[a-z][\w-]*|`[^`]+`|\$\w+")


def english_texts() -> list[str]:
    return help_texts(typer.main.get_command(app), COMMAND_PANELS)


def test_the_walk_finds_every_kind_of_help_text():
    texts = english_texts()
    assert len(texts) > 100
    assert "Sales- and marketing-funnel metrics from CRM, marketing and billing data." in texts
    assert "table, json or csv." in texts  # an option's help
    assert "Get started" in texts and "Options" in texts  # a panel, a Typer label


@pytest.mark.parametrize("lang", ["id", "ms"])
def test_every_help_text_is_translated(lang):
    translated = contexts(lang, CONTEXT)
    missing = [text for text in english_texts() if not translated.get((CONTEXT, text), "").strip()]
    assert missing == []


@pytest.mark.parametrize("lang", ["id", "ms"])
def test_translations_keep_placeholders_options_and_code(lang):
    """{…}, --options, `code` and $VARIABLES are the same in the translation (sorted)."""
    for (_, msgid), text in contexts(lang, CONTEXT).items():
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(text)), msgid


@pytest.mark.parametrize("lang", ["id", "ms"])
def test_no_cli_translation_is_left_over(lang):
    assert sorted({m for (_, m) in contexts(lang, CONTEXT)} - set(english_texts())) == []


def test_pgettext_reads_the_context_and_falls_back():
    assert pgettext(CONTEXT, "Options", "id") == "Opsi"
    assert pgettext(CONTEXT, "Options", "ms") == "Pilihan"
    assert pgettext(CONTEXT, "Options", "en") == "Options"
    assert pgettext(CONTEXT, "no such text", "id") == "no such text"


@pytest.mark.parametrize(("value", "lang"), [("id", "id"), ("id_ID", "id"), ("ms-MY", "ms"),
                                             ("MS", "ms"), ("en", "en"), ("fr", "en"), ("", "en")])
def test_cli_language_from_the_environment(monkeypatch, value, lang):
    monkeypatch.setenv("FUNNELMETRICS_LANG", value)
    assert cli_language() == lang


def test_translated_tree_shows_malay_help_of_a_command(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "200")
    command = translate(typer.main.get_command(app), "ms", COMMAND_PANELS)
    try:
        with pytest.raises(SystemExit):
            command(["report", "--help"], prog_name="funnelmetrics")
    finally:
        translate(typer.main.get_command(app), "en", COMMAND_PANELS)  # Typer's labels back to English
    out = capsys.readouterr().out
    assert "Tempoh yang dikaji: bulan (2026-03), suku tahun (2026-Q1) atau tahun (2026)." in out
    assert "Pilihan" in out and "[lalai: html]" in out
    assert "The period reviewed" not in out


def run_help(lang: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "FUNNELMETRICS_LANG"}
    env["COLUMNS"] = "200"
    if lang:
        env["FUNNELMETRICS_LANG"] = lang
    code = "import sys; sys.argv = ['funnelmetrics', '--help']\nfrom funnelmetrics.cli import main\n" \
           "main()"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env).stdout


def test_funnelmetrics_lang_id_shows_indonesian_help():
    out = run_help("id")
    assert "Metrik corong penjualan dan pemasaran dari data CRM, pemasaran dan penagihan." in out
    assert "Mulai" in out and "Opsi" in out and "Tampilkan pesan ini lalu keluar." in out
    assert "Sales- and marketing-funnel metrics" not in out


def test_english_help_stays_english():
    out = run_help(None)
    assert "Sales- and marketing-funnel metrics from CRM, marketing and billing data." in out
    assert "Get started" in out and "Opsi" not in out
