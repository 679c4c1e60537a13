// The "Your building" tab: draw a building on a plan image and use it in a run (issue 17 item 2).
//
// Plan coordinates are "units": pixels of the plan image (y down). `scale` turns them into metres (x east,
// y north: y is flipped). Rooms and corridors are polygons; doors and exits are points on walls; a stair is
// a point in a room that links its floor to another. The server turns the drawing into a building graph
// with the importers' rules (POST /api/buildings/validate: a door joins the rooms beside it, an exit on an
// outer wall becomes an exit space, a stair links the rooms containing it) and answers the building file.
// "Use in a run" sends that file with the default scenario (POST /api/runs, key "building"); the finished
// run opens in Results through #run=ID (app.js). A plan image (PNG, JPEG) never leaves the browser; a PDF
// is sent to the server, which draws its first page as a PNG (POST /api/buildings/pdf-page, kept nowhere),
// and that picture is used exactly like an image.

import { api, followJob, postJSON } from "./api.js";
import { esc } from "./format.js";

const $ = (sel) => document.querySelector(sel);

const KINDS = ["classroom", "office", "lounge", "restroom", "corridor", "stairwell", "open_area"];
const FILL = {
  classroom: "#dbe7f5", office: "#e3e0f3", lounge: "#f5e6d3", restroom: "#e6eef0", corridor: "#f3f3ee",
  stairwell: "#e0e4e8", open_area: "#e2f0e0", "": "#e8edf3",
};
const SNAP_PX = 10; // corners snap to corners and walls this close (screen pixels)
const WALL_PX = 18; // doors and exits snap to a wall this close
const DOOR_M = 0.6; // the server's tolerance: a door belongs to the rooms within 0.6 m (buildings/graph.py)
const DEFAULT_SCALE = 0.05; // metres per unit with no plan image: 20 units (pixels at zoom 1) a metre
const MAX_UNDO = 200;

const ed = {
  plan: null, // {name, scale, scaleSet, floors, spaces, doors, stairs, next}
  floor: 1,
  tool: "select",
  selected: null, // {type: "space"|"door"|"stair", id}
  draft: [], // corners of the room being drawn
  measure: [], // the scale line's two ends
  hover: null, // snapped pointer position (units)
  view: { ox: -40, oy: -40, zoom: 1 }, // screen = (unit - o) * zoom
  backdrops: new Map(), // floor -> {img, url}
  undo: [],
  redo: [],
  graph: null, // the last checked graph {rev, spaces, edges}
  rev: 0, // bumped on each change (a checked graph stays drawn while the plan is unchanged)
  drag: null,
  running: false,
  canvas: null,
  ctx: null,
  limits: null,
};

function emptyPlan() {
  return { name: "My building", scale: DEFAULT_SCALE, scaleSet: false, floors: [1], spaces: [], doors: [], stairs: [], next: 1 };
}

// ---------------------------------------------------------------------------------------------- geometry

const dist = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1]);

function projectOnSegment(p, a, b) {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 ? Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2)) : 0;
  return [a[0] + t * dx, a[1] + t * dy];
}

function edgesOf(pts) {
  return pts.map((a, i) => [a, pts[(i + 1) % pts.length]]);
}

function inside(p, pts) {
  let c = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i], [xj, yj] = pts[j];
    if ((yi > p[1]) !== (yj > p[1]) && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) c = !c;
  }
  return c;
}

function area(pts) {
  let s = 0;
  edgesOf(pts).forEach(([a, b]) => { s += a[0] * b[1] - b[0] * a[1]; });
  return Math.abs(s) / 2;
}

function centroid(pts) {
  let cx = 0, cy = 0, s = 0;
  edgesOf(pts).forEach(([a, b]) => {
    const f = a[0] * b[1] - b[0] * a[1];
    cx += (a[0] + b[0]) * f;
    cy += (a[1] + b[1]) * f;
    s += f;
  });
  if (Math.abs(s) < 1e-9) return [pts.reduce((t, p) => t + p[0], 0) / pts.length, pts.reduce((t, p) => t + p[1], 0) / pts.length];
  return [cx / (3 * s), cy / (3 * s)];
}

function wallDistance(p, pts) {
  return Math.min(...edgesOf(pts).map(([a, b]) => dist(p, projectOnSegment(p, a, b))));
}

// ---------------------------------------------------------------------------------------------- view

const toScreen = (p) => [(p[0] - ed.view.ox) * ed.view.zoom, (p[1] - ed.view.oy) * ed.view.zoom];
const toUnits = (s) => [s[0] / ed.view.zoom + ed.view.ox, s[1] / ed.view.zoom + ed.view.oy];
const pxToUnits = (px) => px / ed.view.zoom;
const metres = (u) => u * ed.plan.scale;

function floorSpaces(floor = ed.floor) {
  return ed.plan.spaces.filter((s) => s.floor === floor);
}

/** The pointer position snapped to a corner, else to a wall, of the floor's rooms (and the draft). */
function snap(p, { corners = true, walls = true } = {}) {
  const tol = pxToUnits(SNAP_PX);
  let best = null, bestD = tol;
  if (corners) {
    const pts = floorSpaces().flatMap((s) => s.pts).concat(ed.draft.length > 2 ? [] : ed.draft.slice(0, -1));
    for (const q of pts) {
      const d = dist(p, q);
      if (d < bestD) { best = [q[0], q[1]]; bestD = d; }
    }
    if (best) return best;
  }
  if (walls) {
    for (const s of floorSpaces()) {
      for (const [a, b] of edgesOf(s.pts)) {
        const q = projectOnSegment(p, a, b);
        const d = dist(p, q);
        if (d < bestD) { best = q; bestD = d; }
      }
    }
  }
  return best || p;
}

/** The nearest point on a wall of the floor's rooms within WALL_PX, or null. */
function nearestWall(p) {
  let best = null, bestD = pxToUnits(WALL_PX);
  for (const s of floorSpaces()) {
    for (const [a, b] of edgesOf(s.pts)) {
      const q = projectOnSegment(p, a, b);
      const d = dist(p, q);
      if (d < bestD) { best = q; bestD = d; }
    }
  }
  return best;
}

/** The rooms of a floor within the server's door tolerance of a point (what a door there joins). */
function roomsAt(p, floor) {
  const tol = DOOR_M / ed.plan.scale;
  return ed.plan.spaces
    .filter((s) => s.floor === floor && (inside(p, s.pts) || wallDistance(p, s.pts) <= tol))
    .map((s) => ({ s, d: inside(p, s.pts) ? 0 : wallDistance(p, s.pts) }))
    .sort((a, b) => a.d - b.d)
    .map((x) => x.s);
}

// ---------------------------------------------------------------------------------------------- changes

