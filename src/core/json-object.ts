/**
 * A JSON text that should hold an object (a lock file, a log's header or commit marker): its
 * fields to check, or null when the text is not JSON or not an object. The caller checks fields.
 */
export function parseJsonObject(text: string): Record<string, unknown> | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null;
}
