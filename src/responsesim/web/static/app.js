// responsesim single page: scenario form and runs with live progress, results with intervals and plots,
// past runs, comparison, floor-plan replay and after-action review. Plain ES2020 modules, no framework.

import { api, followJob } from "./api.js";
import { clock, count, esc, interval, percent, unitLabel, value, when } from "./format.js";
import { ReplayView } from "./replay.js";
import { initEditor } from "./editor.js";

const $ = (sel) => document.querySelector(sel);

// labels and kinds of the stored outcome columns (the run summary carries its own; this is the fallback)
const METRICS = {
  killed: ["killed at once", "count"],
  died_awaiting_care: ["died awaiting care", "count"],
  deaths: ["deaths", "count"],
  wounded: ["wounded and survived", "count"],
  evacuated: ["evacuated", "count"],
  attack_duration_s: ["attack duration", "time"],
  first_entry_s: ["time to first officer entry (after first shot)", "time"],
  median_time_to_care_s: ["median time to care (critical casualties)", "time"],
  officers_shot: ["officers shot", "count"],
  ended_before_police: ["attack ended before police arrived", "share"],
};
const TIME_UNITS = {
  first_entry_s: "minutes after the first shot",
  attack_duration_s: "minutes from first to last shot",
  median_time_to_care_s: "minutes after wounding",
};
const END_REASONS = {
  suicide_before_police: "attacker's suicide before police arrived",
  suicide_police_on_scene: "attacker's suicide with police on scene",
  fled: "attacker fled",
  citizens: "stopped by people at the scene",
  police_shot: "attacker shot by police",
  police_arrested: "attacker arrested by police",
  ongoing: "not ended within the simulated time",
};

const state = {
  limits: { max_replications: 20000, max_upload_bytes: 1048576 },
  doctrines: [],
  scenarios: [],
  source: null, // {kind: "builtin", id, name} | {kind: "upload", toml, filename, name}
  loadedForm: null, // the form of the loaded scenario, as the server sent it
  jobId: null,
  runs: [],
  run: null, // the run shown in Results
  replay: null,
  sessionRuns: [], // run ids made on this page, oldest first: the compare tab's default pair
  picked: { a: false, b: false }, // the user chose a compare run: keep it
};

// ---------------------------------------------------------------------------------------------- helpers

function showError(el, err, title = "") {
  if (!err) {
    el.hidden = true;
    el.textContent = "";
    return;
  }
  // say where once, in words: the server's "file:line: field: what is wrong" becomes
  // "file, line 4, doctrine.kind: what is wrong"
  let msg = String(err.message || err);
  const m = /^(.+?):(\d+): ([\w.[\]-]+): ([\s\S]*)$/.exec(msg);
  if (m) msg = `${m[1]}, line ${m[2]}, ${m[3]}: ${m[4]}`;
  const where = [];
  if (err.line != null && !m && !msg.includes(`:${err.line}`)) where.push(`Line ${err.line}`);
  if (err.field && !msg.includes(err.field)) where.push(`field "${err.field}"`);
  el.innerHTML = (title ? `<strong>${esc(title)}</strong>` : "") +
    (where.length ? `<strong>${esc(where.join(", "))}:</strong> ` : "") + esc(msg);
  el.hidden = false;
}

function metricInfo(name, summaryMetric) {
  const [label, kind] = METRICS[name] || [name.replace(/_s$/, "").replace(/_/g, " "), name.endsWith("_s") ? "time" : "count"];
  return {
    label: summaryMetric?.label || label,
    kind: summaryMetric?.kind || kind,
    unit: (summaryMetric?.kind || kind) === "time" ? TIME_UNITS[name] || "minutes" : unitLabel(summaryMetric?.kind || kind, summaryMetric?.unit),
  };
}

/** What a run was: its levers that differ from its scenario (as set on the page), or "as written". */
function leversText(levers) {
  return levers?.length ? levers.join(", ") : "nothing, as written";
}

function runName(r) {
  // label and levers first: a select cuts long text at the end
  const label = r.label ? `“${r.label}” · ` : "";
  return `${label}${r.levers?.length ? r.levers.join(", ") : "as written"} · ${r.scenario_name} · ${when(r.created_at)} · ${r.replications} reps`;
}

/** A column head's words ("Run A mean<br>(95% interval)" -> "Run A mean (95% interval)"). */
function headText(th) {
  return [...th.childNodes].map((n) => (n.nodeName === "BR" ? " " : n.textContent)).join("").replace(/\s+/g, " ").trim();
}

/** Name every data cell of the tables in `root` after its column (`data-label`) and mark the tables
 * `stack`: on a phone (app.css) each row becomes a card, each value beside its column's name, so no
 * number hides in a box that scrolls sideways. */
