"""Brute-force protection for pickup codes, in Redis.

Wrong codes are counted per shop and per code value over a window. When a
shop's count (or a code value's, tried across shops) reaches the limit, the
counter is *slowed*, not closed (``marketplace.orders.PickupGuesses``): one
code is looked up per ``SLOW_LOOKUP_SECONDS`` at that shop, so an honest
customer's right code still works (after a few seconds at worst) while
guessing drops to a few codes a minute. Other shops are not affected. A
right code does not reset the counters: an attacker cannot interleave a
known good code to keep guessing at full speed.
"""

from __future__ import annotations

from redis.asyncio import Redis

from marketplace.orders import GuessStanding

# While a counter is slowed: one code looked up per this many seconds.
SLOW_LOOKUP_SECONDS = 5
# A right code shown at the counter (``marketplace.counter.preview_pickup``)
# may be confirmed without waiting for the slow slot again within this time.
PREVIEW_PASS_SECONDS = 120


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

    @staticmethod
    def _slow_key(shop_id: int) -> str:
        return f"fengling:pickup-slow-lookup:shop:{shop_id}"

    @staticmethod
    def _pass_key(shop_id: int, code: str) -> str:
        return f"fengling:pickup-pass:shop:{shop_id}:{code.strip().upper()[:16]}"

    async def grant_pass(self, shop_id: int, code: str) -> None:
        await self.redis.set(self._pass_key(shop_id, code), 1, ex=PREVIEW_PASS_SECONDS)

    async def take_pass(self, shop_id: int, code: str) -> bool:
        return bool(await self.redis.delete(self._pass_key(shop_id, code)))

    def _standing(self, counts: list[int], ttls: list[int]) -> GuessStanding:
        worst = max(counts)
        locked_for = max(
            (max(1, ttl) for count, ttl in zip(counts, ttls, strict=True) if count >= self.max_failures), default=0
        )
        return GuessStanding(tries_left=max(0, self.max_failures - worst), locked_for=locked_for)

    async def standing(self, shop_id: int, code: str) -> GuessStanding:
        keys = (self._shop_key(shop_id), self._code_key(code))
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.get(key)
                pipe.ttl(key)
            found = await pipe.execute()
        counts = [int(found[0] or 0), int(found[2] or 0)]
        return self._standing(counts, [int(found[1]), int(found[3])])

    async def take_slow_lookup(self, shop_id: int) -> int:
        if await self.redis.set(self._slow_key(shop_id), 1, ex=SLOW_LOOKUP_SECONDS, nx=True):
            return 0
        return max(1, int(await self.redis.ttl(self._slow_key(shop_id))))

    async def record_failure(self, shop_id: int, code: str) -> GuessStanding:
        keys = (self._shop_key(shop_id), self._code_key(code))
        async with self.redis.pipeline(transaction=True) as pipe:
            for key in keys:
                pipe.incr(key)
                pipe.expire(key, self.window_seconds, nx=True)
                pipe.ttl(key)
            found = await pipe.execute()
        return self._standing([int(found[0]), int(found[3])], [int(found[2]), int(found[5])])
