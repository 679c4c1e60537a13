// Replay of one simulated incident on the floor plan, drawn on a canvas from per-tick arrays the server
// precomputed once (GET /api/runs/{id}/replay): nothing is fetched while playing.
//
// Two kinds of plan: when the building file gives outlines (spaces with a `polygon`, e.g. an imported IFC
// or GeoJSON plan) the rooms are drawn as they are; otherwise each space is a schematic rectangle at its
// (x, y). Floors are side by side when they fit; on a narrow screen a schematic plan stacks its floors and
// a real plan shows one floor at a time with a floor selector. Inside every space: its name (top), the
// number of people (middle) and the markers (attacker, officers) in a strip along the bottom, so markers
// never sit on the counts; counts are drawn last. Officers on scene but outside stand beside the exit
// they wait at. The attacker and officers walk between spaces (interpolated), they do not jump.

import { getJSON } from "./api.js";
import { clock, esc } from "./format.js";

// nominal rectangle size per kind of space (metres, width along x, height along y); shrunk to avoid overlap
const SIZE = {
  classroom: [9, 6], office: [6, 5], lounge: [9, 6], restroom: [5, 4], corridor: [10, 4],
  stairwell: [6, 6], open_area: [18, 10], exit: [4, 4],
};
const FILL = {
  classroom: "#e9eef5", office: "#e9eef5", lounge: "#e9eef5", restroom: "#eef0f3", corridor: "#f6f6f7",
  stairwell: "#dfe3e8", open_area: "#edf1f7", exit: "#cdebd3",
};
const GAP_M = 8; // metres between floor panels
const OUT_M = 4; // metres of "outside" around each floor (officers waiting at an exit stand there)
const PAD_PX = 10; // canvas padding, CSS pixels
const TITLE_PX = 20; // floor title band, CSS pixels
const MAX_SCALE = 40; // CSS pixels per metre at most (small buildings do not become huge)
const MAX_SCALE_SCHEMATIC = 14;
const NARROW_PX = 640; // below this canvas width a real plan shows one floor at a time

/** Lower-case officer status with underscores ("INSIDE" / "inside" -> "inside"). */
const norm = (s) => String(s ?? "").toLowerCase().replace(/[\s-]+/g, "_");
const lerp = (a, b, f) => a + (b - a) * f;

/** Schematic rectangles (metres) for every space of one floor: {i, cx, cy, w, h}. */
function layoutFloor(spaces) {
  const rects = spaces.map(({ s, i }) => {
    const [w, h] = SIZE[s.kind] || [6, 5];
    return { i, cx: Number(s.x) || 0, cy: Number(s.y) || 0, w, h };
  });
  // building files may leave x/y at 0: coincident spaces get a plain grid instead
  const coincide = rects.some((a, k) => rects.some((b, m) => m > k && Math.abs(a.cx - b.cx) < 0.01 && Math.abs(a.cy - b.cy) < 0.01));
  if (coincide) {
    const cols = Math.max(1, Math.ceil(Math.sqrt(rects.length * 3)));
    rects.forEach((r, k) => {
      r.cx = (k % cols) * 11;
      r.cy = -Math.floor(k / cols) * 8;
      r.w = Math.min(r.w, 9.5);
      r.h = Math.min(r.h, 6.5);
    });
    return rects;
  }
  for (let pass = 0; pass < 3; pass++) {
    for (let k = 0; k < rects.length; k++) {
      for (let m = k + 1; m < rects.length; m++) {
        const a = rects[k], b = rects[m];
        const dx = Math.abs(a.cx - b.cx), dy = Math.abs(a.cy - b.cy);
        const ox = (a.w + b.w) / 2 > dx, oy = (a.h + b.h) / 2 > dy;
        if (!(ox && oy)) continue;
        if (dx >= dy) {
          const f = (0.92 * dx) / ((a.w + b.w) / 2);
          a.w = Math.max(1.5, a.w * f);
          b.w = Math.max(1.5, b.w * f);
        } else {
          const f = (0.92 * dy) / ((a.h + b.h) / 2);
          a.h = Math.max(1.5, a.h * f);
          b.h = Math.max(1.5, b.h * f);
        }
      }
    }
  }
  return rects;
}

/** Area of a polygon [[x, y], ...] (absolute). */
function area(poly) {
  let a = 0;
  for (let k = 0; k < poly.length; k++) {
    const [x1, y1] = poly[k], [x2, y2] = poly[(k + 1) % poly.length];
    a += x1 * y2 - x2 * y1;
  }
  return Math.abs(a) / 2;
}

/** Whether point (x, y) is inside polygon (ray casting). */
function inside(poly, x, y) {
  let hit = false;
  for (let k = 0, m = poly.length - 1; k < poly.length; m = k++) {
    const [xk, yk] = poly[k], [xm, ym] = poly[m];
    if ((yk > y) !== (ym > y) && x < ((xm - xk) * (y - yk)) / (ym - yk) + xk) hit = !hit;
  }
  return hit;
}

/**
 * One shape per space of a floor, in metres: {i, poly, box: {x0, y0, x1, y1}}. `box` is the part of the
 * shape its name, count and markers are placed in (the shape itself for rectangles; for other outlines a
 * square around the space's point, inside the outline's bounds).
 */
