/**
 * The header line of a report on runs that followed dev_appserver's rules (S39): the flag
 * `--dev-server` is not in the scenario text a report shows, and without it the figures (one
 * attempt in flight, rate ignored) would read as production's.
 */
import { DEV_SERVER_RUN_LINE } from '../../core/dev-server.js';
import { escapeHtml } from './escape.js';

/** The line (a paragraph and its line end) when `devServer`, else nothing. */
export function devServerLine(devServer: boolean | undefined): string {
  return devServer === true ? `<p class="run" id="dev-server">${escapeHtml(DEV_SERVER_RUN_LINE)}. The bound figures are what queue.yaml allows in production.</p>\n` : '';
}
