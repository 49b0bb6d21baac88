// history.js shows the imports of the account: the history (#/imports, every import of every
// kind, newest first, filtered by kind, status and date, paged) and an import's detail
// (#/imports/ID: live progress, counts by outcome, skip reason and warning, the files to
// download, the records it touched, cancel, and undo after a dry run).
import { api, query } from "./api.js";
import { duration, errorBox, h, label, loading, number } from "./ui.js";

// STATUSES are an import's statuses (GET /v1/imports?status=), in lifecycle order.
const STATUSES = ["queued", "running", "completed", "failed", "cancelled", "undone"];
const ACTIVE = ["queued", "running"];
const PAGE = 25; // imports, or records, a page
const POLL_MS = 1000; // how often a running import is read again

// show renders the history, or with params.id the import's detail; it returns the function that
// stops its polling.
export function show(main, params) {
  return params.id ? showDetail(main, params.id) : showHistory(main, params);
}

// ---- shared ----

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

function when(iso) {
  return iso ? h("time", { datetime: iso }, dateFormat.format(new Date(iso))) : "—";
}

function bytes(n) {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KB`;
  return `${n} bytes`;
}

function badge(state) {
  return h("span", { class: `badge status-${state}` }, state);
}

// isActive says an import has not ended: queued, running, or cancelled but still stopping.
function isActive(imp) {
  return ACTIVE.includes(imp.status) || (imp.status === "cancelled" && !imp.finished_at);
}

// followed says whether an import's view may still change: it, or its undo, has not ended.
function followed(imp) {
  return isActive(imp) || !!(imp.undo && isActive(imp.undo));
}

// title names an import: its file, or for an undo the import it takes back.
function title(imp) {
  if (imp.undo_of) return `Undo of import ${imp.undo_of}`;
  return imp.file_name || `Import ${imp.id}`;
}

// rowsText is how many rows an import has done: "1,200 of 20,000" until it has done them all.
function rowsText(p) {
  const done = p.rows_done || 0;
  const total = p.rows_total || 0;
  return done < total ? `${number(done)} of ${number(total)}` : number(Math.max(done, total));
}

// The members of an import's view that are not counters of its kind (the others, numbers at
// the top level, are: organizations_created, deleted, kept_changed_since, …).
const NOT_COUNTERS = new Set(["id", "file_size", "rows", "created", "updated", "unchanged", "skipped", "request_id",
  "undo_of", "undone_by", "undo_id", "import_id", "duration_ms", "row_results_omitted"]);

function counters(v) {
  return Object.entries(v).filter(([k, n]) => typeof n === "number" && !NOT_COUNTERS.has(k));
}

// countTable is a two-column table of counts; attr names the data attribute holding each key.
function countTable(id, caption, entries, attr) {
  return h("table", { id, class: "data counts" },
    h("caption", {}, caption),
    h("tbody", {}, entries.map(([key, n, text]) =>
      h("tr", { [attr]: key }, h("th", { scope: "row" }, text || label(key)), h("td", { class: "num" }, number(n))))));
}

// ---- the history ----

function showHistory(main, params) {
  let alive = true;
  let timer = 0;
  const f = {
    kind: params.kind || "",
    status: STATUSES.includes(params.status) ? params.status : "",
    from: params.from || "",
    to: params.to || "",
    undos: params.undos === "include" ? "include" : "",
  };

  const kindSelect = h("select", { id: "filter-kind", name: "kind" },
    h("option", { value: "" }, "All kinds"),
    f.kind ? h("option", { value: f.kind, selected: true }, f.kind) : null);
  const statusSelect = h("select", { id: "filter-status", name: "status" },
    h("option", { value: "" }, "Any status"),
    STATUSES.map((s) => h("option", { value: s, selected: s === f.status }, label(s))));
  const from = h("input", { id: "filter-from", name: "from", type: "date", value: f.from });
  const to = h("input", { id: "filter-to", name: "to", type: "date", value: f.to });
  const undos = h("input", { id: "filter-undos", name: "undos", type: "checkbox", checked: f.undos === "include" });
  const field = (id, text, control) => h("div", { class: "field" }, h("label", { for: id }, text), control);
  const filtered = f.kind || f.status || f.from || f.to || f.undos;
  const form = h("form", { class: "filters", role: "search", "aria-label": "Filter imports" },
    field("filter-kind", "Kind", kindSelect),
    field("filter-status", "Status", statusSelect),
    field("filter-from", "From", from),
    field("filter-to", "To", to),
    h("div", { class: "field check" }, undos, h("label", { for: "filter-undos" }, "Show undos")),
    filtered ? h("a", { class: "button secondary small", href: "#/imports" }, "Clear filters") : null);
  // Each change goes into the address, so that back and forward walk the filters.
  form.addEventListener("change", () => {
    location.hash = "#/imports" + query({
      kind: kindSelect.value, status: statusSelect.value, from: from.value, to: to.value,
      undos: undos.checked ? "include" : "",
    });
  });
  form.addEventListener("submit", (ev) => ev.preventDefault());

  const body = h("div", { class: "history-body" }, loading());
  main.replaceChildren(
    h("div", { class: "page-head" },
      h("h1", {}, "Imports"),
      h("a", { class: "button primary", href: "#/new" }, "New import")),
    form,
    body);

  loadKinds(kindSelect, f.kind);

  if (f.from && f.to && f.to < f.from) {
    body.replaceChildren(errorBox({ message: "The dates are the wrong way round",
      detail: "the “To” date is before the “From” date: pick a “To” date on or after it" }));
    return () => {};
  }

  // list reads a page of the history; the dates are whole days of the browser's time zone.
  const list = (cursor) => api("GET", "/v1/imports" + query({
    kind: f.kind, status: f.status, undos: f.undos, from: dayStart(f.from, 0), to: dayStart(f.to, 1),
    cursor, limit: PAGE,
  }));

  const tbody = h("tbody", {});
  const rows = new Map(); // import id → its row
  const more = h("div", { class: "actions" });

  // The rows of imports still running or being undone (followed) are read again (GET
  // /v1/imports/ID), whichever page listed them, until none listed is; one refresh at a time,
  // pending or under way.
  const live = new Set(); // the ids of the listed imports that are followed
  let watching = false;
  const watch = () => {
    if (watching || !alive || live.size === 0) return;
    watching = true;
    timer = setTimeout(refresh, 2 * POLL_MS);
  };
  const refresh = async () => {
    // A failed read is tried again at the next refresh; a lost session is handled by
    // api.js's 401 hook.
    const reads = await Promise.allSettled([...live].map((id) => api("GET", `/v1/imports/${id}`)));
    if (!alive) return;
    for (const read of reads) {
      if (read.status !== "fulfilled") continue;
      const imp = read.value;
      const tr = rows.get(imp.id);
      // The cells change; the file's link stays (it may hold the focus).
      const fresh = historyRow(imp);
      tr.dataset.status = imp.status;
      if (!followed(imp)) live.delete(imp.id);
      tr.replaceChildren(tr.firstElementChild, ...[...fresh.children].slice(1));
    }
    watching = false;
    watch();
  };

  const addPage = (page) => {
    for (const imp of page.imports) {
      const tr = historyRow(imp);
      rows.set(imp.id, tr);
      if (followed(imp)) live.add(imp.id);
      tbody.append(tr);
    }
    watch();
    more.replaceChildren();
    if (!page.next_cursor) return;
    const button = h("button", { type: "button", class: "button secondary" }, "Older imports");
    button.addEventListener("click", async () => {
      button.disabled = true;
      const status = loading("Loading older imports…");
      more.append(status);
      try {
        const next = await list(page.next_cursor);
        if (!alive) return;
        addPage(next);
        const first = next.imports[0];
        const link = first && rows.get(first.id).querySelector("a");
        if (link) link.focus();
      } catch (err) {
        if (!alive) return;
        status.replaceWith(errorBox(err));
        button.disabled = false;
      }
    });
    more.append(button);
  };

  (async () => {
    try {
      const page = await list("");
      if (!alive) return;
      if (page.imports.length === 0) {
        body.replaceChildren(h("p", { class: "empty" }, filtered
          ? "No import matches these filters."
          : ["No imports yet. ", h("a", { href: "#/new" }, "Start a new import"), " to bring a list in."]));
        return;
      }
      body.replaceChildren(
        h("div", { class: "table-wrap" },
          h("table", { id: "history", class: "data history" },
            h("caption", { class: "visually-hidden" }, "Imports, newest first"),
            h("thead", {}, h("tr", {},
              ["File", "Kind", "Status", "Rows", "Created", "Updated", "Skipped", "When"].map((c, i) =>
                h("th", { scope: "col", class: i >= 3 && i <= 6 ? "num" : null }, c)))),
            tbody)),
        more);
      addPage(page);
    } catch (err) {
      if (alive) body.replaceChildren(errorBox(err));
    }
  })();

  return () => {
    alive = false;
    clearTimeout(timer);
  };
}

// historyRow is an import's row in the history table; on a phone each cell shows its
// column's name (data-label).
function historyRow(imp) {
  const cell = (name, content, cls) => h("td", { "data-label": name, class: cls }, content);
  return h("tr", { "data-id": imp.id, "data-status": imp.status },
    h("th", { scope: "row", "data-label": "File" }, h("a", { href: `#/imports/${imp.id}` }, title(imp))),
    cell("Kind", label(imp.kind)),
    cell("Status", badge(imp.state || imp.status)),
    cell("Rows", rowsText(imp.progress || {}), "num"),
    cell("Created", number(imp.created), "num"),
    cell("Updated", number(imp.updated), "num"),
    cell("Skipped", number(imp.skipped), "num"),
    cell("When", when(imp.created_at)));
}

