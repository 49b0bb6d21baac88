// The page's entry point: the session, the header and the hash router (docs/page.md).
//
// Routes: #/sign-in, #/imports (the history, the default), #/imports/ID (an import's detail) and
// #/new (the new-import wizard; #/new?kind=K preselects a kind). A view module exports
// show(main, params): it renders into <main id="app"> and may return a function the router calls
// when the route changes (to stop polling).
import { api, onUnauthorized, setCsrfToken } from "./api.js";
import { errorBox, h, loading } from "./ui.js";
import * as history from "./history.js";

const main = document.getElementById("app");
const header = document.getElementById("top");

let session = null; // GET /v1/session's answer while signed in
let afterSignIn = "#/imports"; // where sign-in leads: the route that asked for it
let signInNote = ""; // why the sign-in form is shown (a session that ended, a sign-out)
let stop = null; // the current view's cleanup
let current = null; // the current route
let generation = 0; // counts renders, so that a view loaded late is not shown on another route

// parseRoute reads a hash such as "#/imports?kind=prospects" into a path and its parameters.
function parseRoute(hash) {
  const raw = hash.replace(/^#/, "") || "/imports";
  const q = raw.indexOf("?");
  const path = q < 0 ? raw : raw.slice(0, q);
  const params = Object.fromEntries(new URLSearchParams(q < 0 ? "" : raw.slice(q + 1)));
  return { path: path || "/imports", params };
}

// views names each route's title and how it is shown; match returns its parameters or null.
const views = [
  { match: (p) => p === "/imports", title: () => "Imports", show: (m, params) => history.show(m, params) },
  {
    match: (p) => /^\/imports\/\d+$/.test(p),
    id: (p) => p.slice("/imports/".length),
    title: (id) => `Import ${id}`,
    show: (m, params) => history.show(m, params),
  },
  { match: (p) => p === "/new", title: () => "New import", show: showWizard },
];

// showWizard loads the wizard's module when it is first needed.
async function showWizard(m, params) {
  let wizard;
  try {
    wizard = await import("./wizard.js");
  } catch {
    m.replaceChildren(h("h1", {}, "New import"),
      errorBox({ message: "The new-import wizard could not be loaded", detail: "reload the page; until then, import with the API or leadpipe import" }));
    return null;
  }
  return wizard.show(m, params);
}

async function render() {
  const gen = ++generation;
  if (typeof stop === "function") stop();
  stop = null;
  const previous = current;
  const route = parseRoute(location.hash);
  current = route;
  const focused = document.activeElement && document.activeElement.id;

  if (route.path === "/sign-in") {
    if (session) return go("#/imports");
    showHeader();
    document.title = "leadpipe";
    showSignIn();
    return;
  }
  if (!session) {
    afterSignIn = location.hash || "#/imports";
    return go("#/sign-in");
  }
  showHeader();
  const view = views.find((v) => v.match(route.path));
  if (!view) {
    document.title = "Not found · leadpipe";
    main.replaceChildren(
      h("h1", {}, "There is no such page"),
      h("p", {}, "The address names no page of leadpipe. ", h("a", { href: "#/imports" }, "See your imports"), "."),
    );
    focusHeading();
    return;
  }
  const params = { ...route.params };
  if (view.id) params.id = view.id(route.path);
  document.title = `${view.title(params.id)} · leadpipe`;
  main.replaceChildren(loading());
  try {
    const cleanup = await view.show(main, params);
    if (gen !== generation) {
      if (typeof cleanup === "function") cleanup();
      return;
    }
    stop = cleanup;
  } catch (err) {
    if (gen !== generation) return;
    main.replaceChildren(h("h1", {}, view.title(params.id)), errorBox(err));
  }
  // The same view with other parameters (a filter changed) keeps the focus on its control;
  // any other navigation moves it to the page's heading.
  const same = previous && previous.path === route.path && focused && document.getElementById(focused);
  if (same) document.getElementById(focused).focus();
  else focusHeading();
}

// focusHeading moves the focus to the view's main heading, so that a screen reader reads where
// the navigation led and the keyboard goes on from there.
function focusHeading() {
  const h1 = main.querySelector("h1");
  if (!h1) return;
  h1.tabIndex = -1;
  h1.focus();
}

function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

// showHeader shows the account and the navigation while signed in, and hides them otherwise.
function showHeader() {
  header.hidden = !session;
  if (!session) return;
  const path = current ? current.path : "";
  const link = (href, text, active) => h("a", { href, "aria-current": active ? "page" : null }, text);
  header.replaceChildren(
    h("a", { class: "brand", href: "#/imports" }, "leadpipe"),
    h("nav", { "aria-label": "Main" },
      link("#/imports", "Imports", path.startsWith("/imports")),
      link("#/new", "New import", path === "/new")),
    h("div", { class: "account" },
      h("span", { class: "account-name" }, h("span", { class: "visually-hidden" }, "Signed in as "), session.account),
      h("button", { type: "button", id: "sign-out", class: "button secondary small", onclick: signOut }, "Sign out")),
  );
}

function showSignIn() {
  const token = h("input", {
    id: "token", name: "token", type: "password", autocomplete: "off", spellcheck: "false", required: true,
    "aria-describedby": "token-help",
  });
  const button = h("button", { id: "sign-in", type: "submit", class: "button primary" }, "Sign in");
  const outcome = h("div", { class: "outcome" });
  const form = h("form", { class: "card sign-in", novalidate: true },
    h("div", { class: "field" },
      h("label", { for: "token" }, "API token"),
      token,
      h("p", { id: "token-help", class: "hint" },
        "Paste an API token of your account. An administrator makes one with ",
        h("code", {}, "leadpipe token create --account NAME"), "; ", h("code", {}, "make run"),
        " prints one for the demo account. The page keeps no copy of it: you stay signed in with a cookie.")),
    outcome,
    h("div", { class: "actions" }, button));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!token.value.trim()) {
      outcome.replaceChildren(errorBox({ message: "Paste your API token first", detail: "the field is empty" }));
      token.focus();
      return;
    }
    button.disabled = true;
    outcome.replaceChildren(loading("Signing in…"));
    try {
      const s = await api("POST", "/v1/session", { token: token.value.trim() });
      token.value = "";
      signedIn(s);
      signInNote = "";
      const next = afterSignIn;
      afterSignIn = "#/imports";
      go(next === "#/sign-in" ? "#/imports" : next);
    } catch (err) {
      button.disabled = false;
      outcome.replaceChildren(errorBox(err));
      token.select();
      token.focus();
    }
  });
  main.replaceChildren(
    h("div", { class: "narrow" },
      h("h1", {}, "Sign in to leadpipe"),
      h("p", { class: "lead" }, "Bring your CRM lists in: map the columns, check a preview, import, watch it run, " +
        "and undo an import that went wrong."),
      signInNote ? h("p", { class: "note", role: "status" }, signInNote) : null,
      form));
  focusHeading();
}

