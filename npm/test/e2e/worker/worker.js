// A JavaScript Worker that uses the npm package the way a user's Worker would: the
// manifest comes from a KV binding through loadFromKV (cached in the isolate) and
// decisions are made locally. POST /conformance runs the conformance set's sections
// (tests/conformance/) given in the body.
import { loadFromKV, Engine } from "edgeprompt";
import { runAll } from "../../conformance.mjs";

let lastEngine = null;

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    try {
      if (url.pathname === "/conformance" && request.method === "POST") {
        return Response.json(runAll(Engine, await request.json()));
      }
      if (url.pathname === "/resolve" && request.method === "POST") {
        const engine = await loadFromKV(env.MANIFESTS, { refreshIntervalMs: 100 });
        return Response.json({ revision: engine.revision, decision: engine.resolve(await request.json()) });
      }
      if (url.pathname === "/cached" && request.method === "POST") {
        // The same compiled engine across requests: the isolate cache hits (env's KV
        // binding is the same object from one request to the next).
        const engine = await loadFromKV(env.MANIFESTS, { refreshIntervalMs: 60_000 });
        const same = engine === lastEngine;
        lastEngine = engine;
        return Response.json({ same, revision: engine.revision });
      }
      if (url.pathname === "/healthz") return new Response("ok");
      return new Response("not found", { status: 404 });
    } catch (e) {
      return Response.json({ error: { code: e.code ?? "internal", message: e.message } }, { status: 500 });
    }
  },
};
