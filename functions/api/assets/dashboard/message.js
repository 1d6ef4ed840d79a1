// Message: find a message by its SES id or by a recipient, and show each recipient's timeline.

import { ApiError, get } from './api.js';
import { $, details, h, messageLink, replace, say, time, typeBadge } from './dom.js';

let generation = 0;

function tags(tagMap) {
  const entries = Object.entries(tagMap || {}).filter(([name]) => !name.startsWith('ses:'));
  return entries.length
    ? entries.map(([name, values]) => `${name}: ${values.join(', ')}`).join(' · ')
    : '—';
}

function timeline(message) {
  const meta = [
    ['Message id', h('code', null, message.ses_message_id)],
    ['From', message.source || '—'],
    ['Sent', message.sent_at ? time(message.sent_at) : '—'],
    ['Configuration set', message.tags?.['ses:configuration-set']?.join(', ') || '—'],
    ['Tags', tags(message.tags)],
  ];
  return h('article', { class: 'card message' },
    h('h2', null, message.subject || '(no subject)'),
    h('dl', { class: 'meta' }, meta.map(([k, v]) => [h('dt', null, k), h('dd', null, v)])),
    message.recipients.map((r) => h('section', { class: 'recipient', 'data-recipient': r.recipient },
      h('h3', null, h('span', { class: 'recipient-address' }, r.recipient), ' ',
        h('span', { class: `badge status status-${r.status}` }, r.status.replaceAll('_', ' '))),
      h('ol', { class: 'timeline' }, r.events.map((e) => h('li', { class: `step t-${e.type}`, 'data-type': e.type },
        h('div', { class: 'step-head' }, typeBadge(e.type), time(e.occurred_at)),
        details(e)))))));
}

/** A recipient's recent messages, newest first, each once. */
function messagesOf(recipient, events) {
  const byMessage = new Map();
  for (const e of events) {
    const seen = byMessage.get(e.ses_message_id);
    if (seen) seen.types.add(e.type);
    else byMessage.set(e.ses_message_id, { first: e, types: new Set([e.type]) });
  }
  if (!byMessage.size) {
    return h('p', { class: 'empty' }, `No events for ${recipient}.`);
  }
  return h('article', { class: 'card' },
    h('h2', null, `Messages to ${recipient}`),
    h('ul', { class: 'found' }, [...byMessage.values()].map(({ first, types }) => h('li', null,
      messageLink(first.ses_message_id, first.subject || '(no subject)'), ' ',
      time(first.occurred_at, { dateStyle: 'short', timeStyle: 'short' }), ' ',
      [...types].map(typeBadge)))));
}

async function show(query) {
  const mine = ++generation;
  const result = $('message-result');
  say($('message-error'), '');
  replace(result, h('p', { class: 'muted' }, 'Loading…'));
  try {
    const content = query.includes('@')
      ? messagesOf(query, (await get('/events', { recipient: query, limit: 200 })).items)
      : timeline(await get(`/messages/${encodeURIComponent(query)}`));
    if (mine === generation) replace(result, content);
  } catch (e) {
    if (mine !== generation) return;
    replace(result);
    say($('message-error'), e instanceof ApiError && e.status === 404
      ? `No message ${query} in this project (it may be older than the retention period).`
      : e.message);
  }
}

export default {
  mount() {
    $('message-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const query = $('message-query').value.trim();
      if (!query) return;
      // A message id goes in the address so it can be shared and revisited; a recipient does not.
      const address = `#message/${encodeURIComponent(query)}`;
      if (query.includes('@') || location.hash === address) show(query);
      else location.hash = address;
    });
  },
  enter(id) {
    if (id) {
      $('message-query').value = id;
      show(id);
    } else {
      say($('message-error'), '');
      replace($('message-result'), h('p', { class: 'empty' },
        'Search for a message by its SES message id, or for a recipient’s recent messages.'));
    }
  },
  leave() {
    generation += 1;
  },
};
