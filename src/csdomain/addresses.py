"""Contact addresses in one spelling: the normal form lookups and uniqueness compare.

A customer writes a phone number as ``13800138000`` on a web form and as
``+86 138 0013 8000`` in an e-mail signature; both are one contact point.
:func:`normalize_address` brings an address to one spelling per channel:

- phone-like channels (:data:`PHONE_CHANNELS`): E.164 via the ``phonenumbers``
  library (``+8613800138000``); a national number needs the tenant's
  ``default_region`` to know its country code;
- e-mail: the local part as written, the domain lower-cased and in its ASCII
  (IDNA) form;
- every other channel (WeChat openids, platform ids, custom channels): exactly
  as given, since those ids are case-sensitive and have no other spelling.

:func:`contact_key` joins the channel key and the normal form into the value a
store keeps unique per tenant; :class:`ContactRules` is the tenant's setting.

>>> normalize_address("phone_hotline", "13800138000", default_region="CN")
'+8613800138000'
>>> normalize_address("sms", "+86 138 0013 8000")
'+8613800138000'
>>> normalize_address("email", "Li.Wei@Example.COM")
'Li.Wei@example.com'
>>> contact_key("wechat_official_account", "oAbC123")
'wechat_official_account/oAbC123'
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Final

import attrs
import phonenumbers

from csdomain._kernel.documents import declare_document
from csdomain._kernel.validation import KEY_PATTERN, Check, Checked, boolean, checked
from csdomain.channels import ChannelKind, channel_key
from csdomain.errors import ValidationError

__all__ = [
    "PHONE_CHANNELS",
    "ContactRules",
    "contact_key",
    "normalize_address",
]

#: The channels whose addresses are phone numbers, normalized to E.164.
#: ``video_call`` is not among them: its addresses are usually app accounts
#: (a WeChat or meeting id), which phone parsing would mangle.
PHONE_CHANNELS: Final[frozenset[str]] = frozenset(
    {ChannelKind.PHONE_HOTLINE.value, ChannelKind.SMS.value}
)

_EMAIL: Final = ChannelKind.EMAIL.value
_E164: Final = phonenumbers.PhoneNumberFormat.E164

#: The region codes ``phonenumbers`` knows (ISO 3166-1 alpha-2, upper case).
_REGIONS: Final[frozenset[str]] = frozenset(phonenumbers.SUPPORTED_REGIONS)


def normalize_address(
    channel: ChannelKind | str, address: str, *, default_region: str | None = None
) -> str:
    """``address`` on ``channel`` in its normal form (idempotent: normalizing twice
    changes nothing).

    - Phone channels (:data:`PHONE_CHANNELS`): surrounding blanks removed, then
      E.164 (``+8613800138000``). A national number (no ``+`` or international
      prefix) is read in ``default_region``; without a region it cannot be placed.
      An extension is dropped (E.164 has none). An address that does not parse,
      or is not a possible number, is kept as its digits, with the leading ``+``
      if it had one (``"ext 12"`` -> ``"12"``), or as written when it has no digit,
      so stored data never makes a lookup fail.
    - ``email``: surrounding blanks removed; the part before the last ``@`` kept
      as written (it may be case-sensitive); the domain lower-cased and in its
      IDNA ASCII form, so ``例子.中国`` is ``xn--fsqu00a.xn--fiqs8s`` and
      full-width letters or dots are their ASCII selves. A domain IDNA refuses
      (an empty or over-long label) is only lower-cased.
    - Any other channel: ``address`` unchanged.

    Raises :class:`~csdomain.errors.ValidationError` for a ``default_region``
    ``phonenumbers`` does not know; addresses never make it raise.
    """
    _check_region(default_region)
    key = channel_key(channel)
    if key in PHONE_CHANNELS:
        return _phone(address.strip(), default_region)
    if key == _EMAIL:
        return _email(address.strip())
    return address


def contact_key(
    channel: ChannelKind | str, address: str, *, default_region: str | None = None
) -> str:
    """The value that identifies a contact point within a tenant: the channel key,
    ``/`` and the normalized address (``"sms/+8613800138000"``).

    Channel keys cannot contain ``/``, so the first ``/`` always ends the channel
    and two different (channel, normal address) pairs never share a key.
    Raises :class:`~csdomain.errors.ValidationError` for a ``channel`` that is not
    a channel key or a ``default_region`` ``phonenumbers`` does not know.
    """
    key = channel_key(channel)
    if type(key) is not str or KEY_PATTERN.fullmatch(key) is None:
        raise ValidationError.single(
            "contact key",
            "channel",
            f"expected a channel key of 1-64 letters, digits, '_', '.', ':' or '-', got {key!r}",
        )
    return f"{key}/{normalize_address(key, address, default_region=default_region)}"


def _phone(text: str, region: str | None) -> str:
    digits = _digits(text)
    # The digits are tried too, so that the fallback below is itself a fixed point.
    for candidate in (text, digits):
        if not candidate:
            continue
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, _E164)
    return digits or text


def _digits(text: str) -> str:
    # Any script's decimal digits (full-width ones from Chinese input methods) as ASCII.
    found = "".join(str(d) for d in map(_decimal, text) if d is not None)
    return f"+{found}" if found and text.startswith(("+", "＋")) else found


def _decimal(character: str) -> int | None:
    return unicodedata.decimal(character, None)


def _email(text: str) -> str:
    local, at, domain = text.rpartition("@")
    if not at:
        return text
    return f"{local}@{_domain(domain)}"


def _domain(domain: str) -> str:
    lowered = domain.lower()
    try:
        return lowered.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return lowered


def _region_ok(value: object) -> bool:
    return value is None or (type(value) is str and value in _REGIONS)


def _region_explain(value: object) -> Iterator[tuple[str, str]]:
    hint = ""
    if type(value) is str and value.upper() in _REGIONS:
        hint = f" (region codes are upper case: {value.upper()!r})"
    yield (
        "",
        "expected None or a region code phonenumbers supports, such as 'CN', 'HK', "
        f"'TW' or 'US', got {value!r}{hint}",
    )


_region = Check(_region_ok, _region_explain)


def _check_region(region: str | None) -> None:
    if not _region_ok(region):
        raise ValidationError(
            "contact address", [("default_region", m) for _, m in _region_explain(region)]
        )


@attrs.frozen
class ContactRules(Checked):
    """A tenant's rules for contact points.

    - ``unique``: a contact point (channel plus normalized address, see
      :func:`contact_key`) belongs to at most one customer of the tenant.
    - ``default_region``: the region national phone numbers are read in (an
      ISO 3166-1 code ``phonenumbers`` supports, such as ``"CN"``); ``None``
      means numbers without a country code are compared by their digits only.

    >>> rules = ContactRules(unique=True, default_region="CN")
    >>> rules.normalize("phone_hotline", "138 0013 8000")
    '+8613800138000'
    >>> rules.contact_key("sms", "13800138000")
    'sms/+8613800138000'
    """

    unique: bool = attrs.field(default=False, metadata=checked(boolean))
    default_region: str | None = attrs.field(default=None, metadata=checked(_region))

    def normalize(self, channel: ChannelKind | str, address: str) -> str:
        """:func:`normalize_address` with this tenant's default region."""
        return normalize_address(channel, address, default_region=self.default_region)

    def contact_key(self, channel: ChannelKind | str, address: str) -> str:
        """:func:`contact_key` with this tenant's default region."""
        return contact_key(channel, address, default_region=self.default_region)


declare_document("contact_rules", ContactRules)
