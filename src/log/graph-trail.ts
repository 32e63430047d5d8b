/**
 * Where the graph codec (graph-codec.ts) is in the graph it writes or reads: `.field` and `[key]`
 * steps from the root, made into text only for an error message. Building the path as a string
 * per field and map entry made a string for every value written or read.
 */
export class Trail {
  private readonly steps: unknown[] = [];
  private readonly keyed: boolean[] = [];

  field(name: string): void {
    this.steps.push(name);
    this.keyed.push(false);
  }

  entry(key: unknown): void {
    this.steps.push(key);
    this.keyed.push(true);
  }

  pop(): void {
    this.steps.pop();
    this.keyed.pop();
  }

  toString(): string {
    return this.steps.map((step, i) => (this.keyed[i] ? `[${String(step)}]` : `.${String(step)}`)).join('');
  }
}
