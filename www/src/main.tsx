// The console's entry. A token given in the fragment (`/console/#token=...`) is taken
// and removed from the address bar first, before any request or rendering (the imported
// modules only define things: none of them makes a request when loaded).
import { render } from "preact";
import { consumeFragmentToken } from "./auth";
import { App } from "./app";

const fromLink = consumeFragmentToken();
const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(<App fromLink={fromLink} />, root);
}
