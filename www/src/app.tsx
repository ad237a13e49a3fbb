// The console's shell: sign-in, the header with navigation and the signed-in token,
// and the page of the current route.
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, ApiError, setAuthErrorHandler } from "./api";
import { clearToken, loadToken, saveToken } from "./auth";
import { links, useRoute, type Route } from "./router";
import { SessionContext, type Session } from "./session";
import type { WhoAmI } from "./types";
import { Loading } from "./components/ui";
import { SignIn, describe } from "./pages/signin";
import { Overview } from "./pages/overview";
import { PromptPage } from "./pages/prompt";
import { Traffic } from "./pages/traffic";
import { Metrics } from "./pages/metrics";
import { History } from "./pages/history";
import { RolloutPage } from "./pages/rollout";

type Auth =
  | { state: "signed-out"; message: string | null }
  | { state: "checking" }
  | { state: "signed-in"; who: WhoAmI | null; readOnly: boolean };

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
    api.whoami().then(
      (who) => setAuth({ state: "signed-in", who, readOnly: who.scope !== "rw" }),
      (e: Error) => {
        if (e instanceof ApiError && e.status === 404) setAuth({ state: "signed-in", who: null, readOnly: false });
        else if (e instanceof ApiError && e.status === 401) signOut(describe(e) + (fromLink ? " The link's token was not accepted." : ""));
        else signOut(describe(e));
      },
    );
  }, [auth.state]);

  const session: Session = useMemo(
    () => ({
      name: auth.state === "signed-in" ? (auth.who?.name ?? null) : null,
      canWrite: auth.state === "signed-in" && !auth.readOnly,
      markReadOnly: () => setAuth((a) => (a.state === "signed-in" ? { ...a, readOnly: true } : a)),
      signOut,
    }),
    [auth],
  );

  if (auth.state === "signed-out")
    return (
      <SignIn
        message={auth.message}
        onSignedIn={(token, who) => {
          saveToken(token);
          setAuth({ state: "signed-in", who, readOnly: who ? who.scope !== "rw" : false });
        }}
      />
    );
  if (auth.state === "checking")
    return (
      <main id="main">
        <Loading what="your session" />
      </main>
    );

  return (
    <SessionContext.Provider value={session}>
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
            <span class={`badge ${auth.readOnly ? "badge-muted" : "badge-info"}`}>
              {auth.readOnly ? "read-only" : auth.who ? "read-write" : "scope unknown"}
            </span>
          </span>
          <button type="button" onClick={() => signOut(null)}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
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
