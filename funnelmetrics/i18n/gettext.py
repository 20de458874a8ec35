"""Texts through gettext catalogues: `locale/{id,ms}/LC_MESSAGES/funnelmetrics.po`.

The .po files are read with Babel when first needed (no `msgfmt` build step); English is the
msgid itself. A msgid missing from a catalogue falls back to English (tests keep none missing).
The review's texts have no msgctxt; other surfaces give theirs one (`cli` for the command
line's help), so one English text can read differently in each place.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "funnelmetrics"
LANGS = ("en", "id", "ms")


def N_(msgid: str) -> str:  # noqa: N802 (the gettext convention)
    """Mark a msgid for the catalogues without translating it here (it is translated when
    rendered, in the reader's language)."""
    return msgid


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=8)
def _entries(lang: str) -> dict[tuple[str | None, str], str]:
    """{(msgctxt or None, msgid): translation} of a language's catalogue (empty for English or
    a missing file; untranslated entries left out)."""
    path = po_path(lang)
    if lang == "en" or not path.exists():
        return {}
    from babel.messages.pofile import read_po

    with path.open("rb") as f:
        cat = read_po(f, locale=lang)
    return {(m.context, str(m.id)): str(m.string) for m in cat if m.id and m.string}


@lru_cache(maxsize=8)
def catalogue(lang: str) -> dict[str, str]:
    """{msgid: translation} of the entries without a msgctxt (the review's texts)."""
    return {msgid: text for (ctx, msgid), text in _entries(lang).items() if ctx is None}


def contexts(lang: str, context: str | None = None) -> dict[tuple[str, str], str]:
    """{(msgctxt, msgid): translation} of the entries with a msgctxt (only `context`'s when
    given)."""
    return {(ctx, msgid): text for (ctx, msgid), text in _entries(lang).items()
            if ctx is not None and (context is None or ctx == context)}


def gettext(msgid: str, lang: str = "en") -> str:
    """The text of `msgid` in `lang` (English: the msgid)."""
    return _entries(lang).get((None, msgid), msgid) if lang != "en" else msgid


def pgettext(context: str, msgid: str, lang: str = "en") -> str:
    """The text of `msgid` in `context` in `lang` (English, or when missing: the msgid)."""
    return _entries(lang).get((context, msgid), msgid) if lang != "en" else msgid
