// wizard.js is the new-import wizard (#/new, #/new?kind=K): kind → file → map fields → preview
// → options → import, with a full-file dry run, saved mappings and the kind's template files.
// It talks to the /v1 API only (api/openapi.yaml). The chosen file stays in memory (a File)
// and is posted again to POST /v1/previews whenever what the wizard shows depends on a choice.

import { api, request, query } from "./api.js";
import { h, number, errorBox, loading, label } from "./ui.js";

const STEPS = ["Kind", "File", "Map fields", "Preview", "Options", "Import"];
const KIND = 0, FILE = 1, MAP = 2, PREVIEW = 3, OPTIONS = 4, IMPORT = 5;

// The import options the options step offers, when GET /v1/kinds lists them for the kind.
const DEFAULT_OPTIONS = {
  unique_identifier: "", match_by_name: false, list: "", tags: "", owner: "", campaign: "",
  lead_source: "", field_policies: {}, create_new: true, update_existing: true, split_full_name: false,
};

const POLICIES = [
  ["overwrite", "Overwrite (default)"],
  ["update_if_empty", "Update only if empty"],
  ["ignore", "Don't import this field"],
  ["merge", "Merge with the existing values"], // multi-picklists only (SPEC §5)
];

// The dry run lists at most this many skipped rows; the count says how many there are.
const MAX_DRY_RUN_ROWS = 500;

// show renders the wizard into main; params may name the kind to preselect. It answers the
// function the router calls when the route changes.
export function show(main, params) {
  const w = {
    main, alive: true, step: KIND, busy: false,
    kinds: [], kind: param(params, "kind"), users: null, saved: null,
    file: null, sheet: "", sheets: [], preview: null, previewKey: "",
    mapping: {}, savedColumns: new Set(), savedName: "", readWith: "", suggestion: null, savedTouched: false,
    opts: freshOptions(), dry: null, dryRun: 0, stopDryRun: null,
  };
  main.replaceChildren(h("div", { class: "wizard" }, h("h1", {}, "New import"), loading()));
  api("GET", "/v1/kinds").then((res) => {
    if (!w.alive) return;
    w.kinds = res.kinds || [];
    const wanted = w.kind;
    w.kind = "";
    if (w.kinds.some((k) => k.name === wanted)) w.kind = wanted;
    else if (w.kinds.length) w.kind = w.kinds[0].name;
    render(w);
    if (wanted && w.kind !== wanted) {
      status(w, errorBox({ message: `There is no kind “${wanted}” in this account`, detail: `choose one of: ${w.kinds.map((k) => k.name).join(", ")}` }));
    }
  }, (err) => {
    if (w.alive) main.replaceChildren(h("div", { class: "wizard" }, h("h1", {}, "New import"), errorBox(err)));
  });
  return () => {
    w.alive = false;
    endDryRun(w);
  };
}

// param reads a route parameter from a URLSearchParams or a plain object.
function param(params, name) {
  if (!params) return "";
  if (typeof params.get === "function") return params.get(name) || "";
  return params[name] || "";
}

function freshOptions() {
  return { ...DEFAULT_OPTIONS, field_policies: {} };
}

function kindOf(w) {
  return w.kinds.find((k) => k.name === w.kind) || { name: w.kind, fields: [], options: [] };
}

function offers(w, option) {
  return (kindOf(w).options || []).includes(option);
}

function fieldLabel(w, key) {
  const f = kindOf(w).fields.find((x) => x.key === key);
  return f ? f.label : key;
}

