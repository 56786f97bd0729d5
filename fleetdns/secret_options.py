"""Which inventory keys hold secrets: the secret options of every provider type (tsig_secret, token...).

Asked only when a value under such a key cannot be loaded or templated, so that the message can
leave the value out: it fails before it could be known as a secret and added to the redactor.
Provider classes are imported on the first question only (they pull in their client libraries).
"""

from __future__ import annotations

from functools import cache

from ansible_collections.fleetdns.ddns.plugins.module_utils.providers import provider_class, provider_type_names


def is_secret_option(key: object) -> bool:
    """Whether `key` names a secret provider option, in any letter case."""
    return isinstance(key, str) and key.lower() in _secret_option_names()


@cache
def _secret_option_names() -> frozenset[str]:
    names = set()
    for type_name in provider_type_names():
        cls = provider_class(type_name)
        if cls is not None:
            names.update(name.lower() for name, spec in cls.OPTIONS.items() if spec.secret)
    return frozenset(names)
