// A side-by-side line diff: removed lines on the left, added on the right, changed words
// marked within a changed line; long unchanged stretches fold away.
import type { ComponentChildren, JSX } from "preact";
import { useMemo, useState } from "preact/hooks";
import { type Row, sideBySide, wordPieces } from "../diff";

const CONTEXT = 3;

function Text({ row, side }: { row: Row; side: "left" | "right" }) {
  const cell = row[side];
  if (!cell) return <td class="diff-text diff-none" />;
  const marker = row.kind === "same" ? " " : side === "left" ? "−" : "+";
  const cls = row.kind === "same" ? "diff-same" : side === "left" ? "diff-del" : "diff-ins";
  let body: ComponentChildren = cell.text;
  if (row.kind === "changed" && row.left && row.right) {
    const [l, r] = wordPieces(row.left.text, row.right.text);
    const pieces = side === "left" ? l : r;
    body = pieces.map((p, i) => (p.marked ? <mark key={i}>{p.text}</mark> : p.text));
  }
  return (
    <td class={`diff-text ${cls}`}>
      <span class="diff-marker" aria-hidden="true">
        {marker}
      </span>
      <span class="visually-hidden">{row.kind === "same" ? "" : side === "left" ? "removed: " : "added: "}</span>
      {body}
    </td>
  );
}

/** Two texts side by side, line by line. */
export function DiffView({ before, after, labels }: { before: string; after: string; labels: [string, string] }) {
  const rows = useMemo(() => sideBySide(before, after), [before, after]);
  const [open, setOpen] = useState<Set<number>>(new Set());
  if (rows.length === 0) return <p class="empty">Both are empty.</p>;
  // Which unchanged rows are far from every change (folded unless opened).
  const near = rows.map(() => false);
  rows.forEach((r, i) => {
    if (r.kind !== "same") for (let k = Math.max(0, i - CONTEXT); k <= Math.min(rows.length - 1, i + CONTEXT); k++) near[k] = true;
  });
  const out: JSX.Element[] = [];
  for (let i = 0; i < rows.length; ) {
    if (!near[i] && !open.has(i)) {
      let j = i;
      while (j < rows.length && !near[j]) j++;
      if (j - i > 1) {
        const start = i;
        out.push(
          <tr key={`fold-${i}`} class="diff-fold">
            <td colSpan={4}>
              <button type="button" class="link" onClick={() => setOpen(new Set([...open, start]))}>
                Show {j - i} unchanged lines
              </button>
            </td>
          </tr>,
        );
        i = j;
        continue;
      }
    }
    if (open.has(i)) {
      // An opened fold shows its whole stretch.
      let j = i;
      while (j < rows.length && !near[j]) {
        out.push(<DiffRow key={j} row={rows[j]!} />);
        j++;
      }
      i = Math.max(j, i + 1);
      continue;
    }
    out.push(<DiffRow key={i} row={rows[i]!} />);
    i++;
  }
  return (
    <div class="table-scroll">
      <table class="diff">
        {/* Fixed layout takes widths from here, not from the header's spanning cells. */}
        <colgroup>
          <col class="diff-ncol" />
          <col />
          <col class="diff-ncol" />
          <col />
        </colgroup>
        <thead>
          <tr>
            <th colSpan={2} scope="col">
              {labels[0]}
            </th>
            <th colSpan={2} scope="col">
              {labels[1]}
            </th>
          </tr>
        </thead>
        <tbody>{out}</tbody>
      </table>
    </div>
  );
}

function DiffRow({ row }: { row: Row }) {
  return (
    <tr class={`diff-row diff-${row.kind}`}>
      <td class="diff-n">{row.left?.n ?? ""}</td>
      <Text row={row} side="left" />
      <td class="diff-n">{row.right?.n ?? ""}</td>
      <Text row={row} side="right" />
    </tr>
  );
}
