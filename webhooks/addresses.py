"""Where a webhook may be sent: partner systems on the internet, not this service's own network.

An endpoint's address is chosen by an agency administrator, so without a check the service could be
made to post to anything it can reach: its database, its cache, a cloud metadata address. An address
that resolves to a private, loopback, link-local or otherwise non-public address is refused when the
webhook is registered and again at each delivery (a name can be pointed elsewhere after registration),
and the delivery then connects to the very address that was checked. `WEBHOOKS_ALLOW_PRIVATE_ADDRESSES`
lifts the rule, for a laptop and for tests with a local receiver.
"""

import ipaddress
import socket

from django.conf import settings

REFUSAL = "This address is on a private or local network: webhooks go only to partner systems on the internet."


class PrivateAddress(ValueError):
    """The endpoint's host is, or resolves to, an address that is not public."""


def is_public(address):
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def checked_addresses(host, port):
    """The addresses `host` resolves to, every one of them public (or private ones allowed by the settings).

    Raises `PrivateAddress` when any is not, and `OSError` when the name cannot be resolved.
    """
    found = [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
    if not settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES and not all(is_public(address) for address in found):
        raise PrivateAddress(REFUSAL)
    return list(dict.fromkeys(found))
