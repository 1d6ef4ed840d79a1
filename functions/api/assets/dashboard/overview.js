// Overview: totals, a stacked bar per hour or day, and the two rates AWS watches, from `/stats`.

import { get } from './api.js';
import { $, TYPES, h, percent, replace, s, say, typeLabel } from './dom.js';

/** AWS reviews an account at the first threshold and may pause its sending at the second. */
const GAUGES = [
  { key: 'bounce', label: 'Bounce rate', note: 'permanent bounces / sent', warning: 0.05, atRisk: 0.10, digits: 2 },
  { key: 'complaint', label: 'Complaint rate', note: 'complaints / sent', warning: 0.001, atRisk: 0.005, digits: 3 },
];
const HEALTH = { ok: 'Healthy', warning: 'Warning', at_risk: 'At risk' };
const PERIODS = {
  hour: { count: 24, stepMs: 3600e3, width: 13, what: 'the last 24 hours' },
  day: { count: 30, stepMs: 86400e3, width: 10, what: 'the last 30 days' },
};

let generation = 0;

/** Every bucket of the period, oldest first, as the API names them (UTC, `YYYY-MM-DDTHH`). */
function buckets(granularity, to) {
  const { count, stepMs, width } = PERIODS[granularity];
  return Array.from({ length: count }, (_, i) =>
    new Date(to.getTime() - (count - 1 - i) * stepMs).toISOString().slice(0, width));
}

function bucketLabel(bucket, granularity) {
  const date = new Date(granularity === 'hour' ? `${bucket}:00:00Z` : `${bucket}T00:00:00Z`);
  return granularity === 'hour'
    ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
}

/** The types the API counted, in the dashboard's usual order, any type it does not know last. */
function typesIn(totals) {
  const known = TYPES.filter((t) => t in totals);
  return [...known, ...Object.keys(totals).filter((t) => !TYPES.includes(t))];
}

function niceCeiling(value) {
  if (value <= 4) return 4;
  const step = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * step >= value) return m * step;
  return 10 * step;
}

function chart(stats, granularity, to) {
  const types = typesIn(stats.totals).filter((t) => stats.totals[t] > 0);
  const byBucket = new Map(stats.series.map((p) => [p.t, p]));
  const names = buckets(granularity, to);
  const stacks = names.map((b) => types.map((t) => Number(byBucket.get(b)?.[t] || 0)));
  const top = niceCeiling(Math.max(0, ...stacks.map((st) => st.reduce((a, n) => a + n, 0))));
  const [W, H, left, bottom, right, topPad] = [960, 220, 40, 24, 8, 8];
  const plotW = W - left - right;
  const plotH = H - bottom - topPad;
  const slot = plotW / names.length;
  const y = (n) => topPad + plotH - (n / top) * plotH;

  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => [
    s('line', { class: 'grid', x1: left, x2: W - right, y1: y(top * f), y2: y(top * f) }),
    s('text', { class: 'axis', x: left - 6, y: y(top * f) + 4, 'text-anchor': 'end' }, String(top * f)),
  ]);
  const labelEvery = Math.ceil(names.length / 8);
  const bars = names.map((bucket, i) => {
    let base = 0;
    const x = left + i * slot + slot * 0.15;
    const parts = types.map((type, j) => {
      const n = stacks[i][j];
      if (!n) return null;
      const rect = s('rect', {
        class: `bar t-${type}`, x, width: slot * 0.7, y: y(base + n), height: y(base) - y(base + n),
      }, s('title', null, `${bucketLabel(bucket, granularity)} — ${typeLabel(type)}: ${n}`));
      base += n;
      return rect;
    });
    const label = (names.length - 1 - i) % labelEvery === 0
      ? s('text', { class: 'axis', x: x + slot * 0.35, y: H - 6, 'text-anchor': 'middle' }, bucketLabel(bucket, granularity))
      : null;
    return [parts, label];
  });
  const described = types.length
    ? types.map((t) => `${stats.totals[t]} ${typeLabel(t)}`).join(', ')
    : 'no events';
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`,
    role: 'img',
    'aria-label': `Events per ${granularity} over ${PERIODS[granularity].what}: ${described}`,
  }, grid, bars);
  const legend = types.length
    ? h('ul', { class: 'legend' }, types.map((t) => h('li', { class: `t-${t}` }, h('span', { class: 'swatch' }), typeLabel(t))))
    : h('p', { class: 'empty' }, `No events in ${PERIODS[granularity].what} — send a test mail to success@simulator.amazonses.com`);
  replace($('overview-chart'), svg, legend);
}

function gauge(g, rate, health) {
  const [W, H, pad] = [320, 44, 10];
  const max = g.atRisk * 1.5;
  const x = (v) => pad + (Math.min(v, max) / max) * (W - 2 * pad);
  const zone = (cls, from, to) => s('rect', { class: `zone ${cls}`, x: x(from), width: x(to) - x(from), y: 6, height: 14 });
  const tick = (v) => [
    s('line', { class: 'threshold', x1: x(v), x2: x(v), y1: 2, y2: 24 }),
    s('text', { class: 'axis', x: x(v), y: 38, 'text-anchor': 'middle' }, percent(v, g.digits === 2 ? 0 : 1)),
  ];
  const value = percent(rate, g.digits);
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`,
    role: 'img',
    'aria-label': `${g.label} ${value}: ${HEALTH[health] || health}. AWS reviews at ${percent(g.warning, 1)} and may pause at ${percent(g.atRisk, 1)}.`,
  },
  zone('ok', 0, g.warning), zone('warning', g.warning, g.atRisk), zone('at_risk', g.atRisk, max),
  tick(g.warning), tick(g.atRisk),
  s('path', { class: 'marker', d: `M${x(rate)} 22 l-6 -12 h12 z` }));
  return h('div', { class: `gauge health-${health}`, 'data-rate': g.key },
    h('div', { class: 'gauge-head' },
      h('span', { class: 'gauge-label' }, g.label),
      h('strong', { class: 'gauge-value' }, value),
      h('span', { class: 'badge health' }, HEALTH[health] || health)),
    svg,
    h('p', { class: 'muted small' }, g.note));
}

