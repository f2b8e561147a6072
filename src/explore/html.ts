/**
 * The explorer's index.html: the layout, the styles and the data the script reads (SiteData, as
 * JSON in a script element). Every id the script (page/main.ts) looks up is declared here. The
 * script is a classic one, so the plots work even from file://; the kernels need http (browsers
 * do not import modules from file://).
 */
import type { SiteData } from "./site-data.ts";

/** The page's script file, written beside index.html. */
export const SCRIPT_FILE = "explore.js";

/** JSON safe inside a <script> element: "<" never appears, so "</script>" cannot end it early. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, "\\u003c");

const STYLE = `
  :root { font-family: system-ui, sans-serif; color: #1b1b1b; background: #fafafa; }
  body { margin: 0 auto; padding: 16px 24px 48px; max-width: 1400px; }
  header h1 { margin: 0 0 4px; font-size: 22px; }
  header p { margin: 0 0 12px; color: #555; }
  #controls { display: flex; gap: 24px; align-items: flex-start; flex-wrap: wrap; padding: 12px; background: #fff; border: 1px solid #ddd; border-radius: 6px; }
  #controls label { font-weight: 600; }
  select, button, input { font: inherit; }
  #paste { flex: 1 1 420px; }
  #spec-text { width: 100%; min-height: 160px; font-family: ui-monospace, monospace; font-size: 12px; }
  #spec-error { font-family: ui-monospace, monospace; font-size: 12px; margin: 4px 0; }
  #spec-error[data-state="invalid"] { color: #b00020; }
  #spec-error[data-state="valid"] { color: #1b6b1b; }
  #facts { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; margin: 16px 0; }
  .facts { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; }
  .facts h2 { margin: 4px 0; font-size: 18px; }
  .facts .summary { margin: 0 0 8px; color: #555; }
  .facts table { border-collapse: collapse; font-size: 13px; }
  .facts th { text-align: left; font-weight: 500; color: #555; padding: 1px 12px 1px 0; white-space: nowrap; }
  .facts td { font-family: ui-monospace, monospace; }
  .swatch { display: inline-block; width: 12px; height: 12px; margin-right: 6px; border-radius: 2px; }
  .swatch-a { background: #1f6fb4; } .swatch-b { background: #e8710a; }
  section.plot { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; margin: 16px 0; }
  section.plot h2, #kernels h2 { margin: 4px 0; font-size: 16px; }
  section.plot p { margin: 0 0 6px; color: #555; font-size: 13px; }
  canvas { width: 100%; height: 240px; display: block; }
  canvas#plot-values { height: 150px; }
  #sqnr { list-style: none; padding: 0; margin: 6px 0; font-size: 14px; }
  #kernels { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; }
  #kernels .status { margin: 4px 0; }
  table.samples { border-collapse: collapse; font-size: 12px; font-family: ui-monospace, monospace; }
  table.samples th, table.samples td { border-bottom: 1px solid #eee; padding: 2px 10px 2px 0; text-align: right; }
  table.samples .differs { color: #b00020; font-weight: 700; }
`;

/** index.html for the site described by `data`. */
export function indexHtml(data: SiteData): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>numforge explore</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>numforge explore</h1>
  <p>A number format, computed in this page by numforge ${data.numforge}'s own parser, schema, resolve and semantics; its compiled kernels run here too.</p>
</header>
<section id="controls">
  <div><label for="format-a">Format</label><br><select id="format-a"></select></div>
  <div><label for="format-b">Beside it</label><br><select id="format-b"></select></div>
  <div id="paste">
    <label for="spec-text">Or paste a spec (checked with the schema and messages of <code>numforge check</code>)</label>
    <textarea id="spec-text" spellcheck="false"></textarea>
    <button id="spec-use" type="button">Use this spec</button>
    <p id="spec-error" role="status"></p>
  </div>
</section>
<section id="facts"><div id="facts-a"></div><div id="facts-b"></div></section>
<section class="plot"><h2>Representable values</h2><p>Each positive finite value of the element as a tick on a log axis (negative values mirror them in signed formats).</p><canvas id="plot-values"></canvas></section>
<section class="plot"><h2>Relative spacing per binade</h2><p>The gap from each value to the next, relative to the value: constant steps within a binade make a sawtooth.</p><canvas id="plot-spacing"></canvas></section>
<section class="plot"><h2>Rounding error</h2><p>The worst |stored − x| / x in each slice of the range, with the format's own rounding: half a gap within the binades, all of x below the smallest value (flushed) and growing above the largest (saturated or overflowed).</p><canvas id="plot-error"></canvas></section>
<section class="plot" id="distribution-panel">
  <h2>A distribution stored in the format</h2>
  <p><label for="distribution">Distribution</label> <select id="distribution"></select>
     <label for="scale">scale</label> <input id="scale" type="range" min="-16" max="16" step="0.25" value="0"> <output id="scale-value" for="scale"></output></p>
  <ul id="sqnr"></ul>
  <canvas id="plot-distribution"></canvas>
</section>
<section id="kernels"><h2>Kernels in the page</h2></section>
<script type="application/json" id="site-data">${scriptJson(data)}</script>
<script src="${SCRIPT_FILE}"></script>
</body>
</html>
`;
}
