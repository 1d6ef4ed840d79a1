// The shell: sign in and out, and the views behind the navigation (`#live`, `#message/<id>`, …).

import { ApiError, clearSession, openSession, saveSession, session, whenSignedOut } from './api.js';
import { $, say } from './dom.js';
import live from './live.js';
import overview from './overview.js';
import message from './message.js';
import suppressions from './suppressions.js';
import connections from './connections.js';
import alerts from './alerts.js';
import endpoints from './endpoints.js';

const VIEWS = { live, overview, message, suppressions, connections, alerts, endpoints };
const TITLES = {
  live: 'Live', overview: 'Overview', message: 'Message', suppressions: 'Suppressions',
  connections: 'Connections', alerts: 'Alerts', endpoints: 'Endpoints',
};

// What the header says a key may do (`scope` of `GET /v1/session`).
const SCOPES = { admin: 'admin key', read: 'read-only key' };

let current = null;

function show(id) {
  for (const section of document.querySelectorAll('main > .view')) section.hidden = section.id !== id;
}

function signedIn(value) {
  $('nav').hidden = !value;
  $('who').hidden = !value;
  $('project-name').textContent = value ? `${value.projectName} · ${value.projectId}` : '';
  $('key-scope').textContent = value ? SCOPES[value.scope] || '' : '';
  document.body.dataset.scope = value ? value.scope : '';
}

function leave() {
  if (current) VIEWS[current].leave();
  current = null;
}

function signOut(reason) {
  leave();
  clearSession();
  signedIn(null);
  show('view-sign-in');
  document.title = 'Sign in · trackses';
  say($('sign-in-error'), reason);
  $('sign-in-key').value = '';
  $('sign-in-key').focus();
}

/** Renders the view the address names; `focus` moves keyboard focus to its heading. */
function route(focus) {
  const creds = session();
  if (!creds) {
    signOut();
    return;
  }
  signedIn(creds);
  const [name, ...rest] = location.hash.replace(/^#/, '').split('/');
  const view = VIEWS[name] ? name : 'live';
  const argument = rest.length ? decodeURIComponent(rest.join('/')) : '';
  leave();
  current = view;
  show(`view-${view}`);
  document.title = `${TITLES[view]} · trackses`;
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.dataset.view === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  VIEWS[view].enter(argument);
  if (focus) $(`h-${view}`).focus();
}

async function signIn(event) {
  event.preventDefault();
  const apiKey = $('sign-in-key').value.trim();
  const error = $('sign-in-error');
  if (!apiKey.startsWith('tsk_')) {
    say(error, 'Enter an API key (tsk_…): it names its project.');
    return;
  }
  const button = $('sign-in-submit');
  button.disabled = true;
  say(error, '');
  try {
    const { project, key } = await openSession(apiKey);
    saveSession({ projectId: project.id, projectName: project.name, scope: key.scope, apiKey });
    $('sign-in-key').value = '';
    if (location.hash && location.hash !== '#live') location.hash = '#live';
    else route(true);
  } catch (e) {
    say(error, e instanceof ApiError && e.status === 401
      ? 'This key is not valid: it was revoked or mistyped. Create a new key with an admin key. '
        + '(A key made before sign-in by key needs one API call under its project first.)'
      : e.message);
  } finally {
    button.disabled = false;
  }
}

function start() {
  for (const view of Object.values(VIEWS)) view.mount();
  $('sign-in-form').addEventListener('submit', signIn);
  $('sign-out').addEventListener('click', () => signOut());
  whenSignedOut(() => signOut('The API no longer accepts this key. Sign in again.'));
  window.addEventListener('hashchange', () => route(true));
  route(false);
}

start();