function kindTitle(name) {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

// columns are the file's columns as the latest preview mapped them.
function columns(w) {
  return (w.preview && w.preview.mapping) || [];
}

// fieldOf is the field a column goes to: the user's (or a saved mapping's) choice, else the
// preview's auto-mapping; "" when it is not imported.
function fieldOf(w, col) {
  return Object.hasOwn(w.mapping, col.header) ? w.mapping[col.header] : (col.field || "");
}

// ---- rendering ----

// render draws the current step; focusHeading moves the focus to its heading (on every step
// change, so a screen reader and the keyboard start there).
function render(w, focusHeading = true) {
  if (!w.alive) return;
  const title = `Step ${w.step + 1} of ${STEPS.length}: ${STEPS[w.step]}`;
  const heading = h("h2", { id: "wizard-step", tabindex: "-1" }, title);
  const body = [renderKind, renderFile, renderMap, renderPreview, renderOptions, renderImport][w.step](w);
  w.statusEl = h("div", { class: "wizard-status" });
  w.nav = renderNav(w);
  w.main.replaceChildren(h("div", { class: "wizard" },
    h("h1", {}, "New import"),
    h("nav", { "aria-label": "Steps of the new import" },
      h("ol", { class: "wizard-steps" }, STEPS.map((s, i) => h("li", {
        class: i < w.step ? "done" : i === w.step ? "current" : null,
        "aria-current": i === w.step ? "step" : null,
      }, s)))),
    h("section", { class: "card", "aria-labelledby": "wizard-step" }, heading, body, w.statusEl, w.nav)));
  if (focusHeading) heading.focus();
}

function renderNav(w) {
  const back = w.step > KIND ? h("button", { type: "button", id: "back", class: "button secondary", onclick: () => go(w, w.step - 1) }, "Back") : null;
  const forward = w.step < IMPORT
    ? h("button", { type: "button", id: "next", class: "button primary", onclick: () => next(w) }, "Next")
    : h("button", { type: "button", id: "start-import", class: "button primary", onclick: () => startImport(w) }, "Start import");
  return h("div", { class: "actions wizard-nav" }, back, forward);
}

// status shows one node (a loading line, an error, a message) under the step, or nothing.
function status(w, node) {
  if (!w.statusEl) return;
  w.statusEl.replaceChildren(...(node ? [node] : []));
  if (node) w.statusEl.scrollIntoView({ block: "nearest" }); // an error under a long step is seen
}

// busy runs work with "Loading…" shown and the step's buttons disabled; an error is shown
// with errorBox and answered as false.
async function busy(w, work, text) {
  if (w.busy) return false;
  w.busy = true;
  setDisabled(w, true);
  status(w, loading(text));
  try {
    await work();
    status(w, null);
    return true;
  } catch (err) {
    if (w.alive) status(w, errorBox(err));
    return false;
  } finally {
    w.busy = false;
    setDisabled(w, false);
  }
}

function setDisabled(w, disabled) {
  for (const b of w.main.querySelectorAll(".wizard-nav button, .wizard-actions button")) b.disabled = disabled;
}

function go(w, step) {
  if (w.busy) return;
  w.step = step;
  endDryRun(w); // a dry run is of the options it ran with
  render(w);
}

// endDryRun stops reading a dry run that is running and forgets the last one's report.
function endDryRun(w) {
  w.dryRun++;
  if (w.stopDryRun) w.stopDryRun();
  w.dry = null;
}

// next checks the step and loads what the next one shows.
async function next(w) {
  switch (w.step) {
    case KIND:
      if (!w.kind) return status(w, errorBox({ message: "Choose the kind of records the file holds" }));
      return go(w, FILE);
    case FILE:
      if (!w.file) return status(w, errorBox({ message: "Choose a file to import", detail: "a CSV, XLS, XLSX or ODS file" }));
      if (await busy(w, async () => {
        if (!w.preview || w.previewKey !== previewKey(w)) await loadPreview(w);
        await loadSaved(w);
      })) go(w, MAP);
      return undefined;
    case MAP: {
      const twice = sharedFields(w);
      if (twice.length) {
        return status(w, errorBox({ message: "A field can take one column only", detail: twice.map(([key, cols]) => cols.length === 2
          ? `“${cols[0]}” and “${cols[1]}” both go to ${fieldLabel(w, key)}: choose another field or “Don't import” for one of them`
          : `${cols.slice(0, -1).map((c) => `“${c}”`).join(", ")} and “${cols.at(-1)}” all go to ${fieldLabel(w, key)}: choose another field or “Don't import” for all but one of them`) }));
      }
    }
    // falls through: the mapping is previewed
    case OPTIONS:
      // The preview (after the mapping) and the import step (after the options) show what
      // the choices do, and the API checks them: an error stays on this step.
      if (await busy(w, () => loadImportable(w))) go(w, w.step + 1);
      return undefined;
    case PREVIEW:
      if (await busy(w, () => loadUsers(w))) go(w, OPTIONS);
      return undefined;
  }
  return undefined;
}

// ---- step 1: kind ----

function renderKind(w) {
  const select = h("select", { id: "kind", onchange: (e) => chooseKind(w, e.target.value) },
    w.kinds.map((k) => h("option", { value: k.name, selected: k.name === w.kind }, kindTitle(k.name))));
  return h("div", { class: "wizard-body" },
    h("p", {}, "What does the file hold? Its columns are mapped to the fields of that kind of record."),
    h("div", { class: "field" }, h("label", { for: "kind" }, "Kind of records"), select));
}

function chooseKind(w, kind) {
  if (kind === w.kind) return;
  w.kind = kind;
  w.preview = null;
  w.previewKey = "";
  w.saved = null;
  resetChoices(w);
}

// resetChoices forgets the mapping and options chosen for another file, sheet or kind.
function resetChoices(w) {
  w.mapping = {};
  w.savedColumns = new Set();
  w.savedName = "";
  w.suggestion = null;
  w.savedTouched = false;
  w.opts = freshOptions();
  endDryRun(w);
}

// ---- step 2: file ----

function renderFile(w) {
  const input = h("input", {
    id: "file", type: "file", accept: ".csv,.xls,.xlsx,.ods,text/csv",
    onchange: (e) => { if (e.target.files[0]) chooseFile(w, e.target.files[0]); },
  });
  const zone = h("div", { class: "drop-zone" },
    h("label", { for: "file" }, "File"),
    input,
    h("p", { class: "hint" }, "Drop a CSV, XLS, XLSX or ODS file here, or choose one."));
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("dragging"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("dragging");
    const f = e.dataTransfer && e.dataTransfer.files[0];
    if (f) chooseFile(w, f);
  });
  const kind = encodeURIComponent(w.kind);
  return h("div", { class: "wizard-body" },
    zone,
    h("div", { id: "file-chosen" }, fileSummary(w)),
    h("p", { class: "templates" }, `Start from a template whose columns are your ${w.kind} fields: `,
      h("a", { href: `/v1/templates/${kind}.csv`, download: `${w.kind}-template.csv` }, "CSV template"), " · ",
      h("a", { href: `/v1/templates/${kind}.xlsx`, download: `${w.kind}-template.xlsx` }, "XLSX template")));
}

