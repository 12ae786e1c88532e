"""Per-process, short-lived copies of the few rows nearly every request reads: the URL's tenant, the OAuth client.

Reading them cost two or three SQL round trips per request, more than half of a token request's CPU (see
``bench/``). A copy is kept for ``ttl`` seconds (``PORTICO_CACHE_SECONDS``, default 2; 0 turns caching off)
and dropped at once when a transaction of *this* process commits a change to a watched table. A change made
by another process (a CLI command, another server worker) is seen within ``ttl`` seconds; the README tells
operators so. Copies are detached, fully loaded objects; each request merges one into its own session with
``load=False``, which copies the state without SQL, so the request gets an ordinary persistent object.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from itertools import chain
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

T = TypeVar("T")
MAX_ENTRIES = 10_000  # client ids come from outside; misses are not cached, hits are bounded anyway
_DIRTY = "portico.row_cache.dirty"


class _Generation:
    """Bumped by every commit in this process that changed a watched table; older copies are stale."""

    def __init__(self) -> None:
        self.value = 0
        self.watched: tuple[type, ...] = ()
        self._lock = threading.Lock()

    def bump(self) -> None:
        with self._lock:
            self.value += 1


_generation = _Generation()


def watch(*classes: type) -> None:
    """Changes to rows of these mapped classes invalidate every cached copy in this process."""
    _generation.watched = tuple(set(_generation.watched) | set(classes))


def invalidate_all() -> None:
    """Drop every cached copy (for changes made behind the ORM's back, such as a test's table wipe)."""
    _generation.bump()


@event.listens_for(Session, "after_flush")
def _note_flushed_changes(session: Session, _context: Any) -> None:
    watched = _generation.watched
    if watched and any(isinstance(o, watched) for o in chain(session.new, session.dirty, session.deleted)):
        session.info[_DIRTY] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and any(
        m.class_ in _generation.watched for m in state.all_mappers
    ):
        state.session.info[_DIRTY] = True


@event.listens_for(Session, "after_commit")
def _invalidate_on_commit(session: Session) -> None:
    if session.info.pop(_DIRTY, False):
        _generation.bump()


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(_DIRTY, None)


@dataclass(frozen=True)
class _Entry:
    expires: float
    generation: int
    value: Any


class RowCache:
    def __init__(self, sessions: sessionmaker[Session], ttl_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._sessions = sessions
        self.ttl = ttl_seconds
        self._clock = clock
        self._entries: dict[Hashable, _Entry] = {}

    def get(self, session: Session, key: Hashable, load: Callable[[Session], T | None]) -> T | None:
        """The row ``load`` finds, as a persistent object of ``session``. ``load`` runs in a short session of
        its own and must eager-load every relationship the callers read (the copy is detached)."""
        if self.ttl <= 0:
            return load(session)
        generation, now = _generation.value, self._clock()
        entry = self._entries.get(key)
        if entry is None or entry.expires <= now or entry.generation != generation:
            with self._sessions() as own:
                value = load(own)
            if value is None:
                return None
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            entry = _Entry(now + self.ttl, generation, value)
            self._entries[key] = entry
        return session.merge(entry.value, load=False)