// dayStart is the start of the day a date input holds (YYYY-MM-DD) plus days, in the browser's
// time zone, as RFC 3339; "" for no date.
function dayStart(date, days) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return "";
  const [y, m, d] = date.split("-").map(Number);
  return new Date(y, m - 1, d + days).toISOString();
}

// loadKinds fills the kind filter with the kinds the account imports (GET /v1/kinds).
async function loadKinds(select, chosen) {
  try {
    const { kinds } = await api("GET", "/v1/kinds");
    select.replaceChildren(h("option", { value: "" }, "All kinds"),
      ...kinds.map((k) => h("option", { value: k.name, selected: k.name === chosen }, label(k.name))));
  } catch {
    // the filter keeps "All kinds" and the kind in the address; the list says what went wrong
  }
}

// ---- an import's detail ----

function showDetail(main, id) {
  let alive = true;
  let timer = 0;
  const heading = h("h1", {}, `Import ${id}`);
  const body = h("div", { class: "detail" }, loading());
  main.replaceChildren(h("p", { class: "crumbs" }, h("a", { href: "#/imports" }, "← All imports")), heading, body);

  let parts = null; // the detail's sections, built at the first answer and updated after
  let polls = 0; // counts the reads: only the latest one's answer is shown and schedules the next
  const poll = async () => {
    const read = ++polls;
    clearTimeout(timer);
    try {
      const imp = await api("GET", `/v1/imports/${id}`);
      if (!alive || read !== polls) return;
      if (!parts) {
        parts = detailParts(imp, { reload: poll, alive: () => alive });
        body.replaceChildren(...parts.nodes);
      }
      heading.textContent = title(imp);
      parts.update(imp);
      if (followed(imp)) timer = setTimeout(poll, POLL_MS);
    } catch (err) {
      if (!alive || read !== polls) return;
      if (err.status === 404) {
        heading.textContent = "Import not found";
        body.replaceChildren(errorBox({ message: `Import ${id}: not found`,
          detail: "your account has no import with this number; the history lists the ones it has" }));
      } else if (parts) {
        timer = setTimeout(poll, 5 * POLL_MS); // keep the page, try again a little later
      } else {
        body.replaceChildren(errorBox(err));
      }
    }
  };
  poll();
  return () => {
    alive = false;
    clearTimeout(timer);
  };
}