function signedIn(s) {
  session = s;
  setCsrfToken(s.csrf_token);
}

async function signOut(ev) {
  const button = ev.currentTarget;
  button.disabled = true;
  try {
    await api("DELETE", "/v1/session");
  } catch (err) {
    if (err.status !== 401) {
      button.disabled = false;
      main.prepend(errorBox(err));
      return;
    }
  }
  session = null;
  setCsrfToken("");
  signInNote = "You have signed out.";
  afterSignIn = "#/imports";
  go("#/sign-in");
}

// A 401 answer while signed in means the session ended (it expired, or its token was revoked).
onUnauthorized(() => {
  if (!session) return;
  session = null;
  setCsrfToken("");
  signInNote = "Your session has ended: sign in again to go on.";
  afterSignIn = location.hash || "#/imports";
  go("#/sign-in");
});

async function start() {
  try {
    signedIn(await api("GET", "/v1/session"));
  } catch (err) {
    if (err.status !== 401) {
      main.replaceChildren(
        h("h1", {}, "leadpipe cannot be reached"),
        errorBox(err),
        h("button", { type: "button", class: "button primary", onclick: () => location.reload() }, "Try again"));
      focusHeading();
      return;
    }
  }
  window.addEventListener("hashchange", render);
  render();
}

start();
