// The client: a manifest kept fresh from the edge (or given), local resolves, and the
// exposures and outcomes of those decisions reported back to the edge in batches.
import { Engine, EdgepromptError, resolveAt, timeOf } from "./engine.js";

const BATCH = 100; // the edge's limit per request, for /v1/exposures and /v1/events
// Browsers refuse a beacon once the bodies of all the pending ones would pass 64 KiB
// (65,536 bytes): each payload stays well under, so that it fits on its own.
const BEACON_BYTES = 60_000;
const MAX_BACKOFF_MS = 60_000;
const SEP = "\0";
const utf8 = new TextEncoder();

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
  // Exposure key -> entry {key, item, token, outcomes, failed}. An entry waits in
  // #pending until the edge answers for it (bounded by maxQueue, as #exposures is), then
  // moves to #entries, least recently used first, of which at most maxEntries are kept.
  #pending = new Map();
  #entries = new Map();
  #byDecision = new WeakMap(); // decision object -> entry (kept while the decision is)
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
      maxEntries: opts.maxEntries ?? 10_000,
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
    if (req === null || typeof req !== "object") return this.#engine.resolve(req); // throws
    // One reading of the clock decides and is reported: the edge re-derives with it.
    const now = timeOf(req.now);
    const d = resolveAt(this.#engine, req, now);
    if (this.#opts.report) this.#expose(req, d, now);
    return d;
  }

  /**
   * Counts, for monitoring: `entries` exposures remembered (those waiting for the edge's
   * answer, and at most `maxEntries` answered ones), `exposures` waiting to be sent,
   * `outcomes` whose token is known waiting to be sent.
   */
  stats() {
    return { entries: this.#pending.size + this.#entries.size, exposures: this.#exposures.length, outcomes: this.#events.length };
  }

  #expose(req, d, now) {
    const key = d.prompt + SEP + d.label + SEP + req.unit + SEP + d.revision + SEP + d.version;
    let entry = this.#pending.get(key) ?? this.#recall(key);
    if (entry === undefined) {
      const item = { prompt: d.prompt, label: d.label, unit: req.unit, revision: d.revision, decided_at: now };
      if (req.attributes !== undefined && req.attributes !== null) item.attributes = req.attributes;
      entry = { key, item, token: null, outcomes: [], failed: null };
      this.#pending.set(key, entry);
      if (this.#exposures.length >= this.#opts.maxQueue) this.#abandon(this.#exposures.shift(), this.#queueFull("exposures"));
      this.#exposures.push(entry);
      this.#schedule();
    }
    this.#byDecision.set(d, entry);
  }

  // An answered entry used again becomes the most recent (a Map iterates in insertion order).
  #recall(key) {
    const entry = this.#entries.get(key);
    if (entry !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    return entry;
  }

  // The edge answered for this entry (a token, or a refusal): it is now only a memory of
  // what was reported, so that a unit resolved again is not reported again. The least
  // recently used go first; a decision still held keeps its own entry (#byDecision), so
  // its outcomes are sent all the same.
  #settle(entry) {
    this.#forget(entry);
    this.#entries.set(entry.key, entry);
    while (this.#entries.size > this.#opts.maxEntries) this.#entries.delete(this.#entries.keys().next().value);
  }

  // No answer will come for this entry: a later resolve of its unit reports again.
  #forget(entry) {
    if (this.#pending.get(entry.key) === entry) this.#pending.delete(entry.key);
  }

  // An exposure that will never be sent: its decisions' outcomes could never be either,
  // so track() refuses them with the reason instead of holding them forever.
  #abandon(entry, err) {
    entry.failed = err;
    entry.outcomes = [];
    this.#forget(entry);
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
    if (this.#events.length >= this.#opts.maxQueue) {
      this.#events.shift();
      this.#queueFull("outcomes");
    }
    this.#events.push(ev);
  }

  // A full queue (the edge unreachable for long) drops its oldest item, and says so.
  #queueFull(what) {
    const e = new EdgepromptError("queue_full", `more than ${this.#opts.maxQueue} ${what} waiting to be sent: the oldest was dropped`);
    this.#report(e);
    return e;
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
        // A batch the edge refuses as malformed (4xx but 408/429) would be refused again:
        // its entries fail instead of blocking the queue behind them.
        if (e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429) {
                    for (const entry of batch) {
            entry.failed = e;
            entry.outcomes = [];
            this.#settle(entry);
          }
          this.#report(e);
          continue;
        }
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
        this.#settle(entry);
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
    const text = JSON.stringify(body);
    const res = await this.#fetch(this.#opts.edge + path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: text,
      // Browsers refuse a keepalive request over 64 KiB outright: a large batch goes
      // as an ordinary request instead of failing on every retry.
      keepalive: utf8.encode(text).length <= BEACON_BYTES,
    });
    const answer = await res.text();
    if (!res.ok) throw httpError(res.status, answer, `POST ${path}`);
    return JSON.parse(answer);
  }

  // The page is going away: hand what is ready to the browser, which sends it even
  // after the page is gone. text/plain needs no CORS preflight, which beacons cannot do.
  #beacon() {
    if (typeof navigator === "undefined" || !navigator.sendBeacon) return;
    // A beacon brings back no token: forget the exposures sent, so a later resolve of
    // the same unit reports again and its outcomes can still be sent.
    const sent = this.#beaconAll(this.#exposures, "/v1/exposures", "exposures", {
      item: (e) => e.item,
      sent: (e) => this.#forget(e),
      dropped: (e, err) => this.#abandon(e, err),
    });
    if (sent) this.#beaconAll(this.#events, "/v1/events", "events");
    // What the browser refused stays queued: the page may only be hidden, and come back.
    if (this.#exposures.length || this.#events.length) this.#schedule();
  }

  // Sends a queue in beacons, oldest first. The browser refuses a beacon (false) when
  // its queue is full: that batch goes back to the front, the rest stays, and this
  // returns false.
  #beaconAll(queue, path, field, { item = (x) => x, sent = () => {}, dropped = () => {} } = {}) {
    while (queue.length) {
      const { batch, body } = this.#takeBeacon(queue, field, item, dropped);
      if (batch.length === 0) continue;
      if (!navigator.sendBeacon(this.#opts.edge + path, new Blob([body], { type: "text/plain" }))) {
        queue.unshift(...batch);
        return false;
      }
      batch.forEach(sent);
    }
    return true;
  }

  // Takes from the front of a queue what one beacon carries: at most BATCH items and
  // BEACON_BYTES of UTF-8 JSON. An item over the limit on its own could never go in a
  // beacon: it is dropped, and reported, rather than tried again.
  #takeBeacon(queue, field, toItem, dropped) {
    const head = `{"${field}":[`;
    const parts = [];
    let bytes = head.length + 2; // and "]}"
    while (parts.length < queue.length && parts.length < BATCH) {
      const json = JSON.stringify(toItem(queue[parts.length]));
      const size = utf8.encode(json).length + (parts.length > 0 ? 1 : 0); // and ","
      if (bytes + size <= BEACON_BYTES) {
        parts.push(json);
        bytes += size;
      } else if (parts.length > 0) {
        break; // the next beacon starts with it
      } else {
        const err = new EdgepromptError("beacon_too_large", `one of the ${field} is ${size} bytes of JSON, over the ${BEACON_BYTES} a beacon may carry: dropped`);
        this.#report(err);
        dropped(queue.shift(), err);
      }
    }
    return { batch: queue.splice(0, parts.length), body: head + parts.join(",") + "]}" };
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
