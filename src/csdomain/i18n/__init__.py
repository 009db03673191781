"""Localization: labels for the domain's enums, tiers and channels, and compound durations.

Labels come from gettext catalogs managed with Babel (see ``babel.cfg`` and
``scripts/update_catalogs.py``); English is the source language, so the English
labels are the message ids themselves. Each enum has its own message context
(``"status"``, ``"priority"``, ...), so the same English word in two enums
("Open", "Low", "Standard") can be translated differently.

csdomain speaks English, Simplified Chinese and Traditional Chinese
(:data:`SUPPORTED_LOCALES`). Locales are given as Babel :class:`~babel.Locale`
objects or identifiers with ``_`` or ``-`` as separator, as browsers send
them: ``"en"``, ``"en_US"``, ``"zh_CN"``, ``"zh-CN"``, ``"zh_Hans"``, ``"zh"``
(Simplified Chinese), ``"zh_TW"``, ``"zh-TW"``, ``"zh_HK"``, ``"zh_Hant"``,
``"zh-Hant-TW"`` (Traditional Chinese). Any other locale (``"fr"``, ``"de"``)
raises :class:`~csdomain.errors.ValidationError` listing the supported ones,
in every function here, so that labels and durations never mix two languages.

>>> from csdomain.tickets import Status
>>> label(Status.SOLVED, "zh-TW")
'已解決'
>>> from datetime import timedelta
>>> format_duration(timedelta(hours=2, minutes=15), "zh_CN")
'2小时15分'

The parts: :mod:`csdomain.i18n.catalogs` (locales, :func:`translation`),
:mod:`csdomain.i18n.labels` and :mod:`csdomain.i18n.durations`. They import
no domain module; this package imports :mod:`csdomain.channels` and
:mod:`csdomain.people` so that bare keys such as ``"email"`` and ``"L1"``
find the labels those modules declare.
"""

from __future__ import annotations

# The built-in channel and tier keys are declared by these two modules; importing them
# lets a bare key such as "email" or "L1" find its label.
import csdomain.channels
import csdomain.people  # noqa: F401
from csdomain.i18n.catalogs import SUPPORTED_LOCALES, catalog_locale, parse_locale, translation
from csdomain.i18n.durations import DurationUnit, DurationWidth, format_duration
from csdomain.i18n.labels import Named, channel_label, label, tier_label

__all__ = [
    "SUPPORTED_LOCALES",
    "DurationUnit",
    "DurationWidth",
    "Named",
    "catalog_locale",
    "channel_label",
    "format_duration",
    "label",
    "parse_locale",
    "tier_label",
    "translation",
]
