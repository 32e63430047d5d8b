// Loaded with `node --import` into every long-running pushq process a test starts
// (serve-process.ts): the process ends itself (SIGKILL) once the test process that started it is
// gone. A test's own teardown kills what it started, but not when that teardown never runs (the
// test worker killed, a test timed out while a start was under way, a helper that threw between
// the spawn and its bookkeeping); a `pushq serve` whose parent died otherwise lives on (it ignores
// a closed stdout, and a cluster node without its store retries for ever) and was found running an
// hour after a failed test/cluster/failover-kill.test.ts.
import { readFileSync } from 'node:fs';

// The test process that started it (serve-process.ts sets it): that process may be gone before
// this one has loaded, and process.ppid is read once at start in Node 20, so is not the parent now.
const parent = Number(process.env.PUSHQ_TEST_PARENT_PID ?? process.ppid);

/** The parent's pid now (an orphan is handed to init or a subreaper at its parent's exit), from /proc; null without it. */
function parentNow() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

function parentGone() {
  const now = parentNow();
  if (now !== null) return now !== parent;
  try {
    process.kill(parent, 0); // no /proc (macOS): whether the pid still exists
    return false;
  } catch (err) {
    return err.code === 'ESRCH';
  }
}

setInterval(() => {
  if (parentGone()) process.kill(process.pid, 'SIGKILL');
}, 200).unref();
