"""Report texts through gettext catalogues: `locale/{id,ms}/LC_MESSAGES/funnelmetrics.po`.

The .po files are read with Babel when first needed (no `msgfmt` build step); English is the
msgid itself. A msgid missing from a catalogue falls back to English (a test keeps none missing).
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
def catalogue(lang: str) -> dict[str, str]:
    """{msgid: translation} of a language's catalogue (empty for English or a missing file)."""
    path = po_path(lang)
    if lang == "en" or not path.exists():
        return {}
    from babel.messages.pofile import read_po

    with path.open("rb") as f:
        cat = read_po(f, locale=lang)
    return {str(m.id): str(m.string) for m in cat if m.id and m.string}


def gettext(msgid: str, lang: str = "en") -> str:
    """The text of `msgid` in `lang` (English: the msgid)."""
    return catalogue(lang).get(msgid, msgid) if lang != "en" else msgid