// fileSummary says which file is chosen, what the preview found in it, and offers the sheets
// of a workbook. Of a file none of whose columns matches a field the preview counts no rows:
// it names the columns instead.
function fileSummary(w) {
  if (!w.file) return [];
  const p = w.previewKey === previewKey(w) ? w.preview : null;
  const parts = [h("p", {}, h("strong", {}, w.file.name), ` (${number(w.file.size)} bytes)`,
    p ? `: ${contents(p)}` : "")];
  if (w.sheets.length) {
    const select = h("select", { id: "sheet", onchange: (e) => chooseSheet(w, e.target.value) },
      w.sheets.map((s) => h("option", { value: s.name, selected: s.name === w.sheet },
        s.visibility === "visible" ? s.name : `${s.name} (${label(s.visibility).toLowerCase()})`)));
    parts.push(h("div", { class: "field" }, h("label", { for: "sheet" }, "Sheet"), select));
  }
  return parts;
}

// contents says what a preview found in the file: "3 data rows, 6 columns", or its columns
// (the first eight named) when none matches a field (problem), whose rows are not counted then.
function contents(p) {
  const n = p.mapping.length;
  if (!p.problem) return `${count(p.total_rows, "data row")}, ${count(n, "column")}`;
  const names = p.mapping.slice(0, 8).map((c) => c.header).join(", ") + (n > 8 ? ` and ${number(n - 8)} more` : "");
  return n === 1
    ? `1 column (${names}), which matches no field by its name: choose its field on the next step`
    : `${count(n, "column")} (${names}), none matching a field by its name: choose their fields on the next step`;
}

function chooseFile(w, file) {
  w.file = file;
  w.sheet = "";
  w.sheets = [];
  w.preview = null;
  resetChoices(w);
  refreshFile(w);
}

function chooseSheet(w, sheet) {
  w.sheet = sheet;
  resetChoices(w);
  refreshFile(w);
}

// refreshFile previews the file (or its new sheet) and shows what it holds.
async function refreshFile(w) {
  await busy(w, async () => {
    await loadPreview(w);
    await loadSaved(w);
  }, `Reading ${w.file.name}…`);
  const box = w.main.querySelector("#file-chosen");
  if (!box) return;
  const focused = document.activeElement && document.activeElement.id;
  box.replaceChildren(...fileSummary(w));
  if (focused && box.querySelector(`#${focused}`)) box.querySelector(`#${focused}`).focus();
}

// ---- the API calls ----

// upload is the multipart body of a preview, an import or a dry run: the file, its kind and
// the options chosen so far.
function upload(w) {
  const form = new FormData();
  form.append("kind", w.kind);
  const options = importOptions(w);
  if (w.readWith) options.saved_mapping = w.readWith;
  form.append("options", JSON.stringify(options));
  form.append("file", w.file, w.file.name);
  return form;
}

function previewKey(w) {
  return [w.kind, w.file && w.file.name, w.file && w.file.size, w.file && w.file.lastModified, w.sheet].join("\n");
}

async function loadPreview(w) {
  const key = previewKey(w);
  const p = await api("POST", "/v1/previews", upload(w));
  if (!w.alive || previewKey(w) !== key) return; // another file or sheet was chosen meanwhile
  w.preview = p;
  if (p.sheets) w.sheets = p.sheets;
  if (p.sheet) w.sheet = p.sheet; // the sheet read: the first visible one unless one was chosen
  w.previewKey = previewKey(w);
}

// loadImportable previews the file with the choices made, and refuses them when the preview
// says no column is imported (problem): the API would refuse the import.
async function loadImportable(w) {
  await loadPreview(w);
  if (w.preview.problem) {
    throw Object.assign(new Error("Choose a field for at least one column"), { detail: "Every column is set to “Don't import”: there would be nothing to import" });
  }
}

// loadSaved fetches the kind's saved mappings and, unless one was picked already, uses the one
// the preview suggests for the file.
async function loadSaved(w) {
  await loadSavedList(w);
  const s = w.preview && w.preview.suggested_mapping;
  const m = s && w.saved.find((x) => x.name === s.name);
  if (m && !w.savedTouched && !w.savedName) {
    await useSaved(w, m);
    w.suggestion = s;
  }
}

