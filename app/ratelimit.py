"""Request rate limits per principal and per client address, shared by every replica.

The counters live in Redis when REDIS_URL is set (every replica sees the same counts) and in this
process otherwise (the demo, a single instance). A sliding window: no burst of twice the limit at a
window's edge. Over the limit the API answers 429 with Retry-After. When Redis cannot be reached the
request is served and the failure logged (at most once a minute): the limit protects the service, it
is not an access control, so an outage of the counter store must not take the registry down with it.
"""

import logging
import math
import time

from fastapi import Request
from limits import RateLimitItemPerMinute, storage, strategies
from limits.errors import StorageError

from app.config import Settings
from app.errors import ApiError

logger = logging.getLogger("casusregister.ratelimit")
STORE_TIMEOUT_SECONDS = 0.25
COMPLAINT_INTERVAL_SECONDS = 60


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        if settings.redis_url:
            store = storage.RedisStorage(settings.redis_url, key_prefix=settings.rate_limit_key_prefix,
                                         wrap_exceptions=True, socket_timeout=STORE_TIMEOUT_SECONDS,
                                         socket_connect_timeout=STORE_TIMEOUT_SECONDS)
        else:
            store = storage.MemoryStorage(wrap_exceptions=True)
        self._limiter = strategies.SlidingWindowCounterRateLimiter(store)
        self._limits = {"principal": settings.rate_limit_principal_per_minute,
                        "address": settings.rate_limit_address_per_minute}
        self._items = {kind: RateLimitItemPerMinute(n) for kind, n in self._limits.items() if n}
        self._complained_at = -math.inf

    def check(self, kind: str, identity: str) -> None:
        """Counts one request of `identity`; raises 429 when it is over its limit (0: no limit)."""
        item = self._items.get(kind)
        if item is None:
            return
        try:
            if self._limiter.hit(item, kind, identity):
                return
            reset_at = self._limiter.get_window_stats(item, kind, identity).reset_time
        except StorageError as exc:
            self._complain(exc)
            return
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise ApiError(429, f"Too many requests for this {kind}; try again in {retry_after} s.",
                       headers={"Retry-After": str(retry_after)})

    def _complain(self, exc: StorageError) -> None:
        now = time.monotonic()
        if now - self._complained_at >= COMPLAINT_INTERVAL_SECONDS:
            self._complained_at = now
            logger.warning("rate-limit store unavailable (%s); serving without limits",
                           type(exc.storage_error).__name__)


def client_address(request: Request) -> str:
    """The caller's address; behind a reverse proxy uvicorn takes it from X-Forwarded-For, trusting only
    the proxies FORWARDED_ALLOW_IPS names."""
    return request.client.host if request.client else "unknown"


def count_address(request: Request) -> None:
    request.app.state.rate_limits.check("address", client_address(request))


def count_principal(request: Request, kind: str, subject: object) -> None:
    request.app.state.rate_limits.check("principal", f"{kind}:{subject}")
