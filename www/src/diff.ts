// Line diffs laid out side by side (the `diff` package finds the changes), and the
// text forms of a version's parts that the version diff compares.
import { diffArrays, diffWordsWithSpace } from "diff";
import type { JsonValue, PromptVersion } from "./types";

/** One side of a row: its line number and text, or nothing (the other side has a line there). */
export interface Cell {
  n: number;
  text: string;
}

/** One row of a side-by-side diff. */
export interface Row {
  kind: "same" | "changed" | "removed" | "added";
  left: Cell | null;
  right: Cell | null;
}

/** Lines of a text; an empty text has no lines. */
function lines(text: string): string[] {
  return text === "" ? [] : text.split("\n");
}

/** The rows of a side-by-side line diff: removed lines paired with the added lines that replace them. */
export function sideBySide(before: string, after: string): Row[] {
  const rows: Row[] = [];
  let l = 1;
  let r = 1;
  const parts = diffArrays(lines(before), lines(after));
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (!p.added && !p.removed) {
      for (const t of p.value) rows.push({ kind: "same", left: { n: l++, text: t }, right: { n: r++, text: t } });
      continue;
    }
    // A removal followed by an addition is a change: pair their lines.
    const removed = p.removed ? p.value : [];
    const next = parts[i + 1];
    const added = p.added ? p.value : next?.added ? next.value : [];
    if (p.removed && next?.added) i++;
    for (let k = 0; k < Math.max(removed.length, added.length); k++) {
      const a = removed[k];
      const b = added[k];
      rows.push({
        kind: a !== undefined && b !== undefined ? "changed" : a !== undefined ? "removed" : "added",
        left: a !== undefined ? { n: l++, text: a } : null,
        right: b !== undefined ? { n: r++, text: b } : null,
      });
    }
  }
  return rows;
}

/** A piece of a changed line: kept, or only on this side. */
export interface Piece {
  text: string;
  marked: boolean;
}

/** The words that differ between two lines, for each side. */
export function wordPieces(before: string, after: string): [Piece[], Piece[]] {
  const left: Piece[] = [];
  const right: Piece[] = [];
  for (const c of diffWordsWithSpace(before, after)) {
    if (!c.added) left.push({ text: c.value, marked: c.removed });
    if (!c.removed) right.push({ text: c.value, marked: c.added });
  }
  return [left, right];
}

/** Whether the rows hold any change. */
export function hasChanges(rows: Row[]): boolean {
  return rows.some((r) => r.kind !== "same");
}

/** JSON with sorted keys and two-space indents, so that a line diff of two values reads well. */
export function prettyJson(v: JsonValue | undefined): string {
  if (v === undefined) return "";
  const sort = (x: JsonValue): JsonValue => {
    if (Array.isArray(x)) return x.map(sort);
    if (x && typeof x === "object") {
      const out: { [k: string]: JsonValue } = {};
      for (const k of Object.keys(x).sort()) out[k] = sort(x[k] as JsonValue);
      return out;
    }
    return x;
  };
  return JSON.stringify(sort(v), null, 2);
}

/** A version's templates as one text: the text, or each message under a `── role ──` header. */
export function templateText(v: PromptVersion): string {
  if ("text" in v && typeof v.text === "string") return v.text;
  const out: string[] = [];
  for (const m of v.messages ?? []) {
    if ("placeholder" in m && m.placeholder) out.push(`── placeholder: {{${m.placeholder}}} ──`);
    else {
      const msg = m as { role: string; content: string };
      out.push(`── ${msg.role} ──`, ...msg.content.split("\n"));
    }
  }
  return out.join("\n");
}
