// Data loading for pages: a promise's state, reloadable, ignoring answers that arrive
// after the inputs changed.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

/** A load in progress, done or failed. */
export type Async<T> =
  | { state: "loading"; value: T | null; error: null }
  | { state: "done"; value: T; error: null }
  | { state: "error"; value: T | null; error: Error };

/** Runs `load` when `deps` change; `reload()` runs it again (keeping the old value meanwhile). */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): [Async<T>, () => void] {
  const [s, set] = useState<Async<T>>({ state: "loading", value: null, error: null });
  const seq = useRef(0);
  const run = useCallback(() => {
    const mine = ++seq.current;
    set((old) => ({ state: "loading", value: old.value, error: null }));
    load().then(
      (value) => mine === seq.current && set({ state: "done", value, error: null }),
      (error: Error) => mine === seq.current && set((old) => ({ state: "error", value: old.value, error })),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(() => {
    run();
    return () => {
      seq.current++;
    };
  }, [run]);
  return [s, run];
}

/** Sets the document's title for the page shown. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · edgeprompt console`;
  }, [title]);
}
