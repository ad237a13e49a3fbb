// The console's shell: sign-in, the header with navigation and the signed-in token,
// and the page of the current route.
import { useCallback, useEffect, useMemo, useState } from "preact/hooks";
import { api, ApiError, setAuthErrorHandler } from "./api";
import { clearToken, loadToken, saveToken } from "./auth";
import { links, useRoute, type Route } from "./router";
import { PendingContext, scopeRights, SessionContext, withRetries, type PendingChanges, type Session } from "./session";
import type { ChangeRequest, WhoAmI } from "./types";
import { ErrorBox, Loading } from "./components/ui";
import { SignIn, describe } from "./pages/signin";
import { Overview } from "./pages/overview";
import { PromptPage } from "./pages/prompt";
import { Traffic } from "./pages/traffic";
import { Metrics } from "./pages/metrics";
import { History } from "./pages/history";
import { RolloutPage } from "./pages/rollout";
import { ChangesPage } from "./pages/changes";
import { EvalReportPage } from "./pages/evalreport";

type Auth =
  | { state: "signed-out"; message: string | null }
  | { state: "checking" }
  /** whoami did not answer (a network error or a 5xx, after a few tries): the token is kept. */
  | { state: "unreachable"; error: Error }
  | { state: "signed-in"; who: WhoAmI | null; readOnly: boolean };

/** A signed-in state for whoami's answer (null: an API without whoami, assumed to write). */
function signedIn(who: WhoAmI | null): Auth {
  return { state: "signed-in", who, readOnly: who ? !scopeRights(who.scope).canWrite : false };
}

/** The badge beside the token's name. */
function scopeBadge(auth: Extract<Auth, { state: "signed-in" }>): string {
  if (auth.readOnly) return "read-only";
  if (!auth.who) return "scope unknown";
  return scopeRights(auth.who.scope).canApprove ? "read-write + approve" : "read-write";
}