// detailParts builds the sections of an import's detail; update shows a newer reading of it.
function detailParts(first, ctl) {
  const id = first.id;
  const meta = h("p", { class: "meta" });
  const statusLine = h("p", { class: "status-line", role: "status" });
  const progress = h("progress", { id: "progress", "aria-labelledby": "progress-label" });
  const progressText = h("p", { class: "progress-text", id: "progress-text" });
  const failure = h("div", {});
  const cancel = h("button", { type: "button", id: "cancel", class: "button secondary" }, first.undo_of ? "Cancel the undo" : "Cancel import");
  const cancelOutcome = h("div", {});
  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    cancelOutcome.replaceChildren(loading("Cancelling…"));
    try {
      await api("POST", `/v1/imports/${id}/cancel`);
      cancelOutcome.replaceChildren();
      statusLine.tabIndex = -1;
      statusLine.focus(); // the button goes; the focus goes to what the import is now
    } catch (err) {
      cancelOutcome.replaceChildren(errorBox(err));
    }
    cancel.disabled = false;
    ctl.reload();
  });

  const counts = h("div", { class: "count-tables" });
  const undo = undoPart(id, ctl);
  const records = recordsPart(id, first.kind);
  let recordsShown = "";

  const nodes = [
    meta,
    h("section", { class: "card", "aria-labelledby": "h-status" },
      h("h2", { id: "h-status" }, "Status"),
      statusLine,
      h("div", { class: "progress-block" },
        h("span", { id: "progress-label", class: "visually-hidden" }, "Rows done"),
        progress,
        progressText),
      failure,
      h("div", { class: "actions" }, cancel),
      cancelOutcome),
    h("section", { class: "card", "aria-labelledby": "h-counts" }, h("h2", { id: "h-counts" }, "Outcome"), counts),
  ];
  if (!first.undo_of) {
    nodes.push(h("section", { class: "card", "aria-labelledby": "h-files" },
      h("h2", { id: "h-files" }, "Files"), filesPart(first)));
    nodes.push(undo.node);
  }
  nodes.push(records.node);

  let lastStatus = "";
  const update = (imp) => {
    const state = imp.state || imp.status;
    meta.replaceChildren(h("span", {},
      imp.undo_of
        ? ["The undo of ", h("a", { href: `#/imports/${imp.undo_of}` }, `import ${imp.undo_of}`), " · "]
        : `Import ${imp.id} · `,
      label(imp.kind), " · created ", when(imp.created_at),
      imp.finished_at ? [" · ended ", when(imp.finished_at)] : null));
    const said = `${state} ${statusWords(imp)}`; // told again only when it changes
    if (said !== lastStatus) {
      statusLine.replaceChildren(badge(state), " ", statusWords(imp));
      lastStatus = said;
    }
    const p = imp.progress || {};
    if (p.rows_total > 0) {
      progress.max = p.rows_total;
      progress.value = Math.min(p.rows_done || 0, p.rows_total);
    } else if (!isActive(imp)) {
      progress.max = 1;
      progress.value = 1; // an empty file is done
    } else {
      progress.removeAttribute("value"); // not counted yet: the bar moves without a value
    }
    progressText.textContent = progressWords(imp);
    failure.replaceChildren(imp.error ? errorBox({ message: "The import stopped with an error", detail: imp.error }) : "");
    cancel.hidden = !ACTIVE.includes(imp.status);
    counts.replaceChildren(...countTables(imp));
    if (!imp.undo_of) undo.update(imp);
    // The records are read at first, and again each time the import ends or is undone.
    const shown = isActive(imp) ? "active" : imp.status;
    if (shown !== recordsShown) {
      recordsShown = shown;
      records.load();
    }
  };
  return { nodes, update };
}

