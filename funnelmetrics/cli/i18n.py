"""The command line's help in the user's language ($FUNNELMETRICS_LANG: en, id or ms).

The commands are written in English; for id and ms the click command tree Typer builds is
walked once before it runs and every help text (commands, groups, options, the panels) is
replaced by its gettext translation (msgctxt `cli`). English reads no catalogue at all.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

CONTEXT = "cli"
OTHER_PANEL = "More"  # the panel of a command no panel names (cli/app.py's OrderedGroup)
Panels = Mapping[str, Sequence[str]]
# Typer's own help labels (typer.rich_utils), translated with the commands' texts.
TYPER_LABELS = ("DEFAULT_STRING", "ENVVAR_STRING", "REQUIRED_LONG_STRING", "DEPRECATED_STRING",
                "ARGUMENTS_PANEL_TITLE", "OPTIONS_PANEL_TITLE", "COMMANDS_PANEL_TITLE",
                "ERRORS_PANEL_TITLE", "ABORTED_TEXT", "RICH_HELP")


def cli_language() -> str:
    """en, id or ms from $FUNNELMETRICS_LANG (a region such as id_ID counts as id); else en."""
    value = os.environ.get("FUNNELMETRICS_LANG", "").strip().lower().replace("-", "_")
    lang = value.split("_")[0]
    return lang if lang in ("id", "ms") else "en"


def commands(command: Any) -> Iterator[Any]:
    """The command and every command below it (Typer's groups have `commands`)."""
    yield command
    for sub in (getattr(command, "commands", None) or {}).values():
        yield from commands(sub)


def help_texts(root: Any, panels: Panels) -> list[str]:
    """Every English help text of the command tree under `root` (the msgids of context
    `cli`), plus the panel names of `--help` (`panels`, and "More") and Typer's labels."""
    texts: list[str] = [*panels, OTHER_PANEL, HELP_OPTION]
    for command in commands(root):
        texts += [text for text in (command.help, command.short_help) if text]
        texts += [text for param in command.params if (text := getattr(param, "help", None))]
    texts += [english_label(name) for name in TYPER_LABELS]
    return sorted(set(texts))


def english_label(name: str) -> str:
    import typer.rich_utils

    return _ENGLISH_LABELS.setdefault(name, getattr(typer.rich_utils, name))


_ENGLISH_LABELS: dict[str, str] = {}
HELP_OPTION = "Show this message and exit."  # click's help of -h/--help


def translate(root: Any, lang: str, panels: Panels) -> Any:
    """Replace the help texts of the command tree under `root` by their `lang` translations
    (in place; returns `root`); `panels`: {panel name: its commands} of the root's help."""
    from funnelmetrics.i18n.gettext import pgettext

    panel_of = {name: panel for panel, names in panels.items() for name in names}

    def tr(text: str | None) -> str | None:
        return pgettext(CONTEXT, text, lang) if text else text

    for command in commands(root):
        command.get_help_option = _translated_help_option(command.get_help_option, tr)
        command.help = tr(command.help)
        command.short_help = tr(command.short_help)
        for param in command.params:
            if getattr(param, "help", None):
                param.help = tr(param.help)
    for name, command in (getattr(root, "commands", None) or {}).items():
        panel = getattr(command, "rich_help_panel", None)
        command.rich_help_panel = tr(panel if isinstance(panel, str) else panel_of.get(name, OTHER_PANEL))
    import typer.rich_utils

    for name in TYPER_LABELS:
        setattr(typer.rich_utils, name, tr(english_label(name)))
    return root


def _translated_help_option(get_help_option: Any, tr: Any) -> Any:
    def wrapper(ctx: Any) -> Any:
        option = get_help_option(ctx)
        if option is not None and option.help:
            option.help = tr(option.help)
        return option

    return wrapper


def run(app: Any, panels: Panels) -> Any:
    """Run the Typer `app` with its help in the user's language."""
    lang = cli_language()
    if lang == "en":
        return app()
    import typer

    return translate(typer.main.get_command(app), lang, panels)()
