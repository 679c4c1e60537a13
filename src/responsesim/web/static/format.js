// Number formatting for planners: times in minutes:seconds, shares in percent, counts with sensible
// decimals, and every mean with its 95% interval.

/** Escape text for HTML. */
export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

const isNum = (x) => typeof x === "number" && Number.isFinite(x);

/** Seconds -> "m:ss" (or "h:mm:ss"); negative values keep their sign. */
export function clock(seconds) {
  if (!isNum(seconds)) return "–";
  let s = Math.round(Math.abs(seconds));
  const sign = seconds < 0 && s > 0 ? "−" : "";
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  const sec = String(s - m * 60).padStart(2, "0");
  return h ? `${sign}${h}:${String(m).padStart(2, "0")}:${sec}` : `${sign}${m}:${sec}`;
}

/** Seconds -> minutes with one decimal ("2.4"). */
export function minutes(seconds, digits = 1) {
  return isNum(seconds) ? (seconds / 60).toFixed(digits) : "–";
}

/** A count: two decimals below 10, one below 100, none above. */
export function count(x) {
  if (!isNum(x)) return "–";
  const a = Math.abs(x);
  return a < 10 ? x.toFixed(2) : a < 100 ? x.toFixed(1) : Math.round(x).toLocaleString("en-US");
}

/** A share 0..1 -> "34%" (one decimal below 10%). */
export function percent(x) {
  if (!isNum(x)) return "–";
  const p = 100 * x;
  return Math.abs(p) < 10 ? `${p.toFixed(1)}%` : `${Math.round(p)}%`;
}

/** Format one value of a metric kind ("count" | "time" | "share"). Times are shown in minutes. */
export function value(kind, x) {
  if (kind === "time") return minutes(x);
  if (kind === "share") return percent(x);
  return count(x);
}

/** Unit shown beside a metric of this kind. */
export function unitLabel(kind, unit) {
  if (kind === "time") return "minutes";
  if (kind === "share") return "% of incidents";
  return unit || "";
}

/** "(lo to hi)" for an interval. */
export function interval(kind, lo, hi) {
  if (!isNum(lo) || !isNum(hi)) return "not available";
  return `${value(kind, lo)} to ${value(kind, hi)}`;
}

/** ISO timestamp -> "2026-11-23 17:35" (UTC as stored). */
export function when(iso) {
  if (!iso) return "–";
  return String(iso).replace("T", " ").replace(/(\.\d+)?(Z|\+00:00)?$/, "").slice(0, 16);
}
