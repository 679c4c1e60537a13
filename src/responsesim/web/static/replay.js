// Replay of one simulated incident on the floor plan, drawn on a canvas from per-tick arrays the server
// precomputed once (GET /api/runs/{id}/replay): nothing is fetched while playing. Floors are drawn side by
// side; each space is a rectangle at its (x, y) in metres, scaled to fit the canvas width.

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
const PAD_PX = 10; // canvas padding, CSS pixels
const TITLE_PX = 20; // floor title band, CSS pixels
const MAX_SCALE = 14; // CSS pixels per metre at most (small buildings do not become huge)

/** Rectangles (metres) for every space of one floor: {i, cx, cy, w, h}. */
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

/** Lower-case officer status with underscores ("INSIDE" / "inside" -> "inside"). */
const norm = (s) => String(s ?? "").toLowerCase().replace(/[\s-]+/g, "_");

export class ReplayView {
  /**
   * @param {object} els {canvas, play, slider, time, speed, counts, events}
   * @param {object} data the replay JSON
   */
  constructor(els, data) {
    this.els = els;
    this.data = data;
    this.t = data.ticks.t;
    this.n = this.t.length;
    // the ticks count from the attacker's entry; times are shown (and the slider runs) from the first shot
    // (t_first_shot_s from the server; the "first shot" event is the fallback for older servers)
    const first = (data.events || []).find((e) => /^first shot/i.test(e.text));
    this.t0 = Number(data.t_first_shot_s ?? (first ? first.t : 0)) || 0;
    this.frame = 0;
    this.simT = this.t[0] ?? 0;
    this.playing = false;
    this.lastNow = null;
    this.raf = 0;
    this.drawnFrame = -1;
    this.currentEvent = -2;
    this.bg = null;
    this.layout();
    this.buildEvents();
    this.bind();
    this.seek(this.simT);
  }

  // ------------------------------------------------------------------------------------------ layout
  layout() {
    const { spaces, floors } = this.data.building;
    const floorList = (floors && floors.length ? [...floors] : [...new Set(spaces.map((s) => s.floor))]).sort((a, b) => a - b);
    this.panels = floorList.map((f) => {
      const rects = layoutFloor(spaces.map((s, i) => ({ s, i })).filter(({ s }) => s.floor === f));
      const minX = Math.min(...rects.map((r) => r.cx - r.w / 2));
      const maxX = Math.max(...rects.map((r) => r.cx + r.w / 2));
      const minY = Math.min(...rects.map((r) => r.cy - r.h / 2));
      const maxY = Math.max(...rects.map((r) => r.cy + r.h / 2));
      return { floor: f, rects, minX, maxX, minY, maxY, w: maxX - minX, h: maxY - minY };
    }).filter((p) => p.rects.length);
    this.rectOf = new Map();
    this.panels.forEach((p) => p.rects.forEach((r) => this.rectOf.set(r.i, { r, p })));
    this.resize();
  }

  /** Fit the panels to the canvas's CSS width; keeps the backing store at device-pixel resolution. */
  resize() {
    const canvas = this.els.canvas;
    const cssW = Math.max(320, canvas.clientWidth || canvas.parentElement.clientWidth || 1000);
    const totalW = this.panels.reduce((a, p) => a + p.w, 0) + GAP_M * Math.max(0, this.panels.length - 1);
    const maxH = Math.max(...this.panels.map((p) => p.h));
    const maxW = Math.max(...this.panels.map((p) => p.w));
    // side by side on a wide screen; stacked (one floor under the other) on a phone, so rooms stay legible
    const sideBySide = (cssW - 2 * PAD_PX) / totalW >= 0.45 * ((cssW - 2 * PAD_PX) / maxW) || this.panels.length < 2;
    const scale = sideBySide
      ? Math.min(MAX_SCALE, (cssW - 2 * PAD_PX) / totalW)
      : Math.min(MAX_SCALE, (cssW - 2 * PAD_PX) / maxW);
    const cssH = sideBySide
      ? Math.ceil(2 * PAD_PX + TITLE_PX + maxH * scale)
      : Math.ceil(PAD_PX + this.panels.reduce((a, p) => a + TITLE_PX + p.h * scale + PAD_PX, 0));
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
    canvas.style.height = `${cssH}px`;
    this.dpr = dpr;
    this.scale = scale;
    if (sideBySide) {
      let x0 = PAD_PX + (cssW - 2 * PAD_PX - totalW * scale) / 2;
      for (const p of this.panels) {
        p.ox = x0;
        p.oy = PAD_PX + TITLE_PX;
        x0 += (p.w + GAP_M) * scale;
      }
    } else {
      let y0 = PAD_PX;
      for (const p of this.panels) {
        p.ox = PAD_PX + (cssW - 2 * PAD_PX - p.w * scale) / 2;
        p.oy = y0 + TITLE_PX;
        y0 += TITLE_PX + p.h * scale + PAD_PX;
      }
    }
    // screen rectangles (CSS pixels); plan y grows northwards, screen y downwards
    for (const p of this.panels) {
      for (const r of p.rects) {
        r.sx = p.ox + (r.cx - r.w / 2 - p.minX) * scale;
        r.sy = p.oy + (p.maxY - (r.cy + r.h / 2)) * scale;
        r.sw = r.w * scale;
        r.sh = r.h * scale;
      }
    }
    this.bg = this.drawBackground();
    this.drawnFrame = -1;
  }