function snapshot() {
  return JSON.stringify(ed.plan);
}

/** Record the plan as it is before a change (for undo). */
function remember(before = snapshot()) {
  ed.undo.push(before);
  if (ed.undo.length > MAX_UNDO) ed.undo.shift();
  ed.redo = [];
  ed.rev += 1;
  syncUndoButtons();
}

function restore(text) {
  ed.plan = JSON.parse(text);
  if (!ed.plan.floors.includes(ed.floor)) ed.floor = ed.plan.floors[0];
  if (ed.selected && !findSelected()) ed.selected = null;
  ed.rev += 1;
  fillFloors();
  $("#ed-name").value = ed.plan.name;
  renderProps();
  draw();
  syncUndoButtons();
}

function undo() {
  if (ed.draft.length) {
    ed.draft.pop();
    draw();
    return;
  }
  if (!ed.undo.length) return say("Nothing to undo.");
  ed.redo.push(snapshot());
  restore(ed.undo.pop());
  say("Undone.");
}

function redo() {
  if (!ed.redo.length) return say("Nothing to redo.");
  ed.undo.push(snapshot());
  restore(ed.redo.pop());
  say("Redone.");
}

function syncUndoButtons() {
  $("#ed-undo").disabled = !ed.undo.length && !ed.draft.length;
  $("#ed-redo").disabled = !ed.redo.length;
}

function newId(prefix) {
  const id = `${prefix}${ed.plan.next}`;
  ed.plan.next += 1;
  return id;
}

function say(text) {
  $("#ed-message").textContent = text;
}

function findSelected() {
  const sel = ed.selected;
  if (!sel) return null;
  const list = sel.type === "space" ? ed.plan.spaces : sel.type === "door" ? ed.plan.doors : ed.plan.stairs;
  return list.find((x) => x.id === sel.id) || null;
}

function select(type, id) {
  ed.selected = type ? { type, id } : null;
  renderProps();
  draw();
}

// ---------------------------------------------------------------------------------------------- tools

