// Alerts: what opened and resolved (newest first), the rules that open them, and the channels
// they are sent to (a webhook's secret shown once; an e-mail address confirms by its link).

import { call, get } from './api.js';
import { $, h, replace, say, time } from './dom.js';

let generation = 0;
let channels = [];

const failure = (what, e) => h('p', { class: 'error', role: 'alert' }, `${what}: ${e.message}`);

/** A rule's condition in words. */
function condition(c) {
  switch (c.kind) {
    case 'bounce_rate':
      return `Bounce rate ≥ ${c.threshold_percent} % over ${c.window_hours} h (from ${c.min_sends} sends)`;
    case 'complaint_rate':
      return `Complaint rate ≥ ${c.threshold_percent} % over ${c.window_hours} h (from ${c.min_sends} sends)`;
    case 'burst': {
      const what = c.of === 'bounces' ? 'permanent bounce' : 'complaint';
      return `${c.count} ${what}${c.count === 1 ? '' : 's'} within ${c.minutes} min`;
    }
    case 'connection_health': return 'Connection health (checked on a schedule)';
    case 'silence': return `No events for ${c.quiet_hours} h after a steady flow`;
    default: return c.kind;
  }
}

function scope(s) {
  const parts = [s.connection_id && `connection ${s.connection_id}`, s.identity && `identity ${s.identity}`,
    s.tag && `tag ${s.tag}`].filter(Boolean);
  return parts.length ? parts.join(', ') : 'whole project';
}

function alertRow(a) {
  const open = !a.resolved_at;
  return h('li', { class: `alert ${open ? 'alert-open' : 'alert-resolved'}`, 'data-alert': a.id, 'data-state': open ? 'open' : 'resolved' },
    h('span', { class: `badge status status-${open ? 'error' : 'active'}` }, open ? 'open' : 'resolved'),
    h('strong', null, ` ${a.rule_name}`), ` · ${a.subject} — ${a.summary} — opened `, time(a.opened_at),
    open ? null : [' · resolved ', time(a.resolved_at), `: ${a.resolution || ''}`]);
}

function channelTarget(c) {
  return c.type === 'email' ? c.address : c.url;
}

async function remove(what, rest, out) {
  try {
    await call('DELETE', rest);
    await load();
  } catch (e) {
    replace(out, failure(`Could not delete the ${what}`, e));
  }
}

function ruleRow(r, out) {
  const names = r.channel_ids.map((id) => channels.find((c) => c.id === id)).filter(Boolean).map((c) => c.type);
  return h('tr', { 'data-rule': r.id },
    h('td', null, r.name), h('td', null, condition(r.condition)), h('td', null, scope(r.scope || {})),
    h('td', null, names.length ? names.join(', ') : '—'),
    h('td', { class: 'admin-only' }, h('button', {
      type: 'button',
      class: 'quiet',
      onclick: () => remove('rule', `/alert-rules/${encodeURIComponent(r.id)}`, out),
    }, 'Delete', h('span', { class: 'sr-only' }, ` ${r.name}`))));
}

async function rotate(c, out) {
  try {
    const { secret } = await call('POST', `/alert-channels/${encodeURIComponent(c.id)}/rotate-secret`);
    replace(out, h('p', { 'data-secret': '' }, 'New secret (shown once): ', h('span', { class: 'mono' }, secret)));
  } catch (e) {
    replace(out, failure('Could not rotate the secret', e));
  }
}

function channelRow(c, out) {
  return h('tr', { 'data-channel': c.id },
    h('td', null, c.type), h('td', { class: 'mono' }, channelTarget(c)),
    h('td', null, c.status === 'unconfirmed' ? 'waiting for the address to confirm' : 'active'),
    h('td', { class: 'admin-only' },
      c.type === 'webhook' ? h('button', { type: 'button', class: 'quiet', onclick: () => rotate(c, out) }, 'Rotate secret') : null,
      h('button', {
        type: 'button',
        class: 'quiet',
        onclick: () => remove('channel', `/alert-channels/${encodeURIComponent(c.id)}`, out),
      }, 'Delete')));
}

