// The sign-in form: an admin token, checked with whoami before it is kept.
import { useState } from "preact/hooks";
import { api, ApiError } from "../api";
import type { WhoAmI } from "../types";

/** Asks for an admin token; `onSignedIn` gets it and who it is (null when whoami is not served). */
export function SignIn({ message, onSignedIn }: { message: string | null; onSignedIn: (token: string, who: WhoAmI | null) => void }) {
  const [token, setToken] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) return setError("Paste an admin token first.");
    setBusy(true);
    setError(null);
    try {
      onSignedIn(t, await api.whoami(t));
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        // An API without whoami: check the token on a read instead.
        try {
          await checkWithManifest(t);
          onSignedIn(t, null);
        } catch (e2) {
          setError(describe(e2 as Error));
        }
      } else setError(describe(err as Error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin" id="main">
      <h1>Sign in to the edgeprompt console</h1>
      {message && (
        <p class="error" role="alert">
          {message}
        </p>
      )}
      <form onSubmit={submit} class="card">
        <label for="token">Admin token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellcheck={false}
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          aria-describedby="token-help"
          required
        />
        <p id="token-help" class="help">
          A token from <code>ADMIN_TOKENS</code> (<code>name:scope:token</code>; locally in <code>.dev.vars</code>). It is kept in
          this tab only (sessionStorage) and sent as <code>Authorization: Bearer</code> to the admin API.{" "}
          <code>edgeprompt console</code> prints a link that signs in directly.
        </p>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}

async function checkWithManifest(token: string): Promise<void> {
  const res = await fetch("/admin/v1/manifest", { headers: { authorization: `Bearer ${token}` }, credentials: "omit", cache: "no-store" });
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    throw new ApiError(res.status, body?.error?.code ?? `http_${res.status}`, body?.error?.message ?? res.statusText, null);
  }
}

/** A sign-in failure in words. */
export function describe(e: Error): string {
  if (e instanceof ApiError) {
    if (e.status === 401) return `The admin API refused the token (401 ${e.code}: ${e.message}).`;
    if (e.status === 403) return `The token may not do this (403 ${e.code}: ${e.message}).`;
    if (e.status === 0) return e.message;
    return `The admin API answered ${e.status} ${e.code}: ${e.message}`;
  }
  return e.message;
}