function statusWords(imp) {
  switch (imp.state || imp.status) {
    case "queued": return "waiting for a worker";
    case "running": return "importing";
    case "interrupted": return "its worker stopped; it resumes when a daemon picks it up";
    case "completed": return "every row was read";
    case "failed": return "it stopped before the end";
    case "cancelled": return imp.finished_at ? "stopped on request; the rows before stay imported" : "stopping…";
    case "undone": return "taken back by an undo";
    default: return "";
  }
}

// progressWords is "N of M rows · X rows/s · T left" while running, what it took once ended.
function progressWords(imp) {
  const p = imp.progress || {};
  const parts = [`${number(p.rows_done)} of ${number(p.rows_total)} rows`];
  if (isActive(imp)) {
    if (p.rows_per_second > 0) parts.push(`${number(Math.round(p.rows_per_second))} rows/s`);
    if (p.seconds_left !== undefined && p.seconds_left !== null) parts.push(`${duration(p.seconds_left)} left`);
  } else if (imp.started_at && imp.finished_at) {
    parts.push(`took ${duration((new Date(imp.finished_at) - new Date(imp.started_at)) / 1000)}`);
  }
  return parts.join(" · ");
}

// countTables shows an import's counts: by outcome, skip reason, warning and its kind's counters.
function countTables(imp) {
  const out = [];
  const outcomes = imp.undo_of
    ? [["rows", imp.rows, "Rows taken back"], ["unchanged", imp.unchanged]]
    : [["rows", imp.rows, "Rows read"], ["created", imp.created], ["updated", imp.updated],
      ["unchanged", imp.unchanged], ["skipped", imp.skipped]];
  out.push(countTable("counts", "By outcome", outcomes, "data-count"));
  const reasons = Object.entries(imp.skipped_by_reason || {});
  if (reasons.length) out.push(countTable("skip-reasons", "Skipped, by reason", reasons, "data-reason"));
  const warnings = Object.entries(imp.warnings_by_kind || {});
  if (warnings.length) out.push(countTable("warnings", "Warnings", warnings, "data-warning"));
  const extra = counters(imp);
  if (extra.length) out.push(countTable("counters", imp.undo_of ? "What it took back" : "Also counted", extra, "data-counter"));
  return out;
}

