// Connections: each account + region with its webhook URL, identities to attach trackses'
// configuration set to, a verify check, and the role-mode quick-create link.

import { call, get, regions } from './api.js';
import { $, h, replace, say, time } from './dom.js';

let generation = 0;

const path = (cid, rest = '') => `/connections/${encodeURIComponent(cid)}${rest}`;
const yesNo = (v) => (v === true ? 'yes' : v === false ? 'no' : '—');
const failure = (what, e) => h('p', { class: 'error', role: 'alert' }, `${what}: ${e.message}`);

async function copy(input, status) {
  try {
    await navigator.clipboard.writeText(input.value);
    say(status, 'Copied.');
  } catch {
    input.select();
    say(status, 'Selected — press Ctrl+C (⌘C) to copy.');
  }
}

async function verify(c, out, button) {
  button.disabled = true;
  replace(out, h('p', { class: 'muted' }, 'Verifying…'));
  try {
    const v = await call('POST', path(c.id, '/verify'));
    const sending = v.sending || {};
    replace(out, h('div', { class: `verify ${v.verified ? 'good' : 'bad'}` },
      h('p', null, h('strong', null, v.verified ? 'Verified' : 'Not verified'),
        ` — account ${v.account_id ?? c.account_id}, ${v.region ?? c.region}`),
      h('dl', { class: 'meta' },
        h('dt', null, 'Sending enabled'), h('dd', null, yesNo(sending.enabled)),
        h('dt', null, 'SES access'), h('dd', null,
          sending.production_access === true ? 'production' : sending.production_access === false ? 'sandbox' : '—'),
        h('dt', null, 'Quota (24 h)'), h('dd', null,
          sending.max_24_hour_send != null ? `${sending.sent_last_24_hours ?? 0} of ${sending.max_24_hour_send} sent` : '—'),
        h('dt', null, 'Max send rate'), h('dd', null,
          sending.max_send_rate != null ? `${sending.max_send_rate}/s` : '—')),
      (v.problems || []).length
        ? h('ul', { class: 'problems' }, v.problems.map((p) => h('li', null, typeof p === 'string' ? p : JSON.stringify(p))))
        : null));
  } catch (e) {
    replace(out, failure('Verify failed', e));
  } finally {
    button.disabled = false;
  }
}

async function setAttached(c, identity, attach, replaceSet, out) {
  const rest = path(c.id, `/identities/${encodeURIComponent(identity.identity)}`);
  try {
    if (attach) await call('PUT', rest, { body: replaceSet ? { replace: true } : {} });
    else await call('DELETE', rest);
    await identities(c, out);
  } catch (e) {
    out.prepend(failure(`Could not ${attach ? 'attach' : 'detach'} ${identity.identity}`, e));
  }
}

function identityRow(c, identity, out) {
  const foreign = !identity.attached && identity.configuration_set;
  let action;
  if (identity.attached) {
    action = h('button', { type: 'button', class: 'quiet', onclick: () => setAttached(c, identity, false, false, out) },
      'Detach', h('span', { class: 'sr-only' }, ` ${identity.identity}`));
  } else {
    action = h('button', {
      type: 'button',
      onclick: () => {
        // Another set already publishes this identity's events: replacing it is the user's call.
        if (foreign && !window.confirm(`${identity.identity} uses the configuration set ${identity.configuration_set}. Replace it with trackses'?`)) return;
        setAttached(c, identity, true, Boolean(foreign), out);
      },
    }, 'Attach', h('span', { class: 'sr-only' }, ` ${identity.identity}`));
  }
  return h('tr', { 'data-identity': identity.identity },
    h('td', null, identity.identity),
    h('td', null, identity.type === 'DOMAIN' ? 'domain' : 'address'),
    h('td', null, yesNo(identity.verified)),
    h('td', null, identity.configuration_set || '—'),
    h('td', null, action));
}

/** A page of identities (SES lists them a page at a time), and a button for the next one. */
async function morePage(c, out, tbody, cursor, button) {
  button.disabled = true;
  try {
    const { items, next_cursor: next } = await get(path(c.id, '/identities'), { cursor });
    tbody.append(...items.map((i) => identityRow(c, i, out)));
    button.hidden = !next;
    button.onclick = () => morePage(c, out, tbody, next, button);
  } catch (e) {
    out.append(failure('Could not list more identities', e));
  } finally {
    button.disabled = false;
  }
}

async function identities(c, out) {
  replace(out, h('p', { class: 'muted' }, 'Loading identities…'));
  try {
    const { items, next_cursor: next } = await get(path(c.id, '/identities'));
    const tbody = h('tbody', null, items.map((i) => identityRow(c, i, out)));
    const more = h('button', { type: 'button', class: 'quiet', hidden: !next }, 'More identities');
    more.onclick = () => morePage(c, out, tbody, next, more);
    replace(out, items.length
      ? [h('div', { class: 'table-wrap' }, h('table', null,
        h('caption', null, 'Sending identities'),
        h('thead', null, h('tr', null, ['Identity', 'Type', 'Verified', 'Configuration set', 'trackses']
          .map((t) => h('th', { scope: 'col' }, t)))),
        tbody)), more]
      : h('p', { class: 'empty' }, 'No sending identities in this account and region.'));
  } catch (e) {
    replace(out, failure('Could not list identities', e));
  }
}

