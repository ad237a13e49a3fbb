// Hash routes (`#/prompt/support/diff?a=1&b=2`): the page is one file served at
// /console/, so the route lives in the fragment, which never reaches a server.
import { useEffect, useState } from "preact/hooks";

/** A page of the console and its parameters. */
export type Route =
  | { page: "overview"; filter: string }
  | { page: "prompt"; prompt: string; tab: "versions" | "diff" | "preview"; query: URLSearchParams }
  | { page: "traffic"; prompt: string; label: string }
  | { page: "metrics"; prompt: string; label: string; period: "current" | "all" }
  | { page: "rollout"; prompt: string; label: string }
  | { page: "history"; revision: number | null }
  | { page: "changes"; id: number | null }
  | { page: "eval"; id: number; prompt: string | null; hash: string | null }
  | { page: "notfound"; hash: string };

/** Reads a route from a location hash. */
export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, "");
  const [pathPart = "", queryPart = ""] = raw.split("?", 2);
  const query = new URLSearchParams(queryPart);
  const segs = pathPart.split("/").filter((s) => s !== "");
  let parts: string[];
  try {
    parts = segs.map((s) => decodeURIComponent(s));
  } catch {
    return { page: "notfound", hash };
  }
  const [head, a, b, c] = parts;
  if (parts.length === 0) return { page: "overview", filter: query.get("q") ?? "" };
  if (head === "prompt" && a !== undefined && parts.length <= 3) {
    const tab = b === "diff" || b === "preview" ? b : b === undefined ? "versions" : null;
    if (tab) return { page: "prompt", prompt: a, tab, query };
  }
  if (head === "traffic" && a !== undefined && b !== undefined && c === undefined) return { page: "traffic", prompt: a, label: b };
  if (head === "metrics" && a !== undefined && b !== undefined && c === undefined)
    return { page: "metrics", prompt: a, label: b, period: query.get("period") === "all" ? "all" : "current" };
  if (head === "rollout" && a !== undefined && b !== undefined && c === undefined) return { page: "rollout", prompt: a, label: b };
  if (head === "history" && parts.length <= 2) {
    const n = a === undefined ? null : Number(a);
    if (n === null || (Number.isInteger(n) && n > 0)) return { page: "history", revision: n };
  }
  if (head === "changes" && parts.length <= 2) {
    const n = a === undefined ? null : Number(a);
    if (n === null || (Number.isInteger(n) && n > 0)) return { page: "changes", id: n };
  }
  if (head === "evals" && a !== undefined && parts.length === 2) {
    const n = Number(a);
    if (Number.isInteger(n) && n > 0) return { page: "eval", id: n, prompt: query.get("prompt"), hash: query.get("hash") };
  }
  return { page: "notfound", hash };
}

const enc = encodeURIComponent;

/** The hash of a route, for links. */
export function href(route: Route): string {
  switch (route.page) {
    case "overview":
      return route.filter ? `#/?q=${enc(route.filter)}` : "#/";
    case "prompt": {
      const tab = route.tab === "versions" ? "" : `/${route.tab}`;
      const qs = route.query.toString();
      return `#/prompt/${enc(route.prompt)}${tab}${qs ? `?${qs}` : ""}`;
    }
    case "traffic":
      return `#/traffic/${enc(route.prompt)}/${enc(route.label)}`;
    case "metrics":
      return `#/metrics/${enc(route.prompt)}/${enc(route.label)}${route.period === "all" ? "?period=all" : ""}`;
    case "rollout":
      return `#/rollout/${enc(route.prompt)}/${enc(route.label)}`;
    case "history":
      return route.revision === null ? "#/history" : `#/history/${route.revision}`;
    case "changes":
      return route.id === null ? "#/changes" : `#/changes/${route.id}`;
    case "eval": {
      const qs = new URLSearchParams();
      if (route.prompt !== null) qs.set("prompt", route.prompt);
      if (route.hash !== null) qs.set("hash", route.hash);
      return `#/evals/${route.id}${qs.toString() ? `?${qs}` : ""}`;
    }
    case "notfound":
      return route.hash;
  }
}

/** Short forms of the links pages make. */
export const links = {
  overview: () => "#/",
  prompt: (prompt: string) => href({ page: "prompt", prompt, tab: "versions", query: new URLSearchParams() }),
  diff: (prompt: string, a: number, b: number) =>
    href({ page: "prompt", prompt, tab: "diff", query: new URLSearchParams({ a: String(a), b: String(b) }) }),
  preview: (prompt: string, params: Record<string, string> = {}) =>
    href({ page: "prompt", prompt, tab: "preview", query: new URLSearchParams(params) }),
  traffic: (prompt: string, label: string) => href({ page: "traffic", prompt, label }),
  metrics: (prompt: string, label: string, period: "current" | "all" = "current") =>
    href({ page: "metrics", prompt, label, period }),
  rollout: (prompt: string, label: string) => href({ page: "rollout", prompt, label }),
  history: (revision: number | null = null) => href({ page: "history", revision }),
  changes: (id: number | null = null) => href({ page: "changes", id }),
  evalReport: (id: number, prompt: string | null = null, hash: string | null = null) => href({ page: "eval", id, prompt, hash }),
};

/** Replaces the current route without a new history entry (form state kept in the URL). */
export function replaceRoute(route: Route): void {
  history.replaceState(null, "", href(route));
}

/** The current route, updated on every hash change. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseHash(location.hash));
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return route;
}
