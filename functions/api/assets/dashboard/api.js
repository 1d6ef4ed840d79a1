// The API client: the session (the key, the project and scope it opens) lives in sessionStorage,
// is sent only as a bearer header, and never appears in a URL. Failures become ApiError with the
// problem's detail.

const SESSION = 'trackses.session';

export class ApiError extends Error {
  constructor(status, detail) {
    // A route this deployment lacks yet is worth saying plainly, not as a bare "not found".
    const missing = status === 501 || (status === 404 && detail === 'route not found');
    const text = status ? `${detail} (HTTP ${status})` : detail;
    super(missing ? `not available on this trackses yet — ${text}` : text);
    this.status = status;
    this.detail = detail;
  }
}

export function session() {
  try {
    const value = JSON.parse(sessionStorage.getItem(SESSION));
    // A session kept before sign-in by key has no scope: signing in again fetches it.
    return value && value.projectId && value.apiKey && value.scope ? value : null;
  } catch {
    return null;
  }
}

export function saveSession(value) {
  sessionStorage.setItem(SESSION, JSON.stringify(value));
}

export function clearSession() {
  sessionStorage.removeItem(SESSION);
}

/** Whether the key itself was refused, as opposed to one call failing. */
export function signedOutBy(error) {
  return error instanceof ApiError
    && (error.status === 401 || (error.status === 404 && error.detail === 'project not found'));
}

let onSignedOut = () => {};

export function whenSignedOut(callback) {
  onSignedOut = callback;
}

/** The regions a connection may name (`GET /v1/regions`: public, the API's own list). */
export async function regions() {
  const response = await fetch(new URL('/v1/regions', location.origin), { credentials: 'omit' });
  if (!response.ok) throw new ApiError(response.status, 'the region list could not be read');
  return (await response.json()).items;
}

/**
 * Calls `path` under the signed-in project (`/events?…`). `query` is an object of parameters;
 * empty values are left out. A refused key signs the tab out.
 */
export async function call(method, path, { query, body } = {}) {
  const creds = session();
  if (!creds) throw new ApiError(0, 'Not signed in');
  const url = new URL(`/v1/projects/${encodeURIComponent(creds.projectId)}${path}`, location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, value);
  }
  try {
    return await send(method, url, creds.apiKey, body);
  } catch (error) {
    if (signedOutBy(error)) onSignedOut(error);
    throw error;
  }
}

/** What a key opens (`GET /v1/session`): its project, and what the key may do there. */
export async function openSession(apiKey) {
  const url = new URL('/v1/session', location.origin);
  try {
    return await send('GET', url, apiKey);
  } catch (e) {
    // Keys are found by id through an eventually consistent index: a key made a moment ago may
    // not be found yet, so a refusal is asked once more before it is believed.
    if (!(e instanceof ApiError && e.status === 401)) throw e;
    await new Promise((resolve) => { setTimeout(resolve, 1000); });
    return send('GET', url, apiKey);
  }
}

async function send(method, url, apiKey, body) {
  const headers = { Authorization: `Bearer ${apiKey}`, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    throw new ApiError(0, 'trackses could not be reached — check the connection and try again');
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const detail = (data && typeof data.detail === 'string' && data.detail)
      || (data && typeof data.message === 'string' && data.message)
      || response.statusText || 'the request failed';
    throw new ApiError(response.status, detail);
  }
  return data;
}

export const get = (path, query) => call('GET', path, { query });
