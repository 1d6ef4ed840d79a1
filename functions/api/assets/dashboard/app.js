// The shell: sign in and out, and the views behind the navigation (`#live`, `#message/<id>`, …).

import { ApiError, call, clearSession, saveSession, session, whenSignedOut } from './api.js';
import { $, say } from './dom.js';
import live from './live.js';
import overview from './overview.js';
import message from './message.js';
import suppressions from './suppressions.js';
import connections from './connections.js';

const VIEWS = { live, overview, message, suppressions, connections };
const TITLES = {
  live: 'Live', overview: 'Overview', message: 'Message', suppressions: 'Suppressions',
  connections: 'Connections',
};

let current = null;

function show(id) {
  for (const section of document.querySelectorAll('main > .view')) section.hidden = section.id !== id;
}

function signedIn(value) {
  $('nav').hidden = !value;
  $('who').hidden = !value;
  $('project-name').textContent = value ? `${value.projectName} · ${value.projectId}` : '';
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
  $('sign-in-project').focus();
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
  const projectId = $('sign-in-project').value.trim();
  const apiKey = $('sign-in-key').value.trim();
  const error = $('sign-in-error');
  if (!projectId || !apiKey.startsWith('tsk_')) {
    say(error, 'Enter the project id (prj_…) and an API key of that project (tsk_…).');
    return;
  }
  const button = $('sign-in-submit');
  button.disabled = true;
  say(error, '');
  try {
    const project = await call('GET', '', { as: { projectId, apiKey } });
    saveSession({ projectId, apiKey, projectName: project.name });
    $('sign-in-key').value = '';
    if (location.hash && location.hash !== '#live') location.hash = '#live';
    else route(true);
  } catch (e) {
    const refused = e instanceof ApiError && (e.status === 401 || e.status === 404);
    say(error, refused
      ? 'This key does not open that project: check both, or create a new key for it.'
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
