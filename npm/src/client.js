// The client: a manifest kept fresh from the edge (or given), local resolves, and the
// exposures and outcomes of those decisions reported back to the edge in batches.
import { Engine, EdgepromptError } from "./engine.js";

const BATCH = 100; // the edge's limit per request, for /v1/exposures and /v1/events
const MAX_BACKOFF_MS = 60_000;
const SEP = "\0";

function trimSlash(url) {
  return url.endsWith("/") ? url.slice(0, -1) : url;
}

/** Resolves prompts locally and reports what it decided; see `createClient`. */
export class Client {
  #opts;
  #engine = null;
  #etag = null;
  #fetch;
  #timers = []; // refresh intervals
  #flushTimer = null;
  #exposures = []; // entries waiting to be sent
  #events = []; // {token, metric, value, id?} ready to be sent
  #entries = new Map(); // exposure key -> entry {token, outcomes, sent}
  #byDecision = new WeakMap(); // decision object -> entry
  #flushing = null;
  #failures = 0; // failed flushes in a row, for the retry backoff
  #closed = false;
  #onHide = null;

  constructor(opts = {}) {
    // An option given as undefined takes its default too.
    this.#opts = {
      ...opts,
      refreshIntervalMs: opts.refreshIntervalMs ?? 60_000,
      flushIntervalMs: opts.flushIntervalMs ?? 2_000,
      maxQueue: opts.maxQueue ?? 10_000,
      report: opts.report ?? opts.edge !== undefined,
    };
    if (opts.edge !== undefined) this.#opts.edge = trimSlash(String(opts.edge));
    this.#fetch = opts.fetch ?? globalThis.fetch?.bind(globalThis);
    /** The last error met in the background (a failed refresh or report), if any. */
    this.lastError = null;
  }

  /** Loads the first manifest: the given one, else the edge's, else the fallback. */
  async start() {
    const { manifest, edge, fallback, refreshIntervalMs } = this.#opts;
    if (manifest !== undefined) {
      this.#engine = new Engine(manifest);
    } else if (edge !== undefined) {
      try {
        await this.refresh();
      } catch (e) {
        if (fallback === undefined) throw e;
        this.#report(e);
        this.#engine = new Engine(fallback);
      }
      if (refreshIntervalMs > 0) this.#every(refreshIntervalMs, () => this.refresh().catch((e) => this.#report(e)));
    } else {
      throw new EdgepromptError("invalid_options", "createClient needs `manifest` or `edge`");
    }
    if (this.#opts.report && typeof addEventListener === "function" && typeof document !== "undefined") {
      this.#onHide = (ev) => {
        if (ev.type === "pagehide" || document.visibilityState === "hidden") this.#beacon();
      };
      addEventListener("visibilitychange", this.#onHide);
      addEventListener("pagehide", this.#onHide);
    }
    return this;
  }

  /** The revision of the manifest in use. */
  get revision() {
    return this.#engine?.revision;
  }

  /**
   * Fetches the edge's manifest unless the ETag says it is unchanged; a new revision
   * replaces the engine only when it compiles and is not older. Returns whether it changed.
   */
  async refresh() {
    const edge = this.#opts.edge;
    if (edge === undefined) return false;
    const headers = this.#etag ? { "if-none-match": this.#etag } : {};
    const res = await this.#fetch(`${edge}/v1/manifest`, { headers });
    if (res.status === 304) return false;
    const text = await res.text();
    if (!res.ok) throw httpError(res.status, text, "GET /v1/manifest");
    const engine = new Engine(text);
    if (this.#engine && engine.revision < this.#engine.revision) {
      engine.free();
      return false;
    }
    const old = this.#engine;
    this.#engine = engine;
    this.#etag = res.headers.get("etag");
    // Decisions made by the old engine keep their data in JS; its Wasm memory can go.
    if (old && old !== engine) old.free();
    return true;
  }

  /** Assigns and renders locally; the exposure is reported to the edge in the background. */
  resolve(req) {
    if (!this.#engine) throw new EdgepromptError("not_ready", "the client has no manifest yet: await createClient(...)");
    const d = this.#engine.resolve(req);
    if (this.#opts.report) this.#expose(req, d);
    return d;
  }

  #expose(req, d) {
    const key = d.prompt + SEP + d.label + SEP + req.unit + SEP + d.revision + SEP + d.version;
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      const item = { prompt: d.prompt, label: d.label, unit: req.unit, revision: d.revision };
      if (req.attributes !== undefined && req.attributes !== null) item.attributes = req.attributes;
      entry = { key, item, token: null, outcomes: [], failed: null };
      this.#entries.set(key, entry);
      if (this.#exposures.length >= this.#opts.maxQueue) this.#drop(this.#exposures, "exposures");
      this.#exposures.push(entry);
      this.#schedule();
    }
    this.#byDecision.set(d, entry);
  }

  /**
   * Records an outcome of a decision this client made: `metric` as declared in the
   * manifest, `value` 0/1/true/false for binary metrics, a number otherwise; `id`
   * makes repeats of the same outcome count once (count metrics need one).
   */
  track(decision, metric, value, id) {
    const entry = this.#byDecision.get(decision);
    if (entry === undefined) {
      throw new EdgepromptError("unknown_decision", "track() takes a decision returned by this client's resolve() with reporting on");
    }
    // Checked here, by the edge's rules, so that one bad outcome never costs a batch.
    this.#engine.checkOutcome(metric, value, id);
    const ev = { metric, value };
    if (id !== undefined) ev.id = String(id);
    if (entry.failed) throw entry.failed;
    if (entry.token) this.#queueEvent({ token: entry.token, ...ev });
    else entry.outcomes.push(ev);
    this.#schedule();
  }

  #queueEvent(ev) {
    if (this.#events.length >= this.#opts.maxQueue) this.#drop(this.#events, "outcomes");
    this.#events.push(ev);
  }

  // A full queue (the edge unreachable for long) drops its oldest item, and says so.
  #drop(queue, what) {
    queue.shift();
    this.#report(new EdgepromptError("queue_full", `more than ${this.#opts.maxQueue} ${what} waiting to be sent: the oldest was dropped`));
  }

  #schedule(delay = this.#opts.flushIntervalMs) {
    if (this.#closed || this.#flushTimer) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = null;
      this.flush().catch((e) => this.#report(e));
    }, delay);
    this.#flushTimer.unref?.();
  }

  /**
   * Sends every pending exposure, then every outcome whose token is known. A failed
   * send keeps what the edge may still accept and retries after a backoff (the flush
   * interval, doubled per failure in a row, at most a minute).
   */
  async flush() {
    while (this.#flushing) await this.#flushing;
    this.#flushing = this.#flushOnce().finally(() => (this.#flushing = null));
    try {
      await this.#flushing;
      this.#failures = 0;
    } catch (e) {
      this.#failures++;
      if (this.#exposures.length || this.#events.length) {
        this.#schedule(Math.min(this.#opts.flushIntervalMs * 2 ** this.#failures, MAX_BACKOFF_MS));
      }
      throw e;
    }
  }

  async #flushOnce() {
    const edge = this.#opts.edge;
    if (edge === undefined) return;
    while (this.#exposures.length) {
      const batch = this.#exposures.splice(0, BATCH);
      let body;
      try {
        body = await this.#post("/v1/exposures", { exposures: batch.map((e) => e.item) });
      } catch (e) {
        this.#exposures.unshift(...batch);
        throw e;
      }
      const results = body.results ?? [];
      batch.forEach((entry, i) => {
        const r = results[i] ?? {};
        if (r.token) {
          entry.token = r.token;
          for (const ev of entry.outcomes) this.#queueEvent({ token: r.token, ...ev });
          entry.outcomes = [];
        } else {
          const err = r.error ?? { code: "internal", message: "no token in the answer" };
          entry.failed = new EdgepromptError(err.code, err.message);
          this.#report(entry.failed);
          // A revision the edge can no longer load: fetch the current manifest.
          if (err.code === "stale_revision") this.refresh().catch((e) => this.#report(e));
        }
      });
    }
    while (this.#events.length) {
      const batch = this.#events.splice(0, BATCH);
      try {
        await this.#post("/v1/events", { events: batch });
      } catch (e) {
        const refused = e instanceof EdgepromptError && e.code === "invalid_events" ? e.details?.errors : undefined;
        if (Array.isArray(refused) && refused.length > 0) {
          // The edge stores nothing of a refused batch and names each bad event: drop
          // those (an expired token, a metric the manifest no longer declares), resend the rest.
          const bad = new Set(refused.map((r) => r.index));
          for (const r of refused) this.#report(new EdgepromptError(r.code, r.message));
          this.#events.unshift(...batch.filter((_, i) => !bad.has(i)));
          continue;
        }
        // Kept only if the edge may accept it later (unreachable, or a server error).
        if (!(e instanceof EdgepromptError) || e.status >= 500) this.#events.unshift(...batch);
        throw e;
      }
    }
  }

  async #post(path, body) {
    const res = await this.#fetch(this.#opts.edge + path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      keepalive: true,
    });
    const text = await res.text();
    if (!res.ok) throw httpError(res.status, text, `POST ${path}`);
    return JSON.parse(text);
  }

  // The page is going away: hand what is ready to the browser, which sends it even
  // after the page is gone. text/plain needs no CORS preflight, which beacons cannot do.
  #beacon() {
    if (typeof navigator === "undefined" || !navigator.sendBeacon) return;
    const send = (path, body) => navigator.sendBeacon(this.#opts.edge + path, new Blob([JSON.stringify(body)], { type: "text/plain" }));
    while (this.#exposures.length) {
      const batch = this.#exposures.splice(0, BATCH);
      send("/v1/exposures", { exposures: batch.map((e) => e.item) });
      // A beacon brings back no token: forget these, so a later resolve of the same
      // unit reports again and its outcomes can still be sent.
      for (const e of batch) this.#entries.delete(e.key);
    }
    while (this.#events.length) send("/v1/events", { events: this.#events.splice(0, BATCH) });
  }

  #every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref?.();
    this.#timers.push(t);
  }

  #report(e) {
    this.lastError = e;
    this.#opts.onError?.(e);
  }

  /** Stops the timers (after a last flush when reporting). */
  async close() {
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    if (this.#onHide) {
      removeEventListener("visibilitychange", this.#onHide);
      removeEventListener("pagehide", this.#onHide);
    }
    if (this.#opts.report) await this.flush();
  }
}

function httpError(status, text, what) {
  let err;
  try {
    err = JSON.parse(text).error;
  } catch {
    err = undefined;
  }
  const e = new EdgepromptError(err?.code ?? "http_error", `${what}: ${status} ${err?.message ?? text.slice(0, 200)}`, err?.details);
  e.status = status;
  return e;
}

/** Creates a client and loads its first manifest. */
export async function createClient(opts) {
  return new Client(opts).start();
}
