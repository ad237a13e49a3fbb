// The edge's exposure and event payloads.
import type { EventRejection, EventsRequest, EventsResponse, ExposureResult, ExposuresRequest, ExposuresResponse, OutcomeEvent } from "edgeprompt";

const exposures: ExposuresRequest = {
  exposures: [
    { prompt: "support", label: "production", unit: "user-42", attributes: { plan: "pro" }, revision: 7 },
    { prompt: "support", unit: "user-43", revision: 7 },
  ],
};
declare const answer: ExposuresResponse;
for (const r of answer.results) {
  if ("token" in r) {
    const [v, rule, bucket, rev, token]: [number, string, number, number, string] = [r.version, r.rule, r.bucket, r.revision, r.token];
  } else {
    const code: string = r.error.code;
    const message: string = r.error.message;
    // @ts-expect-error: a refused exposure has no token
    r.token;
  }
}
const events: EventsRequest = {
  events: [
    { token: "t", metric: "resolved", value: true },
    { token: "t", metric: "follow_ups", value: 2, id: "m1" },
  ],
};
declare const accepted: EventsResponse;
const counts: number = accepted.accepted + accepted.duplicates;
declare const rejection: EventRejection;
const where: number = rejection.index;

// @ts-expect-error: an outcome value is a number or a boolean
export const badValue: OutcomeEvent = { token: "t", metric: "m", value: "1" };
// @ts-expect-error: an exposure names its revision
export const noRevision: ExposureResult = { version: 1, rule: "default", bucket: 1, token: "t" };
// @ts-expect-error: the wire id is a string
export const numericId: OutcomeEvent = { token: "t", metric: "m", value: 1, id: 1 };