function banner(stats) {
  const problems = GAUGES.filter((g) => stats.status[g.key] && stats.status[g.key] !== 'ok');
  if (!problems.length) {
    replace($('overview-banner'));
    return;
  }
  const worst = problems.some((g) => stats.status[g.key] === 'at_risk') ? 'at_risk' : 'warning';
  const lines = problems.map((g) => {
    const rate = percent(stats.rates[g.key], g.digits);
    return stats.status[g.key] === 'at_risk'
      ? `${g.label} ${rate} is at risk: AWS may pause sending from this account at ${percent(g.atRisk, 1)}.`
      : `${g.label} ${rate} is above ${percent(g.warning, 1)}: AWS reviews accounts at this level.`;
  });
  replace($('overview-banner'), h('div', { class: `banner health-${worst}`, role: 'alert' },
    h('strong', null, worst === 'at_risk' ? 'Sending at risk' : 'Sending needs attention'),
    lines.map((l) => h('p', null, l)),
    h('p', null, 'Stop mailing the recipients under ', h('a', { href: '#suppressions' }, 'Suppressions'), '.')));
}

function totals(stats) {
  replace($('overview-totals'), typesIn(stats.totals).map((t) =>
    h('li', { class: `total t-${t}`, 'data-type': t },
      h('span', { class: 'total-label' }, typeLabel(t)),
      h('strong', { class: 'total-value' }, stats.totals[t].toLocaleString('en-US')))));
  const rates = [['delivery', 'Delivered', 'of sent'], ['open', 'Opened', 'of delivered'], ['click', 'Clicked', 'of delivered']];
  replace($('overview-rates'), rates.map(([key, label, of]) =>
    h('li', { 'data-rate': key }, `${label} `, h('strong', null, percent(stats.rates[key], 1)), ` ${of}`)));
}

async function load() {
  const mine = ++generation;
  const granularity = $('overview-range').value;
  const to = new Date();
  // The API counts whole buckets from `from`'s to `to`'s: exactly the ones the chart draws.
  const from = new Date(to.getTime() - (PERIODS[granularity].count - 1) * PERIODS[granularity].stepMs);
  try {
    const stats = await get('/stats', { granularity, from: from.toISOString(), to: to.toISOString() });
    if (mine !== generation) return;
    say($('overview-error'), '');
    banner(stats);
    replace($('overview-gauges'), GAUGES.map((g) => gauge(g, stats.rates[g.key], stats.status[g.key])));
    totals(stats);
    chart(stats, granularity, to);
  } catch (e) {
    if (mine === generation) say($('overview-error'), `Could not load the overview: ${e.message}`);
  }
}

export default {
  mount() {
    $('overview-range').addEventListener('change', load);
    $('overview-refresh').addEventListener('click', load);
  },
  enter: load,
  leave() {
    generation += 1;
  },
};
