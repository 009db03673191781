"""Contact addresses: one normal form per channel, the uniqueness key, the tenant's rules."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from csdomain import ChannelKind, CSDomainError, ValidationError
from csdomain.addresses import PHONE_CHANNELS, ContactRules, contact_key, normalize_address
from csdomain.serialization import from_json, to_json
from csdomain.testing.strategies import channel_keys

REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
maybe_regions = st.none() | st.sampled_from(REGIONS)
# Phone-ish text: digits of any script, separators, '+', letters, and anything else.
phone_texts = st.text(st.sampled_from("0123456789０１２３ +＋-().x ext#*abcOZ\u0663"), max_size=30)
addresses = st.text(max_size=40) | phone_texts


# -- phones -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "region"),
    [
        ("13800138000", "CN"),
        ("+86 138 0013 8000", None),
        ("+86 138 0013 8000", "US"),
        ("+86-138-0013-8000", "CN"),
        ("0086 138 0013 8000", "CN"),
        ("(+86) 13800138000", "CN"),
        ("１３８００１３８０００", "CN"),  # full-width digits from a Chinese input method
        ("  138 0013 8000  ", "CN"),
        ("+86 138 0013 8000 ext. 5", "CN"),  # E.164 has no extensions
    ],
)
def test_spellings_of_one_mobile_number_normalize_to_e164(address: str, region: str | None) -> None:
    for channel in (ChannelKind.PHONE_HOTLINE, "phone_hotline", ChannelKind.SMS, "sms"):
        assert normalize_address(channel, address, default_region=region) == "+8613800138000"


def test_national_numbers_are_read_in_the_default_region() -> None:
    assert normalize_address("sms", "2123 4567", default_region="HK") == "+85221234567"
    assert normalize_address("sms", "(201) 555-0123", default_region="US") == "+12015550123"
    assert normalize_address("sms", "020 7946 0018", default_region="GB") == "+442079460018"


def test_a_national_number_without_a_region_is_kept_as_its_digits() -> None:
    # Without a country code the number cannot be placed; its digits still match themselves.
    assert normalize_address("sms", "138-0013-8000") == "13800138000"
    assert normalize_address("sms", "138 0013 8000") == normalize_address("sms", "13800138000")


@pytest.mark.parametrize(
    ("address", "kept"),
    [
        ("123", "123"),  # too short to be a number
        ("+999 1234", "+9991234"),  # no such country code
        ("call 12 me", "12"),
        ("unknown", "unknown"),  # no digit at all: as written
        ("", ""),
    ],
)
def test_what_is_not_a_possible_number_falls_back_to_its_digits(address: str, kept: str) -> None:
    assert normalize_address("phone_hotline", address, default_region="CN") == kept


def test_video_calls_and_other_channels_are_not_read_as_phone_numbers() -> None:
    assert {"phone_hotline", "sms"} == PHONE_CHANNELS
    assert normalize_address("video_call", "138 0013 8000", default_region="CN") == "138 0013 8000"


@st.composite
def example_numbers(draw: st.DrawFn) -> tuple[str, phonenumbers.PhoneNumber]:
    """A valid number of some region (phonenumbers' example, its last digits varied)."""
    region = draw(st.sampled_from(REGIONS))
    kind = draw(
        st.sampled_from(
            (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)
        )
    )
    example = phonenumbers.example_number_for_type(region, kind)
    assume(example is not None)
    assert example is not None
    national = str(example.national_number)
    tail = draw(st.text("0123456789", min_size=2, max_size=2))
    varied = phonenumbers.parse(f"+{example.country_code}{national[:-2]}{tail}")
    varied.italian_leading_zero = example.italian_leading_zero
    varied.number_of_leading_zeros = example.number_of_leading_zeros
    assume(phonenumbers.is_valid_number_for_region(varied, region))
    return region, varied


@given(example_numbers(), maybe_regions, st.sampled_from(sorted(PHONE_CHANNELS)))
def test_national_and_international_spellings_normalize_equally(
    drawn: tuple[str, phonenumbers.PhoneNumber], other_region: str | None, channel: str
) -> None:
    region, number = drawn
    fmt = phonenumbers.PhoneNumberFormat
    e164 = phonenumbers.format_number(number, fmt.E164)
    national = phonenumbers.format_number(number, fmt.NATIONAL)
    international = phonenumbers.format_number(number, fmt.INTERNATIONAL)
    assert normalize_address(channel, national, default_region=region) == e164
    # An international spelling needs no region, and a foreign region does not change it.
    assert normalize_address(channel, international, default_region=other_region) == e164
    assert normalize_address(channel, e164, default_region=other_region) == e164


# -- e-mail -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "normal"),
    [
        ("Li.Wei@Example.COM", "Li.Wei@example.com"),
        ("  li@example.com ", "li@example.com"),
        ("Li@例子.中国", "Li@xn--fsqu00a.xn--fiqs8s"),
        ("li@xn--fsqu00a.xn--fiqs8s", "li@xn--fsqu00a.xn--fiqs8s"),
        ("li@ＥＸＡＭＰＬＥ。com", "li@example.com"),  # full-width letters and dot
        ('"a@b"@Example.com', '"a@b"@example.com'),  # the domain follows the last @
        ("li@a..COM", "li@a..com"),  # IDNA refuses an empty label: only lower-cased
        ("no-at-sign", "no-at-sign"),
    ],
)
def test_email_domains_are_lower_cased_and_local_parts_kept(address: str, normal: str) -> None:
    assert normalize_address(ChannelKind.EMAIL, address) == normal
    assert normalize_address("email", address, default_region="CN") == normal


