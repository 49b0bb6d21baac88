// api.js is the page's one way to the /v1 API (api/openapi.yaml). The session is an HttpOnly
// cookie the page never sees; a state-changing request also carries the session's CSRF token
// (X-CSRF-Token), which the page keeps in memory only, from POST or GET /v1/session.

// ApiError is an error answer of the API: its HTTP status, message and detail (a string, a
// list of problems or an object), as api/openapi.yaml's Error describes it.
export class ApiError extends Error {
  constructor(status, message, detail) {
    super(message);
    this.status = status;
    this.detail = detail;
  }
}

let csrfToken = "";
let unauthorized = () => {};

// setCsrfToken keeps the session's CSRF token for the state-changing requests that follow.
export function setCsrfToken(token) {
  csrfToken = token || "";
}

// onUnauthorized sets what the page does when an answer says there is no live session (401):
// app.js asks to sign in again. It is called before the request's ApiError is thrown.
export function onUnauthorized(fn) {
  unauthorized = fn;
}

// request sends a request to the API and answers the Response, or throws an ApiError for an
// error answer. body is a FormData (an upload), a plain object (sent as JSON) or undefined.
export async function request(method, path, body) {
  const headers = {};
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrfToken;
  let payload = body;
  if (body !== undefined && !(body instanceof FormData)) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  } catch (e) {
    throw new ApiError(0, "leadpipe does not answer: check that the daemon is running", String(e));
  }
  if (!resp.ok) {
    let message = `${resp.status} ${resp.statusText}`;
    let detail;
    try {
      const e = await resp.json();
      message = e.error || message;
      detail = e.detail;
    } catch {
      // not a JSON error: keep the status line
    }
    const err = new ApiError(resp.status, message, detail);
    if (resp.status === 401) unauthorized(err);
    throw err;
  }
  return resp;
}

// api sends a request and answers its JSON body (null for 204 No Content).
export async function api(method, path, body) {
  const resp = await request(method, path, body);
  if (resp.status === 204) return null;
  return resp.json();
}

// query builds a query string from the members of params that are set.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? "?" + s : "";
}
