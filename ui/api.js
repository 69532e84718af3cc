// The gateway's REST API as the page calls it: the token the person typed (kept in
// this tab's sessionStorage only) goes in the Authorization header of every call,
// never in a URL, where it would end up in logs and the browser's history.

const TOKEN_KEY = 'slipway.token';

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** The headers every call carries. */
export function authHeaders() {
  const value = token.get();
  return value ? { authorization: `Bearer ${value}` } : {};
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
    this.field = body?.error?.field;
  }
}

/** Dispatched on window when the server refuses the token (or wants one): the page asks again. */
export const UNAUTHORIZED_EVENT = 'slipway:unauthorized';

export async function api(method, path, body) {
  const headers = { accept: 'application/json', ...authHeaders() };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  const text = await res.text();
  let parsed;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (res.status === 401) window.dispatchEvent(new CustomEvent(UNAUTHORIZED_EVENT, { detail: parsed?.error?.message }));
  if (!res.ok) throw new ApiError(res.status, parsed);
  return parsed;
}

/** `?a=1&b=2` from the defined entries of `params`. */
export function query(params) {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return entries.length ? `?${new URLSearchParams(entries)}` : '';
}