  /** Re-fit to the canvas's current size and redraw the current frame (after a resize or a tab switch). */
  refresh() {
    this.resize();
    this.seek(this.simT);
  }

  /** The static part (panels, passages, space outlines, exits) on an offscreen canvas, drawn once. */
  drawBackground() {
    const c = document.createElement("canvas");
    c.width = this.els.canvas.width;
    c.height = this.els.canvas.height;
    const g = c.getContext("2d");
    g.scale(this.dpr, this.dpr);
    g.fillStyle = "#fbfbfc";
    g.fillRect(0, 0, c.width, c.height);
    const spaces = this.data.building.spaces;
    g.strokeStyle = "#b8bfc9";
    g.lineWidth = 1.5;
    for (const [a, b] of this.data.building.edges || []) {
      const ra = this.rectOf.get(a), rb = this.rectOf.get(b);
      if (!ra || !rb || ra.p !== rb.p) continue; // stairs between floors: not drawn
      g.beginPath();
      g.moveTo(ra.r.sx + ra.r.sw / 2, ra.r.sy + ra.r.sh / 2);
      g.lineTo(rb.r.sx + rb.r.sw / 2, rb.r.sy + rb.r.sh / 2);
      g.stroke();
    }
    for (const p of this.panels) {
      g.fillStyle = "#1a1a1a";
      g.font = "600 13px system-ui, sans-serif";
      g.textBaseline = "alphabetic";
      g.textAlign = "left";
      g.fillText(`Floor ${p.floor}`, p.ox, p.oy - 6);
      for (const r of p.rects) {
        const s = spaces[r.i];
        const isExit = s.exit || s.kind === "exit";
        g.fillStyle = FILL[s.kind] || "#eef0f3";
        g.fillRect(r.sx, r.sy, r.sw, r.sh);
        g.strokeStyle = isExit ? "#1d6b2f" : "#7b8491";
        g.lineWidth = isExit ? 2 : 1;
        g.strokeRect(r.sx + 0.5, r.sy + 0.5, r.sw - 1, r.sh - 1);
        if (isExit) {
          g.fillStyle = "#14532d";
          g.font = `700 ${Math.max(8, Math.min(11, r.sh * 0.45))}px system-ui, sans-serif`;
          g.textAlign = "center";
          g.textBaseline = "middle";
          g.fillText("EXIT", r.sx + r.sw / 2, r.sy + r.sh / 2);
        }
      }
    }
    return c;
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
    for (const p of this.panels) {
      for (const r of p.rects) {
        const s = spaces[r.i];
        const nPeople = people[r.i] || 0;
        if (nPeople > 0 && s.kind !== "exit") {
          g.fillStyle = `rgba(37, 99, 235, ${0.1 + 0.3 * Math.min(1, nPeople / 30)})`;
          g.fillRect(r.sx + 1, r.sy + 1, r.sw - 2, r.sh - 2);
          g.fillStyle = "#111827";
          g.font = `600 ${Math.max(8, Math.min(13, r.sh * 0.5, r.sw * 0.42))}px system-ui, sans-serif`;
          g.textAlign = "center";
          g.textBaseline = "middle";
          g.fillText(String(nPeople), r.sx + r.sw / 2, r.sy + r.sh / 2 + 1);
        }
        if (locked[r.i]) this.drawLock(g, r);
      }
    }
    // officers: blue dots along the bottom of their space (hollow when shot)
    const off = ticks.officers;
    const perSpace = new Map();
    const spaceRow = (off && off.space && off.space[k]) || [];
    const statusRow = (off && off.status && off.status[k]) || [];
    spaceRow.forEach((sp, u) => {
      if (sp == null || sp < 0 || !this.rectOf.has(sp)) return;
      const st = norm(statusRow[u]);
      if (st === "not_arrived" || st === "on_scene") return;
      const list = perSpace.get(sp) || [];
      list.push(st === "down");
      perSpace.set(sp, list);
    });
    for (const [sp, list] of perSpace) {
      const { r } = this.rectOf.get(sp);
      const rad = Math.max(3, Math.min(5.5, r.sh * 0.16));
      list.forEach((down, j) => {
        const cx = r.sx + rad + 2 + j * (2 * rad + 1.5);
        const cy = r.sy + r.sh - rad - 2;
        g.beginPath();
        g.arc(Math.min(cx, r.sx + r.sw - rad), cy, rad, 0, 2 * Math.PI);
        g.fillStyle = down ? "#ffffff" : "#1d4ed8";
        g.fill();
        g.lineWidth = down ? 2 : 1;
        g.strokeStyle = "#1e3a8a";
        g.stroke();
      });
    }
    // the attacker: a red diamond at the top-left corner of its space
    const a = ticks.attacker_space[k];
    if (a != null && a >= 0 && this.rectOf.has(a)) {
      const { r } = this.rectOf.get(a);
      const d = Math.max(5, Math.min(9, r.sh * 0.3));
      const cx = r.sx + d + 2, cy = r.sy + d + 2;
      g.beginPath();
      g.moveTo(cx, cy - d);
      g.lineTo(cx + d, cy);
      g.lineTo(cx, cy + d);
      g.lineTo(cx - d, cy);
      g.closePath();
      g.fillStyle = ticks.attack_active[k] ? "#c81e1e" : "#f3b4b4";
      g.fill();
      g.lineWidth = 1.5;
      g.strokeStyle = "#7f1d1d";
      g.stroke();
    }
    this.drawnFrame = k;
  }

