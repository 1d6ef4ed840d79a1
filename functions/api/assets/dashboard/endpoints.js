// Endpoints: where the project's events are forwarded, each with its state, the events it never
// took (dead letters), and pause, resume, replay, secret rotation and deletion.

import { call, get } from './api.js';
import { $, h, replace, say, time } from './dom.js';

const TYPES = ['send', 'delivery', 'bounce', 'complaint', 'reject', 'open', 'click',
  'rendering_failure', 'delivery_delay', 'subscription'];

let generation = 0;

const path = (id, rest = '') => `/endpoints/${encodeURIComponent(id)}${rest}`;
const failure = (what, e) => h('p', { class: 'error', role: 'alert' }, `${what}: ${e.message}`);

/** A secret, shown this once: the API never returns it again. */
function secretShown(out, secret, what) {
  replace(out, h('div', { class: 'card secret', 'data-secret': '' },
    h('p', null, h('strong', null, `${what}. `), 'Copy the signing secret now: it is not shown again.'),
    h('p', { class: 'mono' }, secret)));
}

async function act(e, method, rest, body, out) {
  try {
    const answer = await call(method, path(e.id, rest), { body });
    if (answer && answer.secret) secretShown(out, answer.secret, 'Secret rotated');
    await load();
  } catch (error) {
    replace(out, failure(`Could not ${rest ? rest.slice(1).replace('-', ' ') : 'delete'}`, error));
  }
}

async function deadLetters(e, out) {
  try {
    const { items } = await get(path(e.id, '/dead-letters'));
    replace(out, items.length
      ? h('div', { class: 'table-wrap' }, h('table', null,
        h('caption', null, 'Events it never accepted (kept 14 days)'),
        h('thead', null, h('tr', null, ['Event', 'Type', 'Attempts', 'Last error', 'Given up']
          .map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', null, items.map((d) => h('tr', { 'data-dead-letter': d.event_id },
          h('td', { class: 'mono' }, d.event_id), h('td', null, d.type), h('td', null, String(d.attempts)),
          h('td', null, d.last_error), h('td', null, time(d.failed_at)))))))
      : h('p', { class: 'muted' }, 'No dead letters: it took every event.'));
  } catch (error) {
    replace(out, failure('Could not list dead letters', error));
  }
}

function card(e) {
  const out = h('div', { class: 'endpoint-out' });
  const letters = h('div');
  deadLetters(e, letters);
  const day = new Date(Date.now() - 24 * 3600 * 1000).toISOString();
  const paused = Boolean(e.paused_at);
  return h('article', { class: 'card endpoint', 'data-endpoint': e.id, 'data-state': paused ? 'paused' : 'active' },
    h('h2', { class: 'mono' }, e.url, ' ', h('span', { class: `badge status status-${paused ? 'error' : 'active'}` },
      paused ? 'paused' : 'active')),
    h('dl', { class: 'meta' },
      h('dt', null, 'Events'), h('dd', null, e.event_types.length ? e.event_types.join(', ') : 'every type'),
      e.connection_id ? [h('dt', null, 'Connection'), h('dd', { class: 'mono' }, e.connection_id)] : null,
      paused ? [h('dt', null, 'Paused since'), h('dd', null, time(e.paused_at))] : null,
      h('dt', null, 'Created'), h('dd', null, time(e.created_at))),
    h('div', { class: 'actions admin-only' },
      paused
        ? h('button', { type: 'button', onclick: () => act(e, 'POST', '/resume', undefined, out) }, 'Resume')
        : h('button', { type: 'button', class: 'quiet', onclick: () => act(e, 'POST', '/pause', undefined, out) }, 'Pause'),
      h('button', { type: 'button', class: 'quiet', onclick: () => act(e, 'POST', '/replay', { from: day }, out) },
        'Replay the last 24 h'),
      h('button', { type: 'button', class: 'quiet', onclick: () => act(e, 'POST', '/rotate-secret', undefined, out) },
        'Rotate secret'),
      h('button', {
        type: 'button',
        class: 'quiet',
        onclick: () => window.confirm(`Stop forwarding to ${e.url}?`) && act(e, 'DELETE', '', undefined, out),
      }, 'Delete')),
    out,
    letters);
}

async function load() {
  const mine = ++generation;
  try {
    const { items } = await get('/endpoints');
    if (mine !== generation) return;
    say($('endpoints-error'), '');
    $('endpoints-list').replaceChildren(...items.map(card));
    $('endpoints-empty').hidden = items.length > 0;
  } catch (e) {
    if (mine === generation) say($('endpoints-error'), `Could not load endpoints: ${e.message}`);
  }
}

async function create(event) {
  event.preventDefault();
  const out = $('endpoint-result');
  const types = [...document.querySelectorAll('#endpoint-types input:checked')].map((i) => i.value);
  try {
    const created = await call('POST', '/endpoints', { body: { url: $('endpoint-url').value.trim(), event_types: types } });
    secretShown(out, created.secret, 'Endpoint created');
    $('endpoint-url').value = '';
    await load();
  } catch (e) {
    replace(out, failure('Could not create the endpoint', e));
  }
}

export default {
  mount() {
    $('endpoint-types').replaceChildren(...TYPES.map((t) => h('label', { class: 'chip' },
      h('input', { type: 'checkbox', value: t }), ` ${t.replaceAll('_', ' ')}`)));
    $('endpoint-form').addEventListener('submit', create);
    $('endpoints-refresh').addEventListener('click', load);
  },
  enter() {
    replace($('endpoint-result'));
    load();
  },
  leave() {
    generation += 1;
  },
};
