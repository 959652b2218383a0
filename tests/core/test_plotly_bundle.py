"""The plotly.js we serve: the strict bundle, at the version the Python figures are built for."""

from __future__ import annotations

import re
from pathlib import Path

import plotly

ROOT = Path(__file__).resolve().parents[2]
SERVED = ROOT / "static" / "vendor" / "plotly" / "plotly.min.js"
PACKAGED = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
VERSION = re.compile(r"plotly\.js (?:\(strict - minified\) )?v(\d+\.\d+\.\d+)")


def _header(path: Path) -> str:
    with path.open(encoding="utf-8") as handle:
        return handle.read(300)


def test_the_served_plotly_is_the_strict_bundle_of_the_packages_version():
    served, packaged = _header(SERVED), _header(PACKAGED)

    assert "(strict" in served  # WebGL without eval: runs under our CSP
    assert VERSION.search(served).group(1) == VERSION.search(packaged).group(1)
