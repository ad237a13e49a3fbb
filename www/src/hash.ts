// A version's content hash, computed in the browser exactly as the engine does
// (src/manifest/versions.rs content_hash, src/value/canonical.rs): hex SHA-256 of the
// canonical JSON of the fields that shape its output. The manifest does not carry the
// hashes; the engine only reports the one of the version it resolves.
import type { JsonValue, PromptVersion } from "./types";

const COVERED = ["messages", "model", "response_format", "snippets", "text", "tools", "variables"] as const;
const utf8 = new TextEncoder();

// serde_json's escapes: ", \, \n, \r, \t, \b, \f; other controls as \u00XX; nothing else.
function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c === 8) out += "\\b";
    else if (c === 12) out += "\\f";
    else if (c < 0x20) out += "\\u" + c.toString(16).padStart(4, "0");
    else out += ch;
  }
  return out + '"';
}

// Object keys sort by their UTF-8 bytes (JavaScript's sort compares UTF-16 units,
// which differs for characters above U+FFFF).
function byUtf8(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
  return x.length - y.length;
}

/** The canonical JSON text of a value: sorted keys, no spaces, numbers as JavaScript prints them. */
export function canonical(v: JsonValue | undefined): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return quote(v);
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  const keys = Object.keys(v).sort(byUtf8);
  return `{${keys.map((k) => `${quote(k)}:${canonical(v[k])}`).join(",")}}`;
}

/** The version's content hash (hex SHA-256), as the engine computes it. */
export async function contentHash(version: PromptVersion): Promise<string> {
  const obj = version as unknown as Record<string, JsonValue | undefined>;
  const parts: string[] = [];
  for (const key of COVERED) if (obj[key] !== undefined) parts.push(`${quote(key)}:${canonical(obj[key])}`);
  const digest = await crypto.subtle.digest("SHA-256", utf8.encode(`{${parts.join(",")}}`));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