/** The whole console. */
export function App({ fromLink }: { fromLink: boolean }) {
  const [auth, setAuth] = useState<Auth>(() => (loadToken() ? { state: "checking" } : { state: "signed-out", message: null }));
  const route = useRoute();

  const signOut = (message: string | null) => {
    clearToken();
    setAuth({ state: "signed-out", message });
  };

  // Any 401 means the token is no longer good: back to the form, saying why.
  useEffect(() => {
    setAuthErrorHandler((e) => {
      if (e.status === 401) signOut(describe(e));
    });
    return () => setAuthErrorHandler(null);
  }, []);

  useEffect(() => {
    if (auth.state !== "checking") return;
    let live = true;
    // A request that got no answer, or a 5xx, says nothing about the token: try again a
    // few times, then say so and keep the token. Only 401 and 403 sign out.
    withRetries(() => api.whoami()).then(
      (who) => live && setAuth(signedIn(who)),
      (e: Error) => {
        if (!live) return;
        if (e instanceof ApiError && e.status === 404) setAuth(signedIn(null));
        else if (e instanceof ApiError && e.status === 401) signOut(describe(e) + (fromLink ? " The link's token was not accepted." : ""));
        else if (e instanceof ApiError && e.status === 403) signOut(describe(e));
        else setAuth({ state: "unreachable", error: e });
      },
    );
    return () => {
      live = false;
    };
  }, [auth.state]);

  const session: Session = useMemo(() => {
    const rights = auth.state === "signed-in" ? (auth.who ? scopeRights(auth.who.scope) : { canWrite: true, canApprove: false }) : null;
    const writes = auth.state === "signed-in" && !auth.readOnly && !!rights?.canWrite;
    return {
      name: auth.state === "signed-in" ? (auth.who?.name ?? null) : null,
      canWrite: writes,
      canApprove: writes && !!rights?.canApprove,
      markReadOnly: () => setAuth((a) => (a.state === "signed-in" ? { ...a, readOnly: true } : a)),
      signOut,
    };
  }, [auth]);

  // The changes waiting for an approval: the header's count, the overview's markers. Asked
  // again on every page change (and by the pages after they changed something).
  const [pendingList, setPendingList] = useState<ChangeRequest[] | null>(null);
  const signedInNow = auth.state === "signed-in";
  const refreshPending = useCallback(() => {
    // An API without changes (404) or any failure: no count is shown.
    api.changes("pending").then(
      (r) => setPendingList(r.changes.filter((c) => c.state === "pending")),
      () => setPendingList(null),
    );
  }, []);
  const pageKey = route.page;
  useEffect(() => {
    if (signedInNow) refreshPending();
  }, [signedInNow, pageKey]);
  const pending: PendingChanges = useMemo(() => ({ changes: pendingList, refresh: refreshPending }), [pendingList, refreshPending]);

  if (auth.state === "signed-out")
    return (
      <SignIn
        message={auth.message}
        onSignedIn={(token, who) => {
          saveToken(token);
          setAuth(signedIn(who));
        }}
      />
    );
  if (auth.state === "checking")
    return (
      <main id="main">
        <Loading what="your session" />
      </main>
    );
  if (auth.state === "unreachable")
    return (
      <main id="main" class="signin">
        <h1>The admin API did not answer</h1>
        <ErrorBox error={auth.error} title="Who this token is could not be checked (three tries)">
          <p>The token is kept: nothing says it is wrong. Try again in a moment.</p>
        </ErrorBox>
        <div class="buttons">
          <button type="button" class="primary" onClick={() => setAuth({ state: "checking" })}>
            Try again
          </button>
          <button type="button" onClick={() => signOut(null)}>
            Sign out
          </button>
        </div>
      </main>
    );

  const waiting = pendingList?.length ?? 0;
  return (
    <SessionContext.Provider value={session}>
    <PendingContext.Provider value={pending}>
      <a class="skip" href="#main" onClick={skipToMain}>
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={links.overview()}>
          edgeprompt
        </a>
        <nav aria-label="Main">
          <a href={links.overview()} aria-current={route.page === "overview" ? "page" : undefined}>
            Overview
          </a>
          <a href={links.history()} aria-current={route.page === "history" ? "page" : undefined}>
            History
          </a>
          <a href={links.changes()} aria-current={route.page === "changes" ? "page" : undefined}>
            Changes
            {waiting > 0 && (
              <span class="nav-count" title={`${waiting} change${waiting === 1 ? "" : "s"} waiting for an approval`}>
                {" "}
                {waiting}
                <span class="visually-hidden"> pending</span>
              </span>
            )}
          </a>
        </nav>
        <div class="who">
          <span>
            {auth.who ? (
              <>
                Signed in as <strong>{auth.who.name}</strong>{" "}
              </>
            ) : (
              "Signed in "
            )}
            <span class={`badge ${auth.readOnly ? "badge-muted" : "badge-info"}`}>{scopeBadge(auth)}</span>
          </span>
          <button type="button" onClick={() => signOut(null)}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
    </PendingContext.Provider>
    </SessionContext.Provider>
  );
}

// The skip link targets an element id, not a route: keep the hash route as it is.
function skipToMain(e: Event) {
  e.preventDefault();
  document.getElementById("main")?.focus();
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "overview":
      return <Overview filter={route.filter} />;
    case "prompt":
      return <PromptPage key={route.prompt} prompt={route.prompt} tab={route.tab} query={route.query} />;
    case "traffic":
      return <Traffic key={`${route.prompt}/${route.label}`} prompt={route.prompt} label={route.label} />;
    case "metrics":
      return <Metrics key={`${route.prompt}/${route.label}/${route.period}`} prompt={route.prompt} label={route.label} period={route.period} />;
    case "rollout":
      return <RolloutPage key={`${route.prompt}/${route.label}`} prompt={route.prompt} label={route.label} />;
    case "history":
      return <History revision={route.revision} />;
    case "changes":
      return <ChangesPage key={String(route.id)} focus={route.id} />;
    case "eval":
      return <EvalReportPage key={`${route.id}/${route.prompt}/${route.hash}`} id={route.id} prompt={route.prompt} hash={route.hash} />;
    case "notfound":
      return (
        <section>
          <h1>Not found</h1>
          <p>
            There is no page at <code>{route.hash}</code>. <a href={links.overview()}>Go to the overview</a>.
          </p>
        </section>
      );
  }
}
