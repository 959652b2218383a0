#!/usr/bin/env bash
# Builds static/vendor/plotly/plotly.min.js: plotly.js with only the trace types our
# charts use (about 2 MB instead of the 5 MB full strict bundle, so a chart page's first
# visit parses less than half as much). Needs node and npm (the npm registry only).
#   bash tools/plotly-bundle/build.sh [plotly.js version]
# The version must equal the plotly Python package's plotly.js (the test checks it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
version="${1:-$("$root/.venv/bin/python" -c 'import re, plotly, pathlib; print(re.search(r"v(\d+\.\d+\.\d+)", (pathlib.Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text()[:300]).group(1))')}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "plotly.js@$version" >/dev/null
tar xzf "plotly.js-$version.tgz"
cd package
npm install --silent --omit=dev --ignore-scripts --no-audit --no-fund
npm install --silent --no-save --ignore-scripts --no-audit --no-fund \
    esbuild@0.28.1 esbuild-plugin-environment@0.5.0 esbuild-plugin-glsl@1.4.2 \
    esbuild-plugin-inline-css@0.0.1 stream-browserify@3.0.0
cp "$here/entry.js" profiler-entry.js
cp "$here/build.js" profiler-build.js
node profiler-build.js bundle.js
out="$root/static/vendor/plotly/plotly.min.js"
{
    printf '/**\n* plotly.js (profiler: scatter, scattergl, bar, heatmap, sankey; strict - minified) v%s\n' "$version"
    printf '* Copyright 2012-2026, Plotly, Inc.\n* All rights reserved.\n* Licensed under the MIT license\n*/\n'
    cat bundle.js
} > "$out"
echo "wrote $out ($(wc -c < "$out") bytes)"