/** What SES last said of the account itself (EventBridge delivery only). */
function signals(c) {
  const { sending, advisor = [] } = c.signals || {};
  const rows = [];
  if (sending) {
    rows.push(h('p', { class: `signal ${sending.enabled ? 'signal-ok' : 'signal-bad'}`, 'data-signal': 'sending' },
      sending.enabled ? 'Sending enabled' : 'Sending paused', ' since ', time(sending.at)));
  }
  for (const advice of advisor) {
    rows.push(h('p', { class: `signal ${advice.status === 'open' ? 'signal-bad' : 'signal-ok'}`, 'data-signal': 'advisor' },
      `Advisor: ${advice.kind || 'recommendation'} ${advice.status}`, advice.resource ? ` for ${advice.resource}` : '',
      ': ', advice.recommendation || '—', ' (', time(advice.at), ')'));
  }
  return rows.length ? h('div', { class: 'signals', role: 'status' }, rows) : null;
}

/** Where SNS delivers: shown to copy, for SNS delivery only. */
function webhook(c) {
  if (!c.webhook_url) return null;
  const url = h('input', { readonly: true, value: c.webhook_url, id: `webhook-${c.id}`, class: 'mono', spellcheck: 'false' });
  const copied = h('span', { class: 'muted', role: 'status' });
  return h('div', { class: 'copy' },
    h('label', { for: url.id }, 'Webhook URL'),
    url,
    h('button', { type: 'button', onclick: () => copy(url, copied) }, 'Copy', h('span', { class: 'sr-only' }, ' webhook URL')),
    copied);
}

function card(c) {
  const out = h('div', { class: 'connection-out' });
  const verifyButton = h('button', { type: 'button', onclick: () => verify(c, out, verifyButton) },
    'Verify', h('span', { class: 'sr-only' }, ` ${c.account_id} ${c.region}`));
  const fields = [
    ['Mode', c.mode], ['Delivery', c.delivery === 'eventbridge' ? 'EventBridge' : 'SNS'],
    ['Region', c.region], ['Account', c.account_id], ['Topic', c.topic_arn],
    ['Configuration set', c.configuration_set || '—'], ['Role', c.role_arn], ['Stack', c.stack_id],
    ['Access key', c.access_key_id_last4 && `…${c.access_key_id_last4}`],
    ['Created', time(c.created_at)], ['Last error', c.last_error],
  ].filter(([, v]) => v);
  return h('article', { class: 'card connection', 'data-connection': c.id },
    h('h2', null, `${c.account_id} · ${c.region} `, h('span', { class: `badge status status-${c.status}` }, c.status)),
    signals(c),
    h('dl', { class: 'meta' }, fields.map(([k, v]) => [h('dt', null, k), h('dd', null, v)])),
    webhook(c),
    // Verify and identities take an admin key: a read-only key is not offered them.
    h('div', { class: 'actions admin-only' },
      verifyButton,
      h('button', { type: 'button', class: 'quiet', onclick: () => identities(c, out) }, 'Identities')),
    out);
}

async function load() {
  const mine = ++generation;
  try {
    const { items } = await get('/connections');
    if (mine !== generation) return;
    say($('connections-error'), '');
    $('connections-list').replaceChildren(...items.map(card));
    $('connections-empty').hidden = items.length > 0;
    const select = $('role-region');
    if (items.length && !select.dataset.touched) {
      // Kept for the region list too, should it arrive after the connections.
      select.dataset.wanted = items[0].region;
      select.value = items[0].region;
    }
  } catch (e) {
    if (mine === generation) say($('connections-error'), `Could not load connections: ${e.message}`);
  }
}

async function onboarding(event) {
  event.preventDefault();
  const out = $('role-result');
  const button = $('role-submit');
  button.disabled = true;
  replace(out, h('p', { class: 'muted' }, 'Preparing the link…'));
  try {
    const r = await get('/onboarding/role', { region: $('role-region').value, delivery: $('role-delivery').value });
    // Only an https link is made clickable: this value ends up in an href.
    const link = /^https:\/\//.test(r.quick_create_url || '')
      ? h('a', { href: r.quick_create_url, target: '_blank', rel: 'noopener noreferrer', class: 'button' },
        'Open AWS CloudFormation (new tab)')
      : h('p', { class: 'error' }, 'The API returned no usable quick-create link.');
    replace(out, link, h('dl', { class: 'meta' },
      h('dt', null, 'Stack name'), h('dd', null, r.stack_name ?? '—'),
      h('dt', null, 'External id'), h('dd', { class: 'mono' }, r.external_id ?? '—'),
      h('dt', null, 'trackses account'), h('dd', null, r.trackses_account_id ?? '—'),
      h('dt', null, 'Region'), h('dd', null, r.region ?? '—')));
  } catch (e) {
    replace(out, failure('Could not prepare the role link', e));
  } finally {
    button.disabled = false;
  }
}

export default {
  mount() {
    const select = $('role-region');
    select.addEventListener('change', () => { select.dataset.touched = 'yes'; });
    regions()
      .then((list) => {
        select.replaceChildren(...list.map((r) => h('option', { value: r }, r)));
        select.value = select.dataset.wanted || 'us-east-1';
      })
      .catch((e) => replace($('role-result'), failure('Could not list the regions', e)));
    $('role-form').addEventListener('submit', onboarding);
    $('connections-refresh').addEventListener('click', load);
  },
  enter() {
    replace($('role-result'));
    load();
  },
  leave() {
    generation += 1;
  },
};
