"""Files a scan could not read, each with its kind (``core.errors``) and a one-line reason, so
the app can say why a file is not in the library.  (Files the analysis gave up on are kept in
its queue: :meth:`core.catalog.analysis.AnalysisStore.analysis_failures`.)"""
from __future__ import annotations

import os
import time
from typing import Iterable

from core.catalog.db import Database
from core.catalog.rows import Failure, below


class FailureStore(Database):
    """The ``scan_failures`` rows (a part of :class:`core.catalog.Catalog`)."""

    def record_failure(
        self, path: str, kind: str, reason: str, *, size: int | None = None,
        mtime_ns: int | None = None, now: float | None = None,
    ) -> None:
        self.execute(
            "INSERT INTO scan_failures(path, kind, reason, size, mtime_ns, failed_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(path) DO UPDATE SET kind = excluded.kind, reason = excluded.reason, "
            "size = excluded.size, mtime_ns = excluded.mtime_ns, failed_at = excluded.failed_at",
            (path, kind, " ".join(str(reason).split()), size, mtime_ns, time.time() if now is None else now),
        )

    def clear_failure(self, path: str) -> None:
        self.execute("DELETE FROM scan_failures WHERE path = ?", (path,))

    def clear_failures_except(self, root: str | os.PathLike, keep: Iterable[str]) -> int:
        """Forget failures below ``root`` whose path is not in ``keep`` (the file is gone)."""
        keep = set(keep)
        stale = [p for p in self.failure_map(root) if p not in keep]
        with self.transaction():
            for p in stale:
                self.clear_failure(p)
        return len(stale)

    def failures(self, root: str | os.PathLike | None = None) -> list[Failure]:
        sql = "SELECT path, kind, reason, failed_at, size, mtime_ns FROM scan_failures"
        params: tuple = ()
        if root is not None:
            sql += " WHERE path >= ? AND path < ?"
            params = below(root)
        return [Failure(*r) for r in self.fetchall(sql + " ORDER BY path", params)]

    def failure(self, path: str | os.PathLike) -> Failure | None:
        """The failure recorded for the file at ``path``, if any."""
        row = self.fetchone("SELECT path, kind, reason, failed_at, size, mtime_ns FROM scan_failures WHERE path = ?",
                            (os.path.abspath(os.fspath(path)),))
        return None if row is None else Failure(*row)

    def failure_map(self, root: str | os.PathLike) -> dict[str, Failure]:
        return {f.path: f for f in self.failures(root)}
