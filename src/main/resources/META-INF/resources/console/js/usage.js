// Usage over time: requests and tokens per model, last hour by minute and last day by hour (uPlot, served from
// its webjar), with the totals as a table (the charts' text alternative).
import uPlot from '../../webjars/uplot/1.6.30/dist/uPlot.esm.js';
import { get, query } from './api.js';
import { $, el, fillSelect, showError } from './dom.js';

const COLOURS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4d7c0f', '#be185d'];
const plots = [];
let ctx;

function tenantParam() {
  return ctx.admin ? $('usage-tenant').value : undefined;
}

/** Dense columns for uPlot: one x per bucket from start to end, one y array per model (0 where no point). */
function columns(s, field) {
  const n = Math.max(1, Math.floor((s.end - s.start) / s.bucket_seconds));
  const xs = Array.from({ length: n }, (_, i) => s.start + i * s.bucket_seconds);
  const ys = s.series.map((m) => {
    const y = new Array(n).fill(0);
    for (const p of m.points) {
      const i = Math.floor((p.t - s.start) / s.bucket_seconds);
      if (i >= 0 && i < n) {
        y[i] += field(p);
      }
    }
    return y;
  });
  return [xs, ...ys];
}

function plot(target, title, s, field) {
  const opts = {
    title,
    width: Math.max(280, target.clientWidth - 16),
    height: 200,
    series: [{}, ...s.series.map((m, i) => ({ label: m.model, stroke: COLOURS[i % COLOURS.length], width: 2 }))],
    axes: [{}, { size: 50 }],
    scales: { x: { time: true } },
  };
  const p = new uPlot(opts, columns(s, field), target);
  plots.push(p);
}

const tokens = (p) => (p.prompt_tokens || 0) + (p.completion_tokens || 0);

function chart(range, s) {
  const figure = $('chart-' + range);
  figure.querySelectorAll('.uplot').forEach((n) => n.remove());
  const points = s.series.reduce((sum, m) => sum + m.points.length, 0);
  const requests = s.series.reduce((sum, m) => sum + m.points.reduce((a, p) => a + (p.requests || 0), 0), 0);
  figure.dataset.points = String(points);
  figure.dataset.requests = String(requests);
  plot(figure, 'Requests', s, (p) => p.requests || 0);
  plot(figure, 'Tokens (prompt + completion)', s, tokens);
}

function totals(rows) {
  $('usage-body').replaceChildren(...rows.map((r) => el('tr', { dataset: { testid: 'usage-row', model: r.model } },
    el('th', { scope: 'row' }, r.model),
    el('td', { className: 'num' }, r.requests),
    el('td', { className: 'num' }, r.prompt),
    el('td', { className: 'num' }, r.completion))));
}

async function refresh() {
  showError($('usage-error'), null);
  plots.splice(0).forEach((p) => p.destroy());
  const tenant = tenantParam();
  try {
    const [hour, day] = await Promise.all(['hour', 'day'].map((range) =>
      get('/v1/admin/usage/series' + query({ range, tenant }))));
    $('charts').hidden = false;
    chart('hour', hour);
    chart('day', day);
    totals(day.series.map((m) => ({ model: m.model,
      requests: m.points.reduce((a, p) => a + (p.requests || 0), 0),
      prompt: m.points.reduce((a, p) => a + (p.prompt_tokens || 0), 0),
      completion: m.points.reduce((a, p) => a + (p.completion_tokens || 0), 0) })));
  } catch (e) {
    $('charts').hidden = true;
    showError($('usage-error'), e);
  }
}

export default {
  wire() {
    $('usage-tenant').addEventListener('change', refresh);
    $('usage-refresh').addEventListener('click', refresh);
    window.addEventListener('resize', () => plots.forEach((p) =>
      p.setSize({ width: Math.max(280, p.root.parentElement.clientWidth - 16), height: 200 })));
  },
  show(c) {
    ctx = c;
    if (ctx.admin) {
      fillSelect($('usage-tenant'), ['', ...ctx.tenantNames], ['All tenants', ...ctx.tenantNames]);
    }
    refresh();
  },
};
