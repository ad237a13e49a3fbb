// Who is signed in, shared with every page: the token's name, whether it may write and
// whether it may approve; and the changes waiting for an approval (the header's count).
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { ChangeRequest, WhoAmI } from "./types";

/** The signed-in token as pages see it. */
export interface Session {
  /** The token's name (from whoami), or null when the server could not say. */
  name: string | null;
  /** Whether write controls are shown. */
  canWrite: boolean;
  /** Whether the token may approve another person's change (scope `rw+approve`). */
  canApprove: boolean;
  /** Called when the server answered 403 to a write: hides the write controls. */
  markReadOnly: () => void;
  /** Forgets the token and shows the sign-in form with a message. */
  signOut: (message: string | null) => void;
}

/** What a scope allows: `rw` and `rw+approve` write, only `rw+approve` approves; an unknown scope is read-only. */
export function scopeRights(scope: WhoAmI["scope"] | string | null | undefined): { canWrite: boolean; canApprove: boolean } {
  return { canWrite: scope === "rw" || scope === "rw+approve", canApprove: scope === "rw+approve" };
}

/** The session context. */
export const SessionContext = createContext<Session>({ name: null, canWrite: false, canApprove: false, markReadOnly: () => {}, signOut: () => {} });

/** The current session. */
export function useSession(): Session {
  return useContext(SessionContext);
}

/** The changes waiting for an approval, as the shell last loaded them. */
export interface PendingChanges {
  /** Null while loading, or when the API has no changes (an older control plane). */
  changes: ChangeRequest[] | null;
  /** Asks the server again (after an approval, a rejection or a change sent for approval). */
  refresh: () => void;
}

/** The pending changes' context. */
export const PendingContext = createContext<PendingChanges>({ changes: null, refresh: () => {} });

/** The changes waiting for an approval. */
export function usePending(): PendingChanges {
  return useContext(PendingContext);
}

/** Whether a failed request may succeed when tried again: no answer, 429 or a 5xx. */
export function transientFailure(e: unknown): boolean {
  const status = (e as { status?: unknown } | null)?.status;
  return typeof status === "number" && (status === 0 || status === 429 || status >= 500);
}

/** The pauses between whoami's tries when the API did not answer (three tries in all). */
export const RETRY_DELAYS_MS = [500, 1000];

/**
 * Calls `fn`, and again after each of `delays` while it fails transiently (see
 * `transientFailure`); the last failure, or any other, is thrown.
 */
export async function withRetries<T>(fn: () => Promise<T>, delays: number[] = RETRY_DELAYS_MS, sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= delays.length || !transientFailure(e)) throw e;
      await sleep(delays[i]!);
    }
  }
}
