// Colours shared by the charts and the markup around them (legends), kept out of the
// chart chunk so that pages can use them without loading Observable Plot.

/** Colours of an interval: better, worse, not yet clear, or the control's. */
export const TONES = { better: "#1a7f37", worse: "#c62828", unclear: "#57606a", control: "#0b5cad" } as const;

/** Colours of the running series, in order. */
export const PALETTE = ["#0b5cad", "#b35900", "#6f42c1", "#1a7f37", "#c62828", "#0a7c86"] as const;
