'use strict';
// The trace types Profiler's charts use, and no others. scattergl is the "strict" one:
// its WebGL shaders are precompiled, so it draws without eval under our CSP.
// A chart with a trace type missing here draws nothing: tests/core/test_plotly_bundle.py
// checks every type named in the Python chart builders is registered.
var Plotly = require('./lib/core'); // core brings scatter

Plotly.register([
    require('./lib/bar'),
    require('./lib/heatmap'),
    require('./lib/sankey'),
    require('./src/traces/scattergl/strict')
]);

module.exports = Plotly;
