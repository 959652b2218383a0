"""Flagging (never dropping) extreme quantities and amounts within a chunk."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

# On a log scale a robust z of 6 is roughly "hundreds of times the typical value".
ROBUST_Z = 6.0
# Floor for the log-scale MAD: when nearly every line has quantity 1 the MAD is 0,
# and quantity 2 must not count as extreme.
MIN_LOG_MAD = 0.5
# The brief's second rule: more than 10x the 99.9th percentile, once there is enough data.
P999_FACTOR = 10.0
P999_MIN_ROWS = 1000


def extreme_mask(values: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """True where |value| is extreme compared with the rest of the batch; a missing
    value (NaN: an unpriced line) is never extreme and does not count in the batch."""
    all_values = np.abs(np.asarray(values, dtype=float))
    known = ~np.isnan(all_values)
    if not known.all():
        mask = np.zeros(all_values.size, dtype=bool)
        mask[known] = extreme_mask(all_values[known])
        return mask
    x = all_values
    if x.size == 0:
        return np.zeros(0, dtype=bool)
    logs = np.log1p(x)
    median = float(np.median(logs))
    mad = max(float(np.median(np.abs(logs - median))), MIN_LOG_MAD)
    robust_z = 0.6745 * (logs - median) / mad
    mask = robust_z > ROBUST_Z
    if x.size >= P999_MIN_ROWS:
        mask |= x > P999_FACTOR * float(np.quantile(x, 0.999))
    return mask
