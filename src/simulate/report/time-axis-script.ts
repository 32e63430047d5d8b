/**
 * The time axis both report scripts draw (client-script.ts, bands-script.ts), as browser
 * JavaScript spliced into each: `duration(v)` writes seconds as 45s, 2m05s, 1h02m, 3d04h, and
 * `timeAxis()` is the x axis of a chart over time.
 *
 * Why not uPlot's own numeric axis: it ticks at decimal steps (25,000 s) and labels them as plain
 * numbers; written as durations those are 6h56m, 13h53m, ..., labels wider than the 50 px uPlot
 * leaves between ticks, so on a run of days they ran into each other. The ticks here fall on round
 * durations (TIME_STEPS) at least TICK_SPACE px apart, room for the widest label (1d03h30m).
 *
 * Plain JavaScript in a string, no backtick and no dollar-brace (each script is a template literal).
 */
export const TIME_AXIS_SCRIPT = String.raw`
  /** Seconds as 45s, 2m05s, 1h02m, 3d04h. @param {number} v */
  function duration(v) {
    const s = Math.round(v);
    if (Math.abs(s) < 60) return String(Number(v.toPrecision(3))) + 's';
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const two = (/** @type {number} */ n) => (n < 10 ? '0' : '') + n;
    if (d > 0) return d + 'd' + (h === 0 && m === 0 ? '' : two(h) + 'h') + (m === 0 ? '' : two(m) + 'm');
    if (h > 0) return h + 'h' + (m === 0 ? '' : two(m) + 'm');
    return m + 'm' + (r === 0 ? '' : two(r) + 's');
  }

  const TIME_STEPS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 345600, 604800, 1209600, 2592000, 5184000, 7776000, 15552000, 31536000];
  const TICK_SPACE = 80;

  /** The x axis of a chart over time. @returns {uPlot.Axis} */
  function timeAxis() {
    return { space: TICK_SPACE, incrs: TIME_STEPS, values: (/** @type {uPlot} */ u, /** @type {number[]} */ splits) => splits.map(duration) };
  }
`;