async function loadSavedList(w) {
  const res = await api("GET", "/v1/mappings" + query({ kind: w.kind }));
  if (w.alive) w.saved = res.mappings || [];
}

async function loadUsers(w) {
  if (w.users || !offers(w, "owner")) return;
  const res = await api("GET", "/v1/users");
  w.users = res.users || [];
}

// useSaved takes a saved mapping as the wizard's choices. The API previews the file with it
// (options.saved_mapping), matching its columns to the file's as every door does; the fields it
// gave the columns and the mapping's options become the wizard's own, which the person may
// change and which are sent as they are shown (not by name).
async function useSaved(w, m) {
  const before = w.mapping;
  w.mapping = {};
  w.readWith = m.name;
  try {
    await loadPreview(w);
  } catch (err) {
    w.mapping = before;
    throw err;
  } finally {
    w.readWith = "";
  }
  const chosen = columns(w).filter((c) => c.how === "explicit" || c.how === "mapped to nothing");
  w.mapping = Object.fromEntries(chosen.map((c) => [c.header, c.field || ""]));
  w.savedColumns = new Set(Object.keys(w.mapping));
  const o = m.options || {};
  w.opts = {
    ...freshOptions(),
    ...pick(o, ["unique_identifier", "match_by_name", "list", "owner", "campaign", "lead_source", "split_full_name"]),
    tags: (o.tags || []).join(", "),
    field_policies: { ...(o.field_policies || {}) },
    create_new: o.create_new !== false,
    update_existing: o.update_existing !== false,
  };
  w.savedName = m.name;
}

function pick(o, names) {
  return Object.fromEntries(names.filter((n) => o[n] !== undefined).map((n) => [n, o[n]]));
}

// importOptions are the chosen options as crm.Options JSON: only what differs from the
// defaults, and only options the kind takes. For a saved mapping (forSave) the mapping names
// every column (its field, or "" for one not imported) and the sheet is left out.
function importOptions(w, forSave = false) {
  const o = {};
  const mapping = {};
  for (const col of columns(w)) {
    if (forSave) mapping[col.header] = fieldOf(w, col);
    else if (Object.hasOwn(w.mapping, col.header)) mapping[col.header] = w.mapping[col.header];
  }
  if (Object.keys(mapping).length) o.mapping = mapping;
  if (w.sheet && !forSave) o.sheet = w.sheet;
  const x = w.opts;
  for (const name of ["unique_identifier", "list", "owner", "campaign", "lead_source"]) {
    if (offers(w, name) && x[name].trim()) o[name] = x[name].trim();
  }
  const tags = x.tags.split(",").map((t) => t.trim()).filter(Boolean);
  if (offers(w, "tags") && tags.length) o.tags = tags;
  for (const name of ["match_by_name", "split_full_name"]) {
    if (offers(w, name) && x[name]) o[name] = true;
  }
  for (const name of ["create_new", "update_existing"]) {
    if (offers(w, name) && !x[name]) o[name] = false;
  }
  const mapped = new Set(columns(w).map((c) => fieldOf(w, c)));
  const policies = Object.fromEntries(Object.entries(x.field_policies)
    .filter(([key, p]) => p && p !== "overwrite" && mapped.has(key)));
  if (offers(w, "field_policies") && Object.keys(policies).length) o.field_policies = policies;
  return o;
}

// ---- step 3: map fields ----

// sharedFields lists the fields that more than one column goes to, with those columns.
function sharedFields(w) {
  const by = new Map();
  for (const col of columns(w)) {
    const key = fieldOf(w, col);
    if (key) by.set(key, [...(by.get(key) || []), col.header]);
  }
  return [...by].filter(([, cols]) => cols.length > 1);
}

function renderMap(w) {
  const cols = columns(w);
  const notice = h("div", { id: "map-problem" });
  const summary = h("p", { id: "map-summary", class: "map-summary" });
  const changed = () => updateMapSummary(w, summary, notice);
  const rows = cols.map((col, i) => mapRow(w, col, i, changed));
  changed();
  return h("div", { class: "wizard-body" },
    savedPicker(w),
    notice,
    h("p", {}, "Every column of the file and the field it goes to. Check them; change a field or choose “Don't import”."),
    summary,
    h("div", { class: "map-rows" }, rows));
}

function savedPicker(w) {
  const saved = w.saved || [];
  const select = h("select", { id: "saved-mapping", "aria-describedby": "saved-mapping-note", onchange: (e) => chooseSaved(w, e.target.value) },
    h("option", { value: "", selected: !w.savedName }, "None: map the columns here"),
    saved.map((m) => h("option", { value: m.name, selected: m.name === w.savedName }, m.name)));
  let note = saved.length ? "A saved mapping sets the columns' fields and the import's options." : "No saved mapping of this kind yet: save one on the last step.";
  const s = w.suggestion;
  if (s && s.name === w.savedName) {
    const matched = Array.isArray(s.matched_columns) ? s.matched_columns.length : s.matched_columns;
    note = `Suggested for this file: “${s.name}” fits ${number(matched)} of its ${count(columns(w).length, "column")}. Its fields and options are chosen below.`;
  }
  return h("div", { class: "field saved-mapping" },
    h("label", { for: "saved-mapping" }, "Saved mapping"), select,
    h("p", { id: "saved-mapping-note", class: "hint" }, note));
}

