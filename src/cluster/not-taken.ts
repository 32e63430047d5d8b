/**
 * The one rule both fronts of a cluster node (the REST router, router.ts, and the gRPC front,
 * grpc-front.ts) follow when a call forwarded toward its queue's owner fails: whether the call
 * surely reached no queue's service ("not taken"), so that it may be sent once more to the owner
 * read again from the store, or be refused marked not taken (`x-pushq-not-taken: 1`, a header for
 * REST, a trailer for gRPC); or whether it may have arrived, and is then never sent again nor
 * marked: a create whose answer was lost may have been taken, and sending it again could add an
 * unnamed task twice (docs/cluster.md, "API calls").
 *
 * Each transport detects the facts its own way (undici's connect errors; grpc-js's pick refusal,
 * the owner's mark, a local service's SHUTTING_DOWN); what they mean, and what is then done, is
 * decided here, with no IO.
 */

/**
 * How long a call forwarded to its queue's owner waits for the owner's answer (docs/cluster.md, "API
 * calls"): one lease (a stopped owner has lost the queue by then) and 5 s more.
 */
export function ownerAnswerBoundMs(leaseMs: number): number {
  return leaseMs + 5000;
}

/** What one hop toward the owner tells of the call. */
export type HopFate =
  /** No connection could be made: not one byte of the call left this node. */
  | 'never-sent'
  /** The owner's front or a queue's service refused it before any work, and said so. */
  | 'refused-before-work'
  /** The owner answered it, or it was sent and its answer lost (a connection dropped, a deadline): it may have been taken. */
  | 'may-have-arrived';

/** What a transport saw of a hop, in its own terms. */
export interface HopFacts {
  /** The answer came back marked not taken (the owner's front or service refused it before any work), or a queue's service here refused it at its door. */
  refusedBeforeWork: boolean;
  /** What came back is to be given as it is: the owner's own answer (an API status, an error with its details), or a status that says what befell the call (a deadline). */
  speaksForItself: boolean;
  /** The transport failed the call before it was put on any connection (no connection could be made). */
  neverSent: boolean;
}

/**
 * The fate of a hop. A refusal before any work counts first (it is marked, whatever else came
 * with it); an answer that speaks for itself is never read as "not sent"; only then does the
 * transport's own "nothing left" count. Anything else may have arrived.
 */
export function fateOf(facts: HopFacts): HopFate {
  if (facts.refusedBeforeWork) return 'refused-before-work';
  if (facts.speaksForItself) return 'may-have-arrived';
  return facts.neverSent ? 'never-sent' : 'may-have-arrived';
}

/** The call surely reached no queue's service: it may be sent once more, and a refusal of it says "not taken". */
export function surelyNotTaken(fate: HopFate): boolean {
  return fate !== 'may-have-arrived';
}

/**
 * What the caller is told (QUEUE_OWNER_UNAVAILABLE) when a hop to the owner at `owner` brought no
 * answer of the owner's own (`why`: the transport's words): whether the owner was reached, and what
 * that means for the call. A read changes nothing, so it is simply sent again; a command may have
 * been taken unless it surely was not, so "not acknowledged" (retry with the same task name).
 */
export function ownerFailedText(owner: string, why: string, fate: HopFate, read: boolean): string {
  const what = fate === 'never-sent' ? 'could not be reached' : 'did not answer';
  const then = read ? 'a read changes nothing: retry it' : surelyNotTaken(fate) ? 'not taken, retry' : 'not acknowledged, retry';
  return `the owner (${owner}) ${what}: ${why}; ${then}`;
}

/** One call on its way to its queue's owner, as the resend loop sees it. */
export interface OwnerCall<Place, Out> {
  /** The call came from another node's front: it is sent on here at most once, and never resent. */
  readonly forwarded: boolean;
  /** Where the call goes now, from the owners as last read (undefined: no owner known). */
  place(): Place | undefined;
  /** The same place: a call is never resent to the place that just failed it. */
  samePlace(a: Place, b: Place): boolean;
  /** Sends the call there; `resent` on the one send after the owners were read again. */
  send(place: Place, resent: boolean): Promise<Out>;
  /** What a send's outcome tells of the call. */
  fate(out: Out): HopFate;
  /** Reads who owns which queue from the store again (a queue moved since the last tick). */
  refresh(): Promise<void>;
}

/**
 * Sends a call to its queue's owner, and once more, after reading the owners again, when it
 * surely reached no queue's service (or no owner was known) and its place changed meanwhile.
 * A forwarded call is never resent (the node that forwarded it does that), and a call that may
 * have arrived never. Undefined: no owner known, before or after reading the owners again.
 */
export async function sendToOwner<Place, Out>(call: OwnerCall<Place, Out>): Promise<Out | undefined> {
  const first = call.place();
  const out = first === undefined ? undefined : await call.send(first, false);
  if (call.forwarded || (out !== undefined && !surelyNotTaken(call.fate(out)))) return out;
  await call.refresh();
  const again = call.place();
  if (again === undefined || (first !== undefined && call.samePlace(first, again))) return out;
  return call.send(again, true);
}
