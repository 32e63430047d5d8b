/** Reading a scenario file from disk. IO stays here and in the queue_yaml read; the rules are in parse.ts. */
import { readFile } from 'node:fs/promises';
import { PositionIndex, START_OF_FILE } from '../config/positions.js';
import { ScenarioIssues } from './issues.js';
import { parseScenario, type ParseScenarioOptions } from './parse.js';
import type { ScenarioResult } from './types.js';

/** Reads and validates a scenario file. Never throws for a bad file: a missing one is a `scenario-unreadable` issue. */
export async function loadScenario(path: string, options: Omit<ParseScenarioOptions, 'file'> = {}): Promise<ScenarioResult> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await readFile(path));
  } catch (error) {
    const issues = new ScenarioIssues(path, new PositionIndex());
    issues.reportAt('scenario-unreadable', [], START_OF_FILE, `cannot read ${path}: ${readFailure(error)}`);
    return { scenario: null, issues: issues.list() };
  }
  return parseScenario(text, { ...options, file: path });
}

function readFailure(error: unknown): string {
  if (error instanceof TypeError) return 'it is not UTF-8 text';
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return error instanceof Error ? error.message : String(error);
}
