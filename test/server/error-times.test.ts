/**
 * Issue 12: times in API error messages are RFC 3339 in whole seconds, not microseconds. A
 * tombstoned name's end with a fraction is rounded up ("reserved until T" stays true: the name is
 * not free before T), in the Cloud Tasks API and the App Engine API alike; resources keep their
 * microseconds.
 */
import { describe, expect, it } from 'vitest';
import { TombstonedTaskError } from '../../src/core/errors.js';
import { fromEngineError } from '../../src/server/appengine/rpc-errors.js';
import { toApiError } from '../../src/server/errors.js';
import { formatMessageTime, formatTimestamp } from '../../src/server/timestamps.js';

const WITH_FRACTION_US = Date.UTC(2026, 11, 15, 13, 45, 37) * 1000 + 843_158; // 2026-12-15T13:45:37.843158Z
const WHOLE_US = Date.UTC(2026, 11, 14, 10, 0, 0) * 1000; // 2026-12-14T10:00:00Z

describe('an instant in an error message', () => {
  it('is whole seconds, a fraction rounded up; a whole second stays as it is', () => {
    expect(formatMessageTime(WITH_FRACTION_US)).toBe('2026-12-15T13:45:38Z');
    expect(formatMessageTime(WITH_FRACTION_US - 843_157)).toBe('2026-12-15T13:45:38Z'); // 1 µs past the second
    expect(formatMessageTime(WHOLE_US)).toBe('2026-12-14T10:00:00Z');
    // A resource's timestamp keeps its precision.
    expect(formatTimestamp(WITH_FRACTION_US)).toBe('2026-12-15T13:45:37.843158Z');
  });

  it('a tombstoned name says "reserved until" that second, through the Cloud Tasks and App Engine APIs', () => {
    const err = new TombstonedTaskError('tomb', 'q', WITH_FRACTION_US);
    const expected = 'task name "tomb" was used by a task that ended recently; it is reserved until 2026-12-15T13:45:38Z';
    expect(toApiError(err, 'create').message).toBe(`${expected} (TOMBSTONED_TASK)`);
    expect(toApiError(err, 'other').message).toBe(`${expected} (TOMBSTONED_TASK)`);
    expect(fromEngineError(err).message).toContain(expected);
    expect(toApiError(new TombstonedTaskError('tomb', 'q', WHOLE_US), 'create').message).toContain('reserved until 2026-12-14T10:00:00Z (TOMBSTONED_TASK)');
  });
});
