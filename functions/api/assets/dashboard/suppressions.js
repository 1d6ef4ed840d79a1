// Suppressions: the recipients to stop mailing, page by page, and all of them as a CSV file.

import { get, session } from './api.js';
import { $, h, messageLink, say, time } from './dom.js';

const PAGE = 50;
const EXPORT_PAGE = 200;
const COLUMNS = ['recipient', 'reason', 'last_event_at', 'ses_message_id'];

let next = null;
let generation = 0;

function row(s) {
  return h('tr', { 'data-recipient': s.recipient },
    h('td', null, s.recipient),
    h('td', null, s.reason),
    h('td', null, time(s.last_event_at)),
    h('td', null, messageLink(s.ses_message_id, 'Timeline')));
}

async function page(fresh) {
  const mine = fresh ? ++generation : generation;
  const more = $('suppressions-more');
  more.disabled = true;
  try {
    const data = await get('/suppressions', { limit: PAGE, cursor: fresh ? null : next });
    if (mine !== generation) return;
    say($('suppressions-error'), '');
    const body = $('suppressions-body');
    if (fresh) body.replaceChildren();
    body.append(...data.items.map(row));
    next = data.next_cursor;
    const none = !body.children.length;
    $('suppressions-table').hidden = none;
    $('suppressions-empty').hidden = !none;
    more.hidden = !next;
  } catch (e) {
    if (mine === generation) say($('suppressions-error'), `Could not load suppressions: ${e.message}`);
  } finally {
    more.disabled = false;
  }
}

/** RFC 4180 quoting, and a leading quote on anything a spreadsheet would run as a formula. */
function cell(value) {
  let text = String(value ?? '');
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

async function exportCsv() {
  const button = $('suppressions-export');
  button.disabled = true;
  say($('suppressions-state'), 'Preparing the CSV…');
  try {
    const lines = [COLUMNS.join(',')];
    let cursor = null;
    do {
      const data = await get('/suppressions', { limit: EXPORT_PAGE, cursor });
      for (const s of data.items) lines.push(COLUMNS.map((c) => cell(s[c])).join(','));
      cursor = data.next_cursor;
    } while (cursor);
    const blob = new Blob([`${lines.join('\r\n')}\r\n`], { type: 'text/csv;charset=utf-8' });
    const link = h('a', {
      href: URL.createObjectURL(blob),
      download: `trackses-suppressions-${session().projectId}-${new Date().toISOString().slice(0, 10)}.csv`,
    });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    const n = lines.length - 1;
    say($('suppressions-state'), `Exported ${n} recipient${n === 1 ? '' : 's'}.`);
    say($('suppressions-error'), '');
  } catch (e) {
    say($('suppressions-state'), '');
    say($('suppressions-error'), `Could not export: ${e.message}`);
  } finally {
    button.disabled = false;
  }
}

export default {
  mount() {
    $('suppressions-more').addEventListener('click', () => page(false));
    $('suppressions-export').addEventListener('click', exportCsv);
  },
  enter() {
    say($('suppressions-state'), '');
    page(true);
  },
  leave() {
    generation += 1;
  },
};
