"""A serving process settles its garbage collector once listening (checked in a child
process: the collector's settings are process-wide)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import gc
from bot.ops import server
before = gc.get_freeze_count(), gc.get_threshold()[0]
server._settle_garbage_collector()
print(before[0], before[1], gc.get_freeze_count(), gc.get_threshold()[0])
"""


def test_start_up_objects_are_frozen_and_young_collections_rarer() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True,  # noqa: S603
                          text=True, check=True)
    frozen_before, threshold_before, frozen_after, threshold_after = map(int, done.stdout.split())
    assert frozen_before == 0 and frozen_after > 1000  # the imported modules' objects
    assert threshold_before == 700 and threshold_after == 10_000
