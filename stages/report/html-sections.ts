/**
 * HTML fragments of the report: run facts, Table 1 (variants as columns, the paper's published
 * values in a separate, labelled column group) and figure blocks. Every value is escaped; every
 * Table 1 cell carries `data-metric`, `data-variant` (or `data-paper`) and the full-precision
 * `data-value`, which the browser test compares with metrics.json.
 */
import type { ReportInput, VariantReport } from '../../schemas/report.js';
import { escapeHtml as h, formatDuration, formatNumber } from './format.js';
import type { MetricRow } from './metric-catalog.js';
import { PAPER_COLUMN_LABELS, PAPER_COLUMNS, PAPER_NOTES, PAPER_REFERENCE } from './paper-values.js';

export interface FigureBlock {
  id: string;
  title: string;
  caption: string;
  svg: string | null;
  /** Shown instead of the figure when there is no data. */
  missing?: string;
}

/** Run facts: what ran where, token counts, versions, durations, Temporal UI links, the spec. */
export function runFactsHtml(input: ReportInput): string {
  const r = input.run;
  const model = [r.model.source, r.model.architecture, r.model.dModel ? `d_model ${r.model.dModel}` : null, r.model.nLayers ? `${r.model.nLayers} blocks` : null]
    .filter(Boolean)
    .join(', ');
  const facts: [string, string][] = [
    ['Run id', r.runId],
    ['Report input assembled', r.generatedAt],
    ['Model', model],
    ['Hooked layer', `block ${r.model.layer} (residual stream after the block)`],
    ['Device', r.device],
    ...Object.entries(r.tokens).map(([k, v]): [string, string] => [`Tokens (${k})`, typeof v === 'number' ? v.toLocaleString('en-US') : String(v ?? '—')]),
    ...Object.entries(r.versions).map(([k, v]): [string, string] => [`Version: ${k}`, String(v)]),
    ['SAEs', input.variants.map((v) => `${v.label} (${v.variant}${v.dSae ? `, d_sae ${v.dSae}` : ''})`).join('; ')],
  ];
  const links = r.temporalLinks.length
    ? `<ul class="links">${r.temporalLinks.map((l) => `<li>${/^https?:\/\//.test(l.url) ? `<a href="${h(l.url)}">${h(l.label)}</a>` : h(l.label)} <code>${h(l.url)}</code></li>`).join('')}</ul>`
    : '<p class="missing">No Temporal UI links recorded.</p>';
  const total = r.stages.reduce((s, st) => s + (st.durationS ?? 0), 0);
  const stages = r.stages
    .map((s) => `<tr><td>${h(s.name)}</td><td>${h(s.status ?? '')}</td><td class="num">${formatDuration(s.durationS)}</td><td>${s.cacheHit ? 'cache hit' : ''}</td></tr>`)
    .join('');
  return `<section id="run"><h2>Run facts</h2>
<table class="facts">${facts.map(([k, v]) => `<tr><th>${h(k)}</th><td>${h(v)}</td></tr>`).join('')}</table>
<h3>Temporal UI</h3>${links}
<h3>Stage durations</h3>
<table class="stages"><thead><tr><th>stage</th><th>status</th><th>duration</th><th></th></tr></thead><tbody>${stages}</tbody>
<tfoot><tr><th>sum of stage times</th><td></td><td class="num">${formatDuration(total)}</td><td></td></tr></tfoot></table>
<details><summary>Run spec</summary><pre>${h(JSON.stringify(r.spec, null, 2))}</pre></details>
</section>`;
}

/** Table 1: metrics as rows, variants as columns, then the paper's four columns. */
export function table1Html(rows: MetricRow[], variants: VariantReport[]): string {
  const head =
    `<tr><th rowspan="2">metric</th><th colspan="${variants.length}">measured in this run</th>` +
    `<th colspan="${PAPER_COLUMNS.length}" class="paper">paper's published values (not measured here)</th></tr>` +
    `<tr>${variants.map((v) => `<th data-variant="${h(v.label)}">${h(v.label)}<br><small>${h(v.variant)}</small></th>`).join('')}` +
    `${PAPER_COLUMNS.map((c) => `<th class="paper">${h(PAPER_COLUMN_LABELS[c])}</th>`).join('')}</tr>`;
  const body = rows
    .map((row) => {
      const measured = variants
        .map((v) => {
          const cell = row.values[v.label];
          const value = cell?.value ?? null;
          const title = value === null ? cell?.note ?? '' : cell?.path ?? '';
          return `<td class="num" data-metric="${h(row.id)}" data-variant="${h(v.label)}" data-value="${value === null ? '' : String(value)}" title="${h(title)}">${value === null ? `<span class="na">${h(shortNote(cell?.note ?? null))}</span>` : formatNumber(value, row.digits)}</td>`;
        })
        .join('');
      const paper = PAPER_COLUMNS.map((c) => {
        const p = row.paper[c];
        return `<td class="num paper" data-metric="${h(row.id)}" data-paper="${c}" data-value="${p ? p.value : ''}" title="${h(p ? `${PAPER_REFERENCE}, ${p.source}` : '')}">${p ? `${formatNumber(p.value, row.digits)}<sup>${h(sourceMark(p.source))}</sup>` : ''}</td>`;
      }).join('');
      const better = row.better === 'higher' ? ' ↑' : row.better === 'lower' ? ' ↓' : row.better === 'one' ? ' →1' : '';
      return `<tr><th title="${h(row.definition)}">${h(row.label)}<span class="better">${better}</span></th>${measured}${paper}</tr>`;
    })
    .join('\n');
  const definitions = rows.map((r) => `<li><b>${h(r.label)}</b>: ${h(r.definition)}</li>`).join('');
  return `<section id="table1"><h2>Table 1 shape — core metrics across SAE variants</h2>
<div class="scroll"><table class="metrics" id="table-1"><thead>${head}</thead><tbody>${body}</tbody></table></div>
<p class="note">Hover a measured value to see the JSON path it was read from; ↑ higher is better, ↓ lower is better, →1 closer to 1 is better.
Paper columns: <sup>T</sup> Table 1, <sup>F</sup> Figure 2 caption, <sup>S</sup> section text. The paper's model (Gemma-2B layer 12, 65,536 latents) differs from this run's, so the columns are a reference, not a target.</p>
<details><summary>Metric definitions</summary><ul>${definitions}</ul></details>
<details open><summary>Other statements of the paper</summary><ul>${PAPER_NOTES.map((n) => `<li>${h(n)}</li>`).join('')}</ul></details>
</section>`;
}

function sourceMark(source: string): string {
  if (source.startsWith('Table')) return 'T';
  if (source.startsWith('Figure')) return 'F';
  return 'S';
}

function shortNote(note: string | null): string {
  if (!note) return '—';
  return note.length > 28 ? `${note.slice(0, 27)}…` : note;
}

/** A figure: the library-rendered SVG and its caption, or a note saying why it is missing. */
export function figureHtml(f: FigureBlock): string {
  const body = f.svg ? `<div class="svg">${f.svg}</div>` : `<p class="missing">${h(f.missing ?? 'No data.')}</p>`;
  return `<figure class="chart" id="${h(f.id)}" data-chart="${h(f.id)}" data-has-svg="${f.svg ? '1' : '0'}">${body}<figcaption><b>${h(f.title)}.</b> ${h(f.caption)}</figcaption></figure>`;
}