// filesPart offers the original file and the skipped rows for download (the session's cookie
// goes with a plain link).
function filesPart(imp) {
  const original = imp.file_pruned_at
    ? h("li", {}, "The original file was removed on ", when(imp.file_pruned_at), " (the files_retention setting).")
    : h("li", {}, h("a", { href: `/v1/imports/${imp.id}/file`, download: imp.file_name || "" },
      "Download the original file"), ` (${imp.file_name}, ${bytes(imp.file_size || 0)})`);
  return h("ul", { class: "downloads" }, original,
    h("li", {}, h("a", { id: "download-skipped", href: `/v1/imports/${imp.id}/skipped.csv`, download: `import-${imp.id}-skipped.csv` },
      "Download the skipped rows (CSV)"), " — each with the reason it was skipped"));
}

// undoPart is the undo section: the offer, the dry run's report, the confirmation, and the
// undo's progress until the import reads undone.
function undoPart(id, ctl) {
  const content = h("div", {});
  const node = h("section", { class: "card", "aria-labelledby": "h-undo" }, h("h2", { id: "h-undo" }, "Undo"), content);
  let mode = "";
  let undoProgress = null;
  let undoText = null;

  const offer = () => {
    const button = h("button", { type: "button", id: "undo", class: "button secondary" }, "Undo this import…");
    const outcome = h("div", {});
    button.addEventListener("click", async () => {
      button.disabled = true;
      outcome.replaceChildren(loading("Checking what the undo would do… nothing changes yet"));
      try {
        const report = await api("POST", `/v1/imports/${id}/undo?dry_run=true`);
        if (!ctl.alive()) return;
        outcome.replaceChildren(undoReport(report, async (confirm, status) => {
          confirm.disabled = true;
          status.replaceChildren(loading("Starting the undo…"));
          try {
            await api("POST", `/v1/imports/${id}/undo`);
            mode = "";
            ctl.reload();
          } catch (err) {
            confirm.disabled = false;
            status.replaceChildren(errorBox(err));
          }
        }, () => {
          outcome.replaceChildren();
          button.disabled = false;
          button.focus();
        }));
        const h3 = outcome.querySelector("h3");
        h3.tabIndex = -1;
        h3.focus();
      } catch (err) {
        button.disabled = false;
        outcome.replaceChildren(errorBox(err));
      }
    });
    content.replaceChildren(
      h("p", {}, "An undo deletes the records this import created and puts back the values it changed, " +
        "except what someone changed since. You see what it would do first; nothing changes until you confirm."),
      h("div", { class: "actions" }, button),
      outcome);
  };

  const update = (imp) => {
    const u = imp.undo;
    let next;
    if (imp.status === "undone") next = "undone";
    else if (u && isActive(u)) next = "running";
    else if (isActive(imp)) next = "wait";
    else next = "offer";
    if (next !== mode) {
      mode = next;
      undoProgress = null;
      if (mode === "wait") {
        content.replaceChildren(h("p", {}, "The import can be undone once it has ended (cancel it to end it now)."));
      } else if (mode === "offer") {
        offer();
        if (u && u.status !== "completed") {
          content.prepend(h("p", { class: "note" }, `The last undo of this import (`,
            h("a", { href: `#/imports/${u.id}` }, `undo ${u.id}`), `) ${u.status === "failed" ? "failed" : "was cancelled"}` +
            `${u.error ? ": " + u.error : ""}; what it took back stays taken back, and you can undo the import again.`));
        }
      } else if (mode === "running") {
        undoProgress = h("progress", { id: "undo-progress", "aria-label": "Rows taken back" });
        undoText = h("p", { class: "progress-text" });
        content.replaceChildren(
          h("p", { role: "status" }, badge(u.status), " The import is being undone by ",
            h("a", { href: `#/imports/${u.id}` }, `undo ${u.id}`), "."),
          undoProgress, undoText);
      } else {
        content.replaceChildren(
          h("p", { role: "status" }, "This import was undone by ", h("a", { href: `#/imports/${imp.undone_by}` }, `undo ${imp.undone_by}`),
            imp.undone_at ? [" on ", when(imp.undone_at)] : null, "."),
          u ? countTable("undo-counts", "What the undo did", [["rows", u.rows, "Rows taken back"], ...undoCounts(u)], "data-count") : "");
      }
    }
    if (mode === "running" && undoProgress) {
      const p = u.progress || {};
      if (p.rows_total > 0) {
        undoProgress.max = p.rows_total;
        undoProgress.value = Math.min(p.rows_done || 0, p.rows_total);
      }
      undoText.textContent = progressWords(u);
    }
  };
  return { node, update };
}

