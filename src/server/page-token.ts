/**
 * Paging of the Cloud Tasks lists (ListQueues, ListTasks), as both protocols and both modes give
 * it: one node's service (operations.ts) and a cluster node's fronts, which list the queues
 * themselves (src/cluster/router.ts, grpc-front.ts). One size rule, one token format, one set of
 * refusals, so a client pages a cluster exactly as it pages one node.
 *
 * A page token names its list (`queues`, or `tasks/QUEUE`) beside the position, so a token given
 * to another list is refused instead of paging that list from a position that means nothing there.
 * It carries a check value too (CRC-32 of the list and position), so that a token cut short,
 * mistyped or made up is refused as invalid, not read as a token of some other list: only a token
 * that verifies is said to be for another list. The check is for integrity, not secrecy: a token
 * only names a position in a list the caller may read anyway, so one made with a right check value
 * gains nothing, and every node of a cluster reads every other's tokens without a shared key.
 *
 *   token = base64url(`${list}:${position}:${crc32 hex of "list:position"}`)
 */
import { crc32, crc32Hex } from '../log/crc32.js';
import { ApiError } from './errors.js';

/** The list ListQueues pages; ListTasks pages {@link tasksList}. */
export const QUEUES_LIST = 'queues';

/**
 * The largest page of a list, and its size when none is asked: Cloud Tasks' own maxima
 * (cloudtasks.proto: ListQueuesRequest.page_size 9800, ListTasksRequest.page_size 1000). A larger
 * page asked for is this one (pageOf): page_size is the "Maximum page size", and "fewer tasks than
 * requested might be returned, even if more tasks exist" (the same field's comment), so a page of
 * the maximum, with its next page token, answers it; AIP-158: "coerce down to the maximum". A
 * refusal would fail a request Cloud Tasks' own contract lets a client send.
 */
export function pageSizeMax(list: string): number {
  return list === QUEUES_LIST ? 9800 : 1000;
}

export function tasksList(queue: string): string {
  return `tasks/${queue}`;
}

/**
 * A page request as either protocol gives it: REST a query string (`pageSize=2`), gRPC an int32
 * (0 when unset). Absent, empty, 0 or above the list's maximum is the largest page; negative is
 * refused (AIP-158); a page token is one this server gave.
 */
export interface PageRequest {
  pageSize?: string | number | null;
  pageToken?: string | null;
  /**
   * ListQueues' `filter` (`state: PAUSED`). pushq does not filter: a list given one is refused
   * rather than answered whole, which would look like a filtered answer.
   */
  filter?: string | null;
}

/** page_size is an int32: a REST value beyond it is no page size at all (gRPC cannot send one). */
const INT32_MAX = 2 ** 31 - 1;

/** The query parameters ListQueues takes (query-params.ts); ListTasks takes LIST_TASKS_QUERY. */
export const LIST_QUEUES_QUERY = ['pageSize', 'pageToken', 'filter'] as const;
export const LIST_TASKS_QUERY = ['pageSize', 'pageToken', 'responseView'] as const;

/** The page a REST List call asks for, from its query parameters (queryFields: camelCase names). */
export function pageQuery(query: Readonly<Record<string, string | undefined>>): PageRequest {
  return { pageSize: query['pageSize'], pageToken: query['pageToken'], filter: query['filter'] };
}

/** A page's size and the position it starts at. */
export interface Page {
  size: number;
  from: number;
}

/** The size and start of a page of `list`; a bad size or token, or a filter, is INVALID_FIELD naming it. */
export function pageOf(page: PageRequest, list: string): Page {
  if (page.filter !== null && page.filter !== undefined && page.filter !== '') {
    throw new ApiError('INVALID_FIELD', `filter ${JSON.stringify(page.filter.slice(0, 200))} is not supported: pushq does not filter lists; list them whole and select by the resource's fields (a queue's state)`, 'filter');
  }
  const max = pageSizeMax(list);
  const raw = page.pageSize;
  // A query string's pageSize is an int32 written in decimal: not `0x10`, `1e2` or a space, which
  // Number() would read as 16, 100 and 0.
  const size = raw === null || raw === undefined || raw === '' ? max : typeof raw === 'string' && !/^-?\d{1,10}$/.test(raw) ? NaN : Number(raw);
  if (!Number.isInteger(size) || size < 0 || size > INT32_MAX) throw new ApiError('INVALID_FIELD', `pageSize ${JSON.stringify(String(raw).slice(0, 40))} must be a whole number from 0 to ${INT32_MAX}, an int32 (0, or more than ${max}: pages of ${max}, the most this list gives)`, 'page_size');
  const token = page.pageToken;
  let from = 0;
  if (token !== null && token !== undefined && token !== '') {
    const read = readToken(token);
    if (read === null) throw new ApiError('INVALID_FIELD', 'pageToken is invalid: not a page token this server gave (give a nextPageToken back unchanged)', 'page_token');
    if (read.list !== list) throw new ApiError('INVALID_FIELD', `pageToken is for another list (${listName(read.list)}), not ${listName(list)}`, 'page_token');
    from = read.from;
  }
  return { size: size === 0 || size > max ? max : size, from };
}

/** The token of the page of `list` that starts at position `from`. */
export function pageToken(from: number, list: string): string {
  const text = `${list}:${from}`;
  return Buffer.from(`${text}:${checkOf(text)}`).toString('base64url');
}

const TOKEN_TEXT = /^((?:queues|tasks\/[^:]+):(0|[1-9]\d{0,15})):([0-9a-f]{8})$/;

/** A token's list and position; null when it does not decode to one, or its check value does not verify. */
function readToken(token: string): { list: string; from: number } | null {
  // Node's base64url decoder skips what is not base64url: a token must be exactly one encoding.
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.toString('base64url') !== token) return null;
  const m = TOKEN_TEXT.exec(bytes.toString('utf8'));
  if (m === null || checkOf(m[1] as string) !== m[3]) return null;
  const from = Number(m[2]);
  if (!Number.isSafeInteger(from)) return null;
  return { list: (m[1] as string).slice(0, -(m[2] as string).length - 1), from };
}

function checkOf(text: string): string {
  return crc32Hex(crc32(Buffer.from(text)));
}

/** The page of `items` (a list whose positions are its indexes), with the next page's token when more follow. */
export function pageOfItems<T>(items: readonly T[], page: Page, list: string): { items: T[]; nextPageToken?: string } {
  const end = page.from + page.size;
  return end < items.length ? { items: items.slice(page.from, end), nextPageToken: pageToken(end, list) } : { items: items.slice(page.from, end) };
}

function listName(list: string): string {
  return list.startsWith('tasks/') ? `the tasks of queue ${list.slice('tasks/'.length)}` : 'the queues';
}