function setTool(tool) {
  if (ed.draft.length && tool !== "room") ed.draft = [];
  ed.measure = [];
  ed.tool = tool;
  document.querySelectorAll(".ed-tools [data-tool]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.tool === tool)));
  const hints = {
    select: "Select: click a room, door, exit or stair to edit it; drag a corner of the selected room to move it; drag elsewhere to pan.",
    room: "Room: click each corner; click the first corner again (or press Enter) to close it. Corners snap to corners and walls nearby.",
    door: "Door: click on the wall two rooms share (a door joins the rooms within 0.6 m of it).",
    exit: "Exit: click on an outer wall of a room on the ground floor (a door to the outside).",
    stair: "Stair: click inside the room where it starts; it links this floor to the floor above (change that when selected).",
    scale: "Scale: click both ends of a length you know (a wall, a scale bar), then type its length in metres.",
  };
  say(hints[tool]);
  draw();
  syncUndoButtons();
}

function closeDraft() {
  if (ed.draft.length < 3) return say("A room needs at least 3 corners.");
  if (area(ed.draft) * ed.plan.scale ** 2 < 0.05) return say("This outline has no area: click corners around the room.");
  remember();
  const n = ed.plan.spaces.filter((s) => s.floor === ed.floor).length + 1;
  const space = {
    id: newId("s"), name: `Room ${ed.floor}.${String(n).padStart(2, "0")}`, kind: "", floor: ed.floor, pts: ed.draft,
    capacity: null, lockable: null, door_window: null, hard_corner: null,
  };
  ed.plan.spaces.push(space);
  ed.draft = [];
  select("space", space.id);
  say(`${space.name} drawn (${area(space.pts) * ed.plan.scale ** 2 >= 10 ? Math.round(area(space.pts) * ed.plan.scale ** 2) : (area(space.pts) * ed.plan.scale ** 2).toFixed(1)} m²). Name it on the right; R draws the next room.`);
  syncUndoButtons();
}

function clickAt(p) {
  const t = ed.tool;
  if (t === "room") {
    const q = snap(p);
    if (ed.draft.length >= 3 && dist(toScreen(q), toScreen(ed.draft[0])) <= SNAP_PX) return closeDraft();
    const last = ed.draft[ed.draft.length - 1];
    if (last && dist(toScreen(q), toScreen(last)) < 2) return; // the second click of a double click
    ed.draft.push(q);
    syncUndoButtons();
    return draw();
  }
  if (t === "door" || t === "exit") {
    const q = nearestWall(p);
    if (!q) return say(t === "door" ? "Click on a wall that two rooms share." : "Click on an outer wall of a room.");
    const rooms = roomsAt(q, ed.floor);
    remember();
    const isExit = t === "exit";
    const n = ed.plan.doors.filter((d) => d.exit === isExit).length + 1;
    const door = { id: newId("d"), floor: ed.floor, p: q, exit: isExit, name: isExit ? `Exit ${n}` : `Door ${n}`, principal: false };
    ed.plan.doors.push(door);
    select("door", door.id);
    const names = rooms.map((s) => s.name).join(" and ");
    if (isExit) say(rooms.length === 1 ? `Exit from ${names}.` : `This exit touches ${rooms.length} rooms (${names || "none"}): an exit must touch exactly one.`);
    else say(rooms.length >= 2 ? `Door between ${rooms[0].name} and ${rooms[1].name}.` : `This door touches ${names || "no room"} only: put it on a wall two rooms share.`);
    return;
  }
  if (t === "stair") {
    const room = floorSpaces().find((s) => inside(p, s.pts));
    if (!room) return say("Click inside the room (a stairwell or corridor) where the stair starts.");
    remember();
    const up = ed.plan.floors.find((f) => f > ed.floor);
    const stair = { id: newId("t"), floor: ed.floor, to: up ?? ed.floor + 1, p, name: `Stair ${ed.plan.stairs.length + 1}` };
    ed.plan.stairs.push(stair);
    if (!ed.plan.floors.includes(stair.to)) {
      ed.plan.floors.push(stair.to);
      ed.plan.floors.sort((a, b) => a - b);
      fillFloors();
    }
    select("stair", stair.id);
    return say(`Stair from floor ${stair.floor} to floor ${stair.to}: on floor ${stair.to} it must stand inside a room too.`);
  }
  if (t === "scale") {
    ed.measure.push(snap(p));
    if (ed.measure.length === 2) {
      if (dist(ed.measure[0], ed.measure[1]) < pxToUnits(5)) {
        ed.measure = [ed.measure[0]];
        return say("Click the other end of the length, further away.");
      }
      renderProps();
      say("Type the length of this line in metres (on the right) and press Set scale.");
      const input = $("#ed-scale-m");
      if (input) input.focus();
    } else if (ed.measure.length > 2) {
      ed.measure = [ed.measure[2]];
    }
    return draw();
  }
  // select: doors and stairs first (small), then rooms (the smallest containing the point)
  const tol = pxToUnits(10);
  const door = ed.plan.doors.find((d) => d.floor === ed.floor && dist(d.p, p) <= tol);
  if (door) return select("door", door.id);
  const stair = ed.plan.stairs.find((s) => (s.floor === ed.floor || s.to === ed.floor) && dist(s.p, p) <= tol);
  if (stair) return select("stair", stair.id);
  const rooms = floorSpaces().filter((s) => inside(p, s.pts)).sort((a, b) => area(a.pts) - area(b.pts));
  select(rooms.length ? "space" : null, rooms[0]?.id);
}

function setScale(lengthM) {
  if (ed.measure.length !== 2) return say("Draw the line first: click both ends of a length you know.");
  if (!(lengthM > 0 && lengthM < 100000)) return say("Type a length in metres greater than 0.");
  remember();
  ed.plan.scale = lengthM / dist(ed.measure[0], ed.measure[1]);
  ed.plan.scaleSet = true;
  ed.plan.scaleFrom = "line";
  ed.measure = [];
  renderProps();
  draw();
  say(`Scale set: ${(1 / ed.plan.scale).toFixed(1)} plan pixels a metre. Now draw the rooms (R).`);
}

function deleteSelected() {
  const sel = ed.selected;
  if (!sel) return;
  remember();
  if (sel.type === "space") ed.plan.spaces = ed.plan.spaces.filter((s) => s.id !== sel.id);
  if (sel.type === "door") ed.plan.doors = ed.plan.doors.filter((d) => d.id !== sel.id);
  if (sel.type === "stair") ed.plan.stairs = ed.plan.stairs.filter((s) => s.id !== sel.id);
  select(null);
  say("Deleted (Ctrl+Z brings it back).");
}

// ---------------------------------------------------------------------------------------------- floors

function floorName(f) {
  return f === 1 ? "Floor 1 (ground)" : f < 1 ? `Floor ${f} (below ground)` : `Floor ${f}`;
}

function fillFloors() {
  const sel = $("#ed-floor");
  sel.innerHTML = ed.plan.floors.map((f) => `<option value="${f}">${esc(floorName(f))}</option>`).join("");
  sel.value = String(ed.floor);
}

function setFloor(f) {
  if (!ed.plan.floors.includes(f)) return;
  ed.floor = f;
  ed.draft = [];
  ed.measure = [];
  if (ed.selected && findSelected()?.floor !== f) ed.selected = null;
  $("#ed-floor").value = String(f);
  renderProps();
  draw();
  say(`${floorName(f)}.`);
}

function addFloor() {
  remember();
  const f = Math.max(...ed.plan.floors) + 1;
  ed.plan.floors.push(f);
  fillFloors();
  setFloor(f);
  say(`${floorName(f)} added: draw its rooms, and a stair on the floor below that ends inside one of them.`);
}

// ---------------------------------------------------------------------------------------------- properties

function triSelect(id, label, value, why) {
  const v = value === true ? "yes" : value === false ? "no" : "";
  return `<div class="field"><label for="${id}">${esc(label)}</label><select id="${id}">` +
    `<option value=""${v === "" ? " selected" : ""}>${esc(why)}</option>` +
    `<option value="yes"${v === "yes" ? " selected" : ""}>yes</option>` +
    `<option value="no"${v === "no" ? " selected" : ""}>no</option></select></div>`;
}

function renderProps() {
  const box = $("#ed-props");
  if (ed.tool === "scale" && ed.measure.length === 2) {
    const px = dist(ed.measure[0], ed.measure[1]);
    box.innerHTML = `<p>The line is ${px.toFixed(0)} plan pixels long.</p>` +
      `<div class="field"><label for="ed-scale-m">Its length in metres</label>` +
      `<input id="ed-scale-m" type="number" min="0.01" step="any" inputmode="decimal"></div>` +
      `<button type="button" id="ed-scale-set" class="primary">Set scale</button>`;
    const apply = () => setScale(Number($("#ed-scale-m").value));
    $("#ed-scale-set").addEventListener("click", apply);
    $("#ed-scale-m").addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); apply(); } });
    return;
  }
  const item = findSelected();
  const perMetre = `${(1 / ed.plan.scale).toFixed(1)} plan pixels a metre`;
  const scaleText = !ed.plan.scaleSet ? "not set (1 m = 20 plan pixels): press L to set it from a known length"
    : ed.plan.scaleFrom === "file" ? `in metres, from the building file (${perMetre})` : `${perMetre} (set)`;
  const scaleLine = `<p class="hint scale-line">Scale: ${scaleText}.</p>`;
  if (!item) {
    box.innerHTML = `<p class="hint">Nothing selected. Draw a room (R), or click one with Select (V).</p>${scaleLine}`;
    return;
  }
  if (ed.selected.type === "space") {
    const m2 = area(item.pts) * ed.plan.scale ** 2;
    box.innerHTML =
      `<div class="field"><label for="ed-p-name">Name</label><input id="ed-p-name" type="text" maxlength="80" value="${esc(item.name)}"></div>` +
      `<div class="field"><label for="ed-p-kind">Kind</label><select id="ed-p-kind"><option value="">from the name</option>` +
      KINDS.map((k) => `<option value="${k}"${item.kind === k ? " selected" : ""}>${k.replace("_", " ")}</option>`).join("") + `</select></div>` +
      `<div class="field"><label for="ed-p-cap">Capacity (people; empty = from the area)</label>` +
      `<input id="ed-p-cap" type="number" min="0" step="1" value="${item.capacity ?? ""}"></div>` +
      triSelect("ed-p-lock", "Lockable from inside", item.lockable, "from the kind") +
      triSelect("ed-p-window", "Door window", item.door_window, "as lockable") +
      triSelect("ed-p-corner", "Hard corner (out of sight of the door)", item.hard_corner, "lockable and 10 m² or more") +
      `<p class="hint">${floorName(item.floor)} · ${m2.toFixed(1)} m² · ${item.pts.length} corners. Delete removes it.</p>`;
    bindProp("#ed-p-name", "input", (v) => { item.name = v.slice(0, 80); });
    bindProp("#ed-p-kind", "change", (v) => { item.kind = v; });
    bindProp("#ed-p-cap", "change", (v) => { item.capacity = v === "" ? null : Math.max(0, Math.round(Number(v))); });
    const tri = (v) => (v === "yes" ? true : v === "no" ? false : null);
    bindProp("#ed-p-lock", "change", (v) => { item.lockable = tri(v); });
    bindProp("#ed-p-window", "change", (v) => { item.door_window = tri(v); });
    bindProp("#ed-p-corner", "change", (v) => { item.hard_corner = tri(v); });
    return;
  }
  if (ed.selected.type === "door") {
    const rooms = roomsAt(item.p, item.floor).map((s) => s.name);
    const joins = item.exit
      ? rooms.length === 1 ? `An exit from ${rooms[0]}.` : `Touches ${rooms.length} rooms (${rooms.join(", ") || "none"}): an exit must touch exactly one.`
      : rooms.length >= 2 ? `Joins ${rooms[0]} and ${rooms[1]}.` : `Touches ${rooms.join(", ") || "no room"} only: a door needs a room on each side.`;
    box.innerHTML =
      `<div class="field"><label for="ed-p-name">Name</label><input id="ed-p-name" type="text" maxlength="80" value="${esc(item.name)}"></div>` +
      `<div class="check"><input id="ed-p-exit" type="checkbox"${item.exit ? " checked" : ""}><label for="ed-p-exit">An exit (a door to the outside)</label></div>` +
      (item.exit ? `<div class="check"><input id="ed-p-main" type="checkbox"${item.principal ? " checked" : ""}><label for="ed-p-main">Main entrance (where the attacker and officers come in)</label></div>` : "") +
      `<p class="hint">${esc(joins)} Delete removes it.</p>`;
    bindProp("#ed-p-name", "input", (v) => { item.name = v.slice(0, 80); });
    bindProp("#ed-p-exit", "change", (_v, el) => { item.exit = el.checked; renderProps(); });
    if (item.exit) bindProp("#ed-p-main", "change", (_v, el) => {
      ed.plan.doors.forEach((d) => { d.principal = false; });
      item.principal = el.checked;
    });
    return;
  }
  const floors = ed.plan.floors.filter((f) => f !== item.floor);
  box.innerHTML =
    `<p>Stair from ${esc(floorName(item.floor))}</p>` +
    `<div class="field"><label for="ed-p-to">to</label><select id="ed-p-to">` +
    floors.map((f) => `<option value="${f}"${f === item.to ? " selected" : ""}>${esc(floorName(f))}</option>`).join("") + `</select></div>` +
    `<p class="hint">It links the room containing it on each floor it serves. Delete removes it.</p>`;
  bindProp("#ed-p-to", "change", (v) => { item.to = Number(v); });
}

