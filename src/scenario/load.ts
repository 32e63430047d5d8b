/** Reading a scenario file from disk. IO stays here and in the queue_yaml read; the rules are in parse.ts. */
import { readFile } from 'node:fs/promises';
import { readFailure } from '../core/read-failure.js';
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
    issues.reportAt('scenario-unreadable', [], START_OF_FILE, `cannot read ${path}: ${scenarioReadFailure(error)}`);
    return { scenario: null, issues: issues.list() };
  }
  return parseScenario(text, { ...options, file: path });
}

/** The TextDecoder's refusal, or why the file could not be read. */
function scenarioReadFailure(error: unknown): string {
  return error instanceof TypeError ? 'it is not UTF-8 text' : readFailure(error);
}
