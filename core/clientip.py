"""The address of the person behind a request, as far as Leme can trust it.

Behind a load balancer every request arrives from the balancer's address (``REMOTE_ADDR``); the client's own
address is in ``X-Forwarded-For``, which each proxy extends with the address it received the request from.
Everything left of what our own proxies wrote is whatever the client chose to send, so the header is read
from the right: skipping the addresses of the proxies listed in ``LEME_TRUSTED_PROXIES`` (addresses or CIDR
networks), the first address that is not one of them is the client. The header is read only when
``REMOTE_ADDR`` itself is a trusted proxy; otherwise it could be forged by anyone and ``REMOTE_ADDR`` is the
answer.

The login lockout (django-axes' ``AXES_CLIENT_IP_CALLABLE``), the API throttles and the public pages' rate
limits all ask :func:`client_address`, so they agree on who someone is.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(proxy.strip(), strict=False) for proxy in proxies if proxy.strip())


def trusted_networks() -> tuple[Network, ...]:
    """``LEME_TRUSTED_PROXIES`` parsed; a malformed entry raises ValueError (a deployment error, not input)."""
    return _networks(tuple(getattr(settings, "LEME_TRUSTED_PROXIES", ())))


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.9:51234"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket: one person, one address.
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: tuple[Network, ...]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def client_address(request: HttpRequest) -> str:
    """The client's IP address: ``REMOTE_ADDR``, or, when that is a trusted proxy, the right-most address of
    ``X-Forwarded-For`` that is not a trusted proxy."""
    remote_raw = request.META.get("REMOTE_ADDR", "") or ""
    remote = _parse(remote_raw)
    if remote is None:
        return remote_raw
    networks = trusted_networks()
    if not networks or not _is_trusted(remote, networks):
        return str(remote)
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            # Our proxies write well-formed addresses; anything else came from the client's side of them.
            break
        if not _is_trusted(address, networks):
            return str(address)
        remote = address
    # Every hop was one of ours (a request from inside), or the header was missing or unreadable: the
    # nearest address we can vouch for.
    return str(remote)