/** Apply a property edit on `event` ("input": typing, one undo step per visit of the field; "change":
 * one undo step per change). */
function bindProp(sel, event, apply) {
  const el = $(sel);
  let before = null, pushed = false; // the plan when the field got focus; remembered at the first edit
  el.addEventListener("focus", () => { before = snapshot(); pushed = false; });
  el.addEventListener("blur", () => { before = null; });
  el.addEventListener(event, () => {
    const b = before ?? snapshot();
    apply(el.value, el);
    if (event === "input" && pushed) ed.rev += 1;
    else {
      remember(b);
      pushed = true;
      if (event !== "input") before = snapshot();
    }
    draw();
  });
}

// ---------------------------------------------------------------------------------------------- drawing

function resize() {
  const c = ed.canvas;
  const dpr = window.devicePixelRatio || 1;
  const w = c.clientWidth, h = c.clientHeight;
  if (!w || !h) return;
  if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
    c.width = Math.round(w * dpr);
    c.height = Math.round(h * dpr);
  }
  draw();
}

function draw() {
  const c = ed.canvas, ctx = ed.ctx;
  if (!c || !c.width) return;
  const dpr = window.devicePixelRatio || 1;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, c.width, c.height);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const w = c.width / dpr, h = c.height / dpr;
  ctx.fillStyle = "#fbfbfc";
  ctx.fillRect(0, 0, w, h);
  const bd = ed.backdrops.get(ed.floor);
  if (bd) {
    const [x, y] = toScreen([0, 0]);
    ctx.globalAlpha = 0.75;
    ctx.drawImage(bd.img, x, y, bd.img.naturalWidth * ed.view.zoom, bd.img.naturalHeight * ed.view.zoom);
    ctx.globalAlpha = 1;
  } else {
    drawGrid(w, h);
  }
  // the floor below, faintly: where the rooms above should sit
  const below = ed.plan.floors.filter((f) => f < ed.floor).pop();
  if (below !== undefined) {
    ctx.setLineDash([4, 4]);
    ctx.strokeStyle = "#9aa3ad";
    ctx.lineWidth = 1;
    for (const s of floorSpaces(below)) {
      path(s.pts);
      ctx.stroke();
    }
    ctx.setLineDash([]);
  }
  const sel = ed.selected;
  for (const s of floorSpaces()) {
    path(s.pts);
    ctx.fillStyle = FILL[s.kind] || FILL[""];
    ctx.globalAlpha = bd ? 0.55 : 1;
    ctx.fill();
    ctx.globalAlpha = 1;
    const on = sel?.type === "space" && sel.id === s.id;
    ctx.strokeStyle = on ? "#d97706" : "#374151";
    ctx.lineWidth = on ? 3 : 1.5;
    ctx.stroke();
    if (on) for (const q of s.pts) dot(q, 4, "#d97706");
  }
  drawGraph();
  ctx.font = "13px system-ui, sans-serif";
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  roomLabels(sel);
  for (const st of ed.plan.stairs) {
    if (st.floor !== ed.floor && st.to !== ed.floor) continue;
    const [x, y] = toScreen(st.p);
    const on = sel?.type === "stair" && sel.id === st.id;
    ctx.beginPath();
    ctx.moveTo(x, y - 9);
    ctx.lineTo(x + 8, y + 6);
    ctx.lineTo(x - 8, y + 6);
    ctx.closePath();
    ctx.fillStyle = st.floor === ed.floor ? "#c2410c" : "#fdba74";
    ctx.fill();
    ctx.strokeStyle = on ? "#111827" : "#7c2d12";
    ctx.lineWidth = on ? 3 : 1;
    ctx.stroke();
    ctx.font = "11px system-ui, sans-serif";
    label(st.floor === ed.floor ? `to ${st.to}` : `from ${st.floor}`, x, y + 16, "#7c2d12");
  }
  for (const d of ed.plan.doors) {
    if (d.floor !== ed.floor) continue;
    const [x, y] = toScreen(d.p);
    const on = sel?.type === "door" && sel.id === d.id;
    ctx.beginPath();
    if (d.exit) ctx.rect(x - 7, y - 7, 14, 14);
    else ctx.arc(x, y, 6, 0, 2 * Math.PI);
    ctx.fillStyle = d.exit ? "#15803d" : "#1d4ed8";
    ctx.fill();
    ctx.strokeStyle = on ? "#d97706" : "#fff";
    ctx.lineWidth = on ? 3 : 1.5;
    ctx.stroke();
    if (d.exit) {
      ctx.font = "bold 11px system-ui, sans-serif";
      label(d.principal ? "MAIN EXIT" : "EXIT", x, y - 15, "#14532d");
    }
  }
  // the room being drawn, the scale line, the snapped pointer
  if (ed.draft.length) {
    ctx.beginPath();
    ed.draft.forEach((q, i) => { const [x, y] = toScreen(q); if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y); });
    if (ed.hover) ctx.lineTo(...toScreen(ed.hover));
    ctx.strokeStyle = "#d97706";
    ctx.lineWidth = 2;
    ctx.stroke();
    ed.draft.forEach((q, i) => dot(q, i === 0 ? 6 : 3.5, "#d97706"));
  }
  if (ed.measure.length) {
    const a = ed.measure[0], b = ed.measure[1] || ed.hover || a;
    ctx.beginPath();
    ctx.moveTo(...toScreen(a));
    ctx.lineTo(...toScreen(b));
    ctx.strokeStyle = "#be185d";
    ctx.lineWidth = 3;
    ctx.stroke();
    dot(a, 4, "#be185d");
    dot(b, 4, "#be185d");
  }
  if (ed.hover && ed.tool !== "select") dot(ed.hover, 3, "#111827");
  scaleBar(w, h);
  c.dataset.view = `${ed.view.ox},${ed.view.oy},${ed.view.zoom}`; // screen = (unit - o) * zoom (for tests)
}

