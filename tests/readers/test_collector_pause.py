"""The cyclic collector stays paused while any thread waits for the readers' I/O loop (h5py
holds its global lock during such waits; a collection on the loop thread could deadlock)."""

from __future__ import annotations

import gc
import threading

from eoaccess.readers._io import IO, _CollectorPause


def test_pause_nests_across_threads_and_restores_the_state() -> None:
    pause = _CollectorPause()
    assert gc.isenabled()
    entered, release = threading.Event(), threading.Event()

    def waiter() -> None:
        with pause:
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=waiter)
    thread.start()
    entered.wait(10)
    with pause:
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread still waits
    release.set()
    thread.join(10)
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled() -> None:
    pause = _CollectorPause()
    gc.disable()
    try:
        with pause:
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_synchronous_runs_pause_the_collector() -> None:
    async def probe() -> bool:
        return gc.isenabled()

    assert IO.run(probe()) is False
    assert gc.isenabled()