// count says how many of a thing there are: "1 column", "12 columns".
function count(n, noun) {
  return `${number(n)} ${noun}${n === 1 ? "" : "s"}`;
}

// chooseSaved takes the saved mapping named as the wizard's choices, or none: the file is then
// previewed again as it is, for its columns' own fields (those the saved mapping's preview had
// given them are not the file's).
async function chooseSaved(w, name) {
  w.savedTouched = true;
  w.suggestion = null;
  const m = (w.saved || []).find((x) => x.name === name);
  if (m) {
    if (!(await busy(w, () => useSaved(w, m)))) return;
  } else {
    w.mapping = {};
    w.savedColumns = new Set();
    w.savedName = "";
    w.opts = freshOptions();
    if (!(await busy(w, () => loadPreview(w)))) return;
  }
  render(w, false);
  w.main.querySelector("#saved-mapping").focus();
}

// mapRow is a column's row: its header and its field's menu; changed is called on a change.
function mapRow(w, col, i, changed) {
  const id = `map-${i}`;
  // A deal's prospect link is set from its prospect's email or name fields, never a column.
  const fields = kindOf(w).fields.filter((f) => f.type !== "prospect");
  const current = fieldOf(w, col);
  const known = fields.some((f) => f.key === current);
  const option = (f) => h("option", { value: f.key, selected: f.key === current }, f.label);
  const standard = fields.filter((f) => !f.custom);
  const custom = fields.filter((f) => f.custom);
  const note = h("span", { id: `${id}-note`, class: "map-note" });
  const row = h("div", { class: "map-row" });
  const select = h("select", {
    id, "data-column": col.header, "aria-describedby": `${id}-note`,
    onchange: (e) => {
      w.mapping[col.header] = e.target.value;
      w.savedColumns.delete(col.header);
      markRow(w, row, note, col);
      changed();
    },
  },
  h("option", { value: "", selected: current === "" }, "Don't import"),
  current && !known ? h("option", { value: current, selected: true }, current) : null,
  h("optgroup", { label: "Fields" }, standard.map(option)),
  custom.length ? h("optgroup", { label: "Custom fields" }, custom.map(option)) : null);
  row.append(h("label", { for: id }, col.header), select, note);
  markRow(w, row, note, col);
  return row;
}

// markRow shows whether a column is imported, and how its field was chosen.
function markRow(w, row, note, col) {
  const field = fieldOf(w, col);
  const chosen = Object.hasOwn(w.mapping, col.header);
  row.classList.toggle("unmapped", field === "");
  if (field === "") note.textContent = chosen ? "Not imported: you chose “Don't import”" : `Not imported: ${col.how || "no matching field"}`;
  else if (w.savedColumns.has(col.header)) note.textContent = `From the saved mapping “${w.savedName}”`;
  else if (chosen) note.textContent = "Chosen";
  else note.textContent = col.how === "explicit" ? "Chosen" : "Mapped automatically";
}

// updateMapSummary counts the columns imported and, while none is of a file none of whose
// columns matched a field (the preview's problem), says what to do in a notice.
function updateMapSummary(w, el, notice) {
  const cols = columns(w);
  const unmapped = cols.filter((c) => fieldOf(w, c) === "").map((c) => c.header);
  el.replaceChildren(`${number(cols.length - unmapped.length)} of ${number(cols.length)} columns will be imported.`,
    unmapped.length ? h("span", { class: "unmapped-list" }, ` Not imported: ${unmapped.join(", ")}.`) : "");
  const none = w.preview && w.preview.problem && unmapped.length === cols.length;
  notice.replaceChildren(...(none ? [h("div", { class: "alert", role: "alert" },
    "None of this file's columns matched a field by its name: choose a field for at least one column.")] : []));
}

// ---- step 4: preview ----