function drawGrid(w, h) {
  const ctx = ed.ctx;
  const m = 1 / ed.plan.scale; // units per metre
  const step = m * ed.view.zoom < 8 ? m * 5 : m;
  const [x0, y0] = toUnits([0, 0]), [x1, y1] = toUnits([w, h]);
  ctx.lineWidth = 1;
  for (let gx = Math.floor(x0 / step) * step; gx <= x1; gx += step) {
    const big = Math.round(gx / m) % 5 === 0;
    ctx.strokeStyle = big ? "#d5dae1" : "#eceef2";
    const [sx] = toScreen([gx, 0]);
    ctx.beginPath(); ctx.moveTo(sx, 0); ctx.lineTo(sx, h); ctx.stroke();
  }
  for (let gy = Math.floor(y0 / step) * step; gy <= y1; gy += step) {
    const big = Math.round(gy / m) % 5 === 0;
    ctx.strokeStyle = big ? "#d5dae1" : "#eceef2";
    const [, sy] = toScreen([0, gy]);
    ctx.beginPath(); ctx.moveTo(0, sy); ctx.lineTo(w, sy); ctx.stroke();
  }
}

function drawGraph() {
  const g = ed.graph;
  if (!g || g.rev !== ed.rev) return;
  const ctx = ed.ctx;
  const at = new Map(g.spaces.map((s) => [s.id, s]));
  ctx.setLineDash([6, 4]);
  ctx.strokeStyle = "#0b4f8a";
  ctx.lineWidth = 2;
  for (const e of g.edges) {
    const a = at.get(e.a), b = at.get(e.b);
    if (!a || !b || (a.floor !== ed.floor && b.floor !== ed.floor)) continue;
    if (a.floor !== b.floor) continue;
    ctx.beginPath();
    ctx.moveTo(...toScreen([a.x / ed.plan.scale, -a.y / ed.plan.scale]));
    ctx.lineTo(...toScreen([b.x / ed.plan.scale, -b.y / ed.plan.scale]));
    ctx.stroke();
  }
  ctx.setLineDash([]);
  for (const s of g.spaces) {
    if (s.floor !== ed.floor) continue;
    dot([s.x / ed.plan.scale, -s.y / ed.plan.scale], s.kind === "exit" ? 5 : 3, s.kind === "exit" ? "#15803d" : "#0b4f8a");
  }
}

function scaleBar(w, h) {
  const ctx = ed.ctx;
  const pxPerM = ed.view.zoom / ed.plan.scale;
  const nice = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500].find((m) => m * pxPerM >= 60) ?? 1000;
  const len = nice * pxPerM;
  const x = 12, y = h - 14;
  ctx.fillStyle = "rgba(255,255,255,0.85)";
  ctx.fillRect(x - 6, y - 18, len + 70, 28);
  ctx.strokeStyle = "#111827";
  ctx.lineWidth = 2;
  ctx.beginPath(); ctx.moveTo(x, y - 5); ctx.lineTo(x, y); ctx.lineTo(x + len, y); ctx.lineTo(x + len, y - 5); ctx.stroke();
  ctx.font = "12px system-ui, sans-serif";
  ctx.textAlign = "left";
  ctx.fillStyle = "#111827";
  ctx.fillText(`${nice} m${ed.plan.scaleSet ? "" : " (scale not set)"}`, x + len + 6, y - 3);
  void w;
}

function path(pts) {
  const ctx = ed.ctx;
  ctx.beginPath();
  pts.forEach((q, i) => { const [x, y] = toScreen(q); if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y); });
  ctx.closePath();
}

/** Each room's name at its centre if it fits inside the room and clear of the names already drawn (the
 * selected room first), else its last word ("Room 209" -> "209"), else none: names never pile on each
 * other ("Buero mBuero m..." on a real building). The boxes drawn are kept for tests (editorLabels). */
function roomLabels(sel) {
  const ctx = ed.ctx;
  const drawn = [];
  const spaces = [...floorSpaces()].sort((a, b) => (b.id === sel?.id) - (a.id === sel?.id) || area(b.pts) - area(a.pts));
  for (const s of spaces) {
    const [x, y] = toScreen(centroid(s.pts));
    const xs = s.pts.map((q) => toScreen(q)[0]);
    const room = Math.max(...xs) - Math.min(...xs);
    const words = String(s.name ?? "");
    for (const text of [words, words.split(" ").at(-1)]) {
      const w = ctx.measureText(text).width + 4;
      const box = { x: x - w / 2, y: y - 9, w, h: 18 };
      const clear = !drawn.some((b) => b.x < box.x + box.w && box.x < b.x + b.w && b.y < box.y + box.h && box.y < b.y + b.h);
      if (text && (w <= room || s.id === sel?.id) && clear) {
        label(text, x, y, "#111827");
        drawn.push({ ...box, id: s.id, text });
        break;
      }
    }
  }
  ed.canvas.editorLabels = () => drawn.map((b) => ({ ...b }));
}

function dot(q, r, colour) {
  const ctx = ed.ctx;
  const [x, y] = toScreen(q);
  ctx.beginPath();
  ctx.arc(x, y, r, 0, 2 * Math.PI);
  ctx.fillStyle = colour;
  ctx.fill();
}

