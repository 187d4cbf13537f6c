"""A small drift CSV for the monitor command's tests: a numeric ``age`` (mean shifted by
``shift``) and a categorical ``plan``, seeded by the shift."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_age_plan_csv(path: Path, shift: float, rows: int) -> Path:
    rng = np.random.default_rng(int(shift))
    age = rng.normal(40 + shift, 10, rows).round(2)
    plan = rng.choice(["free", "pro", "team"], rows)
    path.write_text("age,plan\n" + "".join(f"{a},{p}\n" for a, p in zip(age, plan, strict=True)))
    return path