// undoCounts are an undo's counts (a dry run's or an undo's view), the main ones first, then
// its kind's (organizations_deleted).
function undoCounts(r) {
  const main = [["deleted", r.deleted || 0, "Records deleted"], ["restored", r.restored || 0, "Records restored"],
    ["kept_changed_since", r.kept_changed_since || 0, "Records kept (changed since)"],
    ["fields_kept", r.fields_kept || 0, "Fields kept (changed since)"], ["unchanged", r.unchanged || 0, "Rows with nothing to take back"]];
  const shown = new Set(main.map(([k]) => k));
  return [...main, ...counters(r).filter(([k]) => !shown.has(k))];
}

// undoReport shows a dry run of an undo (importer.UndoSummary): its counts and the rows it
// would keep, and why; confirm(button, status) starts the undo, keep closes the report.
function undoReport(r, confirm, keep) {
  const kept = (r.row_results || []).filter((row) => row.outcome === "kept_changed_since" || (row.fields_kept || []).length);
  const status = h("div", {});
  const confirmButton = h("button", { type: "button", id: "undo-confirm", class: "button danger" }, "Undo the import");
  confirmButton.addEventListener("click", () => confirm(confirmButton, status));
  return h("div", { id: "undo-report", class: "report" },
    h("h3", {}, "What the undo would do"),
    countTable("undo-dry-run", `A dry run over ${number(r.rows)} rows (nothing was changed)`, undoCounts(r), "data-count"),
    kept.length
      ? h("div", { class: "table-wrap" }, h("table", { class: "data", id: "undo-kept" },
        h("caption", {}, "What it would keep, and why"),
        h("thead", {}, h("tr", {}, ["Row", "Record", "Kept", "Why"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, kept.map((row) => h("tr", {},
          h("td", { "data-label": "Row", class: "num" }, number(row.row_number)),
          h("td", { "data-label": "Record", class: "num" }, row.entity_id ? String(row.entity_id) : "—"),
          h("td", { "data-label": "Kept" }, row.outcome === "kept_changed_since" ? "the whole record"
            : (row.fields_kept || []).join(", ")),
          h("td", { "data-label": "Why" }, row.detail || label(row.reason || "changed since")))))))
      : h("p", {}, "Nothing changed since the import: the undo takes everything back."),
    r.row_results_omitted ? h("p", { class: "hint" }, `The report looks at the last ${number((r.row_results || []).length)} rows; ` +
      `${number(r.row_results_omitted)} earlier rows are counted above but not listed.`) : null,
    h("div", { class: "actions" }, confirmButton,
      h("button", { type: "button", class: "button secondary", onclick: keep }, "Keep the import")),
    status);
}

// recordsPart lists the records the import created or touched, with their values now, paged.
function recordsPart(id, kind) {
  const content = h("div", {});
  const node = h("section", { class: "card", "aria-labelledby": "h-records" },
    h("h2", { id: "h-records" }, "Records it touched"), content);
  let fields = null; // key → label, in the kind's order
  let reads = 0; // counts the reads, so that only the latest one is shown

  const load = async () => {
    const read = ++reads;
    content.replaceChildren(loading("Loading the records…"));
    try {
      if (!fields) fields = await fieldLabels(kind);
      const page = await api("GET", `/v1/imports/${id}/records` + query({ limit: PAGE }));
      if (read !== reads) return;
      if (page.records.length === 0) {
        content.replaceChildren(h("p", { class: "empty" }, "No record so far."));
        return;
      }
      const keys = recordKeys(page.records, fields);
      const tbody = h("tbody", {});
      const more = h("div", { class: "actions" });
      const add = (p) => {
        tbody.append(...p.records.map((r) => recordRow(r, keys, fields)));
        more.replaceChildren();
        if (!p.next_cursor) return;
        const button = h("button", { type: "button", class: "button secondary" }, "More records");
        button.addEventListener("click", async () => {
          button.disabled = true;
          try {
            const next = await api("GET", `/v1/imports/${id}/records` + query({ limit: PAGE, cursor: p.next_cursor }));
            const firstNew = tbody.children.length;
            add(next);
            const row = tbody.children[firstNew];
            if (row) {
              row.tabIndex = -1;
              row.focus();
            }
          } catch (err) {
            button.disabled = false;
            more.append(errorBox(err));
          }
        });
        more.append(button);
      };
      content.replaceChildren(
        h("div", { class: "table-wrap" }, h("table", { id: "records", class: "data records" },
          h("caption", { class: "visually-hidden" }, "Records the import created or touched, with their values now"),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Record"), h("th", { scope: "col" }, "By the import"),
            keys.length ? keys.map((k) => h("th", { scope: "col" }, fields.get(k) || label(k))) : h("th", { scope: "col" }, "Values"))),
          tbody)),
        more);
      add(page);
    } catch (err) {
      if (read === reads) content.replaceChildren(errorBox(err));
    }
  };
  return { node, load };
}