function label(text, x, y, colour) {
  const ctx = ed.ctx;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  ctx.lineWidth = 3;
  ctx.strokeStyle = "rgba(255,255,255,0.9)";
  ctx.strokeText(text, x, y);
  ctx.fillStyle = colour;
  ctx.fillText(text, x, y);
}

/** Fit the view to the floor's rooms, else its plan image, else a 30 m square. */
function fit() {
  const c = ed.canvas;
  const w = c.clientWidth || 800, h = c.clientHeight || 500;
  let pts = ed.plan.spaces.flatMap((s) => s.pts);
  const bd = ed.backdrops.get(ed.floor);
  if (bd) pts = pts.concat([[0, 0], [bd.img.naturalWidth, bd.img.naturalHeight]]);
  if (!pts.length) pts = [[0, 0], [30 / ed.plan.scale, 20 / ed.plan.scale]];
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const zoom = Math.min((w - 60) / Math.max(1, x1 - x0), (h - 60) / Math.max(1, y1 - y0));
  ed.view.zoom = Math.max(0.02, Math.min(20, zoom));
  ed.view.ox = x0 - (w / ed.view.zoom - (x1 - x0)) / 2;
  ed.view.oy = y0 - (h / ed.view.zoom - (y1 - y0)) / 2;
  draw();
}

function zoomAt(factor, sx, sy) {
  const before = toUnits([sx, sy]);
  ed.view.zoom = Math.max(0.02, Math.min(40, ed.view.zoom * factor));
  ed.view.ox = before[0] - sx / ed.view.zoom;
  ed.view.oy = before[1] - sy / ed.view.zoom;
  draw();
}

// ---------------------------------------------------------------------------------------------- pointer

function pointer(ev) {
  const r = ed.canvas.getBoundingClientRect();
  return [ev.clientX - r.left, ev.clientY - r.top];
}

function onPointerDown(ev) {
  if (ev.button !== 0 && ev.button !== 1) return;
  ed.canvas.focus();
  const s = pointer(ev);
  ed.drag = { start: s, last: s, moved: false, corner: null, marker: null };
  const item = findSelected();
  if (ed.tool === "select" && ed.selected?.type === "space" && item) {
    const k = item.pts.findIndex((q) => dist(toScreen(q), s) <= 8);
    if (k >= 0) ed.drag.corner = { item, k, before: snapshot() };
  }
  if (ed.tool === "select" && (ed.selected?.type === "door" || ed.selected?.type === "stair") && item && dist(toScreen(item.p), s) <= 10) {
    ed.drag.marker = { item, before: snapshot() };
  }
  ed.canvas.setPointerCapture?.(ev.pointerId);
}

function onPointerMove(ev) {
  const s = pointer(ev);
  const p = toUnits(s);
  const d = ed.drag;
  if (d) {
    if (!d.moved && dist(s, d.start) > 4) d.moved = true;
    if (d.moved) {
      if (d.corner) {
        d.corner.item.pts[d.corner.k] = snapExcept(p, d.corner.item, d.corner.k);
      } else if (d.marker) {
        const it = d.marker.item;
        it.p = it.exit !== undefined ? nearestWall(p) || p : p;
      } else if (ev.buttons) {
        ed.view.ox -= (s[0] - d.last[0]) / ed.view.zoom;
        ed.view.oy -= (s[1] - d.last[1]) / ed.view.zoom;
      }
      d.last = s;
      draw();
      return;
    }
  }
  if (ed.tool === "room" || ed.tool === "scale") ed.hover = snap(p);
  else if (ed.tool === "door" || ed.tool === "exit") ed.hover = nearestWall(p);
  else if (ed.tool === "stair") ed.hover = p;
  else ed.hover = null;
  if (ed.tool !== "select") draw();
}

function snapExcept(p, item, k) {
  const saved = item.pts;
  item.pts = saved.filter((_, i) => i !== k);
  const q = item.pts.length >= 2 ? snap(p) : p;
  item.pts = saved;
  return q;
}

function onPointerUp(ev) {
  const d = ed.drag;
  ed.drag = null;
  if (!d) return;
  const s = pointer(ev);
  if (d.moved) {
    const moved = d.corner || d.marker;
    if (moved) {
      remember(moved.before);
      renderProps();
      draw();
    }
    return;
  }
  clickAt(toUnits(s));
}

/** Ctrl + wheel (a pinch on a touchpad sends the same) zooms the plan; the wheel alone scrolls the page. */
function onWheel(ev) {
  if (!ev.ctrlKey && !ev.metaKey) return;
  ev.preventDefault();
  const [sx, sy] = pointer(ev);
  zoomAt(ev.deltaY < 0 ? 1.15 : 1 / 1.15, sx, sy);
}

// ---------------------------------------------------------------------------------------------- keys

function onKey(ev) {
  if ($("#panel-editor").hidden) return;
  const tag = ev.target?.tagName;
  const typing = tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA";
  const mod = ev.ctrlKey || ev.metaKey;
  const key = ev.key;
  if (mod && !typing && (key === "z" || key === "Z")) {
    ev.preventDefault();
    if (ev.shiftKey) redo(); else undo();
    return;
  }
  if (mod && !typing && (key === "y" || key === "Y")) {
    ev.preventDefault();
    redo();
    return;
  }
  if (typing || mod || ev.altKey) return;
  const tools = { v: "select", r: "room", d: "door", e: "exit", s: "stair", l: "scale" };
  const k = key.length === 1 ? key.toLowerCase() : key;
  if (tools[k]) {
    ev.preventDefault();
    setTool(tools[k]);
  } else if (key === "Enter" && ed.tool === "room" && ed.draft.length) {
    ev.preventDefault();
    closeDraft();
  } else if (key === "Escape") {
    if (ed.draft.length || ed.measure.length) {
      ed.draft = [];
      ed.measure = [];
      say("Drawing stopped.");
      renderProps();
      draw();
    } else select(null);
  } else if (key === "Backspace" && ed.draft.length) {
    ev.preventDefault();
    ed.draft.pop();
    draw();
  } else if ((key === "Delete" || key === "Backspace") && ed.selected) {
    ev.preventDefault();
    deleteSelected();
  } else if (key === "PageUp" || key === "PageDown") {
    ev.preventDefault();
    const i = ed.plan.floors.indexOf(ed.floor) + (key === "PageUp" ? 1 : -1);
    if (i >= 0 && i < ed.plan.floors.length) setFloor(ed.plan.floors[i]);
  } else if (key === "+" || key === "=" || key === "-") {
    const c = ed.canvas;
    zoomAt(key === "-" ? 1 / 1.25 : 1.25, c.clientWidth / 2, c.clientHeight / 2);
  } else if (key === "0") {
    fit();
  }
}

