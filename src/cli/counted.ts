/** A count and its noun, singular for one: `1 event`, `2 events`, `1 worker thread`. The one rule every CLI message counts by. */
export function counted(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