// fieldLabels is the kind's fields by key, in its catalog's order (GET /v1/kinds); an empty map
// when the catalog cannot be read (the keys are shown instead).
async function fieldLabels(kind) {
  try {
    const { kinds } = await api("GET", "/v1/kinds");
    const k = kinds.find((x) => x.name === kind);
    return new Map((k ? k.fields : []).map((f) => [f.key, f.label]));
  } catch {
    return new Map();
  }
}

// recordKeys are the fields with a value in some record of the page, in the catalog's order.
function recordKeys(records, fields) {
  const present = new Set();
  for (const r of records) for (const [k, v] of Object.entries(r.values || {})) if (v !== "") present.add(k);
  const ordered = [...fields.keys()].filter((k) => present.has(k));
  const rest = [...present].filter((k) => !fields.has(k)).sort();
  return [...ordered, ...rest];
}

function recordRow(r, keys, fields) {
  const what = r.created ? "created" : "updated or matched";
  if (!r.values) {
    return h("tr", {}, h("th", { scope: "row", "data-label": "Record" }, String(r.id)),
      h("td", { "data-label": "By the import" }, what),
      h("td", { colspan: Math.max(keys.length, 1), class: "muted" }, "deleted since"));
  }
  return h("tr", {}, h("th", { scope: "row", "data-label": "Record" }, String(r.id)),
    h("td", { "data-label": "By the import" }, what),
    keys.map((k) => h("td", { "data-label": fields.get(k) || label(k) }, r.values[k] || "")));
}
