/**
 * The single self-contained index.html: inline CSS, inline SVG figures, the feature-browser
 * data as an inert JSON script and its vanilla-JS code. No external URL is referenced except
 * the Temporal UI links, so the page works offline from file://.
 */
import { FEATURE_BROWSER_SCRIPT } from './browser-script.js';
import type { BrowserPayload } from './browser-payload.js';
import { escapeHtml as h, jsonForScript } from './format.js';

export interface PageParts {
  runId: string;
  generatedAt: string;
  runFacts: string;
  table1: string;
  sections: { id: string; title: string; intro: string; figures: string }[];
  browser: BrowserPayload;
}

const CSS = `
:root { --fg:#1d1d1f; --muted:#666; --line:#ddd; --paper:#f6f1e3; --accent:#4c78a8; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); margin: 0; }
header { padding: 16px 24px; border-bottom: 1px solid var(--line); }
header h1 { font-size: 20px; margin: 0 0 4px; }
nav { position: sticky; top: 0; background: #fff; border-bottom: 1px solid var(--line); padding: 6px 24px; z-index: 2; }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; }
main { padding: 0 24px 40px; max-width: 1400px; }
section { margin-top: 28px; }
h2 { font-size: 17px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; } h4 { font-size: 13px; margin: 6px 0; }
table { border-collapse: collapse; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.paper { background: var(--paper); }
table.metrics thead th { text-align: center; }
.better { color: var(--muted); font-weight: normal; font-size: 11px; }
.na { color: var(--muted); font-size: 12px; }
.note, .missing, figcaption { color: var(--muted); font-size: 12px; }
.scroll { overflow-x: auto; }
figure.chart { margin: 16px 0; }
figure.chart .svg { overflow-x: auto; }
pre { background: #f7f7f7; padding: 8px; overflow-x: auto; font-size: 12px; }
#feature-browser .fb-controls { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; margin-bottom: 8px; }
#feature-browser input[type=search] { width: 280px; padding: 4px; }
.fb-layout { display: grid; grid-template-columns: minmax(300px, 1fr) 2fr; gap: 16px; }
#fb-list { max-height: 640px; overflow-y: auto; border: 1px solid var(--line); }
.fb-head, .fb-row { display: grid; grid-template-columns: 70px 70px 70px 55px 1fr; gap: 4px; width: 100%; padding: 3px 6px; font-size: 12px; text-align: left; }
.fb-head { font-weight: bold; border-bottom: 1px solid var(--line); }
.fb-row { border: 0; border-bottom: 1px solid #f0f0f0; background: #fff; cursor: pointer; font: inherit; font-size: 12px; }
.fb-row:hover { background: #f3f7fb; } .fb-row.active { background: #dde8f4; }
.fb-num { text-align: right; font-variant-numeric: tabular-nums; }
.fb-top { overflow: hidden; white-space: nowrap; text-overflow: ellipsis; font-family: ui-monospace, monospace; }
.fb-panels { display: flex; gap: 24px; flex-wrap: wrap; }
.fb-hist { display: flex; align-items: flex-end; gap: 1px; height: 62px; border-bottom: 1px solid #999; }
.fb-bar { width: 7px; background: var(--accent); }
.fb-hist-axis { display: flex; justify-content: space-between; font-size: 11px; color: var(--muted); }
.fb-logits ol { margin: 0; padding-left: 22px; font-size: 12px; }
.fb-logits li span { margin-left: 8px; color: var(--muted); }
.fb-logits.up code { color: #2a7a2a; } .fb-logits.down code { color: #b03030; }
.fb-context { font-family: ui-monospace, monospace; font-size: 12px; margin: 4px 0; padding: 4px; border-bottom: 1px solid #f0f0f0; white-space: pre-wrap; }
.fb-tok { border-radius: 2px; } .fb-max { outline: 1.5px solid #c04000; }
`;

/** Assembles index.html. */
export function renderPage(p: PageParts): string {
  const nav = [['run', 'Run'], ['table1', 'Table 1'], ...p.sections.map((s) => [s.id, s.title]), ['features', 'Feature browser']]
    .map(([id, t]) => `<a href="#${h(id)}">${h(t)}</a>`)
    .join('');
  const sections = p.sections.map((s) => `<section id="${h(s.id)}"><h2>${h(s.title)}</h2><p class="note">${h(s.intro)}</p>${s.figures}</section>`).join('\n');
  const browser = p.browser.variants.length
    ? `<div id="feature-browser">
<div class="fb-controls"><label>SAE <select id="fb-variant"></select></label>
<label>Search <input id="fb-search" type="search" placeholder="latent id, token text, or cluster:N"></label>
<label>Sort <select id="fb-sort"><option value="density">density</option><option value="mean">mean activation</option><option value="max">max activation</option><option value="id">id</option></select></label>
<span id="fb-count" class="note"></span></div>
<div class="fb-layout"><div><div class="fb-head"><span>latent</span><span class="fb-num">density</span><span class="fb-num">mean act</span><span class="fb-num">cluster</span><span>top token</span></div><div id="fb-list"></div></div>
<div id="fb-detail"></div></div></div>
<script type="application/json" id="fb-data">${jsonForScript(p.browser)}</script>
<script>${FEATURE_BROWSER_SCRIPT}</script>`
    : '<p class="missing">No feature-browser data was given for this run.</p>';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>temporal-sae report — ${h(p.runId)}</title><style>${CSS}</style></head>
<body><header><h1>temporal-sae run report</h1><div class="note">${h(p.runId)} · report input assembled ${h(p.generatedAt)}</div></header>
<nav>${nav}</nav>
<main>
${p.runFacts}
${p.table1}
${sections}
<section id="features"><h2>Feature browser</h2>
<p class="note">A bounded selection per SAE: the most frequent latents, a seeded sample of the other alive ones, and requested ids. Tokens are shaded by the latent's activation relative to its maximum; the outlined token is the activating one. Logit effects are W_dec[i] · W_Uᵀ (final norm ignored).</p>
${browser}</section>
</main></body></html>
`;
}
