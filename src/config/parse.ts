/** Text → validated, normalised queue configuration: the reader for the format, then the shape, then the rules. */
import { DEFAULT_QUEUE_NAME } from './defaults.js';
import { IssueCollector } from './issues.js';
import { normaliseQueueFile } from './normalise.js';
import { PositionIndex } from './positions.js';
import { checkShape } from './schema.js';
import type { ConfigFormat } from './source.js';
import type { ConfigResult, QueueFileConfig } from './types.js';
import { readXml } from './xml.js';
import { readYaml } from './yaml.js';

export interface ParseQueueConfigOptions {
  /** The name used in issues (usually the path the user gave). */
  file: string;
  /** Default: by the file's extension (.xml, .yaml, .yml), else by the text (`<` first means XML). */
  format?: ConfigFormat;
}

export function parseQueueConfig(text: string, opts: ParseQueueConfigOptions): ConfigResult {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const format = opts.format ?? detectFormat(opts.file, source);
  const positions = new PositionIndex();
  const issues = new IssueCollector(opts.file, positions);
  const data = format === 'xml' ? readXml(source, positions, issues) : readYaml(source, positions, issues);
  let config: QueueFileConfig | null = null;
  let declaresDefault = false;
  if (data !== undefined) {
    const shape = checkShape(data, issues, format);
    const normalised = normaliseQueueFile(shape.raw, { issues, positions, format, isRemoved: shape.isRemoved });
    declaresDefault = (shape.raw.queue ?? []).some((entry) => entry.name === DEFAULT_QUEUE_NAME);
    if (!issues.hasErrors) config = normalised;
  }
  const errors = issues.list('error');
  return { file: opts.file, valid: errors.length === 0, errors, warnings: issues.list('warning'), config, declaresDefault };
}

export function detectFormat(file: string, text: string): ConfigFormat {
  const lower = file.toLowerCase();
  if (lower.endsWith('.xml')) return 'xml';
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return 'yaml';
  return text.trimStart().startsWith('<') ? 'xml' : 'yaml';
}
