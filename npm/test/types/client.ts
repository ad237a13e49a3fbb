// The client: options (manifest or edge), resolve, track, flush, close.
import { Client, createClient } from "edgeprompt";
import type { ClientOptions, Decision, Manifest } from "edgeprompt";

declare const manifest: Manifest;

const browser = await createClient({ edge: "https://prompts.example.com" });
const offline = await createClient({ manifest });
const both = await createClient({ manifest: JSON.stringify(manifest), edge: "https://prompts.example.com", report: true });
const tuned: Client = await createClient({
  edge: "https://prompts.example.com/",
  fallback: manifest,
  refreshIntervalMs: 30_000,
  flushIntervalMs: 500,
  report: false,
  fetch: (input, init) => fetch(input, init),
  onError: (e) => console.warn(e.message),
});
const started: Client = await new Client({ manifest }).start();

const revision: number = browser.revision;
const last: Error | null = browser.lastError;
const changed: boolean = await browser.refresh();

const d: Decision = browser.resolve({ prompt: "support", unit: "user-42", variables: { question: "Where is my order?" } });
browser.track(d, "resolved", true);
browser.track(d, "resolved", 1);
browser.track(d, "latency_ms", 812.5);
browser.track(d, "follow_ups", 1, "msg-17");
browser.track(d, "follow_ups", 1, 17);
await browser.flush();
await browser.close();

// Mistakes.
// @ts-expect-error: a client needs a manifest or an edge
await createClient({});
// @ts-expect-error: a client needs a manifest or an edge, whatever else is given
await createClient({ report: true, fallback: manifest });
// @ts-expect-error: options are required
await createClient();
// @ts-expect-error: the edge is a URL string
await createClient({ edge: 8787 });
// @ts-expect-error: an outcome value is a number or a boolean
browser.track(d, "resolved", "yes");
// @ts-expect-error: an outcome id is a string or a number
browser.track(d, "follow_ups", 1, { id: 1 });
// @ts-expect-error: track takes the decision object
browser.track("support", "resolved", 1);
// @ts-expect-error: a metric is named by a string
browser.track(d, 1, 1);
// @ts-expect-error: resolve needs a unit
browser.resolve({ prompt: "support" });
// @ts-expect-error: onError takes an error
await createClient({ edge: "https://e", onError: (e: string) => {} });
// @ts-expect-error: the revision is read-only
browser.revision = 3;
// @ts-expect-error: unknown option (excess property)
await createClient({ edge: "https://e", refreshInterval: 1000 });

export const options: ClientOptions[] = [{ edge: "x" }, { manifest: "{}" }];
