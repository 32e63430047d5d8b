// Loaded with `node --import` into a pushq process a test starts: moves that process's wall clock
// (Date.now, the clock pushq serve anchors its kernel's time to) by PUSHQ_TEST_CLOCK_SKEW_MS
// milliseconds, as a machine whose clock is off would be. The monotonic clock is left alone.
const skew = Number(process.env.PUSHQ_TEST_CLOCK_SKEW_MS ?? '0');
const realNow = Date.now.bind(Date);
Date.now = () => realNow() + skew;
