/**
 * The one observer interface of every read model: statistics, task stories, attempt history,
 * dashboard counters, the invariants' facts. A projection is shown each event right after
 * `evolve` applied it, with the state after it, in the same way live (the kernel), on replay
 * (`fold`) and in tests: so a read model rebuilt from a log equals the one kept while it was written.
 *
 * Contract:
 * - `observe` reads `state`, never changes it, and keeps no reference into it beyond the call
 *   (the state changes under it with the next event).
 * - Everything a projection holds is folded from events: nothing of it is stored outside the log,
 *   so a restart rebuilds it exactly by folding the logged events.
 * - `observe` is an arrow-function property in every projection here, so `p.observe` can be passed
 *   on its own where a plain observer function is taken (the kernel's `observers`).
 * - Projections import src/core only (types included): no IO, no clock, no engine, server or CLI.
 */
import type { EngineEvent } from '../core/events.js';
import type { EngineState } from '../core/state.js';

export interface Projection {
  observe(event: EngineEvent, state: EngineState): void;
}
