/** Reading a queue file from disk. IO stays here; everything else in src/config is pure. */
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readFailure } from '../core/read-failure.js';
import { IssueCollector } from './issues.js';
import { parseQueueConfig } from './parse.js';
import { PositionIndex, START_OF_FILE } from './positions.js';
import type { ConfigResult } from './types.js';

/**
 * Reads and validates a queue.yaml / queue.yml / queue.xml file. Never throws for a bad file: a
 * missing or unreadable one gives an invalid result with one `file-unreadable` error.
 */
export async function loadQueueConfigFile(path: string): Promise<ConfigResult> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    return unreadable(path, readFailure(error));
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return unreadable(path, 'it is not UTF-8 text');
  }
  return parseQueueConfig(text, { file: path });
}

/** The queue files App Engine reads from an app's directory, in the order `findQueueFile` looks for them. */
const QUEUE_FILE_NAMES = ['queue.yaml', 'queue.yml', 'queue.xml'] as const;

/**
 * The queue file in `dir`, as App Engine finds an app's (the first of QUEUE_FILE_NAMES that is a
 * file), or null: what `pushq serve` reads when it is given no --config.
 */
export function findQueueFile(dir: string): string | null {
  for (const name of QUEUE_FILE_NAMES) {
    if (statSync(join(dir, name), { throwIfNoEntry: false })?.isFile() === true) return name;
  }
  return null;
}

function unreadable(path: string, reason: string): ConfigResult {
  const issues = new IssueCollector(path, new PositionIndex());
  issues.reportAt('file-unreadable', [], START_OF_FILE, `cannot read ${path}: ${reason}`);
  return { file: path, valid: false, errors: issues.list('error'), warnings: [], config: null, declaresDefault: false };
}
