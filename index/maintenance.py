"""Keeping an index usable: build it when missing or stale, rebuild a damaged one, and swap a
fresh one in while the old one keeps answering (for long-running processes such as the bot)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from index.build import BuildReport, Progress, build_index
from index.index_files import META, IndexUnusable
from index.lock import writer_lock
from index.records import Skipped
from index.search import SearchEngine
from index.settings import IndexParams, SearchSettings
from index.staleness import index_is_current

log = logging.getLogger(__name__)


@dataclass
class OpenReport:
    """What happened while opening an index."""

    built: bool = False
    reason: str = ""
    build: BuildReport | None = None

    @property
    def skipped(self) -> list[Skipped]:
        """Files skipped by the build (empty when nothing was built)."""
        return self.build.skipped if self.build else []


def open_engine(
    corpus_dir: Path,
    index_dir: Path,
    params: IndexParams,
    search: SearchSettings,
    *,
    workers: int = 0,
    progress: Progress | None = None,
    force: bool = False,
    on_wait: Callable[[str], None] | None = None,
) -> tuple[SearchEngine, OpenReport]:
    """A search engine over the corpus, building (or rebuilding) its index when needed."""
    report = OpenReport()
    current, why = index_is_current(index_dir, corpus_dir, params)
    if force or not current:
        with writer_lock(index_dir, "building the index", on_wait=on_wait):
            # Another writer may have brought the index up to date while this one waited.
            current, why = index_is_current(index_dir, corpus_dir, params)
            if force or not current:
                report.built, report.reason = True, ("rebuild requested" if force else why)
                log.info("building the index: %s", report.reason)
                report.build = build_index(corpus_dir, index_dir, params, workers=workers, progress=progress)
    try:
        return SearchEngine.open(index_dir, search), report
    except IndexUnusable as exc:
        log.warning("index unusable (%s); rebuilding", exc)
        with writer_lock(index_dir, "rebuilding a damaged index", on_wait=on_wait):
            report.built, report.reason = True, str(exc)
            report.build = build_index(
                corpus_dir, index_dir, params, workers=workers, progress=progress, keep_unchanged=False
            )
        return SearchEngine.open(index_dir, search), report


@dataclass
class ReindexStatus:
    """Progress of a background rebuild."""

    running: bool = False
    stage: str = ""
    done: int = 0
    total: int = 0
    started: float = 0.0
    finished: float = 0.0
    error: str = ""
    # What failed, for the bot to word (`error` is its text, for logs).
    failure: Exception | None = None
    skipped: list[Skipped] = field(default_factory=list)
    articles: int = 0
    # The corpus had not changed: the index was kept as it is.
    kept: bool = False
    # Who holds the writer lock while stage is "waiting".
    waiting_for: str = ""


class EngineHolder:
    """The engine a long-running process answers with, swapped atomically on reindex or publish."""

    def __init__(
        self,
        engine: SearchEngine,
        corpus_dir: Path,
        index_dir: Path,
        params: IndexParams,
        search: SearchSettings,
        workers: int = 0,
    ) -> None:
        self._engine = engine
        self.corpus_dir = corpus_dir
        self.index_dir = index_dir
        self.params = params
        self.search_settings = search
        self.workers = workers
        self.status = ReindexStatus()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._meta_mtime = self._current_meta_mtime()
        # Questions in flight per engine (by id), and replaced engines waiting for theirs to end.
        self._users: dict[int, int] = {}
        self._retired: dict[int, SearchEngine] = {}
        self.closed_engines = 0

    @property
    def engine(self) -> SearchEngine:
        """The engine to use for the next question."""
        return self._engine

    def _current_meta_mtime(self) -> float:
        try:
            return (self.index_dir / META).stat().st_mtime
        except OSError:
            return 0.0

    @contextmanager
    def lease(self) -> Iterator[SearchEngine]:
        """The current engine, kept open until the block ends even if it is replaced meanwhile."""
        with self._lock:
            engine = self._engine
            self._users[id(engine)] = self._users.get(id(engine), 0) + 1
        try:
            yield engine
        finally:
            self._release(engine)

    def _release(self, engine: SearchEngine) -> None:
        with self._lock:
            key = id(engine)
            left = self._users.get(key, 1) - 1
            if left > 0:
                self._users[key] = left
                return
            self._users.pop(key, None)
            retired = self._retired.pop(key, None)
        if retired is not None:
            self._close(retired)

    def _swap(self, engine: SearchEngine) -> None:
        """Answer with `engine` from now on; the old one is closed once no question uses it."""
        with self._lock:
            old, self._engine = self._engine, engine
            self._meta_mtime = self._current_meta_mtime()
            if old is engine:
                return
            if self._users.get(id(old)):
                self._retired[id(old)] = old
                return
        self._close(old)

    def _close(self, engine: SearchEngine) -> None:
        engine.index.close()
        self.closed_engines += 1
        log.debug("closed a replaced index (%d articles)", engine.index.n_docs)

    def reload(self) -> None:
        """Load the index directory again (after another process published into it)."""
        engine = SearchEngine.open(self.index_dir, self.search_settings)
        self._swap(engine)
        log.info("index reloaded: %d articles", engine.index.n_docs)

    def reload_if_changed(self) -> bool:
        """Reload when the index on disk changed since it was loaded; True when it did."""
        if self.status.running:
            return False
        mtime = self._current_meta_mtime()
        if mtime and mtime != self._meta_mtime:
            try:
                self.reload()
                return True
            except IndexUnusable as exc:
                log.warning("not reloading a damaged index: %s", exc)
                self._meta_mtime = mtime
        return False

    def start_reindex(self, on_done: Callable[[ReindexStatus], None] | None = None) -> bool:
        """Rebuild in a background thread; False (and no new build) when one is running."""
        with self._lock:
            if self.status.running:
                return False
            self.status = ReindexStatus(running=True, stage="starting", started=time.time())
        self._thread = threading.Thread(target=self._reindex, args=(on_done,), name="reindex", daemon=True)
        self._thread.start()
        return True

    def wait(self, timeout: float | None = None) -> None:
        """Wait for a running rebuild to finish."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _waiting(self, who: str) -> None:
        # The bot shows staff the stage's name; "waiting" is named in the staff texts.
        self.status.stage = "waiting"
        self.status.waiting_for = who

    def _progress(self, stage: str, done: int, total: int) -> None:
        self.status.stage, self.status.done, self.status.total = stage, done, total

    def _reindex(self, on_done: Callable[[ReindexStatus], None] | None) -> None:
        status = self.status
        try:
            with writer_lock(self.index_dir, "reindex (bot)", on_wait=self._waiting):
                report = build_index(
                    self.corpus_dir, self.index_dir, self.params, workers=self.workers, progress=self._progress
                )
            if not report.kept:
                self._swap(SearchEngine.open(self.index_dir, self.search_settings))
            status.skipped, status.articles, status.kept = report.skipped, report.n_articles, report.kept
            status.stage = "done"
        except Exception as exc:  # the old index keeps serving whatever went wrong
            log.exception("reindex failed; keeping the old index")
            status.error = str(exc) or exc.__class__.__name__
            status.failure = exc
            status.stage = "failed"
        finally:
            status.running = False
            status.finished = time.time()
        if on_done is not None:
            on_done(status)
