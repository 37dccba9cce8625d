// The nbconvert flags for matchlab's HTML export, shared by scripts/run_notebooks.mjs and the
// browser test. The exported page must load with no network: nbconvert's lab template puts in a
// require.js and a MathJax <script src> (CDN URLs with pip's nbconvert, file:///usr/share/javascript
// with Debian's); both are pointed at an empty data: URL, so nothing is fetched and nothing fails.
// plotly.js travels inside the notebook's first figure output (src/notebook/show.ts), not here.
// Markdown math therefore stays as TeX source in the HTML export.
export const HTML_FLAGS = Object.freeze([
  "--to",
  "html",
  "--embed-images",
  "--HTMLExporter.require_js_url=data:text/javascript,",
  "--HTMLExporter.mathjax_url=data:text/javascript,",
]);
