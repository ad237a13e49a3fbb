// The console's entry. A token given in the fragment (`/console/#token=...`) is taken
// and removed from the address bar first, before any request or rendering (the imported
// modules only define things: none of them makes a request when loaded).
import { render } from "preact";
import { consumeFragmentToken, loadToken } from "./auth";
import { App } from "./app";
import { prefetchOverview } from "./pages/overview";
import { parseHash } from "./router";

const fromLink = consumeFragmentToken();
// Signed in and opening the overview: its data is asked for now, beside whoami.
if (loadToken() && parseHash(location.hash).page === "overview") prefetchOverview();
const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(<App fromLink={fromLink} />, root);
}
