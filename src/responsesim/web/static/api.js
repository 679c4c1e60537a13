// Talking to the responsesim server (same origin only). Every error body is
// {"error": str, "field": str|null, "line": int|null}; ApiError carries those parts.

export class ApiError extends Error {
  /** @param {string} message @param {number} status @param {string|null} field @param {number|null} line */
  constructor(message, status, field = null, line = null) {
    super(message);
    this.status = status;
    this.field = field;
    this.line = line;
  }
}

async function parse(resp) {
  const type = resp.headers.get("content-type") || "";
  const body = type.includes("application/json") ? await resp.json() : await resp.text();
  if (!resp.ok) {
    if (body && typeof body === "object" && "error" in body) {
      throw new ApiError(String(body.error), resp.status, body.field ?? null, body.line ?? null);
    }
    const text = typeof body === "string" && body ? body.slice(0, 300) : resp.statusText;
    throw new ApiError(`The server answered ${resp.status}: ${text}`, resp.status);
  }
  return body;
}

async function send(url, init) {
  let resp;
  try {
    resp = await fetch(url, init);
  } catch (err) {
    throw new ApiError(`Cannot reach the simulator server (${err.message}). Is "responsesim serve" running?`, 0);
  }
  return parse(resp);
}

/** GET a JSON resource. */
export function getJSON(url) {
  return send(url, { headers: { Accept: "application/json" } });
}

/** POST a JSON body, return the JSON answer. */
export function postJSON(url, body) {
  return send(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body ?? {}),
  });
}

/** POST a multipart form (file uploads). */
export function postForm(url, formData) {
  return send(url, { method: "POST", body: formData, headers: { Accept: "application/json" } });
}

export const api = {
  health: () => getJSON("/api/health"),
  limits: () => getJSON("/api/limits"),
  scenarios: () => getJSON("/api/scenarios"),
  scenario: (id) => getJSON(`/api/scenarios/${encodeURIComponent(id)}`),
  doctrines: () => getJSON("/api/doctrines"),
  validate: (toml, filename) => postJSON("/api/validate", { toml, filename }),
  startRun: (body) => postJSON("/api/runs", body),
  job: (id) => getJSON(`/api/jobs/${encodeURIComponent(id)}`),
  cancel: (id) => postJSON(`/api/jobs/${encodeURIComponent(id)}/cancel`, {}),
  runs: () => getJSON("/api/runs"),
  run: (id) => getJSON(`/api/runs/${encodeURIComponent(id)}`),
  compare: (a, b) => getJSON(`/api/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`),
  replay: (id, rep) => getJSON(`/api/runs/${encodeURIComponent(id)}/replay?rep=${encodeURIComponent(rep)}`),
  review: (formData) => postForm("/api/review", formData),
};

/**
 * Follow a job's server-sent events until it ends. Calls onProgress(done, total, status, ahead) on each progress
 * event (status "queued" with the runs it waits for, or "running") and
 * resolves with {status: "done", run_id} | {status: "error", error} | {status: "cancelled"}. If the event
 * stream breaks, falls back to polling GET /api/jobs/{id} once a second.
 */
export function followJob(jobId, onProgress) {
  return new Promise((resolve) => {
    let finished = false;
    const es = new EventSource(`/api/jobs/${encodeURIComponent(jobId)}/events`);
    const finish = (result) => {
      if (finished) return;
      finished = true;
      es.close();
      resolve(result);
    };
    es.addEventListener("progress", (ev) => {
      const d = JSON.parse(ev.data);
      onProgress(d.done, d.total, d.status, d.ahead);
    });
    es.addEventListener("done", (ev) => finish({ status: "done", run_id: JSON.parse(ev.data).run_id }));
    es.addEventListener("error", (ev) => {
      // a server "event: error" has data; a broken connection has none
      if (ev.data) {
        finish({ status: "error", error: JSON.parse(ev.data).error });
        return;
      }
      if (finished) return;
      es.close();
      poll();
    });
    es.addEventListener("cancelled", () => finish({ status: "cancelled" }));

    async function poll() {
      while (!finished) {
        try {
          const j = await api.job(jobId);
          onProgress(j.done, j.total, j.status, j.ahead);
          if (j.status === "done") finish({ status: "done", run_id: j.run_id });
          else if (j.status === "error") finish({ status: "error", error: j.error });
          else if (j.status === "cancelled") finish({ status: "cancelled" });
        } catch (err) {
          finish({ status: "error", error: err.message });
        }
        if (!finished) await new Promise((r) => setTimeout(r, 1000));
      }
    }
  });
}