function renderPreview(w) {
  const p = w.preview;
  return h("div", { class: "wizard-body" },
    overLimit(w),
    h("p", {}, `The first ${number(p.rows.length)} of ${number(p.total_rows)} data rows after the value rules, and what importing them would do.`),
    h("p", { class: "outcomes" }, "Would be: ", outcomeLine(p.rows), "."),
    p.unmapped_columns && p.unmapped_columns.length ? h("p", { class: "unmapped-list" }, "Not imported: ",
      p.mapping.filter((c) => !c.field).map((c) => `${c.header} (${c.how})`).join(", "), ".") : null,
    h("div", { class: "table-wrap", role: "region", "aria-label": "Preview rows", tabindex: "0" },
      h("table", { id: "preview-rows", class: "data preview-rows" },
        h("thead", {}, h("tr", {}, ["Row", "Outcome", "Values", "Warnings"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, p.rows.map((r) => previewRow(w, r))))));
}

function previewRow(w, r) {
  const values = Object.entries(r.values || {});
  return h("tr", { class: `outcome-${r.outcome}` },
    h("td", { "data-label": "Row" }, String(r.row_number)),
    h("td", { "data-label": "Outcome" }, h("div", {}, h("span", { class: `badge outcome-${r.outcome}` }, r.outcome),
      r.reason ? h("p", { class: "reason" }, `${label(r.reason)}${r.detail ? `: ${r.detail}` : ""}`) : null)),
    h("td", { "data-label": "Values" }, values.length ? h("dl", { class: "values" },
      values.map(([k, v]) => [h("dt", {}, fieldLabel(w, k)), h("dd", {}, v)])) : "—"),
    h("td", { "data-label": "Warnings" }, (r.warnings || []).length ? h("ul", { class: "warnings" },
      r.warnings.map((x) => h("li", {}, `${fieldLabel(w, x.field)}: ${label(x.kind).toLowerCase()}${x.value ? ` (“${x.value}”)` : ""}`))) : "—"));
}

// outcomeLine counts rows by outcome: "3 created, 1 skipped".
function outcomeLine(rows) {
  const by = {};
  for (const r of rows) by[r.outcome] = (by[r.outcome] || 0) + 1;
  const parts = ["created", "updated", "unchanged", "skipped"].filter((o) => by[o]).map((o) => `${number(by[o])} ${o}`);
  return parts.length ? parts.join(", ") : "no data rows";
}

function overLimit(w) {
  if (!w.preview || !w.preview.over_limit_warning) return null;
  const noun = kindOf(w).noun || "record";
  return h("div", { class: "alert", role: "alert" },
    h("strong", {}, "Over the limit. "),
    `This file has ${number(w.preview.total_rows)} rows, which would put the account over its ${noun} limit. `,
    `If you go on, new ${noun}s beyond the limit are skipped (over limit); existing ones are still updated.`);
}

// ---- step 5: options ----

function renderOptions(w) {
  const x = w.opts;
  const fields = kindOf(w).fields;
  const text = (name, title, hint) => offers(w, name) ? h("div", { class: "field" },
    h("label", { for: `opt-${name}` }, title),
    h("input", { id: `opt-${name}`, type: "text", value: x[name], maxlength: "200", "aria-describedby": hint ? `opt-${name}-hint` : null,
      oninput: (e) => { x[name] = e.target.value; } }),
    hint ? h("p", { id: `opt-${name}-hint`, class: "hint" }, hint) : null) : null;
  const check = (name, text) => offers(w, name) ? h("div", { class: "field check" },
    h("input", { id: `opt-${name}`, type: "checkbox", checked: x[name], onchange: (e) => { x[name] = e.target.checked; } }),
    h("label", { for: `opt-${name}` }, text)) : null;
  const unique = offers(w, "unique_identifier") ? h("div", { class: "field" },
    h("label", { for: "opt-unique_identifier" }, "Unique identifier"),
    h("select", { id: "opt-unique_identifier", "aria-describedby": "opt-unique_identifier-hint", onchange: (e) => { x.unique_identifier = e.target.value; } },
      h("option", { value: "", selected: !x.unique_identifier }, "None"),
      fields.filter(canIdentify).map((f) => h("option", { value: f.key, selected: f.key === x.unique_identifier }, f.label))),
    h("p", { id: "opt-unique_identifier-hint", class: "hint" }, fields.some((f) => f.key === "email")
      ? "A row is matched by its email first; without a match, by this field."
      : "A row is matched to an existing record by this field.")) : null;
  const owner = offers(w, "owner") ? h("div", { class: "field" },
    h("label", { for: "opt-owner" }, "Default owner"),
    h("select", { id: "opt-owner", onchange: (e) => { x.owner = e.target.value; } },
      h("option", { value: "", selected: !x.owner }, "Nobody (a row's own Lead Owner still applies)"),
      (w.users || []).map((u) => h("option", { value: u.username, selected: u.username === x.owner },
        u.full_name ? `${u.full_name} (${u.username})` : u.username)))) : null;
  const groups = [
    group("Matching", unique, check("match_by_name", "Match rows without email by first and last name")),
    group("Add the imported records to",
      text("list", "List"), text("tags", "Tags", "Separate tags with commas."), owner,
      text("campaign", "Campaign"), text("lead_source", "Lead source", "Set on the records this import creates.")),
    group("What the import may do",
      check("create_new", "Create new records"), check("update_existing", "Update existing records"),
      check("split_full_name", "Split a full name column into first and last name")),
    policies(w),
  ].filter(Boolean);
  return h("form", { class: "wizard-body options", onsubmit: (e) => e.preventDefault() },
    groups.length ? groups : h("p", {}, `No import option applies to ${w.kind}.`));
}

// group is a fieldset of the controls offered, or nothing when none is.
function group(legend, ...controls) {
  const offered = controls.filter(Boolean);
  return offered.length ? h("fieldset", {}, h("legend", {}, legend), offered) : null;
}

// canIdentify tells the fields a unique identifier may be (docs/import-rules.md): not the
// email, which matches first anyway, nor a link, an owner, a multi-picklist or a full name.
function canIdentify(f) {
  return f.key !== "email" && f.key !== "full_name" && !["user", "organization", "prospect", "multipicklist"].includes(f.type);
}

// policies offers, for each field a column goes to, how its value meets an existing record's.
function policies(w) {
  if (!offers(w, "field_policies")) return null;
  const x = w.opts;
  const keys = [...new Set(columns(w).map((c) => fieldOf(w, c)).filter(Boolean))];
  return group("When a record exists already, each field",
    ...keys.map((key) => {
      const field = kindOf(w).fields.find((f) => f.key === key) || { key, label: key };
      const current = x.field_policies[key] || "overwrite";
      return h("div", { class: "field" },
        h("label", { for: `policy-${key}` }, field.label),
        h("select", { id: `policy-${key}`, onchange: (e) => { x.field_policies[key] = e.target.value; } },
          POLICIES.filter(([p]) => p !== "merge" || field.type === "multipicklist")
            .map(([p, text]) => h("option", { value: p, selected: p === current }, text))));
    }));
}

// ---- step 6: import ----

function renderImport(w) {
  const o = importOptions(w);
  const cols = columns(w);
  const imported = cols.filter((c) => fieldOf(w, c) !== "").length;
  const facts = [
    ["Kind", kindTitle(w.kind)],
    ["File", w.file.name],
    w.sheet ? ["Sheet", w.sheet] : null,
    ["Rows", number(w.preview.total_rows)],
    ["Columns imported", `${number(imported)} of ${number(cols.length)}`],
    o.unique_identifier ? ["Unique identifier", fieldLabel(w, o.unique_identifier)] : null,
    o.list ? ["List", o.list] : null,
    o.tags ? ["Tags", o.tags.join(", ")] : null,
    o.owner ? ["Default owner", o.owner] : null,
    o.campaign ? ["Campaign", o.campaign] : null,
    o.lead_source ? ["Lead source", o.lead_source] : null,
    o.create_new === false ? ["New records", "not created"] : null,
    o.update_existing === false ? ["Existing records", "not updated"] : null,
  ].filter(Boolean);
  w.dryEl = h("div", { id: "dry-run-result" }, w.dry);
  w.saveEl = h("div", { class: "save-note" });
  return h("div", { class: "wizard-body" },
    overLimit(w),
    h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    h("p", { class: "outcomes" }, `With these options, the preview's ${number(w.preview.rows.length)} rows would be: ${outcomeLine(w.preview.rows)}.`),
    h("p", {}, "The import runs in the background: you can leave this page and come back to it in the history."),
    h("section", { class: "wizard-actions", "aria-labelledby": "save-heading" },
      h("h3", { id: "save-heading" }, "Save this mapping"),
      h("p", { class: "hint" }, "Keep the columns' fields and these options under a name, to pick them for the next file."),
      h("div", { class: "field" }, h("label", { for: "mapping-name" }, "Mapping name"),
        h("input", { id: "mapping-name", type: "text", maxlength: "200", value: w.savedName })),
      h("div", { class: "actions" }, h("button", { type: "button", id: "save-mapping", class: "button secondary", onclick: () => saveMapping(w) }, "Save this mapping")),
      w.saveEl),
    h("section", { class: "wizard-actions", "aria-labelledby": "dry-heading" },
      h("h3", { id: "dry-heading" }, "Dry run"),
      h("p", { class: "hint" }, "Run the whole file without writing anything, to see what it would do and which rows it would skip."),
      h("div", { class: "actions" }, h("button", { type: "button", id: "dry-run", class: "button secondary", onclick: () => dryRun(w) }, "Dry run the whole file")),
      w.dryEl));
}

async function saveMapping(w) {
  const input = w.main.querySelector("#mapping-name");
  const name = input.value.trim();
  if (!name) {
    w.saveEl.replaceChildren(errorBox({ message: "Name the mapping to save it" }));
    input.focus();
    return;
  }
  w.saveEl.replaceChildren(loading("Saving…"));
  try {
    const body = { columns: columns(w).map((c) => c.header), options: importOptions(w, true) };
    const m = await api("PUT", `/v1/mappings/${encodeURIComponent(w.kind)}/${encodeURIComponent(name)}`, body);
    if (!w.alive) return;
    w.savedName = name;
    w.saved = [...(w.saved || []).filter((x) => x.name !== name), m].sort((a, b) => a.name.localeCompare(b.name));
    w.saveEl.replaceChildren(h("p", { role: "status" }, `Saved the mapping “${name}”.`));
  } catch (err) {
    if (w.alive) w.saveEl.replaceChildren(errorBox(err));
  }
}

async function startImport(w) {
  let res;
  if (!(await busy(w, async () => { res = await api("POST", "/v1/imports", upload(w)); }, "Starting the import…")) || !w.alive) return;
  // A workbook's request is the id of its first sheet's import.
  location.hash = `#/imports/${res.import_id || res.request_id}`;
}

// dryRun runs the whole file (POST /v1/imports?dry_run=true&rows=skipped) and shows its counts
// and skipped rows, reading the answer as it streams: {"rows":[ROW\n,ROW\n…],"summary":…}.
async function dryRun(w) {
  endDryRun(w);
  const run = w.dryRun; // a later run, another step or another page ends this one
  const current = () => w.alive && run === w.dryRun;
  const button = w.main.querySelector("#dry-run");
  const out = w.dryEl;
  button.disabled = true;
  const progress = loading("Running the whole file…");
  out.replaceChildren(progress);
  const skipped = [];
  let seen = 0;
  try {
    const resp = await request("POST", "/v1/imports" + query({ dry_run: true, rows: "skipped" }), upload(w));
    const reader = resp.body.getReader();
    if (!current()) return void reader.cancel();
    w.stopDryRun = () => reader.cancel();
    const end = await readDryRun(reader, (row) => {
      if (row.outcome !== "skipped") return;
      seen++;
      if (skipped.length < MAX_DRY_RUN_ROWS) skipped.push(row);
      progress.textContent = `Running the whole file… ${number(seen)} skipped rows so far`;
    });
    if (!current()) return;
    if (end.error) throw new Error(`The dry run failed: ${end.error}`);
    w.dry = dryRunReport(w, end.summary, skipped, seen);
    out.replaceChildren(w.dry);
  } catch (err) {
    if (current()) out.replaceChildren(errorBox(err));
  } finally {
    if (run === w.dryRun) w.stopDryRun = null;
    button.disabled = false;
  }
}

// readDryRun reads a dry run's streamed answer, calling onRow with each row as it arrives,
// and answers its end: {summary} or {error}. Each row is one line (json.Encoder's).
async function readDryRun(reader, onRow) {
  const decoder = new TextDecoder();
  const head = '{"rows":[';
  let buf = "";
  let started = false;
  let tail = null;
  for (;;) {
    const { done, value } = await reader.read();
    if (value) buf += decoder.decode(value, { stream: true });
    let nl;
    while (tail === null && (nl = buf.indexOf("\n")) >= 0) {
      let line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!started) {
        if (!line.startsWith(head)) throw new Error("The dry run's answer cannot be read");
        line = line.slice(head.length);
        started = true;
      }
      if (line.startsWith(",")) line = line.slice(1);
      if (line.startsWith("]")) tail = line.slice(1) + "\n";
      else if (line.trim()) onRow(JSON.parse(line));
    }
    if (done) break;
  }
  if (tail === null) throw new Error("The dry run's answer ended early: try again");
  const rest = "{" + (tail + buf).trim().slice(1); // ,"summary":{…}} or ,"error":"…"
  return JSON.parse(rest.endsWith("}") ? rest : rest + "}");
}

function dryRunReport(w, sum, skipped, seen) {
  const lines = [["Rows", sum.rows], ["Created", sum.created], ["Updated", sum.updated], ["Unchanged", sum.unchanged], ["Skipped", sum.skipped]];
  const reasons = Object.entries(sum.skipped_by_reason || {});
  const warnings = Object.entries(sum.warnings_by_kind || {});
  return h("div", { class: "dry-run-report" },
    h("p", { role: "status" }, `The dry run is done: nothing was written.`),
    h("dl", { class: "facts" }, lines.map(([k, v]) => [h("dt", {}, k), h("dd", {}, number(v))])),
    reasons.length ? [h("h4", {}, "Skipped, by reason"), h("ul", {}, reasons.map(([r, n]) => h("li", {}, `${label(r)}: ${number(n)}`)))] : null,
    warnings.length ? [h("h4", {}, "Field warnings"), h("ul", {}, warnings.map(([k, n]) => h("li", {}, `${label(k)}: ${number(n)}`)))] : null,
    skipped.length ? [
      h("h4", {}, "Skipped rows"),
      h("div", { class: "table-wrap", role: "region", "aria-label": "Skipped rows", tabindex: "0" },
        h("table", { id: "dry-run-skipped", class: "data" },
          h("thead", {}, h("tr", {}, ["Row", "Reason", "Detail"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, skipped.map((r) => h("tr", {},
            h("td", { "data-label": "Row" }, String(r.row_number)), h("td", { "data-label": "Reason" }, label(r.reason)),
            h("td", { "data-label": "Detail" }, r.detail || "")))))),
      seen > skipped.length ? h("p", { class: "hint" }, `The first ${number(skipped.length)} of ${number(seen)} skipped rows; the import's skipped rows CSV lists them all.`) : null,
    ] : null);
}