local_parts = st.text(st.characters(blacklist_characters="@"), min_size=1, max_size=20).filter(
    lambda s: s == s.strip()
)


@given(local_parts, st.text(max_size=30))
def test_email_normalization_keeps_the_local_part(local: str, domain: str) -> None:
    assert normalize_address("email", f"{local}@{domain}").startswith(local + "@")


@given(local_parts, st.from_regex(r"[A-Za-z0-9-]{1,20}(\.[A-Za-z0-9-]{1,20}){0,3}", fullmatch=True))
def test_an_ascii_domain_is_only_lower_cased(local: str, domain: str) -> None:
    assert normalize_address("email", f"{local}@{domain}") == f"{local}@{domain.lower()}"


# -- every channel ----------------------------------------------------------------------


@given(channel_keys(), addresses)
def test_platform_ids_and_custom_channels_compare_exactly(channel: str, address: str) -> None:
    assume(channel not in PHONE_CHANNELS and channel != "email")
    assert normalize_address(channel, address, default_region="CN") == address


@given(channel_keys() | st.sampled_from(sorted(PHONE_CHANNELS)), addresses, maybe_regions)
def test_normalizing_is_idempotent_and_never_raises(
    channel: str, address: str, region: str | None
) -> None:
    once = normalize_address(channel, address, default_region=region)
    assert normalize_address(channel, once, default_region=region) == once


@pytest.mark.parametrize("region", ["cn", "XX", "China", "", "001"])
def test_an_unknown_default_region_is_refused(region: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_address("sms", "13800138000", default_region=region)
    assert caught.value.paths == ("default_region",)
    assert repr(region) in str(caught.value) and "'CN'" in str(caught.value)


# -- contact keys -----------------------------------------------------------------------


def test_contact_key_is_the_channel_and_the_normal_address() -> None:
    assert contact_key("sms", "13800138000", default_region="CN") == "sms/+8613800138000"
    assert contact_key(ChannelKind.SMS, "+86 138 0013 8000") == "sms/+8613800138000"
    assert contact_key("email", "Li@Example.com") == "email/Li@example.com"
    # the same number on two channels is two contact points
    assert contact_key("sms", "+8613800138000") != contact_key("phone_hotline", "+8613800138000")


@given(channel_keys(), addresses, channel_keys(), addresses)
def test_contact_keys_are_equal_exactly_when_channel_and_normal_address_are(
    c1: str, a1: str, c2: str, a2: str
) -> None:
    same = (c1, normalize_address(c1, a1)) == (c2, normalize_address(c2, a2))
    assert (contact_key(c1, a1) == contact_key(c2, a2)) is same


@pytest.mark.parametrize("channel", ["", "a/b", "has space", "-lead"])
def test_contact_key_refuses_what_is_not_a_channel_key(channel: str) -> None:
    with pytest.raises(ValidationError, match="channel key"):
        contact_key(channel, "x")


# -- the tenant's rules -----------------------------------------------------------------


def test_contact_rules_default_to_not_unique_without_region() -> None:
    rules = ContactRules()
    assert (rules.unique, rules.default_region) == (False, None)
    assert rules.normalize("sms", "13800138000") == "13800138000"


def test_contact_rules_normalize_with_their_region() -> None:
    rules = ContactRules(unique=True, default_region="CN")
    assert rules.normalize("phone_hotline", "138 0013 8000") == "+8613800138000"
    assert rules.contact_key("sms", "13800138000") == "sms/+8613800138000"
    assert rules.normalize("email", "a@B.cn") == "a@b.cn"


@pytest.mark.parametrize(
    ("fields", "path", "shown"),
    [
        ({"default_region": "cn"}, "default_region", "upper case: 'CN'"),
        ({"default_region": "Atlantis"}, "default_region", "'Atlantis'"),
        ({"default_region": 86}, "default_region", "86"),
        ({"unique": "yes"}, "unique", "'yes'"),
    ],
)
def test_contact_rules_refuse_bad_values(fields: dict[str, object], path: str, shown: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ContactRules(**fields)  # type: ignore[arg-type]
    assert isinstance(caught.value, CSDomainError)
    assert caught.value.subject == "ContactRules"
    assert caught.value.paths == (path,)
    assert shown in str(caught.value)


@given(st.booleans(), maybe_regions)
def test_contact_rules_round_trip_as_a_document(unique: bool, region: str | None) -> None:
    rules = ContactRules(unique=unique, default_region=region)
    text = to_json(rules)
    assert '"document":"contact_rules"' in text.replace(" ", "")
    assert from_json(text, ContactRules) == rules
