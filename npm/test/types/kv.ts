// loadFromKV: a Cloudflare KVNamespace fits the minimal KVLike shape.
import { loadFromKV, Engine } from "edgeprompt";
import type { Decision, KVLike } from "edgeprompt";

// The `get` overloads of @cloudflare/workers-types' KVNamespace (not installed here).
interface KVNamespaceGetOptions<Type> {
  type: Type;
  cacheTtl?: number;
}
interface KVNamespace<Key extends string = string> {
  get(key: Key, options?: Partial<KVNamespaceGetOptions<undefined>>): Promise<string | null>;
  get(key: Key, type: "text"): Promise<string | null>;
  get<ExpectedValue = unknown>(key: Key, type: "json"): Promise<ExpectedValue | null>;
  get(key: Key, type: "arrayBuffer"): Promise<ArrayBuffer | null>;
  get(key: Key, type: "stream"): Promise<ReadableStream | null>;
  get(key: Key, options?: KVNamespaceGetOptions<"text">): Promise<string | null>;
  get<ExpectedValue = unknown>(key: Key, options?: KVNamespaceGetOptions<"json">): Promise<ExpectedValue | null>;
  get(key: Key, options?: KVNamespaceGetOptions<"arrayBuffer">): Promise<ArrayBuffer | null>;
  get(key: Key, options?: KVNamespaceGetOptions<"stream">): Promise<ReadableStream | null>;
  get(key: Array<Key>, type: "text"): Promise<Map<string, string | null>>;
  put(key: Key, value: string | ArrayBuffer | ArrayBufferView | ReadableStream): Promise<void>;
  delete(key: Key): Promise<void>;
}

interface Env {
  MANIFESTS: KVNamespace;
}

interface ExecutionContext {
  waitUntil(promise: Promise<any>): void;
  passThroughOnException(): void;
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const engine: Engine = await loadFromKV(env.MANIFESTS, { ctx });
    const d: Decision = engine.resolve({ prompt: "support", unit: "user-42", variables: { question: "hi" } });
    return Response.json(d);
  },
};

const map = new Map<string, string>();
const memory: KVLike = { get: async (key) => map.get(key) ?? null };
await loadFromKV(memory, { refreshIntervalMs: 0, now: () => 0 });
await loadFromKV({ get: async (key: string, opts: { type: "text" }) => null });

// Mistakes.
// @ts-expect-error: a KV binding needs get
await loadFromKV({});
// @ts-expect-error: get resolves to text or null
await loadFromKV({ get: async (key: string) => 42 });
// @ts-expect-error: options are numbers and a clock
await loadFromKV(memory, { refreshIntervalMs: "10s" });
// @ts-expect-error: now returns milliseconds
await loadFromKV(memory, { now: () => new Date() });
// @ts-expect-error: ctx needs waitUntil
await loadFromKV(memory, { ctx: {} });