function shapesOfFloor(spaces, real) {
  if (!real) {
    return layoutFloor(spaces).map((r) => {
      const x0 = r.cx - r.w / 2, x1 = r.cx + r.w / 2, y0 = r.cy - r.h / 2, y1 = r.cy + r.h / 2;
      return { i: r.i, poly: [[x0, y0], [x1, y0], [x1, y1], [x0, y1]], box: { x0, y0, x1, y1 } };
    });
  }
  return spaces.map(({ s, i }) => {
    const x = Number(s.x) || 0, y = Number(s.y) || 0;
    let poly = Array.isArray(s.polygon) && s.polygon.length >= 3 ? s.polygon.map(([px, py]) => [Number(px), Number(py)]) : null;
    if (!poly) { // a space with no outline (often an exit): a small square at its point
      const h = s.kind === "exit" ? 0.8 : 1.5;
      poly = [[x - h, y - h], [x + h, y - h], [x + h, y + h], [x - h, y + h]];
    }
    const xs = poly.map((p) => p[0]), ys = poly.map((p) => p[1]);
    const bx0 = Math.min(...xs), bx1 = Math.max(...xs), by0 = Math.min(...ys), by1 = Math.max(...ys);
    let box = { x0: bx0, y0: by0, x1: bx1, y1: by1 };
    const a = area(poly);
    if (a < 0.85 * (bx1 - bx0) * (by1 - by0)) { // not a rectangle: a square around a point inside it
      let [px, py] = inside(poly, x, y) ? [x, y] : [(bx0 + bx1) / 2, (by0 + by1) / 2];
      const half = Math.max(0.6, Math.sqrt(a) * 0.35);
      px = Math.min(bx1 - half, Math.max(bx0 + half, px));
      py = Math.min(by1 - half, Math.max(by0 + half, py));
      box = { x0: px - half, y0: py - half, x1: px + half, y1: py + half };
    }
    return { i, poly, box };
  });
}

/** Group events for the list: consecutive shots in one space are one row with a count and a time range
 * (the server already merges them; this also merges replays cached by older servers). */
export function groupEvents(events) {
  const out = [];
  const old = /^(\d+) shot\(s\) in (.+?)(?:, (\d+) hit)?$/;
  for (const e of events || []) {
    let kind = e.kind, space = e.space, shots = e.shots, hit = e.hit;
    const m = kind ? null : old.exec(e.text || "");
    if (m) {
      kind = "shots";
      space = m[2];
      shots = Number(m[1]);
      hit = Number(m[3] || 0);
    }
    const last = out[out.length - 1];
    if (kind === "shots" && last && last.kind === "shots" && last.space === space) {
      last.t_end = Number(e.t_end ?? e.t);
      last.shots += shots;
      last.hit += hit;
      last.rows += 1;
      if (m) last.text = `${last.shots} shots in ${space}` + (last.hit ? `, ${last.hit} hit` : "");
      continue;
    }
    out.push({ ...e, kind, space, shots, hit, t: Number(e.t), t_end: Number(e.t_end ?? e.t), rows: 1 });
  }
  return out;
}

/** The padlock of a locked room: unit size, anchor, and its box (CSS pixels, the top-right corner). */
function lockAt(sh) {
  const r = sh.sb;
  const u = Math.max(2.5, Math.min(4, r.h * 0.12));
  const x = r.x + r.w - 3 * u - 3, y = r.y + 3 + 1.4 * u;
  return { u, x, y, box: { x: x - 0.5, y: y - u - 0.5, w: 2.4 * u + 1, h: 3 * u + 1 } };
}

/** Where a locked room's count goes (centre, CSS pixels): in the middle unless the padlock is there; then
 * left of it, or below it when the room is too narrow (was: counts drawn over the padlock on a phone). */
function clearOfLock(sh, tw) {
  const lock = lockAt(sh).box;
  const half = tw / 2 + 1.5, halfH = sh.countPx / 2 + 0.5;
  let cx = sh.sb.x + sh.sb.w / 2, cy = sh.countY;
  const hits = (x, y) => x + half > lock.x && x - half < lock.x + lock.w && y + halfH > lock.y && y - halfH < lock.y + lock.h;
  if (!hits(cx, cy)) return [cx, cy];
  const left = lock.x - half - 1;
  if (left - half >= sh.sb.x + 1) cx = left;
  else cy = lock.y + lock.h + halfH + 1;
  return [cx, cy];
}

export class ReplayView {
  /** Representative incidents of a run (typical, worst, police stop, ...): GET /api/runs/{id}/replay-choices. */
  static choices(runId) {
    return getJSON(`/api/runs/${encodeURIComponent(runId)}/replay-choices`);
  }