// ---------------------------------------------------------------------------------------------- files

/** The first page of a PDF drawn by the server: {blob, pages, widthPt, heightPt}; throws with its message. */
async function pdfPage(file) {
  let resp;
  try {
    resp = await fetch("/api/buildings/pdf-page", {
      method: "POST",
      headers: { "Content-Type": "application/pdf", Accept: "image/png" },
      body: file,
    });
  } catch (err) {
    throw new Error(`Cannot reach the simulator server (${err.message}). Is "responsesim serve" running?`);
  }
  if (!resp.ok) {
    const type = resp.headers.get("content-type") || "";
    const body = type.includes("application/json") ? await resp.json().catch(() => null) : null;
    throw new Error(body?.error ? String(body.error) : `The server answered ${resp.status} ${resp.statusText}.`);
  }
  return {
    blob: await resp.blob(),
    pages: Number(resp.headers.get("X-Pdf-Pages")) || 1,
    widthPt: Number(resp.headers.get("X-Pdf-Page-Width-Pt")),
    heightPt: Number(resp.headers.get("X-Pdf-Page-Height-Pt")),
  };
}

async function onBackdrop(ev) {
  const file = ev.target.files?.[0];
  if (!file) return;
  const name = file.name.toLowerCase();
  const floor = ed.floor;
  const isPdf = file.type === "application/pdf" || name.endsWith(".pdf");
  if (!isPdf && !/^image\/(png|jpeg)$/.test(file.type) && !/\.(png|jpe?g)$/.test(name)) {
    ev.target.value = "";
    showError("Pick a PNG or JPEG image of the plan, or a PDF (its first page is used).");
    return;
  }
  showError(null);
  let blob = file;
  let what = "Plan image";
  if (isPdf) {
    const most = ed.limits?.max_upload_bytes ?? 1048576;
    ev.target.value = "";
    if (file.size > most) {
      showError(`${file.name} is ${(file.size / 1048576).toFixed(1)} MB; this server reads PDFs of at most ` +
        `${(most / 1048576).toFixed(1)} MB (its --max-upload-bytes). Export the plan's page as a PNG or JPEG and pick that, ` +
        "or start the server with a larger --max-upload-bytes.", "Cannot use this PDF:");
      return;
    }
    $("#ed-status").textContent = `Drawing the first page of ${file.name}…`;
    try {
      const got = await pdfPage(file);
      blob = got.blob;
      const cm = (pt) => (pt / 72 * 2.54).toFixed(1);
      what = `PDF page 1 of ${got.pages}`;
      $("#ed-status").textContent = `${file.name}: PDF page 1 of ${got.pages} (${cm(got.widthPt)} × ${cm(got.heightPt)} cm) ` +
        `under ${floorName(floor)}${got.pages > 1 ? "; only the first page is used" : ""}.`;
    } catch (err) {
      $("#ed-status").textContent = "";
      showError(err.message || String(err), "Cannot use this PDF:");
      return;
    }
  }
  const url = URL.createObjectURL(blob);
  const img = new Image();
  img.addEventListener("load", () => {
    const old = ed.backdrops.get(floor);
    if (old) URL.revokeObjectURL(old.url);
    ed.backdrops.set(floor, { img, url });
    if (floor !== ed.floor) return draw();
    fit();
    say(`${what} for ${floorName(floor)}: ${img.naturalWidth} × ${img.naturalHeight} px, ` +
      (isPdf ? "drawn by the server and kept in this browser only. " : "kept in this browser only. ") +
      (ed.plan.scaleSet ? "Draw the rooms on it (R)." : "Now set the scale (L): click both ends of a length you know."));
  });
  img.addEventListener("error", () => {
    URL.revokeObjectURL(url);
    showError(isPdf ? "The page drawn from this PDF could not be shown." : "This image could not be read: pick a PNG or JPEG file.");
  });
  img.src = url;
}

async function onOpen(ev) {
  const file = ev.target.files?.[0];
  ev.target.value = "";
  if (!file) return;
  showError(null);
  try {
    if (file.size > (ed.limits?.max_upload_bytes ?? 1048576)) throw new Error(`${file.name} is larger than this server accepts (${ed.limits?.max_upload_bytes ?? 1048576} bytes).`);
    const text = await file.text();
    const got = await postJSON("/api/buildings/read", { text, filename: file.name });
    remember();
    loadPlan(got, file.name);
  } catch (err) {
    showError(err.message || String(err), "Cannot open this building file:");
  }
}

function loadPlan(got, filename) {
  const own = got.editor;
  if (own && own.v === 1 && Array.isArray(own.spaces)) {
    ed.plan = { ...emptyPlan(), ...own };
    delete ed.plan.v;
    say(`Opened ${filename} (saved by this editor): ${ed.plan.spaces.length} rooms, ${ed.plan.doors.length} doors and exits, ${ed.plan.stairs.length} stairs.`);
  } else {
    // a building file is in metres: its scale is known (was: "Scale: not set" on a metric building)
    const scale = ed.plan.scaleSet ? ed.plan.scale : DEFAULT_SCALE;
    const u = ([x, y]) => [x / scale, -y / scale];
    const plan = { ...emptyPlan(), name: got.name || "building", scale, scaleSet: true, scaleFrom: "file" };
    plan.spaces = got.spaces.map((s) => ({
      id: `s${plan.next++}`, name: s.name, kind: s.kind, floor: s.floor, pts: s.polygon.map(u), capacity: s.capacity,
      lockable: s.lockable, door_window: s.door_window, hard_corner: s.hard_corner,
    }));
    let nd = 0, ne = 0;
    plan.doors = got.doors.map((d) => ({
      id: `d${plan.next++}`, floor: d.floor, p: u(d.point), exit: d.exit, principal: Boolean(d.principal),
      name: d.exit ? `Exit ${++ne}` : `Door ${++nd}`,
    }));
    plan.stairs = got.stairs.map((t, i) => ({ id: `t${plan.next++}`, floor: t.floors[0], to: t.floors[t.floors.length - 1], p: u(t.point), name: `Stair ${i + 1}` }));
    plan.floors = [...new Set([1, ...plan.spaces.map((s) => s.floor)])].sort((a, b) => a - b);
    if (!plan.spaces.some((s) => s.floor === 1) && plan.spaces.length) plan.floors = plan.floors.filter((f) => f !== 1);
    ed.plan = plan;
    const notes = got.notes?.length ? ` Note: ${got.notes.join("; ")}.` : "";
    say(`Opened ${filename}: ${plan.spaces.length} rooms, ${plan.doors.length} doors and exits, ${plan.stairs.length} stairs, placed from its graph.${notes}`);
  }
  ed.floor = ed.plan.floors.includes(1) ? 1 : ed.plan.floors[0];
  ed.selected = null;
  ed.rev += 1;
  $("#ed-name").value = ed.plan.name;
  fillFloors();
  renderProps();
  fit();
}

