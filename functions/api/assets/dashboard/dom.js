// Building the page from data without ever parsing data as markup: every string becomes a text
// node or an attribute value, so an address or subject like "<img onerror=…>" stays text.

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(element, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An HTML element: `h('li', {class: 'x'}, 'text', otherNode)`. */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element, for the charts and gauges drawn here rather than by a library. */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function $(id) {
  return document.getElementById(id);
}

export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

/** Shows `message` in an alert region, or hides the region when there is none. */
export function say(element, message) {
  element.textContent = message || '';
  element.hidden = !message;
}

export const TYPES = [
  'send', 'delivery', 'bounce', 'complaint', 'reject', 'open', 'click',
  'rendering_failure', 'delivery_delay', 'subscription',
];

export function typeLabel(type) {
  return type.replaceAll('_', ' ');
}

export function typeBadge(type) {
  return h('span', { class: `badge t-${type}` }, typeLabel(type));
}

export function time(iso, options) {
  const date = new Date(iso);
  const text = Number.isNaN(date.getTime())
    ? String(iso)
    : date.toLocaleString(undefined, options || { dateStyle: 'medium', timeStyle: 'medium' });
  return h('time', { datetime: iso }, text);
}

export function percent(fraction, digits) {
  return `${(fraction * 100).toFixed(digits)} %`;
}

export function messageLink(id, label) {
  return h('a', { href: `#message/${encodeURIComponent(id)}`, class: 'mono' }, label || id);
}

const DETAIL_LABELS = {
  bounce_type: 'Bounce type',
  bounce_sub_type: 'Sub-type',
  diagnostic_code: 'Diagnostic code',
  action: 'Action',
  status: 'Status',
  complaint_feedback_type: 'Feedback type',
  complaint_sub_type: 'Complaint sub-type',
  smtp_response: 'SMTP response',
  processing_time_ms: 'Processing time (ms)',
  reporting_mta: 'Reporting MTA',
  remote_mta_ip: 'Remote MTA IP',
  link: 'Link',
  ip_address: 'IP address',
  user_agent: 'User agent',
  delay_type: 'Delay type',
  expiration_time: 'Expires',
  reason: 'Reason',
  error_message: 'Error',
  template_name: 'Template',
};

/** An event's type-specific details as a definition list, known fields first. */
export function details(event) {
  const entries = Object.entries(event.details || {}).filter(([, v]) => v !== null && v !== '');
  if (!entries.length) return null;
  const known = Object.keys(DETAIL_LABELS);
  const rank = (k) => (known.includes(k) ? known.indexOf(k) : known.length);
  entries.sort(([a], [b]) => rank(a) - rank(b));
  return h('dl', { class: 'details' }, entries.map(([key, value]) => [
    h('dt', null, DETAIL_LABELS[key] || key.replaceAll('_', ' ')),
    h('dd', null, typeof value === 'object' ? JSON.stringify(value) : String(value)),
  ]));
}

/** The one line that says what happened, for a list row. */
export function summary(event) {
  const d = event.details || {};
  switch (event.type) {
    case 'bounce':
      return [d.bounce_type, d.bounce_sub_type, d.diagnostic_code].filter(Boolean).join(' · ');
    case 'complaint': return d.complaint_feedback_type || '';
    case 'delivery': return d.smtp_response || '';
    case 'click': return d.link || '';
    case 'delivery_delay': return d.delay_type || '';
    case 'reject': return d.reason || '';
    case 'rendering_failure': return d.error_message || '';
    default: return '';
  }
}
