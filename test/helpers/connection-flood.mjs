// Misbehaving API clients, in a process of their own (their sockets count against its own
// file-descriptor limit, not the test's): `node connection-flood.mjs PORT MODE COUNT [EVERY_MS]`.
//   idle       open COUNT connections and send nothing
//   slowloris  open COUNT connections and send a request's headers one byte every EVERY_MS, never ending them
//   slowbody   send whole headers (Content-Length: 100000) and then one body byte every EVERY_MS
// Every 200 ms it prints one JSON line: {"opened","failed","closed","answered408","closedAtMs":[min,max]},
// times since each connection opened. It exits when stdin closes.
import { connect } from 'node:net';

const [port, mode, countText, everyText] = process.argv.slice(2);
const count = Number(countText);
const everyMs = Number(everyText ?? 1000);
const HEADERS = 'POST /v2/projects/p/locations/l/queues/default/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Padding: ' + 'a'.repeat(200);
const stats = { opened: 0, failed: 0, closed: 0, answered408: 0, closedAtMs: [Infinity, 0], errors: {} };
const timers = new Set();

function open() {
  return new Promise((resolve) => {
    const s = connect(Number(port), '127.0.0.1');
    let openedAt = 0;
    let i = 0;
    s.once('connect', () => {
      openedAt = performance.now();
      stats.opened++;
      resolve();
      if (mode === 'slowloris') {
        const t = setInterval(() => s.write(HEADERS[i++ % HEADERS.length]), everyMs);
        timers.add(t);
        s.once('close', () => clearInterval(t));
      } else if (mode === 'slowbody') {
        s.write(`${HEADERS}\r\nContent-Length: 100000\r\n\r\n{`);
        const t = setInterval(() => s.write(' '), everyMs);
        timers.add(t);
        s.once('close', () => clearInterval(t));
      }
    });
    s.on('data', (d) => {
      if (String(d).startsWith('HTTP/1.1 408')) stats.answered408++;
    });
    s.on('error', (err) => {
      stats.errors[err.code ?? err.message] = (stats.errors[err.code ?? err.message] ?? 0) + 1;
      if (openedAt === 0) {
        stats.failed++;
        resolve();
      }
    });
    s.on('close', () => {
      if (openedAt === 0) return;
      stats.closed++;
      const after = performance.now() - openedAt;
      stats.closedAtMs[0] = Math.min(stats.closedAtMs[0], after);
      stats.closedAtMs[1] = Math.max(stats.closedAtMs[1], after);
    });
  });
}

// Opened in waves, so the listen backlog is not what refuses them.
for (let done = 0; done < count; done += 500) {
  await Promise.all(Array.from({ length: Math.min(500, count - done) }, open));
}
const report = () => process.stdout.write(`${JSON.stringify({ ...stats, closedAtMs: stats.closedAtMs[0] === Infinity ? null : stats.closedAtMs })}\n`);
report();
setInterval(report, 200);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