  /**
   * @param {object} els {canvas, play, slider, time, speed, counts, events, floors?}
   * @param {object} data the replay JSON
   */
  constructor(els, data) {
    this.els = els;
    this.data = data;
    this.t = data.ticks.t;
    this.n = this.t.length;
    // the ticks count from the attacker's entry; times are shown (and the slider runs) relative to the
    // first shot: negative before it (t_first_shot_s from the server; the "first shot" event for older ones)
    const first = (data.events || []).find((e) => /^first shot/i.test(e.text));
    this.t0 = Number(data.t_first_shot_s ?? (first ? first.t : 0)) || 0;
    this.frame = 0;
    this.simT = this.t[0] ?? 0;
    this.playing = false;
    this.lastNow = null;
    this.raf = 0;
    this.currentEvent = -2;
    this.bg = null;
    this.debug = { counts: [], markers: [], labels: [] };
    const spaces = data.building.spaces;
    this.real = spaces.some((s) => Array.isArray(s.polygon) && s.polygon.length >= 3);
    this.shown = null; // the floor shown when one floor at a time
    this.zoom = 1; // the map's size: 1 = fit the screen; 2, 3 = wider, scrolled inside its box
    this.markZoom();
    this.layout();
    this.buildEvents();
    this.bind();
    this.seek(this.simT);
    // for tests and screen readers' tooling: what the current frame shows (boxes in CSS pixels)
    els.canvas.replayState = () => ({
      mode: this.mode, real: this.real, shown: this.shown, frame: this.frame, simT: this.simT, ...this.debug,
    });
    els.canvas.replaySeek = (rel) => this.seek(Number(rel) + this.t0); // seconds after the first shot
  }

  /** The time span the slider covers, relative to the first shot (s): [from, to]. */
  span() {
    return [(this.t[0] ?? 0) - this.t0, (this.t[this.n - 1] ?? 0) - this.t0];
  }

  // ------------------------------------------------------------------------------------------ layout
  layout() {
    const { spaces, floors } = this.data.building;
    const floorList = (floors && floors.length ? [...floors] : [...new Set(spaces.map((s) => s.floor))]).sort((a, b) => a - b);
    this.panels = floorList.map((f) => {
      const shapes = shapesOfFloor(spaces.map((s, i) => ({ s, i })).filter(({ s }) => s.floor === f), this.real);
      const xs = shapes.flatMap((sh) => sh.poly.map((p) => p[0])), ys = shapes.flatMap((sh) => sh.poly.map((p) => p[1]));
      const minX = Math.min(...xs) - OUT_M, maxX = Math.max(...xs) + OUT_M;
      const minY = Math.min(...ys) - OUT_M, maxY = Math.max(...ys) + OUT_M;
      return { floor: f, shapes, minX, maxX, minY, maxY, w: maxX - minX, h: maxY - minY, cx: (minX + maxX) / 2, cy: (minY + maxY) / 2 };
    }).filter((p) => p.shapes.length);
    this.shapeOf = new Map();
    this.panels.forEach((p) => p.shapes.forEach((sh) => this.shapeOf.set(sh.i, { sh, p })));
    if (this.shown == null || !this.panels.some((p) => p.floor === this.shown)) this.shown = this.startFloor();
    this.resize();
  }

  /** The floor of the first shot (else of the attacker's entry, else the lowest). */
  startFloor() {
    const spaces = this.data.building.spaces;
    const ev = (this.data.events || []).find((e) => e.kind === "first_shot" && e.space != null);
    const sp = ev ? ev.space : this.data.ticks.attacker_space.find((a) => a != null && a >= 0);
    return sp != null && spaces[sp] ? spaces[sp].floor : this.panels[0]?.floor;
  }

  /** Fit the panels to the canvas's CSS width; keeps the backing store at device-pixel resolution. */
  resize() {
    const canvas = this.els.canvas;
    canvas.classList.toggle("zoomed", this.zoom > 1);
    canvas.style.width = "";
    const fitW = canvas.clientWidth || canvas.parentElement.clientWidth || 1000;
    const cssW = Math.max(280, fitW * this.zoom);
    if (this.zoom > 1) canvas.style.width = `${cssW}px`;
    const avail = cssW - 2 * PAD_PX;
    const totalW = this.panels.reduce((a, p) => a + p.w, 0) + GAP_M * Math.max(0, this.panels.length - 1);
    const maxH = Math.max(...this.panels.map((p) => p.h));
    const maxW = Math.max(...this.panels.map((p) => p.w));
    const cap = this.real ? MAX_SCALE : MAX_SCALE_SCHEMATIC;
    // side by side on a wide screen; on a narrow one a schematic plan stacks its floors (one under the
    // other) and a real plan shows one floor at a time, so rooms stay legible
    const legible = avail / totalW >= 0.45 * (avail / maxW) && !(this.real && fitW < NARROW_PX);
    this.mode = legible || this.panels.length < 2 ? "side" : this.real ? "one" : "stacked";
    const shown = this.mode === "one" ? this.panels.filter((p) => p.floor === this.shown) : this.panels;
    const tw = shown.reduce((a, p) => a + p.w, 0) + GAP_M * Math.max(0, shown.length - 1);
    let scale = this.mode === "side" ? Math.min(cap, avail / tw) : Math.min(cap, avail / Math.max(...shown.map((p) => p.w)));
    if (this.mode === "side" && this.real) scale = Math.min(scale, 560 / maxH); // not taller than a screen
    const cssH = this.mode === "stacked"
      ? Math.ceil(PAD_PX + shown.reduce((a, p) => a + TITLE_PX + p.h * scale + PAD_PX, 0))
      : Math.ceil(2 * PAD_PX + TITLE_PX + Math.max(...shown.map((p) => p.h)) * scale);
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
    canvas.style.height = `${cssH}px`;
    this.dpr = dpr;
    this.scale = scale;
    for (const p of this.panels) p.visible = shown.includes(p);
    if (this.mode === "stacked") {
      let y0 = PAD_PX;
      for (const p of shown) {
        p.ox = PAD_PX + (avail - p.w * scale) / 2;
        p.oy = y0 + TITLE_PX;
        y0 += TITLE_PX + p.h * scale + PAD_PX;
      }
    } else {
      let x0 = PAD_PX + (avail - tw * scale) / 2;
      for (const p of shown) {
        p.ox = x0;
        p.oy = PAD_PX + TITLE_PX;
        x0 += (p.w + GAP_M) * scale;
      }
    }
    // screen coordinates (CSS pixels); plan y grows northwards, screen y downwards
    for (const p of this.panels) {
      for (const sh of p.shapes) {
        sh.pts = sh.poly.map(([x, y]) => this.toScreen(p, x, y));
        const [ax, ay] = this.toScreen(p, sh.box.x0, sh.box.y1);
        const [bx, by] = this.toScreen(p, sh.box.x1, sh.box.y0);
        sh.sb = { x: ax, y: ay, w: bx - ax, h: by - ay };
        this.placeInside(sh);
      }
    }
    this.renderFloorPicker();
    this.bg = this.drawBackground();
  }