  /** Locked room: a thick dark-green outline and a small padlock in the top-right corner. */
  drawLock(g, r) {
    g.lineWidth = 3;
    g.strokeStyle = "#14532d";
    g.strokeRect(r.sx + 1.5, r.sy + 1.5, r.sw - 3, r.sh - 3);
    const u = Math.max(2.5, Math.min(4, r.sh * 0.12));
    const x = r.sx + r.sw - 3 * u - 3, y = r.sy + 3 + 1.4 * u;
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
    const events = this.data.events || [];
    list.innerHTML = events
      .map((e, j) => `<li data-j="${j}" class="future"><button type="button" data-t="${Number(e.t) - this.t0}">` +
        `<span class="t">${clock(e.t - this.t0)}</span><span>${esc(e.text)}</span></button></li>`)
      .join("");
    this.eventItems = [...list.querySelectorAll("li")];
  }

  updateText(k) {
    const ticks = this.data.ticks;
    const people = ticks.occupants.by_space[k] || [];
    const inside = people.reduce((a, b) => a + (b || 0), 0);
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
    this.els.counts.innerHTML =
      `<strong>${active ? "Attacker active" : "Attack over"}</strong> · ` +
      `killed ${ticks.killed[k] ?? 0} · wounded ${ticks.wounded[k] ?? 0} · ` +
      `people in the building ${inside} · evacuated ${ticks.occupants.evacuated[k] ?? 0} · ` +
      `rooms locked ${locked} · officers inside ${insideOff}, outside ${onScene}, shot ${down}`;
    // events: past / now / future
    const events = this.data.events || [];
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
    this.els.slider.value = String(rel);
    this.els.slider.setAttribute("aria-valuetext", `${clock(rel)} after the first shot`);
    this.els.time.value = `${clock(rel)} (${Math.round(rel)} s)`;
    if (k !== this.drawnFrame) this.draw(k);
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
    const { slider, play, events, canvas } = this.els;
    slider.min = String((this.t[0] ?? 0) - this.t0);
    slider.max = String((this.t[this.n - 1] ?? 1) - this.t0);
    slider.step = String(this.data.dt_s || "any");
    this.handlers = [
      [play, "click", () => (this.playing ? this.pause() : this.play())],
      [slider, "input", () => this.seek(Number(slider.value) + this.t0)],
      [events, "click", (ev) => {
        const b = ev.target.closest("button[data-t]");
        if (b) this.seek(Number(b.dataset.t) + this.t0);
      }],
      [canvas, "mousemove", (ev) => this.hover(ev)],
      [window, "resize", () => this.refresh()],
    ];
    for (const [el, type, fn] of this.handlers) el.addEventListener(type, fn);
  }

  /** Tooltip: the space under the mouse and its people count. */
  hover(ev) {
    const box = this.els.canvas.getBoundingClientRect();
    const x = ev.clientX - box.left, y = ev.clientY - box.top;
    for (const p of this.panels) {
      for (const r of p.rects) {
        if (x >= r.sx && x <= r.sx + r.sw && y >= r.sy && y <= r.sy + r.sh) {
          const s = this.data.building.spaces[r.i];
          const n = (this.data.ticks.occupants.by_space[this.frame] || [])[r.i] || 0;
          this.els.canvas.title = `${s.id} (${s.kind}, floor ${s.floor}): ${n} people`;
          return;
        }
      }
    }
    this.els.canvas.title = "";
  }

  /** Stop playing and remove listeners (before loading another replay). */
  destroy() {
    this.pause();
    for (const [el, type, fn] of this.handlers) el.removeEventListener(type, fn);
  }
}
