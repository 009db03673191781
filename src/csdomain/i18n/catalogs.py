"""Locales and gettext catalogs: which locales csdomain speaks, and their translations.

csdomain writes English (the source language) and Chinese in Simplified and
Traditional script, the three entries of :data:`SUPPORTED_LOCALES`. Any
identifier naming one of them is accepted, with ``_`` or ``-`` as separator
and in any letter case, as Babel and browsers spell them: ``en``, ``en_US``,
``en-GB``; ``zh``, ``zh_CN``, ``zh-CN``, ``zh_SG``, ``zh_Hans``,
``zh-Hans-CN``; ``zh_TW``, ``zh-TW``, ``zh_HK``, ``zh_MO``, ``zh_Hant``,
``zh-Hant-TW``. A Chinese locale written in Traditional script (stated, or
implied by the territory: TW, HK, MO) is ``zh_Hant``; every other Chinese
locale, plain ``zh`` included, is ``zh_Hans``.

Every other locale (``"fr"``, ``"de"``, ``"ja"``, ``"yue"``, ``"zh_Latn"``)
is refused with a :class:`~csdomain.errors.ValidationError` that lists the
supported ones: csdomain would otherwise show English labels next to French
dates or durations. An application choosing among a customer's languages
picks a supported one first (:func:`catalog_locale` tells which entry an
identifier maps to).

>>> catalog_locale("zh-Hant-TW"), catalog_locale("zh-CN"), catalog_locale("en_GB")
('zh_Hant', 'zh_Hans', 'en')
>>> parse_locale("zh-TW")
Locale('zh', territory='TW', script='Hant')
"""

from __future__ import annotations

import functools
import gettext
from importlib import resources
from typing import Final

from babel import Locale, UnknownLocaleError

from csdomain._kernel.validation import describe
from csdomain.errors import ValidationError

__all__ = ["SUPPORTED_LOCALES", "catalog_locale", "parse_locale", "translation"]

#: Locales with labels, as catalog identifiers. ``"en"`` is the source language
#: (its labels are the message ids); the others have compiled gettext catalogs
#: in ``csdomain/i18n/locale/<id>/LC_MESSAGES/csdomain.mo``.
SUPPORTED_LOCALES: Final[tuple[str, ...]] = ("en", "zh_Hans", "zh_Hant")

_DOMAIN: Final = "csdomain"
_SOURCE_LOCALE: Final = "en"
_ACCEPTED: Final = (
    "'en' (any region: 'en_US', 'en-GB', ...), "
    "'zh_Hans' (also 'zh', 'zh_CN', 'zh-CN', 'zh_SG', 'zh-Hans-CN'), "
    "'zh_Hant' (also 'zh_TW', 'zh-TW', 'zh_HK', 'zh_MO', 'zh-Hant-TW')"
)


def _refused(value: object, why: str) -> ValidationError:
    return ValidationError.single(
        "locale",
        "",
        f"{why} {describe(value)}; supported locales: {', '.join(SUPPORTED_LOCALES)}, "
        f"written as {_ACCEPTED}",
    )


def _catalog_of(locale: Locale) -> str | None:
    """The entry of :data:`SUPPORTED_LOCALES` for a parsed ``locale``, or None."""
    if locale.language == "en" and locale.script in (None, "Latn"):
        return _SOURCE_LOCALE
    if locale.language != "zh":
        return None
    # Babel's Chinese locales all carry a script (Locale.parse adds it: zh_TW is
    # zh_Hant_TW), except plain zh, which is Simplified.
    if locale.script in (None, "Hans"):
        return "zh_Hans"
    return "zh_Hant" if locale.script == "Hant" else None


@functools.lru_cache(maxsize=256)
def _resolve_identifier(identifier: str) -> tuple[Locale, str]:
    cleaned = identifier.strip().replace("-", "_")
    # Babel maps "und" (undetermined) to en_US; check the language subtag first.
    if cleaned.partition("_")[0].lower() not in ("en", "zh"):
        raise _refused(identifier, "unsupported locale")
    try:
        parsed = Locale.parse(cleaned)
    except (UnknownLocaleError, ValueError, TypeError):
        raise _refused(identifier, "unknown locale identifier") from None
    catalog = _catalog_of(parsed)
    if catalog is None:
        raise _refused(identifier, "unsupported locale")
    return parsed, catalog


def _resolve(locale: str | Locale) -> tuple[Locale, str]:
    """The Babel locale and the catalog identifier of ``locale``; refuses unsupported ones."""
    if isinstance(locale, Locale):
        catalog = _catalog_of(locale)
        if catalog is None:
            raise _refused(str(locale), "unsupported locale")
        return locale, catalog
    if not isinstance(locale, str):
        raise _refused(locale, "expected a locale identifier (str) or a babel.Locale, got")
    return _resolve_identifier(locale)


def parse_locale(locale: str | Locale) -> Locale:
    """``locale`` as a :class:`babel.Locale`, for Babel's date and number formatting.

    Accepts what every function of :mod:`csdomain.i18n` accepts, ``-`` as
    separator included (Babel's own ``Locale.parse`` refuses ``"zh-CN"``):

    >>> parse_locale("zh-CN")
    Locale('zh', territory='CN', script='Hans')

    Raises :class:`~csdomain.errors.ValidationError` for a locale that is not
    one of :data:`SUPPORTED_LOCALES` or a regional or script variant of one.
    """
    return _resolve(locale)[0]


def catalog_locale(locale: str | Locale) -> str:
    """The entry of :data:`SUPPORTED_LOCALES` whose catalog ``locale`` uses.

    >>> catalog_locale("zh_HK"), catalog_locale("zh"), catalog_locale("en-US")
    ('zh_Hant', 'zh_Hans', 'en')

    Raises :class:`~csdomain.errors.ValidationError` for an unsupported locale.
    """
    return _resolve(locale)[1]


@functools.cache
def _load(catalog_id: str) -> gettext.NullTranslations:
    if catalog_id == _SOURCE_LOCALE:
        return gettext.NullTranslations()
    mo = resources.files("csdomain.i18n") / "locale" / catalog_id / "LC_MESSAGES" / f"{_DOMAIN}.mo"
    with mo.open("rb") as fp:
        return gettext.GNUTranslations(fp)


def translation(locale: str | Locale = "en") -> gettext.NullTranslations:
    """The gettext translations for ``locale``, loaded once and cached.

    Other modules translate their own English strings with it, using
    ``.gettext(message)`` or ``.pgettext(context, message)`` (both are
    extracted by ``scripts/update_catalogs.py``). English gets a
    :class:`gettext.NullTranslations` that returns the English message
    unchanged.

    Raises :class:`~csdomain.errors.ValidationError` for an unsupported locale.
    """
    return _load(_resolve(locale)[1])
