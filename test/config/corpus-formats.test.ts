/**
 * Differential check of the two formats on the real corpus (test/fixtures/queue-config): each
 * queue.yaml is written out as the queue.xml App Engine's Java SDK reads (J-XSD: `-` for `_`, one
 * element per directive, `<acl>` holding `<user-email>` / `<writer-email>`), each queue.xml as the
 * queue.yaml it stands for, and both spellings must load to the same config with the same issues.
 * The translation is done here with the `yaml` and `saxes` libraries directly, not with pushq's
 * own readers or printer, so a reader that misreads a directive in one format shows as a difference.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SaxesParser } from 'saxes';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseQueueConfig } from '../../src/config/parse.js';
import type { ConfigResult } from '../../src/config/types.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'queue-config');
const FILES = readdirSync(DIR).filter((file) => /\.(ya?ml|xml)$/.test(file)).sort();
/** Its only error is a YAML list where a value goes (`user_email: [SERVICE_ACCOUNT]`), which XML cannot spell. */
const YAML_ONLY_SHAPE = '038__adam-singer__solutions-orchestrator-android-sampleapp-smashpix__server-queue.yaml';

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const element = (key: string) => key.replace(/_/g, '-');

/** queue.yaml text → queue.xml text. Every scalar is kept as written (failsafe schema). */
function yamlToXml(text: string): string {
  const data = (parse(text, { schema: 'failsafe' }) ?? {}) as Record<string, unknown>;
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', '<queue-entries>'];
  const leaf = (key: string, value: unknown, indent: string) => {
    if (value !== null && value !== undefined && value !== '') out.push(`${indent}<${element(key)}>${escapeXml(String(value))}</${element(key)}>`);
  };
  for (const [key, value] of Object.entries(data)) {
    if (key === 'application' || key === 'resume_paused_queues') continue; // not in queue.xml
    if (key !== 'queue') {
      leaf(key, value, '  ');
      continue;
    }
    for (const entry of (value ?? []) as Record<string, unknown>[]) {
      out.push('  <queue>');
      for (const [directive, setting] of Object.entries(entry)) {
        if (directive === 'retry_parameters') {
          out.push('    <retry-parameters>');
          for (const [k, v] of Object.entries((setting ?? {}) as Record<string, unknown>)) leaf(k, v, '      ');
          out.push('    </retry-parameters>');
        } else if (directive === 'acl') {
          out.push('    <acl>');
          for (const item of (setting ?? []) as Record<string, unknown>[]) for (const [k, v] of Object.entries(item)) leaf(k, v, '      ');
          out.push('    </acl>');
        } else leaf(directive, setting, '    ');
      }
      out.push('  </queue>');
    }
  }
  out.push('</queue-entries>');
  return `${out.join('\n')}\n`;
}

interface XmlNode { name: string; text: string; children: XmlNode[] }

/** queue.xml text → queue.yaml text, every value double-quoted (so YAML reads it as the same text). */
function xmlToYaml(text: string): string {
  const parser = new SaxesParser();
  const stack: XmlNode[] = [{ name: '', text: '', children: [] }];
  parser.on('opentag', (tag) => {
    const node = { name: tag.name, text: '', children: [] };
    stack[stack.length - 1]?.children.push(node);
    stack.push(node);
  });
  parser.on('text', (t) => { stack[stack.length - 1]!.text += t; });
  parser.on('cdata', (t) => { stack[stack.length - 1]!.text += t; });
  parser.on('closetag', () => { stack.pop(); });
  parser.write(text).close();
  const key = (name: string) => name.replace(/-/g, '_');
  const value = (node: XmlNode) => JSON.stringify(node.text.trim());
  const lines: string[] = [];
  for (const child of stack[0]!.children[0]!.children) {
    if (child.name !== 'queue') {
      lines.push(`${key(child.name)}: ${value(child)}`);
      continue;
    }
    if (!lines.includes('queue:')) lines.push('queue:');
    child.children.forEach((directive, index) => {
      const lead = index === 0 ? '- ' : '  ';
      if (directive.name === 'retry-parameters' || directive.name === 'acl') {
        lines.push(`${lead}${key(directive.name)}:`);
        for (const inner of directive.children) lines.push(directive.name === 'acl' ? `  - ${key(inner.name)}: ${value(inner)}` : `    ${key(inner.name)}: ${value(inner)}`);
      } else lines.push(`${lead}${key(directive.name)}: ${value(directive)}`);
    });
  }
  return `${lines.join('\n')}\n`;
}

const summary = (result: ConfigResult) => ({ errors: result.errors.map((i) => `${i.code} ${i.path}`), config: result.config });

describe('the corpus, in the other format', () => {
  it.each(FILES.filter((file) => file !== YAML_ONLY_SHAPE))('%s loads to the same config and issues', (file) => {
    const text = readFileSync(join(DIR, file), 'utf8').replace(/^\uFEFF/, '');
    const original = parseQueueConfig(text, { file });
    const other = file.endsWith('.xml') ? parseQueueConfig(xmlToYaml(text), { file: 'queue.yaml' }) : parseQueueConfig(yamlToXml(text), { file: 'queue.xml' });
    expect(summary(other)).toEqual(summary(original));
  });

  it('covers both formats', () => {
    expect(FILES.filter((file) => file.endsWith('.xml')).length).toBeGreaterThanOrEqual(6);
    expect(FILES.filter((file) => !file.endsWith('.xml')).length).toBeGreaterThanOrEqual(39);
  });
});
