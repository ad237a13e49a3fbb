// The admin token: kept in sessionStorage (gone when the tab closes), never in a URL
// that a request is made to.

const KEY = "edgeprompt.console.token";

/**
 * Takes a token given as `/console/#token=...` (what `edgeprompt console` prints):
 * saves it and removes it from the address bar before anything else runs, so it stays
 * out of the history, bookmarks and screenshots. Returns whether there was one.
 */
export function consumeFragmentToken(): boolean {
  const hash = location.hash;
  if (!hash.startsWith("#token=")) return false;
  const token = decodeURIComponent(hash.slice("#token=".length)).trim();
  // replaceState: the entry with the token is replaced, not followed by a new one.
  history.replaceState(null, "", location.pathname + location.search + "#/");
  if (token) saveToken(token);
  return token !== "";
}

/** The saved token, or null. */
export function loadToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    // Storage can be disabled; the console then asks again after a reload.
    return memory;
  }
}

let memory: string | null = null;

/** Saves the token for this tab. */
export function saveToken(token: string): void {
  memory = token;
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    /* kept in memory only */
  }
}

/** Forgets the token. */
export function clearToken(): void {
  memory = null;
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    /* nothing saved */
  }
}