/** A table under the section's own heading. */
function table(heads, rows) {
  return h('div', { class: 'table-wrap' }, h('table', null,
    h('thead', null, h('tr', null, heads.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', null, rows)));
}

async function load() {
  const mine = ++generation;
  try {
    const [history, rules, found] = await Promise.all([get('/alerts'), get('/alert-rules'), get('/alert-channels')]);
    if (mine !== generation) return;
    channels = found.items;
    say($('alerts-error'), '');
    const list = history.items;
    $('alerts-list').replaceChildren(...list.map(alertRow));
    $('alerts-empty').hidden = list.length > 0;
    const out = $('alerts-out');
    replace($('rules-list'), rules.items.length
      ? table(['Name', 'Opens when', 'Scope', 'Channels', ''], rules.items.map((r) => ruleRow(r, out)))
      : h('p', { class: 'muted' }, 'No rules yet.'));
    replace($('channels-list'), channels.length
      ? table(['Type', 'Where', 'State', ''], channels.map((c) => channelRow(c, out)))
      : h('p', { class: 'muted' }, 'No channels yet.'));
    $('rule-channels').replaceChildren(...channels.map((c) => h('label', { class: 'chip' },
      h('input', { type: 'checkbox', value: c.id }), ` ${c.type}: ${channelTarget(c)}`)));
  } catch (e) {
    if (mine === generation) say($('alerts-error'), `Could not load alerts: ${e.message}`);
  }
}

async function createChannel(event) {
  event.preventDefault();
  const out = $('channel-result');
  const type = $('channel-type').value;
  const target = $('channel-target').value.trim();
  try {
    const created = await call('POST', '/alert-channels', {
      body: type === 'email' ? { type, address: target } : { type, url: target },
    });
    replace(out, created.secret
      ? h('p', { 'data-secret': '' }, 'Channel created. Its signing secret, shown once: ', h('span', { class: 'mono' }, created.secret))
      : h('p', null, type === 'email' ? 'Channel created: the address gets a link to confirm it.' : 'Channel created.'));
    $('channel-target').value = '';
    await load();
  } catch (e) {
    replace(out, failure('Could not create the channel', e));
  }
}

/** The form's condition: AWS's levels for rates, a count for bursts. */
function formCondition() {
  const [kind, of] = $('rule-kind').value.split(':');
  const level = $('rule-level').value;
  if (kind === 'burst') return { kind, of, count: Number($('rule-count').value), minutes: Number($('rule-minutes').value) };
  if (kind === 'bounce_rate' || kind === 'complaint_rate') return { kind, level };
  return { kind };
}

async function createRule(event) {
  event.preventDefault();
  const out = $('rule-result');
  const channelIds = [...document.querySelectorAll('#rule-channels input:checked')].map((i) => i.value);
  try {
    await call('POST', '/alert-rules', {
      body: { name: $('rule-name').value.trim(), condition: formCondition(), channel_ids: channelIds },
    });
    replace(out, h('p', null, 'Rule created.'));
    $('rule-name').value = '';
    await load();
  } catch (e) {
    replace(out, failure('Could not create the rule', e));
  }
}

export default {
  mount() {
    $('channel-form').addEventListener('submit', createChannel);
    $('rule-form').addEventListener('submit', createRule);
    $('alerts-refresh').addEventListener('click', load);
    const kind = $('rule-kind');
    const shown = () => {
      const burst = kind.value.startsWith('burst');
      const rate = kind.value.endsWith('_rate');
      for (const id of ['rule-count', 'rule-minutes']) $(id).closest('label').hidden = !burst;
      $('rule-level').closest('label').hidden = !rate;
    };
    kind.addEventListener('change', shown);
    shown();
  },
  enter() {
    for (const id of ['channel-result', 'rule-result', 'alerts-out']) replace($(id));
    load();
  },
  leave() {
    generation += 1;
  },
};
