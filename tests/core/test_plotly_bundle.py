"""The plotly.js we serve: our own strict build, at the version the Python figures are
built for, with every trace type our chart builders use (tools/plotly-bundle/)."""

from __future__ import annotations

import re
from pathlib import Path

import plotly
import plotly.graph_objects as go
from plotly.basedatatypes import BaseTraceType

ROOT = Path(__file__).resolve().parents[2]
SERVED = ROOT / "static" / "vendor" / "plotly" / "plotly.min.js"
PACKAGED = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
VERSION = re.compile(r"plotly\.js (?:\([^)]*\) )?v(\d+\.\d+\.\d+)")
REGISTERED = re.compile(r'moduleType:"trace",name:"(\w+)"')
NAMED_TYPE = re.compile(r'"type": "(\w+)"')
APPS = ("segments", "campaigns", "flows", "ingest", "profiler_site")


def _header(path: Path) -> str:
    with path.open(encoding="utf-8") as handle:
        return handle.read(300)


def _trace_types_in_our_code() -> set[str]:
    """Every plotly trace type a Python module of ours names (axis types are not traces)."""
    plotly_traces = {name.lower() for name in dir(go)
                     if isinstance(getattr(go, name), type)
                     and issubclass(getattr(go, name), BaseTraceType)}
    named = {m for app in APPS for path in (ROOT / app).rglob("*.py")
             for m in NAMED_TYPE.findall(path.read_text(encoding="utf-8"))}
    return named & plotly_traces


def test_the_served_plotly_is_a_strict_build_of_the_packages_version():
    served, packaged = _header(SERVED), _header(PACKAGED)

    assert "strict" in served  # WebGL without eval: runs under our CSP
    assert VERSION.search(served).group(1) == VERSION.search(packaged).group(1)


def test_every_trace_type_our_charts_use_is_in_the_bundle():
    used = _trace_types_in_our_code()
    registered = set(REGISTERED.findall(SERVED.read_text(encoding="utf-8")))

    assert {"scattergl", "sankey", "heatmap", "bar", "scatter"} <= used  # the scan finds them
    assert used <= registered, f"add {sorted(used - registered)} to tools/plotly-bundle/entry.js"