  toScreen(p, x, y) {
    return [p.ox + (x - p.minX) * this.scale, p.oy + (p.maxY - y) * this.scale];
  }

  /** Where a space's name, count and markers go (CSS pixels): name on top, count in the middle,
   * markers in a strip along the bottom. Small spaces drop the name (the tooltip has it). */
  placeInside(sh) {
    const { x, y, w, h } = sh.sb;
    const s = this.data.building.spaces[sh.i];
    const mark = Math.max(3, Math.min(6, h * 0.16, w * 0.12)); // marker radius
    const strip = 2 * mark + 3;
    const countPx = Math.max(8, Math.min(14, (h - strip) * 0.55, w * 0.4));
    const labelPx = Math.max(7, Math.min(11, h * 0.2));
    const room = h - strip - countPx;
    sh.mark = mark;
    sh.strip = { x: x + 2, y: y + h - strip, w: w - 4, h: strip };
    sh.countPx = countPx;
    sh.showLabel = s.kind !== "exit" && room >= labelPx + 2;
    sh.labelPx = labelPx;
    sh.labelY = y + 2 + labelPx / 2 + 1;
    const top = sh.showLabel ? y + labelPx + 4 : y + 1;
    sh.countY = (top + (y + h - strip)) / 2;
  }

  /** One button per floor when one floor is shown at a time (narrow screens, real plans). */
  renderFloorPicker() {
    const box = this.els.floors;
    if (!box) return;
    if (this.mode !== "one") {
      box.hidden = true;
      box.innerHTML = "";
      return;
    }
    box.hidden = false;
    box.innerHTML = `<span class="floor-picker-label">Floor shown:</span>` + this.panels.map((p) =>
      `<button type="button" class="small" data-floor="${esc(p.floor)}" aria-pressed="${p.floor === this.shown}">Floor ${esc(p.floor)}<span class="floor-mark"></span></button>`).join("");
  }

  /** Draw the map `z` times the screen's width (1: fit), and mark the pressed button. */
  setZoom(z) {
    this.zoom = [1, 2, 3].includes(z) ? z : 1;
    this.markZoom();
    this.refresh();
  }

  markZoom() {
    for (const b of this.els.zoom?.querySelectorAll("button[data-zoom]") ?? []) {
      b.setAttribute("aria-pressed", String(Number(b.dataset.zoom) === this.zoom));
    }
  }

  /** Show floor `f` (one floor at a time). */
  showFloor(f) {
    this.shown = f;
    this.refresh();
  }

  /** Re-fit to the canvas's current size and redraw the current frame (after a resize or a tab switch). */
  refresh() {
    this.resize();
    this.seek(this.simT);
  }

  path(g, pts) {
    g.beginPath();
    pts.forEach(([x, y], k) => (k ? g.lineTo(x, y) : g.moveTo(x, y)));
    g.closePath();
  }

