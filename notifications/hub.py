"""One reader per process for every open notification stream.

Each process (each event loop: a uvicorn worker runs one) keeps one pub/sub connection,
subscribed to the wake channel, whatever the number of streams. A publisher appends to the
user's stream and publishes the user's id (``lua/notify.lua``, one script); the hub then
reads that user's stream from where each of the user's open streams stands (``XRANGE``
after its last id), so delivery is read from the stream, never from the message: a wake
lost with a dropped connection costs nothing, since every (re)subscription is followed by
a read of every open stream. Redis connections per process: the pub/sub one and the few
the reads borrow from the pool.

Every ``HEARTBEAT`` seconds each stream gets a heartbeat, and the sessions behind all open
streams are looked up in one pipeline: a stream whose session was revoked or logged out
ends (at once on a wake: a revocation notifies its user, a logout wakes them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from redis import RedisError

from notifications import keys, services
from notifications.services import newest_id, parse_id
from project.redis.aclient import get_async_client
from sessions.keys import session as session_key_of

logger = logging.getLogger("notifications")

HEARTBEAT = 15.0  # seconds: proxies close idle connections after 30-60 s
BATCH = 100  # entries per XRANGE
READERS = 4  # XRANGEs in flight per process
QUEUED = 100  # batches a stream may have waiting; beyond, it is ended (and reconnects)
PING_EVERY = 5.0  # the pub/sub connection's own watchdog: a PING unanswered this long…
SILENT_AFTER = 12.0  # …and nothing heard for this long: reconnect (and read everything)
END = None  # queued to end a stream: its session ended
RESET = "reset"  # queued to close a stream that fell behind: its client reconnects
HEARTBEAT_DUE = "heartbeat"
REVOKED = '"type":"sessions.revoked"'  # as services.deliver writes it (compact JSON)
Heartbeat = str  # RESET or HEARTBEAT_DUE
Entries = list[tuple[str, str]]


@dataclass(eq=False)
class Subscription:
    """One open stream: what it has been sent up to, and what it is to send next."""

    user_id: int
    session_key: str
    last_id: str
    queue: asyncio.Queue[Entries | Heartbeat | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUED)
    )


class TooManyStreamsError(Exception):
    """The user has ``limit`` streams open in this process already."""


class Hub:
    def __init__(self) -> None:
        self._open: dict[int, set[Subscription]] = {}
        self._locks: dict[int, asyncio.Lock] = {}  # one per user with a stream open
        # Reads at once, whatever the number of streams woken: each borrows a connection.
        self._reading = asyncio.Semaphore(READERS)
        # Users woken and not read yet, each once however many wakes came: READERS tasks
        # take them in turn, so one user's read never waits for another's to finish.
        self._woken: asyncio.Queue[int] = asyncio.Queue()
        self._pending: set[int] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self.connected = asyncio.Event()  # the reader is subscribed (tests wait on it)

    @property
    def streams(self) -> int:
        return sum(len(subs) for subs in self._open.values())

    def streams_of(self, user_id: int) -> int:
        return len(self._open.get(user_id, ()))

    async def open(
        self, user_id: int, session_key: str, last_id: str | None, *, limit: int
    ) -> Subscription:
        """A stream for ``user_id`` from just after ``last_id`` (a reconnect's
        ``Last-Event-ID``: what it missed is queued first), or from now; TooManyStreamsError if
        the user has ``limit`` open here."""
        self._start()
        if last_id is None:
            found = await get_async_client().xrevrange(keys.stream(user_id), count=1)
            last_id = newest_id(found)
        if self.streams_of(user_id) >= limit:  # counted and added with no await between
            raise TooManyStreamsError
        subscription = Subscription(user_id, session_key, last_id)
        # Registered before the read below: a wake from now on reads after last_id.
        self._open.setdefault(user_id, set()).add(subscription)
        self._locks.setdefault(user_id, asyncio.Lock())
        try:
            await self.read(user_id)
        except BaseException:
            self.close(subscription)
            raise
        return subscription

    def close(self, subscription: Subscription) -> None:
        subs = self._open.get(subscription.user_id)
        if subs is not None:
            subs.discard(subscription)
            if not subs:
                del self._open[subscription.user_id]
                self._locks.pop(subscription.user_id, None)

    async def read(self, user_id: int) -> Entries:
        """Queue to each of the user's open streams what the user's stream holds after what
        that one has been sent: one read from the furthest behind, one user at a time.
        What was read comes back."""
        lock = self._locks.get(user_id)
        if lock is None:  # no stream of the user's is open (any more)
            return []
        read: Entries = []
        async with lock, self._reading:
            while True:
                subs = self._open.get(user_id)
                if not subs:
                    return read
                start = min((s.last_id for s in subs), key=parse_id)
                found = await get_async_client().xrange(
                    keys.stream(user_id), min=f"({start}", count=BATCH
                )
                entries = services.entries(found)
                read += entries
                for subscription in list(subs):  # one may end as it is offered its news
                    after = parse_id(subscription.last_id)
                    news = [entry for entry in entries if parse_id(entry[0]) > after]
                    if news:
                        subscription.last_id = news[-1][0]
                        self._offer(subscription, news)
                if len(entries) < BATCH:
                    return read

    def _offer(self, subscription: Subscription, item: Entries | Heartbeat) -> None:
        """Queue ``item`` for a stream, or end a stream that reads too slowly to keep up
        (its client reconnects with the last id it got, and misses nothing)."""
        try:
            subscription.queue.put_nowait(item)
        except asyncio.QueueFull:
            logger.warning("notifications: ended a stream of user %s that fell behind",
                           subscription.user_id)  # fmt: skip
            self._end(subscription, RESET)

    def _end(self, subscription: Subscription, last: Heartbeat | None = END) -> None:
        self.close(subscription)
        while not subscription.queue.empty():  # what it had not taken: it reads it again
            subscription.queue.get_nowait()
        subscription.queue.put_nowait(last)

    # --- The reader and the heartbeat: one of each per process -------------------------

    def _start(self) -> None:
        if not self._tasks or any(task.done() for task in self._tasks):
            for task in self._tasks:
                task.cancel()
            self._tasks = [
                asyncio.create_task(self._read_wakes(), name="notifications: wakes"),
                asyncio.create_task(self._beat(), name="notifications: heartbeat"),
                *(
                    asyncio.create_task(self._read_woken(), name=f"notifications: reader {n}")
                    for n in range(READERS)
                ),
            ]

    async def _read_wakes(self) -> None:
        pause = 0.1
        while True:
            _unless_cancelled()
            pubsub = get_async_client().pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(keys.wake_channel())
                self.connected.set()
                pause = 0.1
                # Wakes may have been lost while (re)connecting: read every open stream.
                self._wake(*self._open)
                await self._listen(pubsub)
            except (RedisError, OSError) as exc:
                _unless_cancelled()
                logger.warning("notifications: wake channel lost, reconnecting: %s", exc)
            except Exception:  # a bug must not end the process's only reader
                _unless_cancelled()
                logger.exception("notifications: the wake reader failed; starting again")
            finally:
                self.connected.clear()
                await _quietly(pubsub.aclose())
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)

    async def _listen(self, pubsub: Any) -> None:
        heard = pinged = time.monotonic()
        while True:
            message = await pubsub.get_message(timeout=1.0)
            now = time.monotonic()
            if message is not None:
                heard = now
                if message["type"] == "message":
                    self._wake(*_user_ids(message["data"]))
            elif now - heard > SILENT_AFTER:
                raise ConnectionError("no answer on the wake channel")
            if now - pinged > PING_EVERY:
                await pubsub.ping()
                pinged = now

    def _wake(self, *user_ids: int) -> None:
        """Have the users' streams read (those open here; each user queued once)."""
        for user_id in user_ids:
            if user_id in self._open and user_id not in self._pending:
                self._pending.add(user_id)
                self._woken.put_nowait(user_id)

    async def _read_woken(self) -> None:
        while True:
            _unless_cancelled()
            user_id = await self._woken.get()
            self._pending.discard(user_id)  # a wake from now on queues the user again
            try:
                read = await self.read(user_id)
                # A wake with no news is a logout's; a revocation's news says so. Any other
                # needs no look at the sessions (the heartbeat looks at them all anyway).
                if not read or any(REVOKED in data for _, data in read):
                    await self._end_revoked(list(self._open.get(user_id, ())))
            except RedisError as exc:  # the reconnect reads every stream again
                _unless_cancelled()
                logger.warning("notifications: could not read user %s's stream: %s", user_id, exc)
            except Exception:
                _unless_cancelled()
                logger.exception("notifications: reading user %s's stream failed", user_id)

    async def _beat(self) -> None:
        while True:
            _unless_cancelled()
            await asyncio.sleep(HEARTBEAT)
            subs = [s for group in self._open.values() for s in group]
            for subscription in subs:
                self._offer(subscription, HEARTBEAT_DUE)
            try:
                await self._end_revoked(subs)
            except RedisError as exc:  # the streams stay open; the next beat looks again
                _unless_cancelled()
                logger.warning("notifications: could not look up the streams' sessions: %s", exc)

    async def _end_revoked(self, subs: list[Subscription]) -> None:
        if not subs:
            return
        pipe = get_async_client().pipeline(transaction=False)
        for subscription in subs:
            pipe.exists(session_key_of(subscription.session_key))
        for subscription, exists in zip(subs, await pipe.execute(), strict=True):
            if not exists:
                self._end(subscription)


def _unless_cancelled() -> None:
    """Raise CancelledError if this task is being cancelled: redis.asyncio may turn a
    cancellation in the middle of a command into a ConnectionError, or swallow it, and the
    loops would go on (and asyncio.run, stopping them, would wait forever)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _user_ids(data: Any) -> list[int]:
    """The user id a wake names; nothing for a message that is not one (anyone may publish
    on the channel)."""
    try:
        return [int(data)]
    except (TypeError, ValueError):
        return []


async def _quietly(closing: Any) -> None:
    with contextlib.suppress(RedisError, OSError):
        await closing


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def open_streams() -> int:
    """The streams open in this process, in all its event loops (any thread may ask)."""
    return sum(h.streams for h in list(_hubs.values()))


def hub() -> Hub:
    """This event loop's hub."""
    loop = asyncio.get_running_loop()
    if loop not in _hubs:
        _hubs[loop] = Hub()
    return _hubs[loop]
