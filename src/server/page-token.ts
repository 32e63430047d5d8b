/**
 * Paging of the Cloud Tasks lists (ListQueues, ListTasks), as both protocols and both modes give
 * it: one node's service (operations.ts) and a cluster node's fronts, which list the queues
 * themselves (src/cluster/router.ts, grpc-front.ts). One size rule, one token format, one set of
 * refusals, so a client pages a cluster exactly as it pages one node.
 *
 * A page token names its list (`queues`, or `tasks/QUEUE`) beside the position, so a token given
 * to another list is refused instead of paging that list from a position that means nothing there.
 */
import { ApiError } from './errors.js';

export const PAGE_SIZE_MAX = 1000;

/** The list ListQueues pages; ListTasks pages {@link tasksList}. */
export const QUEUES_LIST = 'queues';

export function tasksList(queue: string): string {
  return `tasks/${queue}`;
}

/**
 * A page request as either protocol gives it: REST a query string (`pageSize=2`), gRPC an int32
 * (0 when unset). Absent, empty or 0 is the largest page; a page token is one this server gave.
 */
export interface PageRequest {
  pageSize?: string | number | null;
  pageToken?: string | null;
}

/** The page a REST List call asks for, from its query string. */
export function pageQuery(query: URLSearchParams): PageRequest {
  return { pageSize: query.get('pageSize'), pageToken: query.get('pageToken') };
}

/** A page's size and the position it starts at. */
export interface Page {
  size: number;
  from: number;
}

/** The size and start of a page of `list`; a bad size or token is INVALID_FIELD naming it. */
export function pageOf(page: PageRequest, list: string): Page {
  const raw = page.pageSize;
  const size = raw === null || raw === undefined || raw === '' ? PAGE_SIZE_MAX : Number(raw);
  if (!Number.isInteger(size) || size < 0 || size > PAGE_SIZE_MAX) throw new ApiError('INVALID_FIELD', `pageSize must be 0..${PAGE_SIZE_MAX}`, 'page_size');
  const token = page.pageToken;
  let from = 0;
  if (token !== null && token !== undefined && token !== '') {
    const text = Buffer.from(token, 'base64url').toString('utf8');
    const colon = text.lastIndexOf(':');
    from = colon < 0 ? NaN : Number(text.slice(colon + 1));
    if (!Number.isInteger(from) || from < 0) throw new ApiError('INVALID_FIELD', 'pageToken is not one this server gave', 'page_token');
    const of = text.slice(0, colon);
    if (of !== list) throw new ApiError('INVALID_FIELD', `pageToken is for another list (${listName(of)}), not ${listName(list)}`, 'page_token');
  }
  return { size: size === 0 ? PAGE_SIZE_MAX : size, from };
}

/** The token of the page of `list` that starts at position `from`. */
export function pageToken(from: number, list: string): string {
  return Buffer.from(`${list}:${from}`).toString('base64url');
}

/** The page of `items` (a list whose positions are its indexes), with the next page's token when more follow. */
export function pageOfItems<T>(items: readonly T[], page: Page, list: string): { items: T[]; nextPageToken?: string } {
  const end = page.from + page.size;
  return end < items.length ? { items: items.slice(page.from, end), nextPageToken: pageToken(end, list) } : { items: items.slice(page.from, end) };
}

function listName(list: string): string {
  return list.startsWith('tasks/') ? `the tasks of queue ${list.slice('tasks/'.length)}` : 'the queues';
}
