// Every call the dashboard makes goes through here: Quiver's public REST API, with the API key the
// user typed (kept in sessionStorage, so it is gone when the tab closes).

const KEY_STORAGE = 'quiver.dashboard.apiKey';
// the API is served by the node that serves the page, whatever path prefix a proxy adds
const BASE = location.pathname.replace(/\/dashboard(\/.*)?$/, '');
const unauthorizedListeners = [];

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE) || '';
}

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

/** Called with the server's message whenever a call answers 401. */
export function onUnauthorized(listener) {
  unauthorizedListeners.push(listener);
}

async function send(method, path, body, { absolute = false, timeoutMs = 30000 } = {}) {
  const headers = {};
  const key = apiKey();
  if (key) headers['api-key'] = key;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let response;
  try {
    response = await fetch(absolute ? path : BASE + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: controller.signal,
    });
  } catch (e) {
    throw new ApiError(0, e.name === 'AbortError' ? 'No answer in time' : `Network error: ${e.message}`);
  } finally {
    clearTimeout(timer);
  }
  const text = await response.text();
  if (response.status === 401) {
    unauthorizedListeners.forEach((l) => l(text));
    throw new ApiError(401, text || 'An API key is required');
  }
  return { response, text };
}

/** A JSON call; resolves to the envelope's `result`, rejects with an ApiError carrying Qdrant's message. */
export async function api(method, path, body, options) {
  const { response, text } = await send(method, path, body, options);
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported below with the text itself
  }
  if (!response.ok) {
    const message = json && json.status && json.status.error ? json.status.error : text || response.statusText;
    throw new ApiError(response.status, message);
  }
  return json && Object.prototype.hasOwnProperty.call(json, 'result') ? json.result : json;
}

/** A plain-text endpoint (/metrics, /readyz): the status and the text, whatever the status. */
export async function apiText(path) {
  const { response, text } = await send('GET', path);
  return { status: response.status, text };
}

/**
 * `fn` over `items` with at most `limit` calls at a time; resolves, in the order of `items`, to
 * answers shaped as Promise.allSettled's, so that one failed item leaves the others shown.
 */
export async function settleBounded(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = { status: 'fulfilled', value: await fn(items[i]) };
      } catch (e) {
        out[i] = { status: 'rejected', reason: e };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
