// The edge Worker's entry. `POST /v1/resolve` crosses into the engine as text and comes
// back as text (as the npm package's crossing does): no Request or Response is
// converted through wasm-bindgen, no Rust future runs, and `GET /healthz` never enters
// Wasm. Whenever the isolate does not hold what a resolve needs yet (a cold start, a
// prompt not compiled yet, a revalidation due), `resolveLoading` loads it first, still
// from the body's text. Every other route, and bodies of undeclared or excessive
// length, go to the Rust Worker's router (`edge/src/lib.rs`, `#[event(fetch)]`).
// Extending the generated class keeps its recovery after a Wasm panic; worker-build puts
// the crate's exported functions (`resolveFast`, `maxBodyBytes`) on that class, wrapped
// by the same recovery.
import RustEdge, { Aggregator, DeadLetters, PeriodIndex } from "./index.js";

export { Aggregator, DeadLetters, PeriodIndex };

const JSON_TYPE = "application/json; charset=utf-8";
let limit; // MAX_BODY_BYTES, read once per isolate

/** The path of a request URL, without parsing the whole URL. */
function pathOf(url) {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  let end = url.length;
  for (const c of ["?", "#"]) {
    const i = url.indexOf(c, start);
    if (i >= 0 && i < end) end = i;
  }
  return url.slice(start, end);
}

export default class Edge extends RustEdge {
  async fetch(request) {
    const path = pathOf(request.url);
    if (path === "/healthz" && request.method === "GET") {
      return new Response("ok", { headers: { "content-type": "text/plain" } });
    }
    if (path === "/v1/resolve" && request.method === "POST") {
      limit ??= this.maxBodyBytes(this.env);
      const declared = request.headers.get("content-length");
      // Bodies of undeclared or excessive length are the Rust side's (bounded reads, 413).
      if (declared !== null && Number(declared) <= limit) {
        const text = await request.text();
        const args = [text, request.headers.get("authorization") ?? undefined, request.cf?.colo || "local", this.env, this.ctx];
        const answer = this.resolveFast(...args) ?? (await this.resolveLoading(...args));
        return new Response(answer.slice(4), { status: Number(answer.slice(0, 3)), headers: { "content-type": JSON_TYPE } });
      }
    }
    return super.fetch(request);
  }
}
