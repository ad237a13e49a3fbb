// The npm package's engine for the preview, loaded only when a preview is shown (its
// own chunk, with the Wasm next to it, build-www/console/edgeprompt_bg.wasm).
import { Engine, ready } from "edgeprompt";
import type { Decision, Manifest, ResolveRequest } from "edgeprompt";

export type { Decision };

let loading: Promise<void> | null = null;

/** A compiled manifest that resolves like the edge does. */
export interface Compiled {
  resolve(request: ResolveRequest): Decision;
  free(): void;
}

/** Loads the Wasm once, then compiles the manifest (throws EdgepromptError `invalid_manifest`). */
export async function compile(manifest: Manifest): Promise<Compiled> {
  // A failed load is tried again next time (the Wasm may have been briefly unreachable).
  loading ??= ready(new URL("edgeprompt_bg.wasm", import.meta.url)).catch((e: unknown) => {
    loading = null;
    throw e;
  });
  await loading;
  return new Engine(manifest);
}