  /** The static part (panels, passages, space outlines, names, exits) on an offscreen canvas, drawn once. */
  drawBackground() {
    const c = document.createElement("canvas");
    c.width = this.els.canvas.width;
    c.height = this.els.canvas.height;
    const g = c.getContext("2d");
    g.scale(this.dpr, this.dpr);
    g.fillStyle = "#fbfbfc";
    g.fillRect(0, 0, c.width, c.height);
    const spaces = this.data.building.spaces;
    if (!this.real) { // schematic: passages as lines between centres
      g.strokeStyle = "#b8bfc9";
      g.lineWidth = 1.5;
      for (const [a, b] of this.data.building.edges || []) {
        const ra = this.shapeOf.get(a), rb = this.shapeOf.get(b);
        if (!ra || !rb || ra.p !== rb.p || !ra.p.visible) continue; // stairs between floors: not drawn
        g.beginPath();
        g.moveTo(ra.sh.sb.x + ra.sh.sb.w / 2, ra.sh.sb.y + ra.sh.sb.h / 2);
        g.lineTo(rb.sh.sb.x + rb.sh.sb.w / 2, rb.sh.sb.y + rb.sh.sb.h / 2);
        g.stroke();
      }
    }
    this.debug.labels = [];
    for (const p of this.panels) {
      if (!p.visible) continue;
      g.fillStyle = "#1a1a1a";
      g.font = "600 13px system-ui, sans-serif";
      g.textBaseline = "alphabetic";
      g.textAlign = "left";
      g.fillText(`Floor ${p.floor}`, p.ox, p.oy - 6);
      // big shapes first, so a room inside a hall stays visible
      const order = [...p.shapes].sort((a, b) => area(b.poly) - area(a.poly));
      for (const sh of order) {
        const s = spaces[sh.i];
        const isExit = s.exit || s.kind === "exit";
        this.path(g, sh.pts);
        g.fillStyle = FILL[s.kind] || "#eef0f3";
        g.fill();
        g.strokeStyle = isExit ? "#1d6b2f" : "#7b8491";
        g.lineWidth = isExit ? 2 : 1;
        g.stroke();
      }
      for (const sh of order) {
        const s = spaces[sh.i];
        const { x, y, w, h } = sh.sb;
        if (s.exit || s.kind === "exit") {
          g.fillStyle = "#14532d";
          g.font = `700 ${Math.max(8, Math.min(11, h * 0.45))}px system-ui, sans-serif`;
          g.textAlign = "center";
          g.textBaseline = "middle";
          g.fillText("EXIT", x + w / 2, y + h / 2);
          const text = this.fitLabel(g, s.label ?? s.id, Math.max(8, w + 40), 9, 600);
          if (text) { // the exit's name just outside it, away from the building
            g.fillStyle = "#14532d";
            const below = sh.sb.y + h + 10 < p.oy + p.h * this.scale;
            g.fillText(text, x + w / 2, below ? y + h + 7 : y - 7);
            this.debug.labels.push({ i: sh.i, text });
          }
          continue;
        }
        if (!sh.showLabel) continue;
        const text = this.fitLabel(g, s.label ?? s.id, w - 4, sh.labelPx, 500);
        if (!text) continue;
        g.fillStyle = "#4b5563";
        g.textAlign = "center";
        g.textBaseline = "middle";
        g.fillText(text, x + w / 2, sh.labelY);
        this.debug.labels.push({ i: sh.i, text });
      }
    }
    return c;
  }

  /** The space's name if it fits in `width` px, else its last word (the number: "Room 209" -> "209"). */
  fitLabel(g, label, width, px, weight) {
    g.font = `${weight} ${px}px system-ui, sans-serif`;
    if (g.measureText(label).width <= width) return label;
    const last = String(label).split(" ").at(-1);
    return g.measureText(last).width <= width ? last : "";
  }

