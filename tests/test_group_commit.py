"""Group commit: waits that arrive during a sync share the next one; failures propagate."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from chronik.broker.group_commit import GroupCommit


class ManualThread:
    """Runs ``sync`` only when the test says so, like a worker thread that takes its time."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, Deferred[Any]]] = []

    def __call__(self, fn: Any) -> Deferred[Any]:
        d: Deferred[Any] = Deferred()
        self.calls.append((fn, d))
        return d

    def finish(self, fail: bool = False) -> None:
        fn, d = self.calls.pop(0)
        if fail:
            d.errback(Failure(OSError("disk gone")))
        else:
            fn()
            d.callback(None)


def test_waiters_during_a_sync_share_the_next_one() -> None:
    synced = []
    thread = ManualThread()
    gc = GroupCommit(lambda: synced.append(1), thread)
    fired: list[int] = []
    gc.wait().addCallback(lambda _: fired.append(1))
    for i in range(2, 6):  # arrive while the first sync runs
        gc.wait().addCallback(lambda _, i=i: fired.append(i))
    assert len(thread.calls) == 1 and fired == []
    thread.finish()
    assert fired == [1] and len(thread.calls) == 1  # one more round for the four that waited
    thread.finish()
    assert fired == [1, 2, 3, 4, 5]
    assert synced == [1, 1] and gc.syncs == 2 and thread.calls == []


def test_sync_failure_fails_the_waiters() -> None:
    thread = ManualThread()
    gc = GroupCommit(lambda: None, thread)
    errors: list[Failure] = []
    gc.wait().addErrback(errors.append)
    thread.finish(fail=True)
    assert len(errors) == 1 and errors[0].check(OSError)
    done: list[Any] = []
    gc.wait().addCallback(done.append)  # the committer keeps working afterwards
    thread.finish()
    assert done == [None]
