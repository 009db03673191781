"""Strategies: the contact rules of a tenant."""

from __future__ import annotations

import hypothesis.strategies as st
import phonenumbers
from hypothesis.strategies import SearchStrategy

from csdomain.addresses import ContactRules
from csdomain.testing.strategies.registry import register


def contact_rules() -> SearchStrategy[ContactRules]:
    """:class:`~csdomain.addresses.ContactRules`: unique or not, with or without a
    default region among those phonenumbers supports. Requires Hypothesis."""
    return st.builds(
        ContactRules,
        unique=st.booleans(),
        default_region=st.none() | st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS)),
    )


register(ContactRules, contact_rules)