  // ------------------------------------------------------------------------------------------ drawing
  /** Index of the last tick with t <= time (binary search). */
  frameAt(time) {
    const t = this.t;
    let lo = 0, hi = this.n - 1;
    if (time <= t[0]) return 0;
    if (time >= t[hi]) return hi;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (t[mid] <= time) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  /** The marker slot `j` of a space (CSS pixels, marker centre): left to right along its bottom strip. */
  slot(sp, j) {
    const hit = this.shapeOf.get(sp);
    if (!hit) return null;
    const { sh, p } = hit;
    const d = 2 * sh.mark + 1.5;
    const per = Math.max(1, Math.floor(sh.strip.w / d));
    const col = j % per, row = Math.floor(j / per);
    return { x: sh.strip.x + sh.mark + 1 + col * d, y: sh.strip.y + sh.strip.h / 2 - row * d, r: sh.mark, p };
  }

  /** Where officers waiting at exit `sp` stand: outside the exit, away from the floor's middle. */
  outsideSlot(sp, j) {
    const hit = this.shapeOf.get(sp);
    if (!hit) return null;
    const { sh, p } = hit;
    const r = Math.max(3.5, Math.min(6, 0.9 * this.scale));
    const cx = sh.sb.x + sh.sb.w / 2, cy = sh.sb.y + sh.sb.h / 2;
    const [mx, my] = this.toScreen(p, (p.minX + p.maxX) / 2, (p.minY + p.maxY) / 2);
    let dx = cx - mx, dy = cy - my;
    if (Math.abs(dx) >= Math.abs(dy)) { dx = Math.sign(dx) || 1; dy = 0; } else { dy = Math.sign(dy) || 1; dx = 0; }
    const d = 2 * r + 1.5;
    const off = (dx ? sh.sb.w : sh.sb.h) / 2 + r + 3 + Math.floor(j / 3) * d; // three abreast, then a row further out
    const side = [0, 1, -1][j % 3] * d;
    return dx ? { x: cx + dx * off, y: cy + side, r, p } : { x: cx + side, y: cy + dy * off, r, p };
  }

  /** Marker positions of frame k: attacker and officers (CSS pixels) with their panel. */
  positions(k) {
    const ticks = this.data.ticks;
    const off = ticks.officers || {};
    const out = { attacker: null, officers: [] };
    const a = ticks.attacker_space[k];
    const rest = new Map(); // space -> markers at rest so far
    const take = (sp) => { const j = rest.get(sp) || 0; rest.set(sp, j + 1); return j; };
    const moving = (from, to, f, j) => {
      const A = this.slot(from, j), B = to != null && to >= 0 ? this.slot(to, 0) : null;
      if (!A) return null;
      if (!B || B.p !== A.p || !(f > 0)) return { ...A, moving: false };
      return { x: lerp(A.x, B.x, f), y: lerp(A.y, B.y, f), r: A.r, p: A.p, moving: true };
    };
    if (a != null && a >= 0) {
      const nxt = ticks.attacker_next ? ticks.attacker_next[k] : -1;
      const f = ticks.attacker_progress ? ticks.attacker_progress[k] : 0;
      const pos = moving(a, nxt, f, take(a));
      if (pos) out.attacker = { ...pos, active: ticks.attack_active[k] };
    }
    const spaceRow = (off.space && off.space[k]) || [];
    const statusRow = (off.status && off.status[k]) || [];
    const nextRow = (off.next && off.next[k]) || [];
    const progRow = (off.progress && off.progress[k]) || [];
    const waiting = off.waiting_at ? off.waiting_at[k] : -1;
    const outside = new Map();
    spaceRow.forEach((sp, u) => {
      const st = norm(statusRow[u]);
      if (st === "not_arrived") return;
      if (st === "on_scene") {
        const at = waiting != null && waiting >= 0 ? waiting : this.fallbackExit();
        if (at == null) return;
        const j = outside.get(at) || 0;
        outside.set(at, j + 1);
        const pos = this.outsideSlot(at, j);
        if (pos) out.officers.push({ u, ...pos, down: false, outside: true, moving: false });
        return;
      }
      if (sp == null || sp < 0) return;
      const pos = moving(sp, nextRow[u], progRow[u] || 0, take(sp));
      if (pos) out.officers.push({ u, ...pos, down: st === "down", outside: false });
    });
    return out;
  }

  /** Older replays carry no waiting exit: the officers' entry, else the attacker's, else the first exit. */
  fallbackExit() {
    const spaces = this.data.building.spaces;
    const a = this.data.ticks.attacker_space.find((x) => x != null && x >= 0);
    if (a != null && spaces[a] && spaces[a].kind === "exit") return a;
    const k = spaces.findIndex((s) => s.kind === "exit" || s.exit);
    return k >= 0 ? k : null;
  }

  draw(k) {
    const { canvas } = this.els;
    const g = canvas.getContext("2d");
    const ticks = this.data.ticks;
    const spaces = this.data.building.spaces;
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.drawImage(this.bg, 0, 0);
    g.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    const people = ticks.occupants.by_space[k] || [];
    const locked = (ticks.locked && ticks.locked[k]) || [];
    const locks = [];
    // 1. room shading by the number of people, locks
    for (const p of this.panels) {
      if (!p.visible) continue;
      for (const sh of p.shapes) {
        const s = spaces[sh.i];
        const nPeople = people[sh.i] || 0;
        if (nPeople > 0 && s.kind !== "exit") {
          this.path(g, sh.pts);
          g.fillStyle = `rgba(37, 99, 235, ${0.08 + 0.25 * Math.min(1, nPeople / 30)})`;
          g.fill();
        }
        if (locked[sh.i]) {
          this.drawLock(g, sh);
          locks.push({ i: sh.i, ...lockAt(sh).box });
        }
      }
    }
    // 2. markers, interpolated between this frame and the next
    const now = this.positions(k);
    let later = null, f = 0;
    if (k + 1 < this.n && this.t[k + 1] > this.t[k]) {
      f = Math.min(1, Math.max(0, (this.simT - this.t[k]) / (this.t[k + 1] - this.t[k])));
      if (f > 0) later = this.positions(k + 1);
    }
    const blend = (a, b) => (b && a && b.p === a.p ? { ...a, x: lerp(a.x, b.x, f), y: lerp(a.y, b.y, f), moving: a.moving || (b.x !== a.x || b.y !== a.y) } : a);
    const markers = [];
    for (const o of now.officers) {
      const m = blend(o, later && later.officers.find((q) => q.u === o.u && q.outside === o.outside));
      if (!m.p.visible) continue;
      g.beginPath();
      g.arc(m.x, m.y, m.r, 0, 2 * Math.PI);
      g.fillStyle = m.down ? "#ffffff" : "#1d4ed8";
      g.fill();
      g.lineWidth = m.down ? 2 : 1;
      g.strokeStyle = "#1e3a8a";
      g.stroke();
      markers.push({ who: `officer ${o.u}`, outside: o.outside, moving: m.moving, x: m.x - m.r, y: m.y - m.r, w: 2 * m.r, h: 2 * m.r });
    }
    if (now.attacker) {
      const m = blend(now.attacker, later && later.attacker);
      if (m.p.visible) {
        const d = m.r + 1.5;
        g.beginPath();
        g.moveTo(m.x, m.y - d);
        g.lineTo(m.x + d, m.y);
        g.lineTo(m.x, m.y + d);
        g.lineTo(m.x - d, m.y);
        g.closePath();
        g.fillStyle = now.attacker.active ? "#c81e1e" : "#f3b4b4";
        g.fill();
        g.lineWidth = 1.5;
        g.strokeStyle = "#7f1d1d";
        g.stroke();
        markers.push({ who: "attacker", outside: false, moving: m.moving, x: m.x - d, y: m.y - d, w: 2 * d, h: 2 * d });
      }
    }
    // 3. counts last, on a light backing, so nothing covers them
    const counts = [];
    for (const p of this.panels) {
      if (!p.visible) continue;
      for (const sh of p.shapes) {
        const s = spaces[sh.i];
        const nPeople = people[sh.i] || 0;
        if (!(nPeople > 0) || s.kind === "exit") continue;
        const text = String(nPeople);
        g.font = `600 ${sh.countPx}px system-ui, sans-serif`;
        const tw = g.measureText(text).width;
        const [cx, cy] = locked[sh.i] ? clearOfLock(sh, tw) : [sh.sb.x + sh.sb.w / 2, sh.countY];
        const box = { x: cx - tw / 2 - 1.5, y: cy - sh.countPx / 2 - 0.5, w: tw + 3, h: sh.countPx + 1 };
        g.fillStyle = "rgba(255, 255, 255, 0.7)";
        g.fillRect(box.x, box.y, box.w, box.h);
        g.fillStyle = "#111827";
        g.textAlign = "center";
        g.textBaseline = "middle";
        g.fillText(text, cx, cy + 0.5);
        counts.push({ i: sh.i, text, ...box });
      }
    }
    this.debug.counts = counts;
    this.debug.markers = markers;
    this.debug.locks = locks;
  }

  /** Locked room: a thick dark-green outline and a small padlock in the top-right corner of its box. */
  drawLock(g, sh) {
    this.path(g, sh.pts);
    g.lineWidth = 3;
    g.strokeStyle = "#14532d";
    g.stroke();
    const { u, x, y } = lockAt(sh);
    g.fillStyle = "#14532d";
    g.fillRect(x, y, 2.4 * u, 2 * u);
    g.beginPath();
    g.lineWidth = Math.max(1, u * 0.45);
    g.arc(x + 1.2 * u, y, 0.8 * u, Math.PI, 0);
    g.stroke();
  }

  // ------------------------------------------------------------------------------------------ state
  buildEvents() {
    const list = this.els.events;
    this.events = groupEvents(this.data.events);
    list.innerHTML = this.events
      .map((e, j) => {
        const range = e.t_end > e.t + 0.5 ? `${clock(e.t - this.t0)}–${clock(e.t_end - this.t0)}` : clock(e.t - this.t0);
        return `<li data-j="${j}" class="future"><button type="button" data-t="${e.t - this.t0}">` +
          `<span class="t">${range}</span><span class="what">${esc(e.text)}</span></button></li>`;
      })
      .join("");
    this.eventItems = [...list.querySelectorAll("li")];
  }

  updateText(k) {
    const ticks = this.data.ticks;
    const spaces = this.data.building.spaces;
    const people = ticks.occupants.by_space[k] || [];
    const inBuilding = people.reduce((a, b) => a + (b || 0), 0);
    const statusRow = (ticks.officers && ticks.officers.status && ticks.officers.status[k]) || [];
    let onScene = 0, insideOff = 0, down = 0;
    statusRow.forEach((s) => {
      const st = norm(s);
      if (st === "on_scene") onScene++;
      else if (st === "inside") insideOff++;
      else if (st === "down") down++;
    });
    const locked = ((ticks.locked && ticks.locked[k]) || []).filter(Boolean).length;
    const active = ticks.attack_active[k];
    const died = this.data.outcome?.died_awaiting_care;
    const last = k === this.n - 1;
    const a = ticks.attacker_space[k];
    const where = a != null && a >= 0 && spaces[a] ? ` in ${esc(spaces[a].name ?? spaces[a].label ?? spaces[a].id)}` : "";
    this.els.counts.innerHTML =
      `<strong>${active ? `Attacker active${where}` : "Attack over"}</strong> · ` +
      `killed ${ticks.killed[k] ?? 0} · wounded ${ticks.wounded[k] ?? 0}` +
      (last && died != null ? ` (of them ${died} died awaiting care)` : "") + " · " +
      `people in the building ${inBuilding} · evacuated ${ticks.occupants.evacuated[k] ?? 0} · ` +
      `rooms locked ${locked} · officers inside ${insideOff}, outside ${onScene}, shot ${down}`;
    if (this.mode === "one" && this.els.floors) { // which floor the attacker is on
      const af = a != null && a >= 0 && spaces[a] ? spaces[a].floor : null;
      for (const b of this.els.floors.querySelectorAll("button[data-floor]")) {
        const mark = b.querySelector(".floor-mark");
        if (mark) mark.textContent = String(af) === b.dataset.floor ? " ◆" : "";
      }
    }
    // events: past / now / future
    const events = this.events;
    let cur = -1;
    for (let j = 0; j < events.length; j++) if (events[j].t <= this.simT + 1e-9) cur = j;
    if (cur !== this.currentEvent) {
      this.eventItems.forEach((li, j) => {
        li.className = j < cur ? "past" : j === cur ? "now" : "future";
        if (j === cur) li.setAttribute("aria-current", "true"); else li.removeAttribute("aria-current");
      });
      if (cur >= 0 && this.eventItems[cur]) {
        const item = this.eventItems[cur], box = this.els.events;
        box.scrollTop = Math.max(0, item.offsetTop - box.offsetTop - box.clientHeight / 2);
      }
      this.currentEvent = cur;
    }
  }

  /** Jump to a time (seconds, the replay's clock) and redraw. */
  seek(time) {
    const t0 = this.t[0] ?? 0, t1 = this.t[this.n - 1] ?? 0;
    this.simT = Math.min(t1, Math.max(t0, time));
    const k = this.frameAt(this.simT);
    this.frame = k;
    const rel = this.simT - this.t0;
    const words = rel < -0.5 ? `${clock(-rel)} before the first shot` : `${clock(rel)} after the first shot`;
    this.els.slider.value = String(rel);
    this.els.slider.setAttribute("aria-valuetext", words);
    this.els.time.value = words;
    this.draw(k);
    this.updateText(k);
  }

  tick(now) {
    if (!this.playing) return;
    if (this.lastNow != null) {
      const speed = Number(this.els.speed.value) || 1;
      this.seek(this.simT + ((now - this.lastNow) / 1000) * speed);
    }
    this.lastNow = now;
    if (this.simT >= this.t[this.n - 1]) {
      this.pause();
      return;
    }
    this.raf = requestAnimationFrame((ts) => this.tick(ts));
  }

  play() {
    if (this.simT >= this.t[this.n - 1]) this.seek(this.t[0]);
    this.playing = true;
    this.lastNow = null;
    this.els.play.textContent = "Pause";
    this.els.play.setAttribute("aria-pressed", "true");
    this.raf = requestAnimationFrame((ts) => this.tick(ts));
  }

  pause() {
    this.playing = false;
    cancelAnimationFrame(this.raf);
    this.els.play.textContent = "Play";
    this.els.play.setAttribute("aria-pressed", "false");
  }

  bind() {
    const { slider, play, events, canvas, floors } = this.els;
    const [from, to] = this.span();
    slider.min = String(from);
    slider.max = String(to);
    slider.step = String(this.data.dt_s || "any");
    this.handlers = [
      [play, "click", () => (this.playing ? this.pause() : this.play())],
      [slider, "input", () => this.seek(Number(slider.value) + this.t0)],
      [events, "click", (ev) => {
        const b = ev.target.closest("button[data-t]");
        if (b) this.seek(Number(b.dataset.t) + this.t0);
      }],
      [canvas, "mousemove", (ev) => this.hover(ev)],
      [canvas, "click", (ev) => this.hover(ev)], // a tap on a phone names the room
      [window, "resize", () => this.refresh()],
    ];
    if (this.els.zoom) {
      this.handlers.push([this.els.zoom, "click", (ev) => {
        const b = ev.target.closest("button[data-zoom]");
        if (b) this.setZoom(Number(b.dataset.zoom));
      }]);
    }
    if (floors) {
      this.handlers.push([floors, "click", (ev) => {
        const b = ev.target.closest("button[data-floor]");
        if (b) this.showFloor(Number(b.dataset.floor));
      }]);
    }
    for (const [el, type, fn] of this.handlers) el.addEventListener(type, fn);
  }

  /** Tooltip: the space under the mouse and its people count. */
  hover(ev) {
    const box = this.els.canvas.getBoundingClientRect();
    const x = ev.clientX - box.left, y = ev.clientY - box.top;
    let best = null;
    for (const p of this.panels) {
      if (!p.visible) continue;
      for (const sh of p.shapes) {
        if (inside(sh.pts, x, y) && (!best || area(sh.pts) < area(best.pts))) best = sh;
      }
    }
    if (!best) {
      this.els.canvas.title = "";
      return;
    }
    const s = this.data.building.spaces[best.i];
    const n = (this.data.ticks.occupants.by_space[this.frame] || [])[best.i] || 0;
    this.els.canvas.title = `${s.name ?? s.label ?? s.id} (${s.kind.replace("_", " ")}, floor ${s.floor}): ${n} people`;
    if (this.els.room) this.els.room.textContent = this.els.canvas.title;
  }

  /** Stop playing and remove listeners (before loading another replay). */
  destroy() {
    this.pause();
    for (const [el, type, fn] of this.handlers) el.removeEventListener(type, fn);
    if (this.els.floors) {
      this.els.floors.hidden = true;
      this.els.floors.innerHTML = "";
    }
  }
}