function stackTables(root) {
  for (const table of root.querySelectorAll("table.data")) {
    const heads = [...table.querySelectorAll("thead th")].map(headText);
    if (!heads.length) continue;
    table.classList.add("stack");
    for (const tr of table.querySelectorAll("tbody tr")) {
      let col = 0;
      for (const cell of tr.children) {
        if (cell.colSpan === 1 && cell.tagName === "TD" && heads[col]) cell.dataset.label = heads[col];
        col += cell.colSpan;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------- tabs

const TABS = ["run", "runs", "compare", "replay", "review", "editor"];

function selectTab(name, focus = false) {
  for (const t of TABS) {
    const tab = $(`#tab-${t}`);
    const on = t === name;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    $(`#panel-${t}`).hidden = !on;
    if (on && focus) tab.focus();
  }
  if (name !== "replay" && state.replay) state.replay.pause();
  if (name === "replay" && state.replay) state.replay.refresh();
}

function bindTabs() {
  TABS.forEach((t, i) => {
    const tab = $(`#tab-${t}`);
    tab.addEventListener("click", () => selectTab(t));
    tab.addEventListener("keydown", (ev) => {
      const step = ev.key === "ArrowRight" ? 1 : ev.key === "ArrowLeft" ? -1 : 0;
      if (step) {
        ev.preventDefault();
        selectTab(TABS[(i + step + TABS.length) % TABS.length], true);
      } else if (ev.key === "Home" || ev.key === "End") {
        ev.preventDefault();
        selectTab(ev.key === "Home" ? TABS[0] : TABS[TABS.length - 1], true);
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------- form

function doctrineNeedsThreshold(kind) {
  return Boolean(state.doctrines.find((d) => d.kind === kind)?.needs_threshold);
}

// what the doctrine's one number means, per kind (the server's FORM calls it threshold_s for all three)
const THRESHOLD_LABELS = {
  backup_eta_rule: ["Wait only if backup is closer than (seconds)", 0, 1],
  wait_for_n: ["Officers needed on scene before going in", 1, 1],
  hesitate: ["Delay after arriving before going in (seconds)", 0, 1],
};

function syncFormVisibility() {
  const kind = $("#f-doctrine").value;
  $("#threshold-field").hidden = !doctrineNeedsThreshold(kind);
  const d = state.doctrines.find((x) => x.kind === kind);
  const [label, min, step] = THRESHOLD_LABELS[kind] || [`Doctrine threshold (${d?.threshold_unit ?? "s"})`, 0, "any"];
  $("#threshold-field label").textContent = label;
  $("#f-threshold").min = String(min);
  $("#f-threshold").step = String(step);
  const never = $("#f-lockdown-never").checked;
  $("#f-lockdown").disabled = never;
  $("#lockdown-field").classList.toggle("disabled", never);
  $("#f-sro-armed").disabled = !$("#f-sro-present").checked;
}

function fillForm(form) {
  state.loadedForm = { ...form };
  const sel = $("#f-doctrine");
  if (![...sel.options].some((o) => o.value === form.doctrine)) {
    sel.add(new Option(form.doctrine, form.doctrine));
  }
  sel.value = form.doctrine;
  $("#f-threshold").value = form.threshold_s ?? 60;
  $("#f-barricade").value = form.barricade ?? "breach";
  $("#f-patrol").value = +(form.patrol_first_median_s / 60).toFixed(3);
  $("#f-sro-present").checked = Boolean(form.sro_present);
  $("#f-sro-armed").checked = Boolean(form.sro_armed);
  $("#f-lockdown-never").checked = form.lockdown_at_s == null;
  $("#f-lockdown").value = form.lockdown_at_s == null ? 1 : +(form.lockdown_at_s / 60).toFixed(3);
  $("#f-hard-corners").checked = Boolean(form.hard_corners);
  $("#f-reps").value = form.replications;
  $("#f-seed").value = form.seed;
  syncFormVisibility();
}

/** The form in API units (seconds); throws {message, field} on a value a planner must fix first. */
function readForm() {
  // a number within the field's own min and max (the bounds the server holds the form to)
  const num = (id, label, unit = "") => {
    const el = $(id);
    const raw = el.value.trim();
    const x = Number(raw);
    if (raw === "" || !Number.isFinite(x)) throw { message: `${label}: enter a number.`, input: id };
    const lo = el.min === "" ? -Infinity : Number(el.min), hi = el.max === "" ? Infinity : Number(el.max);
    if (x < lo || x > hi) {
      const range = Number.isFinite(hi) ? `from ${lo.toLocaleString("en-US")} to ${hi.toLocaleString("en-US")}` : `${lo.toLocaleString("en-US")} or more`;
      throw { message: `${label}: enter a number ${range}${unit ? ` ${unit}` : ""} (not ${x.toLocaleString("en-US")}).`, input: id };
    }
    return x;
  };
  const reps = num("#f-reps", "Replications");
  const max = state.limits.max_replications;
  if (!Number.isInteger(reps) || reps < 1 || reps > max) {
    throw { message: `Replications must be a whole number from 1 to ${max.toLocaleString("en-US")}.`, input: "#f-reps" };
  }
  const seed = num("#f-seed", "Random seed");
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw { message: `The random seed must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER.toLocaleString("en-US")}.`, input: "#f-seed" };
  }
  const patrol = num("#f-patrol", "First patrol officer: median arrival", "minutes");
  if (patrol <= 0) throw { message: "Patrol median arrival must be more than 0 minutes.", input: "#f-patrol" };
  const doctrine = $("#f-doctrine").value;
  const form = {
    doctrine,
    threshold_s: doctrineNeedsThreshold(doctrine) ? num("#f-threshold", $("#threshold-field label").textContent) : null,
    barricade: $("#f-barricade").value,
    sro_present: $("#f-sro-present").checked,
    sro_armed: $("#f-sro-armed").checked,
    patrol_first_median_s: patrol * 60,
    lockdown_at_s: $("#f-lockdown-never").checked ? null : num("#f-lockdown", "Lockdown announced at", "minutes") * 60,
    hard_corners: $("#f-hard-corners").checked,
    replications: reps,
    seed,
  };
  if (form.threshold_s != null && form.threshold_s < 0) throw { message: "The doctrine's number must be 0 or more.", input: "#f-threshold" };
  if (form.lockdown_at_s != null && form.lockdown_at_s < 0) throw { message: "The lockdown time must be 0 or more minutes.", input: "#f-lockdown" };
  return form;
}

/** Only the keys the planner changed (so untouched settings of the scenario stay exactly as written). */
function changedKeys(form) {
  const base = state.loadedForm || {};
  const out = { replications: form.replications, seed: form.seed };
  for (const [k, v] of Object.entries(form)) {
    const b = base[k];
    const same = typeof v === "number" && typeof b === "number" ? Math.abs(v - b) < 1e-6 : v === b;
    if (!same && !(k === "threshold_s" && v == null)) out[k] = v;
  }
  if (out.doctrine && doctrineNeedsThreshold(out.doctrine) && !("threshold_s" in out)) out.threshold_s = form.threshold_s;
  return out;
}

function setSource(source) {
  state.source = source;
  $("#scenario-source").textContent = source.kind === "upload"
    ? `Will run the uploaded file ${source.filename} (“${source.name}”) with the settings below.`
    : `Will run the built-in scenario “${source.name}” with the settings below.`;
}

async function loadScenario(id) {
  showError($("#scenario-error"), null);
  $("#scenario-warnings").hidden = true;
  const sc = await api.scenario(id);
  const info = state.scenarios.find((s) => s.id === id);
  $("#scenario-desc").textContent = info?.description || "";
  fillForm(sc.form);
  setSource({ kind: "builtin", id, name: sc.name });
}

async function onUpload() {
  const input = $("#scenario-file");
  const file = input.files[0];
  if (!file) return;
  showError($("#scenario-error"), null);
  $("#scenario-warnings").hidden = true;
  if (file.size > state.limits.max_upload_bytes) {
    showError($("#scenario-error"), {
      message: `${file.name} is ${(file.size / 1024).toFixed(0)} KiB; the limit is ${(state.limits.max_upload_bytes / 1024).toFixed(0)} KiB.`,
    }, "File too large");
    return;
  }
  const toml = await file.text();
  try {
    const res = await api.validate(toml, file.name);
    fillForm(res.form);
    setSource({ kind: "upload", toml, filename: file.name, name: res.name });
    if (res.warnings?.length) {
      const w = $("#scenario-warnings");
      w.innerHTML = `<strong>Outside the calibrated range:</strong><ul>${res.warnings.map((x) => `<li>${esc(x)}</li>`).join("")}</ul>`;
      w.hidden = false;
    }
  } catch (err) {
    const box = $("#scenario-error");
    showError(box, err, `${file.name} cannot be used:`);
    const lines = toml.split(/\r?\n/);
    if (err.line != null && err.line >= 1 && err.line <= lines.length) {
      const code = document.createElement("code");
      code.textContent = `${err.line} | ${lines[err.line - 1]}`;
      box.append(code);
    }
    input.value = "";
  }
}

// ---------------------------------------------------------------------------------------------- runs

function setProgress(done, total, text, cls = "") {
  const bar = $("#run-progress");
  bar.max = Math.max(1, total);
  bar.value = Math.min(done, total);
  bar.setAttribute("aria-valuetext", text);
  const p = $("#progress-text");
  p.textContent = text;
  p.className = `progress-text ${cls}`;
}

/** "Queued: waiting for 1 run ahead of it to finish (1,000 replications)." */
function queuedText(total, ahead) {
  const runs = ahead == null ? "a free slot" : ahead === 0 ? "a free slot (starting)" : `${ahead} run${ahead === 1 ? "" : "s"} ahead of it to finish`;
  return `Queued: waiting for ${runs}; ${total.toLocaleString("en-US")} replications to run.`;
}

function setRunning(on) {
  $("#run-button").disabled = on;
  $("#cancel-button").disabled = !on;
}

// the form field a server error names (the API's form keys)
const FIELD_INPUTS = {
  doctrine: "#f-doctrine", threshold_s: "#f-threshold", barricade: "#f-barricade", patrol_first_median_s: "#f-patrol", sro_present: "#f-sro-present",
  sro_armed: "#f-sro-armed", lockdown_at_s: "#f-lockdown", hard_corners: "#f-hard-corners", replications: "#f-reps", seed: "#f-seed",
};

/** Show a form error by the field it is about (or above the Run button), marked and scrolled into view. */
function formError(err, title = "") {
  const errEl = $("#form-error");
  const input = err.input ?? FIELD_INPUTS[err.field];
  const at = input && $(input)?.closest(".field, .check");
  if (at) at.after(errEl);
  else $("#run-form .buttons").before(errEl);
  showError(errEl, err, title);
  if (input) {
    $(input).setAttribute("aria-invalid", "true");
    $(input).setAttribute("aria-describedby", "form-error");
    $(input).focus({ preventScroll: true });
  }
  errEl.scrollIntoView({ block: "center" });
}

async function onRun(ev) {
  ev.preventDefault();
  const errEl = $("#form-error");
  showError(errEl, null);
  document.querySelectorAll("#run-form [aria-describedby='form-error']").forEach((el) => el.removeAttribute("aria-describedby"));
  let form;
  document.querySelectorAll("#run-form [aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  try {
    form = readForm();
  } catch (err) {
    formError(err);
    return;
  }
  const src = state.source;
  const body = {
    toml: src?.kind === "upload" ? src.toml : null,
    scenario_id: src?.kind === "builtin" ? src.id : null,
    filename: src?.kind === "upload" ? src.filename : null,
    form: changedKeys(form),
    label: $("#f-label").value.trim() || null,
  };
  setRunning(true);
  setProgress(0, form.replications, "Submitting…");
  let job;
  try {
    job = await api.startRun(body);
  } catch (err) {
    setRunning(false);
    setProgress(0, 1, "Not started.", "failed");
    formError(err, err.status === 429 ? "The simulator is busy:" : "The run was refused:");
    return;
  }
  state.jobId = job.job_id;
  showError($("#scenario-error"), null); // an old upload problem is not this run's (the source line says what runs)
  const total = job.replications;
  setProgress(0, total, queuedText(total, null));
  const result = await followJob(job.job_id, (done, tot, status, ahead) => {
    const n = tot || total;
    if (status === "queued") return setProgress(0, n, queuedText(n, ahead));
    setProgress(done, n, `Running: ${done.toLocaleString("en-US")} of ${n.toLocaleString("en-US")} replications (${Math.floor((100 * done) / n)}%).`);
  });
  state.jobId = null;
  setRunning(false);
  if (result.status === "done") {
    state.sessionRuns.push(result.run_id);
    setProgress(total, total, `Finished ${total.toLocaleString("en-US")} replications; loading the results…`);
    await openRun(result.run_id);
    setProgress(total, total, `Done: ${total.toLocaleString("en-US")} replications.`, "done");
    $("#results-body").scrollIntoView({ block: "start" }); // the results, not the form
  } else if (result.status === "cancelled") {
    const bar = $("#run-progress");
    setProgress(Number(bar.value), total, `Cancelled after ${Number(bar.value).toLocaleString("en-US")} of ${total.toLocaleString("en-US")} replications; nothing was stored.`, "cancelled");
  } else {
    setProgress(0, 1, `The run failed: ${result.error}`, "failed");
    formError({ message: result.error }, "The run failed:");
  }
}

async function onCancel() {
  if (!state.jobId) return;
  $("#cancel-button").disabled = true;
  $("#progress-text").textContent = "Cancelling…";
  try {
    await api.cancel(state.jobId);
  } catch (err) {
    showError($("#form-error"), err, "Could not cancel:");
  }
}

// ---------------------------------------------------------------------------------------------- results

function provenance(run) {
  const s = run.summary || {};
  const m = run.meta || {};
  const cal = s.calibration || {};
  const parts = [
    `calibration ${cal.version ?? m.calibration_version ?? "?"}${cal.fitted === false ? " (not fitted: assumptions)" : cal.fitted ? " (fitted to FBI 2000–2013 incidents)" : ""}`,
    `seed ${s.seed ?? m.seed}`,
    `${Number(s.replications ?? m.replications).toLocaleString("en-US")} replications`,
    `backend ${s.backend ?? m.backend}`,
    `code ${s.code_version ?? m.code_version ?? "?"}`,
    `scenario ${s.scenario_source ?? ""} (SHA-256 ${(s.scenario_hash ?? m.scenario_hash ?? "").slice(0, 12)}…)`,
    `run ${run.run_id}`,
  ];
  const u = s.uncertainty ?? {};
  const what = u.mode === "posterior"
    ? `Intervals are 95% intervals covering the calibration's own uncertainty (${u.draws} draws from its posterior) and chance`
    : "Intervals are 95% confidence intervals of the mean (Wilson intervals for shares): chance only, not the calibration's own uncertainty";
  const inc = s.no_shot_fired
    ? ` Figures are over ${Number(s.incidents).toLocaleString("en-US")} incidents: no shot was fired in ${Number(s.no_shot_fired.count).toLocaleString("en-US")} of ${Number(s.attempts).toLocaleString("en-US")} simulated attempts.`
    : "";
  return `<p class="provenance"><strong>Assumptions and sources:</strong> ${esc(parts.join(" · "))}. ` +
    `${esc(what)}; times are from the first shot.${esc(inc)}</p>`;
}

function warningsBox(warnings) {
  if (!warnings?.length) return "";
  return `<div class="warn extrapolation" role="alert"><strong>This result is an extrapolation:</strong> the scenario is outside ` +
    `the range the model was calibrated on, so treat these numbers with extra caution.<ul>` +
    warnings.map((w) => `<li>${esc(w)}</li>`).join("") + "</ul></div>";
}

function summaryTable(summary) {
  const rows = Object.entries(summary.metrics || {}).map(([name, m]) => {
    const info = metricInfo(name, m);
    const missing = m.n_missing ? `<span class="note">no value in ${m.n_missing} of ${m.n + m.n_missing} incidents` +
      `${name === "first_entry_s" ? " (no officer entered)" : ""}</span>` : "";
    const spread = m.median == null ? "–" : `${value(info.kind, m.median)} <span class="ci">(${value(info.kind, m.q25)} to ${value(info.kind, m.q75)})</span>`;
    return `<tr data-metric="${esc(name)}"><th scope="row">${esc(info.label)}${missing}</th>` +
      `<td class="num">${value(info.kind, m.mean)}</td>` +
      `<td class="num ci-cell">${interval(info.kind, m.ci_low, m.ci_high)}</td>` +
      `<td class="num">${spread}</td><td class="unit">${esc(info.unit)}</td></tr>`;
  });
  const n = Math.max(0, ...Object.values(summary.metrics || {}).map((m) => (m.n ?? 0) + (m.n_missing ?? 0)));
  const rough = n > 0 && n < 30 ? `<p class="warn rough">Only ${n} incidents: with fewer than 30 the intervals ` +
    "are rough. Run at least 1,000 replications before quoting a figure.</p>" : "";
  return rough + `<div class="table-wrap"><table class="data summary-table"><caption class="sr-only">Outcomes: mean with 95% interval</caption>` +
    `<thead><tr><th scope="col">Outcome</th><th scope="col" class="num">Mean</th><th scope="col" class="num">95% interval</th>` +
    `<th scope="col" class="num">Median (middle half)</th><th scope="col">Unit</th></tr></thead><tbody>${rows.join("")}</tbody></table></div>`;
}

function endingsTable(summary) {
  const entries = Object.entries(summary.end_reasons || {});
  if (!entries.length) return "";
  const rows = entries.map(([k, v]) => `<tr><th scope="row">${esc(END_REASONS[k] || k)}</th>` +
    `<td class="num">${percent(v.share)}</td><td class="num">${percent(v.ci_low)} to ${percent(v.ci_high)}</td></tr>`);
  return `<h3>How the attacks ended</h3><div class="table-wrap"><table class="data endings-table">` +
    `<thead><tr><th scope="col">Ending</th><th scope="col" class="num">Share of incidents</th><th scope="col" class="num">95% interval</th></tr></thead>` +
    `<tbody>${rows.join("")}</tbody></table></div>` + longAttacksTable(summary);
}

// the long tail (issue 24): shares of incidents lasting 10 minutes or more, and with a barricade;
// runs stored before it was computed have no long_attacks
const LONG_ATTACKS = { lasted_10min_plus: "lasted 10 minutes or more", barricaded: "the attacker barricaded itself in a room" };

function longAttacksTable(summary) {
  const entries = Object.entries(summary.long_attacks || {}).filter(([k]) => k in LONG_ATTACKS);
  if (!entries.length) return "";
  const rows = entries.map(([k, v]) => `<tr><th scope="row">${esc(LONG_ATTACKS[k])}</th>` +
    `<td class="num">${percent(v.share)}</td><td class="num">${percent(v.ci_low)} to ${percent(v.ci_high)}</td></tr>`);
  return `<h3>Long attacks</h3><div class="table-wrap"><table class="data long-attacks-table">` +
    `<thead><tr><th scope="col">Incidents that</th><th scope="col" class="num">Share of incidents</th><th scope="col" class="num">95% interval</th></tr></thead>` +
    `<tbody>${rows.join("")}</tbody></table></div>`;
}

function plotsBlock(run) {
  if (!run.plots?.length) return "";
  const figs = run.plots.map((p) => `<figure><img src="${esc(p.url)}" alt="${esc(p.title)}: histogram over the simulated incidents" loading="eager">` +
    `<figcaption>${esc(p.title)}</figcaption></figure>`);
  return `<h3>Outcome distributions</h3><div class="plots">${figs.join("")}</div>`;
}

function renderRun(run) {
  const s = run.summary || {};
  const meta = run.meta || {};
  const label = meta.label ? ` — “${esc(meta.label)}”` : "";
  const html = `<p class="run-title">${esc(s.scenario ?? meta.scenario_name ?? "run")}${label}</p>` +
    `<p class="run-levers">As run (changed from the scenario): ${esc(leversText(meta.levers))}</p>` +
    warningsBox(s.warnings) + summaryTable(s) + provenance(run) +
    `<div class="result-actions"><button type="button" class="primary" data-action="replay">Replay a typical incident on the floor plan</button>` +
    `<button type="button" data-action="compare">Compare with another run</button></div>` +
    endingsTable(s) + plotsBlock(run);
  const body = $("#results-body");
  body.innerHTML = html;
  stackTables(body);
  body.hidden = false;
  $("#results-empty").hidden = true;
  $("#results-status").textContent = `Results shown for ${s.scenario ?? "the run"}${s.warnings?.length ? " (an extrapolation: see the warning)" : ""}.`;
}

function openRunFromHash() {
  const m = /#run=([0-9a-f-]+)/.exec(location.hash);
  if (m && decodeURIComponent(m[1]) !== state.run?.run_id) openRun(decodeURIComponent(m[1]));
}

async function openRun(runId, switchTab = true) {
  try {
    const run = await api.run(runId);
    state.run = run;
    renderRun(run);
    if (!state.runs.some((r) => r.run_id === runId)) await refreshRuns();
    history.replaceState(null, "", `#run=${encodeURIComponent(runId)}`);
    if (switchTab) selectTab("run");
  } catch (err) {
    const body = $("#results-body");
    body.hidden = false;
    body.innerHTML = "";
    const box = document.createElement("div");
    box.className = "error";
    body.append(box);
    showError(box, err, "Cannot open this run:");
  }
}

// ---------------------------------------------------------------------------------------------- past runs

function fillRunSelect(sel, preferred) {
  const keep = preferred ?? sel.value;
  sel.innerHTML = state.runs.map((r) => `<option value="${esc(r.run_id)}">${esc(runName(r))}</option>`).join("");
  if (state.runs.some((r) => r.run_id === keep)) sel.value = keep;
}

/** The compare tab's default pair: the last two runs made on this page (B the newest), else the newest
 * run and the one before it in the store. */
function defaultPair() {
  const ids = state.runs.map((r) => r.run_id);
  const mine = state.sessionRuns.filter((id) => ids.includes(id));
  const b = mine.at(-1) ?? ids[0];
  const a = mine.length >= 2 ? mine.at(-2) : ids.find((id) => id !== b);
  return [a, b];
}

async function refreshRuns() {
  const errEl = $("#runs-error");
  try {
    state.runs = await api.runs();
    showError(errEl, null);
  } catch (err) {
    showError(errEl, err, "Cannot list past runs:");
    return;
  }
  const tbody = $("#runs-table tbody");
  tbody.innerHTML = state.runs.length ? state.runs.map((r) => `<tr data-run="${esc(r.run_id)}">` +
    `<td>${esc(when(r.created_at))}</td><td>${esc(r.scenario_name)}<span class="note">${esc(leversText(r.levers))}</span></td><td>${esc(r.label ?? "")}</td>` +
    `<td class="num">${Number(r.replications).toLocaleString("en-US")}</td><td class="num">${esc(r.seed)}</td>` +
    `<td class="num">${count(r.deaths_mean)} <span class="ci">(${count(r.deaths_ci_low)} to ${count(r.deaths_ci_high)})</span></td>` +
    `<td><button type="button" class="small" data-action="open">Open results</button> ` +
    `<button type="button" class="small" data-action="replay">Replay</button></td></tr>`).join("")
    : `<tr><td colspan="7">No runs stored yet.</td></tr>`;
  stackTables($("#panel-runs"));
  const current = state.run?.run_id;
  const [da, db] = defaultPair();
  fillRunSelect($("#compare-a"), state.picked.a ? $("#compare-a").value : da);
  fillRunSelect($("#compare-b"), state.picked.b ? $("#compare-b").value : db);
  fillRunSelect($("#replay-run"), current);
  syncReplayMax();
}

// ---------------------------------------------------------------------------------------------- compare

async function onCompare(ev) {
  ev.preventDefault();
  const a = $("#compare-a").value, b = $("#compare-b").value;
  const errEl = $("#compare-error");
  showError(errEl, null);
  if (!a || !b) {
    showError(errEl, { message: "Pick two runs (run a scenario twice, or open the Past runs list)." });
    return;
  }
  const out = $("#compare-result");
  out.innerHTML = `<p class="hint">Comparing…</p>`;
  try {
    const [cmp, runA, runB] = await Promise.all([api.compare(a, b), api.run(a).catch(() => null), api.run(b).catch(() => null)]);
    out.innerHTML = renderCompare(cmp, runA, runB);
    stackTables(out);
    $("#compare-status").textContent = `Comparison ready: ${cmp.rows?.length ?? 0} outcomes.`;
  } catch (err) {
    out.innerHTML = "";
    showError(errEl, err, "Cannot compare:");
  }
}

function headBlock(letter, head, run) {
  const h = head || {};
  const s = run?.summary || {};
  const name = h.scenario_name ?? s.scenario ?? "run";
  const label = h.label ?? run?.meta?.label;
  const levers = h.levers ?? run?.meta?.levers;
  return `<div><h3>Run ${letter}: ${esc(name)}</h3>${label ? `<p>“${esc(label)}”</p>` : ""}` +
    `<p class="run-levers">As run (changed from the scenario): ${esc(leversText(levers))}</p>` +
    `<p class="hint">${esc(when(h.created_at ?? run?.meta?.created_at))} · ${Number(h.replications ?? s.replications).toLocaleString("en-US")} replications · seed ${esc(h.seed ?? s.seed)}</p>` +
    (run ? warningsBox(s.warnings) + provenance(run) : "") + "</div>";
}

// which direction of each outcome is better for the people in the building (null: neither)
const BETTER = {
  deaths: "lower", killed: "lower", died_awaiting_care: "lower", attack_duration_s: "lower",
  first_entry_s: "lower", officers_shot: "lower", median_time_to_care_s: "lower", evacuated: "higher",
};

/** "B: 0.31 more deaths (0.22 to 0.41)", marked better or worse; "no clear difference" otherwise. */
function verdict(metric, diff, ci, sig, kind, dv) {
  if (typeof diff !== "number" || !ci) return "";
  if (!sig) return '<span class="badge no">no clear difference</span>';
  const dir = BETTER[metric];
  const better = dir ? (dir === "lower") === (diff < 0) : null;
  const cls = better == null ? "neutral" : better ? "better" : "worse";
  const word = diff > 0 ? "more" : "less";
  const lo = Math.min(Math.abs(ci[0]), Math.abs(ci[1])), hi = Math.max(Math.abs(ci[0]), Math.abs(ci[1]));
  const tag = better == null ? "" : better ? " (better)" : " (worse)";
  return `<span class="badge ${cls}">B: ${dv(Math.abs(diff))} ${word} (${dv(lo)} to ${dv(hi)})${tag}</span>`;
}

const METHODS = {
  paired: "paired (same incidents, same parameter draws)",
  welch: "independent runs (Welch)",
  independent: "independent runs (their intervals combined)",
};

/** What a difference is: "mean of 812 paired differences" or "difference of the means". */
function diffKind(r) {
  if (r.diff_kind === "mean_of_paired_differences") {
    return `mean of ${Number(r.n_values).toLocaleString("en-US")} paired differences`;
  }
  return "difference of the means";
}

/** What the 95% intervals of the runs and of the difference cover, in words. */
function intervalNote(cmp) {
  const rows = cmp.rows || [];
  const total = (key) => rows.some((r) => r[key] === "total");
  const runs = total("a_interval") || total("b_interval")
    ? "Each run's 95% interval is the one Results and Past runs show: it covers the calibration's own uncertainty (posterior draws) and chance."
    : "Each run's 95% interval is the one Results and Past runs show: a confidence interval of the mean (Wilson for shares), chance only.";
  const diff = total("diff_interval")
    ? " The difference's interval also covers the calibration's uncertainty, so the verdicts do too."
    : " The difference's interval covers chance only (neither run drew its parameters from the posterior).";
  return runs + diff;
}

function renderCompare(cmp, runA, runB) {
  const metrics = runA?.summary?.metrics || {};
  const rows = (cmp.rows || []).map((r) => {
    const info = metricInfo(r.metric, metrics[r.metric]);
    const k = info.kind;
    const sig = r.diff_ci && (r.diff_ci[0] > 0 || r.diff_ci[1] < 0);
    const dv = (x) => (k === "share" ? `${(100 * x).toFixed(1)} pts` : value(k, x));
    const sign = (x) => (x > 0 ? "+" : "");
    return `<tr class="${sig ? "sig" : ""}"><th scope="row">${esc(info.label)}<span class="note">${esc(info.unit)}</span></th>` +
      `<td class="num">${value(k, r.a_mean)}<br><span class="ci">${interval(k, r.a_ci?.[0], r.a_ci?.[1])}</span></td>` +
      `<td class="num">${value(k, r.b_mean)}<br><span class="ci">${interval(k, r.b_ci?.[0], r.b_ci?.[1])}</span></td>` +
      (typeof r.diff === "number" && r.diff_ci && typeof r.diff_ci[0] === "number"
        ? `<td class="num diff-cell">${sign(r.diff)}${dv(r.diff)}<br><span class="ci">${sign(r.diff_ci[0])}${dv(r.diff_ci[0])} to ` +
          `${sign(r.diff_ci[1])}${dv(r.diff_ci[1])}</span><span class="note diff-kind">${esc(diffKind(r))}</span></td>`
        : `<td class="num">not available<span class="note">no values in one of the runs</span></td>`) +
      `<td>${verdict(r.metric, r.diff, r.diff_ci, sig, k, dv)}</td>` +
      `<td>${esc(METHODS[r.method] ?? r.method)}</td></tr>`;
  });
  const sa = (cmp.a?.base_scenario ?? runA?.meta?.base_scenario)?.sha256;
  const sb = (cmp.b?.base_scenario ?? runB?.meta?.base_scenario)?.sha256;
  const nameA = cmp.a?.scenario_name ?? runA?.summary?.scenario, nameB = cmp.b?.scenario_name ?? runB?.summary?.scenario;
  const differ = (sa && sb && sa !== sb) || (nameA && nameB && nameA !== nameB);
  const scenarioNote = differ ? `<p class="warn different-scenarios">A and B ran <strong>different scenarios</strong> ` +
    `(“${esc(nameA)}” and “${esc(nameB)}”), not only different levers: the differences below are not due to the levers alone.</p>` : "";
  return scenarioNote + `<div class="compare-heads">${headBlock("A", cmp.a, runA)}${headBlock("B", cmp.b, runB)}</div>` +
    `<div class="table-wrap"><table class="data compare-table"><caption class="sr-only">Run B minus run A, with 95% intervals</caption>` +
    `<thead><tr><th scope="col">Outcome</th><th scope="col" class="num">Run A mean<br>(95% interval)</th>` +
    `<th scope="col" class="num">Run B mean<br>(95% interval)</th><th scope="col" class="num">Difference B − A<br>(95% interval)</th>` +
    `<th scope="col">Clear difference?</th><th scope="col">Method</th></tr></thead><tbody>${rows.join("")}</tbody></table></div>` +
    `<p class="hint interval-note">${esc(intervalNote(cmp))}</p>` +
    `<p class="hint">“Paired” compares the same simulated incidents (same seed, replication count and parameter draws: common random numbers): ` +
    "the difference is the mean of the per-incident differences over the incidents with a value in both runs, so where values are missing " +
    "(time to care: incidents with a critical casualty) it need not equal B's mean minus A's, each over its own incidents. " +
    "Otherwise the runs are independent samples and the difference is B's mean minus A's. " +
    "Time differences are in minutes, share differences in percentage points.</p>";
}

// ---------------------------------------------------------------------------------------------- replay

async function loadReplay(runId, rep, choice = null) {
  const errEl = $("#replay-error");
  showError(errEl, null);
  const status = $("#replay-status");
  status.textContent = `Re-simulating incident ${rep} of the run (done once on the server)…`;
  $("#replay-load").disabled = true;
  if (state.replay) state.replay.pause();
  try {
    const data = await api.replay(runId, rep);
    if (state.replay) state.replay.destroy();
    $("#replay-view").hidden = false;
    state.replay = new ReplayView({
      canvas: $("#replay-canvas"), play: $("#replay-play"), slider: $("#replay-slider"), time: $("#replay-time"),
      speed: $("#replay-speed"), counts: $("#replay-counts"), events: $("#replay-events"), floors: $("#replay-floors"),
      zoom: $("#replay-zoom"), room: $("#replay-room"),
    }, data);
    const run = state.runs.find((r) => r.run_id === runId);
    const [from, to] = state.replay.span();
    const o = data.outcome || {};
    const what = choice ? `${choice.label[0].toUpperCase()}${choice.label.slice(1)}: incident ${data.rep}` : `Incident ${data.rep}`;
    const span = from < -0.5
      ? `simulated from ${clock(-from)} before the first shot (the attacker's entry) to ${clock(to)} after it`
      : `simulated from the first shot to ${clock(to)} after it`;
    const toll = o.first_shot_s == null ? "no shot was fired in this attempt (not an incident)"
      : `killed ${o.killed ?? 0}, died awaiting care ${o.died_awaiting_care ?? 0}` +
        (o.wounded != null ? `, wounded and survived ${o.wounded}` : "");
    status.textContent = `${what}${run ? ` of “${run.scenario_name}”` : ""}: ${span}; ${toll}. ` +
      "Press Play, drag the time slider, or pick an event.";
  } catch (err) {
    status.textContent = "";
    showError(errEl, err, "Cannot replay:");
  } finally {
    $("#replay-load").disabled = false;
  }
}

// representative incidents of the run chosen in the Replay tab: {runId, promise} (fetched once per run)
const replayChoices = { runId: null, promise: null };

/** The run's representative incidents (typical, worst, police stop, ...), fetched once per run; the
 * "Incident" options say what each one is and the ones no incident fits are disabled. */
function choicesFor(runId) {
  if (replayChoices.runId !== runId || !replayChoices.promise) {
    replayChoices.runId = runId;
    replayChoices.promise = ReplayView.choices(runId).catch(() => []);
    replayChoices.promise.then((list) => {
      if (replayChoices.runId !== runId) return;
      const sel = $("#replay-pick");
      for (const opt of sel.options) {
        if (opt.value === "number") continue;
        const c = list.find((x) => x.key === opt.value);
        opt.disabled = !c;
        opt.dataset.rep = c ? String(c.rep) : "";
        const share = c && c.key !== "typical" && c.key !== "worst" ? `, ${Math.round(100 * c.share)}% of incidents` : "";
        opt.textContent = c ? `${c.label}: killed ${c.killed}, died awaiting care ${c.died_awaiting_care}${share}`
          : `${opt.textContent.replace(/ \(none in this run\)$/, "").split(":")[0]} (none in this run)`;
      }
      if (sel.selectedOptions[0]?.disabled) sel.value = "typical";
    });
  }
  return replayChoices.promise;
}

async function onReplaySubmit(ev) {
  ev.preventDefault();
  const runId = $("#replay-run").value;
  const pick = $("#replay-pick").value;
  if (!runId) {
    showError($("#replay-error"), { message: "Run a scenario first, or pick a past run." });
    return;
  }
  if (pick !== "number") {
    const list = await choicesFor(runId);
    const c = list.find((x) => x.key === pick) ?? list.find((x) => x.key === "typical");
    if (c) {
      $("#replay-rep").value = String(c.rep);
      loadReplay(runId, c.rep, c);
      return;
    }
  }
  const rep = Number($("#replay-rep").value);
  const run = state.runs.find((r) => r.run_id === runId);
  const last = run ? Number(run.replications) - 1 : Infinity;
  if (!Number.isInteger(rep) || rep < 0 || rep > last) {
    const range = Number.isFinite(last) ? ` from 0 to ${last} (this run has ${last + 1} replications)` : ", 0 or more";
    showError($("#replay-error"), { message: `The replication number must be a whole number${range}.` });
    return;
  }
  loadReplay(runId, rep);
}

/** The replication number can go up to the chosen run's replications - 1; a newly chosen run offers its
 * typical incident first (its representative incidents are fetched in the background). */
function syncReplayMax() {
  const runId = $("#replay-run").value;
  const run = state.runs.find((r) => r.run_id === runId);
  if (run) $("#replay-rep").max = String(Number(run.replications) - 1);
  const pick = $("#replay-pick");
  if (!pick.dataset.bound) { // typing a number means "that replication"
    pick.dataset.bound = "true";
    $("#replay-rep").addEventListener("input", () => { pick.value = "number"; });
    pick.addEventListener("change", () => {
      const rep = pick.selectedOptions[0]?.dataset.rep;
      if (rep) $("#replay-rep").value = rep;
    });
  }
  if (runId && replayChoices.runId !== runId) {
    pick.value = "typical";
    choicesFor(runId);
  }
}

async function gotoReplay(runId) {
  fillRunSelect($("#replay-run"), runId);
  $("#replay-run").value = runId;
  syncReplayMax();
  $("#replay-pick").value = "typical";
  selectTab("replay");
  const list = await choicesFor(runId);
  const c = list.find((x) => x.key === "typical");
  $("#replay-rep").value = String(c ? c.rep : 0);
  loadReplay(runId, c ? c.rep : 0, c ?? null);
}

// ---------------------------------------------------------------------------------------------- review

// the files chosen for the review: each pick adds to the list, so files from several folders can be given
const reviewFiles = { timeline: [], protocol: [] };
/** Files of one kind a review takes: the server's limits (GET /api/limits), 5 until they are read. */
function reviewMaxFiles(kind) {
  return state.limits?.[kind === "protocol" ? "max_review_protocols" : "max_review_timelines"] ?? 5;
}
const REVIEW_KINDS = { timeline: ["timeline", ".csv"], protocol: ["protocol", ".toml"] };

/** Add the files just picked in a file input to its list (the same file picked again replaces itself). */
function addReviewFiles(kind, input) {
  const list = reviewFiles[kind];
  for (const f of input.files) {
    const same = list.findIndex((g) => g.name === f.name && g.size === f.size && g.lastModified === f.lastModified);
    if (same >= 0) list.splice(same, 1);
    list.push(f);
  }
  input.value = ""; // the next pick adds to the list instead of replacing it
  renderReviewFiles(kind);
}

function renderReviewFiles(kind) {
  const list = reviewFiles[kind];
  const el = $(`#review-${kind}-list`);
  el.innerHTML = list.map((f, k) => `<li>${esc(f.name)} <span class="unit">(${Math.max(1, Math.round(f.size / 1024))} KB)</span> ` +
    `<button type="button" class="small" data-review-remove="${kind}" data-index="${k}" aria-label="Remove ${esc(f.name)}">Remove</button></li>`).join("");
  el.hidden = list.length === 0;
}

/** The review form's file lists: picks add files, Remove buttons take them out. */
function bindReviewFiles() {
  const form = $("#review-form");
  if (!form) return;
  for (const kind of Object.keys(reviewFiles)) {
    $(`#review-${kind}`).addEventListener("change", (ev) => addReviewFiles(kind, ev.target));
  }
  form.addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-review-remove]");
    if (!b) return;
    const kind = b.dataset.reviewRemove;
    reviewFiles[kind].splice(Number(b.dataset.index), 1);
    renderReviewFiles(kind);
    $(`#review-${kind}`).focus();
  });
}
bindReviewFiles();

async function onReview(ev) {
  ev.preventDefault();
  const errEl = $("#review-error");
  showError(errEl, null);
  for (const [kind, [word, ext]] of Object.entries(REVIEW_KINDS)) {
    const n = reviewFiles[kind].length;
    if (!n) {
      showError(errEl, { message: `Choose at least one ${word} (${ext}): the review needs a timeline and one protocol for each part to review (police, medical, pre-attack).` });
      return;
    }
    const most = reviewMaxFiles(kind);
    if (n > most) {
      showError(errEl, { message: `At most ${most} ${word} files per review (${n} chosen): remove ${n - most}.` });
      return;
    }
  }
  const fd = new FormData();
  for (const kind of Object.keys(REVIEW_KINDS)) {
    for (const f of reviewFiles[kind]) fd.append(kind, f, f.name);
  }
  const inc = $("#review-incident").files[0];
  const change = $("#review-change").value.trim();
  if (change && !inc) {
    showError(errEl, { message: "A change needs an incident file (which building, which spaces, the casualty facts)." });
    return;
  }
  if (inc) fd.append("incident", inc, inc.name);
  if (change) fd.append("change", change);
  const out = $("#review-result");
  out.innerHTML = `<p class="hint">${inc ? "Reviewing and simulating the change (up to about 15 s)…" : "Reviewing and drawing the charts…"}</p>`;
  $("#review-button").disabled = true;
  try {
    const rv = await api.review(fd);
    out.innerHTML = renderReview(rv);
    stackTables(out);
    const parts = (rv.parts || []).map((k) => rv.sections[k]);
    $("#review-status").textContent = "Review ready: " +
      parts.map((s) => `${s.title.toLowerCase()}, ${s.findings.length} finding${s.findings.length === 1 ? "" : "s"}`).join("; ") + ".";
  } catch (err) {
    out.innerHTML = "";
    showError(errEl, err, "The review could not be made:");
  } finally {
    $("#review-button").disabled = false;
  }
}

/** What a finding is about, in one line: a dated tip on the pre-attack scale, else its duration. */
function findingFacts(f, part) {
  if (f.scale === "days") {
    const days = Math.round(f.duration_s / 86400);
    return [
      f.tip ? `tip ${esc(f.tip)}` : "",
      f.agency && f.agency !== f.actor ? `handled by ${esc(f.agency)}` : "",
      f.open_ended ? `from ${esc(String(f.start).slice(0, 10))} with nothing recorded up to the attack`
        : days >= 1 ? `from ${esc(String(f.start).slice(0, 10))}, ${days} day${days === 1 ? "" : "s"}` : `on ${esc(String(f.start).slice(0, 10))}`,
      f.days_before_attack != null ? `<strong>${esc(f.days_before_attack)} days before the attack</strong>` : "",
    ].filter(Boolean);
  }
  const dur = typeof f.duration_s === "number" ? `${clock(f.duration_s)}${f.open_ended ? " or more (the timeline records no end)" : ""}` : "";
  return [
    `Duration: ${esc(dur)}`,
    part === "police" || f.shots_fired ? `shots fired meanwhile: ${esc(f.shots_fired ?? 0)}` : "",
    f.killed != null ? `killed meanwhile: ${esc(f.killed)}, wounded: ${esc(f.wounded ?? 0)}` : "",
  ].filter(Boolean);
}

/** Escaped text whose long words (URLs, ids) may break after / . ? = _ - so they fit a phone screen. */
function breakable(text) {
  return esc(text).replace(/\S{28,}/g, (w) => w.replace(/([/.?=_-])(?=[^\s])/g, "$1<wbr>"));
}

function renderFinding(f, opts = {}) {
  const meanwhile = f.meanwhile?.length ? `<details><summary>Meanwhile (${f.meanwhile.length})</summary><ul>` +
    f.meanwhile.map((m) => `<li>${breakable(m)}</li>`).join("") + "</ul></details>" : "";
  const where = (e) => (opts.manyFiles && e.file ? `${e.file}:${e.line}` : e.line);
  const evidence = f.evidence?.length ? `<details><summary>Evidence rows (${f.evidence.length})</summary><div class="table-wrap"><table class="data">` +
    `<thead><tr><th scope="col" class="num">${opts.manyFiles ? "File:line" : "Line"}</th><th scope="col">Time</th><th scope="col">Actor</th><th scope="col">Event</th>` +
    "<th scope=\"col\">Detail</th><th scope=\"col\">Certainty</th><th scope=\"col\">Source</th></tr></thead><tbody>" +
    f.evidence.map((e) => `<tr><td class="num">${esc(where(e))}</td><td>${esc(e.time)}</td><td>${esc(e.actor)}</td><td>${esc(e.event)}</td>` +
      `<td>${esc(e.detail)}<span class="note">${esc(e.why)}</span></td><td>${esc(e.certainty)}${e.approximate ? " ⚠" : ""}</td><td>${esc(e.source)}</td></tr>`).join("") +
    "</tbody></table></div></details>" : "";
  const notes = f.notes?.length ? `<ul>${f.notes.map((n) => `<li>${breakable(n)}</li>`).join("")}</ul>` : "";
  const facts = findingFacts(f, opts.part);
  return `<li class="finding ${esc(f.severity)}"><h4><span class="sev">${esc(f.severity)}</span> ${breakable(f.rule_id)}` +
    ` — ${breakable(f.responsible || f.actor)}</h4><p>${breakable(f.summary)}</p>` +
    `<p class="hint">${facts.join(" · ")}${f.approximate ? " · some evidence times are approximate" : ""}</p>` +
    `<p class="hint"><strong>Standard:</strong> ${breakable(f.rule_text)} <em>(${breakable(f.source)})</em>` +
    `${f.protocol ? `<span class="note">Protocol: ${esc(f.protocol)}</span>` : ""}</p>${notes}${meanwhile}${evidence}</li>`;
}

/** One part of the review: heading, when, notes, findings and the part's own swimlane chart. */
function renderReviewPart(sec, manyFiles) {
  const findings = sec.findings || [];
  const n = findings.length;
  const days = sec.scale === "days";
  const id = `review-part-${esc(sec.key)}`;
  let when = "";
  if (days && sec.attack_start) when = `The attack began ${sec.attack_start}; this part is on a scale of days.`;
  else if (!days && sec.attacker_active) {
    const a = sec.attacker_active;
    when = `Attacker active ${a.start.slice(11)} to ${a.end.slice(11)}${a.end_recorded ? "" : " (no end recorded)"}.`;
  }
  const empty = days && sec.rows <= 1
    ? '<p class="warn">The timelines hold no tips, visits or warning signs: add the file that records them.</p>' : "";
  const notes = sec.notes?.length ? `<ul class="hint">${sec.notes.map((x) => `<li>${breakable(x)}</li>`).join("")}</ul>` : "";
  const list = n ? `<ul class="findings">${findings.map((f) => renderFinding(f, { manyFiles, part: sec.key })).join("")}</ul>`
    : "<p>No deviation from the protocol was found in this part.</p>";
  const what = days ? "each agency's and person's actions by date" : "each actor's actions over time";
  const chart = sec.swimlane_url ? `<h4>Swimlane chart: ${esc(sec.title.toLowerCase())}${days ? " (days)" : ""}</h4>` +
    `<div class="swimlane"><img src="${esc(sec.swimlane_url)}" alt="Swimlane chart of the ${esc(sec.title.toLowerCase())}: ${what}, ` +
    "with the protocol's deviations marked\"></div>" : "";
  return `<section class="review-part" aria-labelledby="${id}"><h3 id="${id}">${esc(sec.title)} ` +
    `<span class="unit">(${n} finding${n === 1 ? "" : "s"})</span></h3>` +
    `<p class="hint">${esc(sec.summary)}; ${esc(sec.rows)} timeline rows. ${esc(when)}</p>${empty}${notes}${list}${chart}</section>`;
}

function pct(p) {
  return `${(100 * p).toFixed(0)}%`;
}

/** Lives saved by stopping the killing (the police change) beside stopping the dying (the care change,
 * review/medical_change.py), when the incident asks for both. */
function sideBySide(cf, iv) {
  const both = cf.side_by_side, m = cf.medical;
  if (!both || !m) return "";
  const row = (what, change, x, none) => `<tr><th scope="row">${esc(what)}<span class="note">${esc(change)}</span></th>` +
    `<td class="num">${x ? iv(x) : esc(none || "not asked")}</td></tr>`;
  return `<div class="table-wrap"><table class="data side-by-side"><caption>Lives saved, side by side (the same paired draws)</caption>` +
    `<thead><tr><th scope="col">Change</th><th scope="col" class="num">Lives saved</th></tr></thead><tbody>` +
    row("Stopping the killing", cf.change, both.stopping_the_killing, cf.no_change && `no change: ${cf.no_change}`) +
    row("Stopping the dying", m.change ?? m.counterfactual, both.stopping_the_dying, m.no_change && `no change: ${m.no_change}`) +
    "</tbody></table></div>";
}

function renderCounterfactual(cf, curveUrl) {
  const iv = (x) => `${x.mean.toFixed(2)} <span class="note">(95% of draws: ${x.low.toFixed(0)} to ${x.high.toFixed(0)})</span>`;
  const pr = (x) => `${pct(x.p)} <span class="note">(${(100 * x.low).toFixed(1)}–${(100 * x.high).toFixed(1)}%)</span>`;
  const o = cf.observed;
  const head = `<div class="table-wrap"><table class="data"><caption>What the change would likely have done, ` +
    `${cf.draws.toLocaleString("en-US")} paired draws (parameters, uncertain times and chance together)</caption>` +
    `<thead><tr><th scope="col">Outcome</th><th scope="col" class="num">Record</th><th scope="col" class="num">With the change</th></tr></thead><tbody>` +
    `<tr><th scope="row">Lives saved</th><td class="num">0 of ${esc(o.killed)} killed</td><td class="num">${iv(cf.lives_saved)}</td></tr>` +
    `<tr><th scope="row">… not shot</th><td class="num">0</td><td class="num">${iv(cf.not_shot)}</td></tr>` +
    `<tr><th scope="row">… survived with earlier care</th><td class="num">0</td><td class="num">${iv(cf.survived_care)}</td></tr>` +
    `<tr><th scope="row">Wounded who would not have been shot</th><td class="num">0 of ${esc(o.wounded)}</td><td class="num">${iv(cf.wounded_not_shot)}</td></tr>` +
    `<tr><th scope="row">At least one life saved</th><td class="num">no</td><td class="num">${pr(cf.p_any_life_saved)}</td></tr>` +
    `<tr><th scope="row">Attack stopped before ${esc(o.attack_end)}</th><td class="num">no</td><td class="num">${pr(cf.p_stopped_before_recorded_end)}</td></tr>` +
    `<tr><th scope="row">The responder shot</th><td class="num">—</td><td class="num">${pr(cf.p_officer_shot)}</td></tr>` +
    "</tbody></table></div>";
  const shots = (cf.stopped_before_later_shots || []).map((s) =>
    `<li>recorded shot at ${esc(s.time)}: attack already stopped in ${(100 * s.protocol).toFixed(1)}% of draws (record: 0%)</li>`).join("");
  const curve = `<div class="table-wrap"><table class="data"><caption>Against the delay (s after ` +
    `${cf.counterfactual.some((c) => c.includes("no_withdrawal")) ? "withdrawing" : "arriving"})</caption><thead><tr>` +
    "<th scope=\"col\" class=\"num\">Delay</th><th scope=\"col\" class=\"num\">Lives saved</th><th scope=\"col\" class=\"num\">95% of draws</th>" +
    "<th scope=\"col\" class=\"num\">Responder shot</th></tr></thead><tbody>" +
    cf.delay_curve.map((c) => `<tr><td class="num">${c.delay_s.toFixed(0)} s</td><td class="num">${c.lives_saved.toFixed(2)}</td>` +
      `<td class="num">${c.low.toFixed(0)}–${c.high.toFixed(0)}</td><td class="num">${pct(c.p_officer_shot)}</td></tr>`).join("") +
    "</tbody></table></div>";
  const rows = `<details><summary>Per casualty row (${cf.casualty_rows.length})</summary><div class="table-wrap"><table class="data"><thead><tr>` +
    `<th scope="col" class="num">${cf.casualty_rows.some((r) => r.file) ? "File:line" : "Line"}</th><th scope="col">Who</th>` +
    "<th scope=\"col\">Window</th><th scope=\"col\">Location</th>" +
    "<th scope=\"col\" class=\"num\">Not shot</th><th scope=\"col\" class=\"num\">Survived with care</th><th scope=\"col\">Care time</th><th scope=\"col\">Source</th></tr></thead><tbody>" +
    cf.casualty_rows.map((r) => `<tr><td class="num">${esc(r.file ? `${r.file}:${r.line}` : r.line)}</td><td>${esc(r.count)} ${esc(r.outcome)}</td>` +
      `<td>${esc(r.window)}${r.flagged ? " ⚠" : ""}</td><td>${esc(r.location)}</td><td class="num">${r.not_shot.toFixed(2)}</td>` +
      `<td class="num">${r.survived_care.toFixed(2)}</td><td>${r.care_assumed ? "assumed" : "recorded"}</td><td>${esc(r.source)}</td></tr>`).join("") +
    "</tbody></table></div></details>";
  const conduct = `<details><summary>Observed conduct of the officers</summary><ul>` +
    Object.entries(cf.conduct).map(([a, spans]) => `<li><strong>${esc(a)}</strong>: ` +
      spans.map((s) => `${esc(s.time)} ${esc(s.state.replaceAll("_", " "))}`).join("; ") + "</li>").join("") + "</ul></details>";
  const flags = cf.flags.length ? `<p class="hint">⚠ Rests on uncertain times: ${cf.flags.map(esc).join("; ")}.</p>` : "";
  const assumptions = `<details><summary>Assumptions and sources</summary><ul>${cf.assumptions.map((a) => `<li>${esc(a)}</li>`).join("")}` +
    Object.entries(cf.parameters.record_model).map(([k, v]) => `<li>${esc(k)}: ${esc(v.range[0])}–${esc(v.range[1])}. ${esc(v.source)}</li>`).join("") +
    `<li>Calibration ${esc(cf.calibration)} (${esc(cf.parameters.engine.mode)} parameters).</li></ul></details>`;
  return `<h3>Counterfactual on the record: ${esc(cf.change)}</h3><p class="review-summary">${esc(cf.summary)}</p>` +
    head + sideBySide(cf, iv) + (shots ? `<ul>${shots}</ul>` : "") +
    (curveUrl ? `<div class="swimlane"><img src="${esc(curveUrl)}" alt="Lives saved and the responder's risk against the delay of the change"></div>` : "") +
    curve + rows + conduct + flags + assumptions;
}

function renderReview(rv) {
  const parts = (rv.parts || []).map((k) => rv.sections[k]).filter(Boolean);
  const manyFiles = (rv.timelines || []).length > 1;
  const merged = String(rv.counterfactual_timeline ?? "").includes(" + ");
  const basis = rv.counterfactual && manyFiles && rv.counterfactual_timeline
    ? `<p class="hint counterfactual-basis">The counterfactual stands on ${esc(rv.counterfactual_timeline)}` +
      (merged ? ", merged by time (the timelines with the incident's rows; a row given in two files counts once).</p>"
        : " (the timeline with the incident's rows).</p>") : "";
  return `<h3>Summary</h3><p class="review-summary">${esc(rv.summary)}</p>` +
    parts.map((sec) => renderReviewPart(sec, manyFiles)).join("") +
    (rv.counterfactual ? renderCounterfactual(rv.counterfactual, rv.curve_url) + basis : "");
}

// ---------------------------------------------------------------------------------------------- start

async function init() {
  bindTabs();
  $("#run-form").addEventListener("submit", onRun);
  $("#cancel-button").addEventListener("click", onCancel);
  $("#scenario-select").addEventListener("change", (ev) => {
    $("#scenario-file").value = "";
    loadScenario(ev.target.value).catch((err) => showError($("#scenario-error"), err, "Cannot load the scenario:"));
  });
  $("#scenario-file").addEventListener("change", onUpload);
  for (const id of ["#f-lockdown-never", "#f-sro-present"]) $(id).addEventListener("change", syncFormVisibility);
  $("#f-doctrine").addEventListener("change", () => {
    const kind = $("#f-doctrine").value;
    const loaded = state.loadedForm;
    const defaults = { backup_eta_rule: 60, wait_for_n: 4, hesitate: 120 };
    $("#f-threshold").value = loaded && loaded.doctrine === kind && loaded.threshold_s != null ? loaded.threshold_s : defaults[kind] ?? 60;
    syncFormVisibility();
  });
  $("#runs-refresh").addEventListener("click", refreshRuns);
  $("#runs-table").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-action]");
    if (!b) return;
    const runId = b.closest("tr").dataset.run;
    if (b.dataset.action === "open") openRun(runId);
    else gotoReplay(runId);
  });
  $("#results-body").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-action]");
    if (!b || !state.run) return;
    if (b.dataset.action === "replay") gotoReplay(state.run.run_id);
    else {
      fillRunSelect($("#compare-b"), state.run.run_id);
      selectTab("compare");
    }
  });
  $("#compare-form").addEventListener("submit", onCompare);
  $("#compare-a").addEventListener("change", () => { state.picked.a = true; });
  $("#compare-b").addEventListener("change", () => { state.picked.b = true; });
  $("#replay-form").addEventListener("submit", onReplaySubmit);
  $("#replay-run").addEventListener("change", syncReplayMax);
  $("#review-form").addEventListener("submit", onReview);
  initEditor(); // the "Your building" tab (editor.js); its runs open in Results through #run=ID

  const health = $("#health");
  try {
    const [h, limits, doctrines, scenarios] = await Promise.all([api.health(), api.limits(), api.doctrines(), api.scenarios()]);
    health.textContent = `Ready · at most ${limits.max_replications.toLocaleString("en-US")} replications per run`;
    $("#version-details").textContent = `responsesim ${h.version}`; // details, not the header
    state.limits = limits;
    state.doctrines = doctrines;
    state.scenarios = scenarios;
    $("#f-reps").max = String(limits.max_replications);
    $("#f-doctrine").innerHTML = doctrines.map((d) => `<option value="${esc(d.kind)}">${esc(d.label)}</option>`).join("");
    $("#scenario-select").innerHTML = scenarios.map((s) => `<option value="${esc(s.id)}">${esc(s.name)}</option>`).join("");
    const first = scenarios.find((s) => s.id === "default") ?? scenarios[0];
    if (first) {
      $("#scenario-select").value = first.id;
      await loadScenario(first.id);
    }
  } catch (err) {
    health.textContent = `Cannot reach the simulator: ${err.message}`;
    health.classList.add("bad");
    return;
  }
  await refreshRuns();
  openRunFromHash();
  // a #run=ID typed or pasted into the address bar of this tab opens that run
  window.addEventListener("hashchange", openRunFromHash);
  document.body.dataset.ready = "true";
}

init();
