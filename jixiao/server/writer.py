"""Group commit: the rows of many concurrent uploads are written in one transaction.

Each upload waits until the transaction holding its rows is committed, so an id is never answered before
it is durable; under load one commit (one fsync) serves many uploads instead of one each.
"""
from __future__ import annotations

import concurrent.futures as cf
import logging
import queue
import threading
from typing import Any, Callable

log = logging.getLogger("jixiao.server.writer")


class GroupWriter:
    def __init__(self, Session, batch: int = 64):  # noqa: N803
        self.Session, self.batch = Session, batch
        self.q: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._loop, name="jixiao-writer", daemon=True)
        self.thread.start()

    def submit(self, fn: Callable[[Any], Any]) -> cf.Future:
        """Run ``fn(db)`` inside the next shared transaction; the future resolves after the commit."""
        fut: cf.Future = cf.Future()
        self.q.put((fn, fut))
        return fut

    def close(self) -> None:
        self.q.put(None)
        self.thread.join(timeout=30)

    def _loop(self) -> None:
        while True:
            first = self.q.get()
            if first is None:
                return
            items = [first]
            while len(items) < self.batch:
                try:
                    nxt = self.q.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self.q.put(None)
                    break
                items.append(nxt)
            self._write(items)

    def _write(self, items: list) -> None:
        done: list[tuple[cf.Future, Any]] = []
        failed: list[tuple[cf.Future, BaseException]] = []
        try:
            with self.Session.begin() as db:
                for fn, fut in items:
                    try:
                        with db.begin_nested():  # one upload's failure leaves the others' rows in
                            done.append((fut, fn(db)))
                    except Exception as e:  # noqa: BLE001 - handed to that upload's waiter
                        failed.append((fut, e))
        except Exception as e:  # noqa: BLE001 - the commit itself failed: nobody's rows are in
            log.exception("group commit")
            for _, fut in items:
                if not fut.done():
                    fut.set_exception(e)
            return
        for fut, value in done:
            fut.set_result(value)
        for fut, err in failed:
            fut.set_exception(err)
