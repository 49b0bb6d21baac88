// ui.js holds what every view of the page builds with: elements, numbers, durations, errors.

// h builds an element: h("button", {type: "button", onclick: f}, "Import"). An attribute whose
// name starts with "on" is a listener; true sets a boolean attribute, false/null/undefined
// leave it out. Children are nodes, strings or arrays of them; null and false are skipped.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// number formats a count with thousands separators: 1,234,567.
export function number(n) {
  return new Intl.NumberFormat("en-US").format(n || 0);
}

// duration formats seconds as "1 h 02 min", "3 min 05 s" or "42 s".
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${s} s`;
}

// errorBox shows an error the way every view does: its message and, below, each problem of its
// detail (what to fix), in an alert a screen reader announces. A detail that repeats the
// message ("invalid import options: tags: …") is shown without it.
export function errorBox(err) {
  const detail = err && err.detail;
  let items = [];
  if (Array.isArray(detail)) items = detail;
  else if (typeof detail === "string" && detail) items = [detail.startsWith(`${err.message}: `) ? detail.slice(err.message.length + 2) : detail];
  else if (detail && typeof detail === "object") items = Object.entries(detail).map(([k, v]) => `${k}: ${v}`);
  return h("div", { class: "error", role: "alert" },
    h("p", {}, (err && err.message) || String(err)),
    items.length ? h("ul", {}, items.map((i) => h("li", {}, i))) : null);
}

// loading is what a view shows while it waits: "Loading…", announced as a status.
export function loading(text = "Loading…") {
  return h("p", { class: "loading", role: "status" }, text);
}

// label turns an API code into words for a person: "invalid_email" → "Invalid email".
export function label(code) {
  const s = String(code || "").replaceAll("_", " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}
