"""Brute-force protection for pickup codes, in Redis.

Wrong codes are counted per shop and per code value over a window. When a
shop's count reaches the limit, *that shop's* counter answers 429 until the
window passes; other shops keep working. The per-code counter stops one
code being tried across many shops. A right code does not reset the shop
counter: an attacker cannot interleave a known good code to keep guessing.
"""

from __future__ import annotations

from redis.asyncio import Redis


class PickupThrottle:
    def __init__(self, redis: Redis, *, max_failures: int, window_minutes: int) -> None:
        self.redis = redis
        self.max_failures = max_failures
        self.window_seconds = window_minutes * 60

    @staticmethod
    def _shop_key(shop_id: int) -> str:
        return f"fengling:pickup-failures:shop:{shop_id}"

    @staticmethod
    def _code_key(code: str) -> str:
        return f"fengling:pickup-failures:code:{code.strip().upper()[:16]}"

    async def seconds_locked(self, shop_id: int, code: str) -> int:
        for key in (self._shop_key(shop_id), self._code_key(code)):
            failures = await self.redis.get(key)
            if failures is not None and int(failures) >= self.max_failures:
                return max(1, int(await self.redis.ttl(key)))
        return 0

    async def record_failure(self, shop_id: int, code: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            for key in (self._shop_key(shop_id), self._code_key(code)):
                pipe.incr(key)
                pipe.expire(key, self.window_seconds, nx=True)
            await pipe.execute()
