// A chart drawn by the chart chunk (Observable Plot, loaded on first use) at the width
// of its box, drawn again when the box is resized.
import { useEffect, useRef, useState } from "preact/hooks";

type ChartModule = typeof import("../chart");
let loading: Promise<ChartModule> | null = null;

/** Loads the chart chunk once. */
function loadCharts(): Promise<ChartModule> {
  loading ??= import("../chart").catch((e: unknown) => {
    loading = null;
    throw e;
  });
  return loading;
}

/** A box holding one chart; `draw` builds it for a width; `label` describes it to screen readers. */
export function Chart({ draw, label, deps }: { draw: (charts: ChartModule, width: number) => Element; label: string; deps: unknown[] }) {
  const box = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    let live = true;
    let lastWidth = 0;
    const render = () =>
      loadCharts().then(
        (charts) => {
          if (!live) return;
          const width = Math.max(280, Math.floor(el.clientWidth));
          if (width === lastWidth) return;
          lastWidth = width;
          el.replaceChildren(draw(charts, width));
        },
        (e: Error) => live && setError(`The chart could not be loaded: ${e.message}`),
      );
    render();
    const ro = new ResizeObserver(() => render());
    ro.observe(el);
    return () => {
      live = false;
      ro.disconnect();
    };
  }, deps);
  return (
    <figure class="chart" aria-label={label}>
      <div ref={box} class="chart-box" role="img" aria-label={label} />
      {error && <p class="error">{error}</p>}
    </figure>
  );
}
