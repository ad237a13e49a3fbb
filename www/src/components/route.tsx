// A label's route as read-only markup: the default's versions or split, and the rules in order.
import type { Route, Target } from "../types";
import { describeMatch, describeTarget, formatBp, shares } from "../routes";

/** A target: "version 2", or the split with a bar per version. */
export function TargetView({ target }: { target: Target }) {
  const list = shares(target);
  if (list.length === 1 && list[0]!.bp === 10_000) return <span class="target">version {list[0]!.version}</span>;
  return (
    <span class="target" title={describeTarget(target)}>
      <span class="split-bar" aria-hidden="true">
        {list.map((s, i) => (
          <span key={s.version} class={`split-seg seg-${i % 6}`} style={{ flexGrow: s.bp }} />
        ))}
      </span>
      <span class="split-text">
        {list.map((s, i) => (
          <span key={s.version} class="split-item">
            {i > 0 && " · "}
            <span class={`swatch seg-${i % 6}`} aria-hidden="true" />v{s.version} {formatBp(s.bp)}%
          </span>
        ))}
      </span>
    </span>
  );
}

/** The rules in order, each with what it matches and its target; `compact` for tables. */
export function RulesView({ route, compact }: { route: Route; compact?: boolean }) {
  const rules = route.rules ?? [];
  if (rules.length === 0) return <span class="muted">no rules</span>;
  return (
    <ol class={compact ? "rules compact" : "rules"}>
      {rules.map((r) => (
        <li key={r.name}>
          <strong>{r.name}</strong>: {describeMatch(r)} → {describeTarget(r.target)}
        </li>
      ))}
    </ol>
  );
}
