/**
 * uPlot, inlined into every report: the minified browser build and its stylesheet, read from the
 * npm dependency (never a CDN: a report opens offline and makes no request). Read once per process.
 *
 * Why uPlot (docs/simulate.md, "The HTML report"): ~51 KB minified, canvas drawing that stays
 * fast with thousands of points per series, and a column layout (x array + one array per series)
 * that is SeriesColumns' own.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { assert } from '../../core/assert.js';

export interface ChartLibrary {
  script: string;
  css: string;
}

let cached: ChartLibrary | undefined;

export function chartLibrary(): ChartLibrary {
  if (cached === undefined) {
    const require = createRequire(import.meta.url);
    const read = (file: string) => readFileSync(require.resolve(`uplot/dist/${file}`), 'utf8');
    const script = read('uPlot.iife.min.js');
    // Inlined in a <script> element: a `</script` in the library would end it early.
    assert(!/<\/script/i.test(script), 'uplot/dist/uPlot.iife.min.js contains "</script": it cannot be inlined as is');
    cached = { script, css: read('uPlot.min.css') };
  }
  return cached;
}