/** The plan as the server reads it: polygons and points in metres (y north). */
function planJSON() {
  const s = ed.plan.scale;
  const m = (p) => [Math.round(p[0] * s * 1000) / 1000, Math.round(-p[1] * s * 1000) / 1000];
  const editor = { v: 1, ...ed.plan };
  return {
    name: ed.plan.name,
    spaces: ed.plan.spaces.map((x) => ({
      name: x.name, kind: x.kind || null, floor: x.floor, polygon: x.pts.map(m), capacity: x.capacity,
      lockable: x.lockable, door_window: x.door_window, hard_corner: x.hard_corner,
    })),
    doors: ed.plan.doors.map((d) => ({ name: d.name, floor: d.floor, point: m(d.p), exit: d.exit, principal: d.principal })),
    stairs: ed.plan.stairs.map((t) => ({ name: t.name, floors: [t.floor, t.to], point: m(t.p) })),
    editor,
  };
}

function showError(msg, title = "") {
  const el = $("#ed-error");
  if (!msg) {
    el.hidden = true;
    el.textContent = "";
    return;
  }
  el.innerHTML = (title ? `<strong>${esc(title)}</strong>` : "") + esc(msg);
  el.hidden = false;
}

function showWarnings(list) {
  const el = $("#ed-warnings");
  el.hidden = !list?.length;
  el.innerHTML = list?.length ? `<strong>Check these:</strong><ul>${list.map((w) => `<li>${esc(w)}</li>`).join("")}</ul>` : "";
}

/** Validate on the server; the graph (drawn over the plan) or null after showing the error. */
async function check() {
  showError(null);
  showWarnings(null);
  $("#ed-status").textContent = ""; // the answer below replaces it (tests wait for it)
  const rev = ed.rev;
  try {
    const g = await postJSON("/api/buildings/validate", planJSON());
    ed.graph = { ...g, rev };
    const c = g.counts;
    const entry = g.spaces.find((s) => s.id === g.default_entry);
    $("#ed-status").textContent = `The graph is connected: ${c.graph_spaces - c.exits} spaces, ${c.exits} exit(s), ` +
      `${c.edges} connections, ${c.occupants} people at the start; the attacker enters by ${entry?.name ?? g.default_entry}.`;
    showWarnings(g.warnings);
    draw();
    return g;
  } catch (err) {
    ed.graph = null;
    $("#ed-status").textContent = "";
    showError(err.message || String(err), "The building cannot be used yet:");
    draw();
    return null;
  }
}

function fileName() {
  const base = (ed.plan.name || "building").toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
  return `${base || "building"}.toml`;
}

async function save() {
  const g = await check();
  if (!g) return;
  const blob = new Blob([g.toml], { type: "application/toml" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = fileName();
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  say(`Saved ${a.download}: open it here again to edit it, or use it in a scenario with [building] file = "${a.download}".`);
}

async function useInRun() {
  if (ed.running) return;
  const reps = Number($("#ed-reps").value);
  const most = ed.limits?.max_replications ?? 20000;
  if (!Number.isInteger(reps) || reps < 1 || reps > most) {
    showError(`Replications: a whole number from 1 to ${most}.`);
    return;
  }
  const g = await check();
  if (!g) return;
  ed.running = true;
  $("#ed-run").disabled = true;
  try {
    const job = await api.startRun({ scenario_id: "default", building: g.toml, form: { replications: reps }, label: `your building: ${ed.plan.name}`.slice(0, 120) });
    $("#ed-status").textContent = `Running the default scenario on ${ed.plan.name}: 0 of ${job.replications} replications…`;
    const result = await followJob(job.job_id, (done, total) => {
      $("#ed-status").textContent = `Running the default scenario on ${ed.plan.name}: ${done} of ${total} replications…`;
    });
    if (result.status !== "done") throw new Error(result.error || `the run was ${result.status}`);
    $("#ed-status").textContent = `Done: the run is open in Results (tab Run a scenario), with a replay on your plan.`;
    location.hash = `#run=${encodeURIComponent(result.run_id)}`; // app.js opens it in Results
  } catch (err) {
    showError(err.message || String(err), "The run did not start or failed:");
  } finally {
    ed.running = false;
    $("#ed-run").disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------- start

/** Bind the editor tab (called once by app.js). */
export function initEditor() {
  ed.plan = emptyPlan();
  ed.canvas = $("#ed-canvas");
  ed.ctx = ed.canvas.getContext("2d");
  fillFloors();
  document.querySelectorAll(".ed-tools [data-tool]").forEach((b) => b.addEventListener("click", () => setTool(b.dataset.tool)));
  $("#ed-undo").addEventListener("click", undo);
  $("#ed-redo").addEventListener("click", redo);
  $("#ed-floor").addEventListener("change", (ev) => setFloor(Number(ev.target.value)));
  $("#ed-add-floor").addEventListener("click", addFloor);
  $("#ed-name").addEventListener("change", (ev) => {
    remember();
    ed.plan.name = ev.target.value.trim().slice(0, 80) || "My building";
  });
  $("#ed-backdrop").addEventListener("change", onBackdrop);
  $("#ed-open").addEventListener("change", onOpen);
  $("#ed-check").addEventListener("click", check);
  $("#ed-save").addEventListener("click", save);
  $("#ed-run").addEventListener("click", useInRun);
  ed.canvas.addEventListener("pointerdown", onPointerDown);
  ed.canvas.addEventListener("pointermove", onPointerMove);
  ed.canvas.addEventListener("pointerup", onPointerUp);
  ed.canvas.addEventListener("pointerleave", () => { ed.hover = null; if (ed.tool !== "select") draw(); });
  ed.canvas.addEventListener("wheel", onWheel, { passive: false });
  ed.canvas.addEventListener("dblclick", () => { if (ed.tool === "room" && ed.draft.length >= 3) closeDraft(); });
  document.addEventListener("keydown", onKey);
  new ResizeObserver(resize).observe(ed.canvas);
  api.limits().then((l) => {
    ed.limits = l;
    $("#ed-reps").max = String(l.max_replications);
  }).catch(() => {});
  renderProps();
  syncUndoButtons();
  setTool("select");
  say("Start with a plan image (optional) and the scale (L), then draw rooms (R). A room on the grid: 1 m squares.");
  document.body.dataset.editorReady = "true";
}
