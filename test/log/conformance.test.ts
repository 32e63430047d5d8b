import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileEventLogSync } from '../../src/log/file-log.js';
import { scanEventLog } from '../../src/log/log-reader.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { eventLogConformance } from './conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'pushq-conformance-'));
let n = 0;

eventLogConformance('MemoryEventLog', (header) => {
  const log = new MemoryEventLog(header);
  // The memory log keeps batch counts, not boundaries: record them at each commit.
  const sizes: number[] = [];
  let before = 0;
  const commit = log.commit.bind(log);
  log.commit = () => {
    commit();
    if (log.length > before) sizes.push(log.length - before);
    before = log.length;
  };
  return { log, readBack: async () => ({ events: log.toArray(), batchSizes: sizes }) };
});

eventLogConformance('FileEventLog', (header) => {
  const path = join(dir, `log-${n++}.jsonl`);
  const log = createFileEventLogSync(path, header, { durable: false });
  return {
    log,
    readBack: async () => {
      const events: import('../../src/core/events.js').EngineEvent[] = [];
      const sizes: number[] = [];
      let last = 0;
      scanEventLog(path, {}, {
        onEvent: (e) => events.push(e),
        onBatch: (p) => {
          sizes.push(p.events - last);
          last = p.events;
        },
      });
      return { events, batchSizes: sizes };
    },
  };
});
