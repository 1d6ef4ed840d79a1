// Live: the newest page, then the tail (`after=<cursor>`) every second while the view is open.

import { get } from './api.js';
import { $, TYPES, h, messageLink, say, summary, time, typeBadge, typeLabel } from './dom.js';

const FIRST_PAGE = 50;
const TAIL_PAGE = 200;
const KEEP = 300;
const EVERY_MS = 1000;
const RETRY_MS = 3000;
/** The smallest event id: "after the beginning", for a project with no events yet. */
const BEGINNING = '0'.repeat(26);

let events = []; // newest first
let rows = new Map(); // event id → its list item, while shown
let cursor = null;
let shown = new Set(TYPES);
let paused = false;
let timer = null;
// Bumped on every (re)start, so an answer to an older request is dropped, not shown twice.
let generation = 0;

const allShown = () => TYPES.every((t) => shown.has(t));
// A narrow filter (say bounces and complaints) fetches each type's own newest page, as rare
// types may be missing from the latest events; a broad one makes do with the shared page.
const BACKFILL_TYPES = 3;
const backfills = () => shown.size > 0 && shown.size <= BACKFILL_TYPES;
const visible = (event) => allShown() || shown.has(event.type);

function row(event) {
  const what = summary(event);
  const subject = event.subject || '(no subject)';
  return h('li', { class: `event t-${event.type}`, 'data-id': event.id, 'data-type': event.type },
    time(event.occurred_at, { dateStyle: 'short', timeStyle: 'medium' }),
    typeBadge(event.type),
    h('span', { class: 'event-recipient' }, event.recipient),
    h('span', { class: 'subject' }, subject),
    what ? h('span', { class: 'summary' }, what) : null,
    h('span', { class: 'open' }, messageLink(event.ses_message_id, 'Timeline')));
}

function empty() {
  const list = $('live-empty');
  if (!events.length) {
    say(list, 'No events yet — send a test mail to success@simulator.amazonses.com');
  } else if (!events.some(visible)) {
    const names = [...shown].map(typeLabel).join(', ') || 'no type';
    say(list, `No ${names} events among the latest ${events.length}.`);
  } else {
    say(list, '');
  }
}

function render() {
  rows = new Map();
  const items = events.filter(visible).map((e) => {
    const li = row(e);
    rows.set(e.id, li);
    return li;
  });
  $('live-list').replaceChildren(...items);
  empty();
}

function remember(items) {
  const known = new Set(events.map((e) => e.id));
  const fresh = items.filter((e) => !known.has(e.id));
  events = events.concat(fresh).sort((a, b) => (a.id < b.id ? 1 : -1));
  for (const old of events.splice(KEEP)) {
    rows.get(old.id)?.remove();
    rows.delete(old.id);
  }
  return fresh;
}

/** Tail items arrive oldest first; each goes on top, as a new node the live region announces. */
function prepend(items) {
  const list = $('live-list');
  for (const event of remember(items)) {
    if (!visible(event) || rows.has(event.id) || !events.includes(event)) continue;
    const li = row(event);
    rows.set(event.id, li);
    list.prepend(li);
  }
  empty();
}

function schedule(ms) {
  clearTimeout(timer);
  timer = setTimeout(poll, ms);
}

async function poll() {
  if (paused || cursor === null) return;
  const mine = generation;
  try {
    const page = await get('/events', { after: cursor, limit: TAIL_PAGE });
    if (mine !== generation) return;
    say($('live-error'), '');
    cursor = page.next_cursor || cursor;
    prepend(page.items);
    // A full page means more are waiting: catch up at once instead of a second behind.
    schedule(page.items.length === TAIL_PAGE ? 0 : EVERY_MS);
  } catch (e) {
    if (mine !== generation) return;
    say($('live-error'), `Live updates paused by an error: ${e.message}. Retrying…`);
    schedule(RETRY_MS);
  }
}

/** The newest page (and, when filtered, the newest of each chosen type), then the tail. */
async function load() {
  const mine = ++generation;
  clearTimeout(timer);
  say($('live-state'), 'Loading…');
  try {
    const typed = backfills() ? [...shown].map((type) => get('/events', { type, limit: FIRST_PAGE })) : [];
    const pages = await Promise.all([get('/events', { limit: FIRST_PAGE }), ...typed]);
    if (mine !== generation) return;
    say($('live-error'), '');
    // The tail starts after the newest event of any type, so nothing arrives twice.
    if (cursor === null) cursor = pages[0].items[0]?.id || BEGINNING;
    remember(pages.flatMap((p) => p.items));
    render();
    state();
    schedule(EVERY_MS);
  } catch (e) {
    if (mine !== generation) return;
    say($('live-error'), `Could not load events: ${e.message}`);
    say($('live-state'), '');
    timer = setTimeout(load, RETRY_MS);
  }
}

function state() {
  say($('live-state'), paused
    ? 'Paused — new events wait until you resume.'
    : 'Live — new events appear as they arrive.');
  const toggle = $('live-toggle');
  toggle.textContent = paused ? 'Resume' : 'Pause';
  toggle.setAttribute('aria-pressed', String(paused));
}

function filters() {
  const boxes = TYPES.map((type) => h('label', { class: `chip t-${type}` },
    h('input', {
      type: 'checkbox',
      checked: true,
      value: type,
      onchange: (e) => {
        if (e.target.checked) shown.add(type);
        else shown.delete(type);
        render();
        if (backfills()) load();
      },
    }),
    typeLabel(type)));
  const all = h('button', {
    type: 'button',
    class: 'quiet',
    onclick: () => {
      shown = new Set(TYPES);
      for (const box of $('live-filters').querySelectorAll('input')) box.checked = true;
      render();
    },
  }, 'Show all');
  $('live-filters').replaceChildren(...boxes, all);
}

export default {
  mount() {
    filters();
    $('live-toggle').addEventListener('click', () => {
      paused = !paused;
      state();
      if (!paused) schedule(0);
    });
  },
  enter() {
    // Each visit starts from the newest page: a long absence is not replayed event by event.
    events = [];
    cursor = null;
    render();
    say($('live-empty'), '');
    load();
  },
  leave() {
    generation += 1;
    clearTimeout(timer);
  },
};
