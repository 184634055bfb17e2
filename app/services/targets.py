"""Where the registry may send HTTP requests: callback URLs and the outbound HTTP client.

A callback URL must be https and reach only public addresses, unless private targets are allowed
(demo mode, WEBHOOK_ALLOW_PRIVATE_TARGETS=true). The address check runs when a URL is registered and
again on every connection, on the address actually connected to: a name that resolved to a public
address at registration cannot later be pointed at an internal one (DNS rebinding).
"""

import ipaddress
import socket
from urllib.parse import urlsplit

import httpcore
import httpx

MAX_URL_LENGTH = 2000


class TargetRefused(ValueError):
    pass


def resolve(host: str, port: int) -> list[str]:
    """The addresses a name resolves to (a seam for tests, which have no DNS)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused("the host name does not resolve") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# IPv6 forms that carry an IPv4 address the packets end up at: NAT64 (well-known prefix) and the
# deprecated IPv4-compatible addresses; Python counts these as global whatever the IPv4 address is.
_EMBEDDING_IPV4 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("::/96"))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None or ip.sixtofour is not None:
        return ip.ipv4_mapped or ip.sixtofour
    if any(ip in network for network in _EMBEDDING_IPV4):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    checked = [ip]
    if isinstance(ip, ipaddress.IPv6Address) and (embedded := _embedded_ipv4(ip)) is not None:
        # An IPv4-mapped address is the IPv4 address itself (Python calls the mapped range non-global).
        checked = [embedded] if ip.ipv4_mapped is not None else [ip, embedded]
    return all(a.is_global and not a.is_multicast for a in checked)


def public_addresses(host: str, port: int) -> list[str]:
    addresses = resolve(host, port)
    if not addresses or not all(_is_public(a) for a in addresses):
        raise TargetRefused("the host resolves to a private, loopback, link-local or unspecified address")
    return addresses


def _loopback_only(host: str, port: int) -> bool:
    return all(ipaddress.ip_address(a.split("%", 1)[0]).is_loopback for a in resolve(host, port))


def check_callback_url(url: str, allow_private: bool, allow_http: bool = False) -> None:
    """Raises TargetRefused with a reason the caller may see. Plain http only where `allow_http` (demo
    mode) or, with private targets allowed, to this machine itself: production settings need https
    even for the private targets WEBHOOK_ALLOW_PRIVATE_TARGETS admits."""
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(f"at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise TargetRefused("not a valid URL") from exc
    if parts.scheme not in ("https", "http"):
        raise TargetRefused("must be an https URL")
    if not parts.hostname:
        raise TargetRefused("must name a host")
    if parts.username or parts.password:
        raise TargetRefused("must not carry credentials")
    if parts.fragment:
        raise TargetRefused("must not have a fragment")
    if parts.scheme == "http" and not (allow_http or (allow_private and _loopback_only(parts.hostname, port))):
        raise TargetRefused("must be an https URL")
    if not allow_private:
        public_addresses(parts.hostname, port)


class _PublicOnlyBackend(httpcore.SyncBackend):
    """Connects only to a checked public address of the host; TLS still verifies the host name."""

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            addresses = public_addresses(host, port)
        except TargetRefused as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        for address in addresses[:-1]:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError:
                continue
        return super().connect_tcp(addresses[-1], port, timeout, local_address, socket_options)


class _PublicOnlyTransport(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__(trust_env=False)
        # httpx builds its connection pool without a way to pass a network backend; this pool is the
        # same one with the checking backend (tests/test_webhooks.py proves the refusal).
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(trust_env=False),
                                             network_backend=_PublicOnlyBackend())


def http_client(allow_private: bool, timeout: float) -> httpx.Client:
    """Outbound client: no redirects, no proxy from the environment, bounded time."""
    transport = httpx.HTTPTransport(trust_env=False) if allow_private else _PublicOnlyTransport()
    return httpx.Client(transport=transport, timeout=timeout, follow_redirects=False, trust_env=False)
