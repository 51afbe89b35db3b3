"""The rolling-window buffers the feature engines share: (symbols x capacity) arrays appended one
column a day and compacted when full, so appending is a column write, not a copy."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def compact(buffers: Iterable[np.ndarray], n: int, keep: int) -> None:
    """Move the last ``keep`` of ``n`` filled columns (last axis) to the front, blank the rest."""
    for buf in buffers:
        buf[..., :keep] = buf[..., n - keep : n]
        buf[..., keep:] = np.nan
