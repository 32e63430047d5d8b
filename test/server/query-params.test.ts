/** What the REST routes take in a query (src/server/query-params.ts). */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/server/errors.js';
import { queryFields } from '../../src/server/query-params.js';

const refusal = (query: string, fields: string[]): ApiError => {
  try {
    queryFields(new URLSearchParams(query), fields);
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error(`${query} was taken`);
};

describe('queryFields', () => {
  it('takes a field by its JSON or its proto name, and skips system parameters and nameless ones', () => {
    expect(queryFields(new URLSearchParams('pageSize=5&$alt=json&prettyPrint=false'), ['pageSize', 'pageToken'])).toEqual({ pageSize: '5' });
    expect(queryFields(new URLSearchParams('page_token=t'), ['pageSize', 'pageToken'])).toEqual({ pageToken: 't' });
    // A stray `=` (the fuzzer's `?=`) names no parameter: nothing to refuse, and a refusal would name no field.
    expect(queryFields(new URLSearchParams('=&=x&pageSize=2'), ['pageSize'])).toEqual({ pageSize: '2' });
  });

  it('refuses an unknown parameter naming it (UNKNOWN_FIELD, with a near name), and one given twice (INVALID_FIELD)', () => {
    const unknown = refusal('pagesize=5', ['pageSize']);
    expect(unknown.code).toBe('UNKNOWN_FIELD');
    expect(unknown.message).toContain('did you mean pageSize?');
    expect(refusal('pageSize=1&page_size=2', ['pageSize']).code).toBe('INVALID_FIELD');
  });
});
