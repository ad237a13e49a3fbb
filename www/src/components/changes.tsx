// Changes between two manifests, path by path (GET /admin/v1/diff, a dry run's revisions).
import type { Change } from "../types";
import { DiffView } from "./diffview";
import { prettyJson } from "../diff";

/** A revision's changes, path by path. */
export function ChangeList({ changes }: { changes: Change[] }) {
  return (
    <ul class="changes">
      {changes.map((c) => (
        <li key={c.path} class={`change-${c.kind}`}>
          <p>
            <span class={`badge badge-${c.kind === "added" ? "ok" : c.kind === "removed" ? "bad" : "info"}`}>{c.kind}</span> <code class="path">{c.path}</code>
          </p>
          {c.kind === "changed" ? (
            <DiffView before={prettyJson(c.before)} after={prettyJson(c.after)} labels={["before", "after"]} />
          ) : (
            <details>
              <summary>{c.kind === "added" ? "What was added" : "What was removed"}</summary>
              <pre class="code">{prettyJson(c.kind === "added" ? c.after : c.before)}</pre>
            </details>
          )}
        </li>
      ))}
    </ul>
  );
}
