// A label's policy (what its changes need, its freeze windows, whether it is frozen now)
// and its markers: "protected", "frozen", "N pending".
import { links } from "../router";
import { changeSummary, describeFreeze, policyTitle, requirements } from "../gates";
import type { ChangeRequest, LabelPolicy } from "../types";
import { Badge, Time } from "./ui";

/** The traffic page's account of a label's policy; nothing when the label has none. */
export function PolicyView({ policy, pending }: { policy: LabelPolicy | null; pending: ChangeRequest[] }) {
  if (!policy && pending.length === 0) return null;
  const reqs = policy ? requirements(policy.policy) : [];
  return (
    <section class="card policy" aria-labelledby="policy-h" data-testid="policy">
      <h2 id="policy-h">
        Protection {policy && <Badge tone="info">protected</Badge>} {policy?.frozen && <Badge tone="bad">frozen</Badge>}
      </h2>
      {policy?.frozen && (
        <p class="warning" role="status">
          Frozen now: {policy.frozen.reason}
          {policy.frozen.until_ms !== null && (
            <>
              {" "}
              (until <Time at={policy.frozen.until_ms} />)
            </>
          )}
          . Promote, split, ramp and rollouts are refused meanwhile; a rollback always goes through.
        </p>
      )}
      {policy && (
        <>
          {reqs.length === 0 ? (
            <p>The label has a policy that requires nothing.</p>
          ) : (
            <>
              <p>A change to this label needs:</p>
              <ul>
                {reqs.map((r) => (
                  <li key={r}>{r}</li>
                ))}
              </ul>
            </>
          )}
          {policy.policy.freeze.length > 0 && (
            <>
              <p>Freeze windows:</p>
              <ul class="freeze">
                {policy.policy.freeze.map((w, i) => (
                  <li key={i}>{describeFreeze(w)}</li>
                ))}
              </ul>
            </>
          )}
          <p class="muted small">
            Set by {policy.set_by}, <Time at={policy.set_at_ms} />.
          </p>
        </>
      )}
      {pending.length > 0 && (
        <p>
          <a href={links.changes()}>
            {pending.length} change{pending.length === 1 ? "" : "s"} waiting for an approval
          </a>
          : {pending.map((c) => `#${c.id} ${changeSummary(c.summary)}`).join("; ")}
        </p>
      )}
    </section>
  );
}

/** The overview's markers of a label: protected (with what it needs as a title), frozen, N pending. */
export function GateMarkers({ policy, pending }: { policy: LabelPolicy | null | undefined; pending: number }) {
  return (
    <>
      {policy && (
        <>
          {" "}
          <Badge tone="info" title={policyTitle(policy.policy)}>
            protected
          </Badge>
        </>
      )}
      {policy?.frozen && (
        <>
          {" "}
          <Badge tone="bad" title={`Frozen now: ${policy.frozen.reason}`}>
            frozen
          </Badge>
        </>
      )}
      {pending > 0 && (
        <>
          {" "}
          <a class="badge-link" href={links.changes()} title="Changes waiting for an approval">
            <Badge tone="warn">{pending} pending</Badge>
          </a>
        </>
      )}
    </>
  );
}
