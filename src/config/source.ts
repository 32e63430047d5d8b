/** What a reader (YAML or XML) hands to the validator. */

export type ConfigFormat = 'yaml' | 'xml';

/**
 * A key as the user wrote it in `format`: queue.yaml says `bucket_size`, queue.xml says
 * `bucket-size`. Paths always use the YAML spelling; messages use the file's own.
 */
export function spellKey(format: ConfigFormat, key: string): string {
  return format === 'xml' ? key.replace(/_/g, '-') : key;
}

/** The YAML key for an XML element name (`bucket-size` → `bucket_size`). */
export function yamlKey(xmlName: string): string {
  return xmlName.replace(/-/g, '_');
}

/** A plain mapping built by a reader: no prototype, so a `__proto__` key is just a key. */
export type PlainMap = Record<string, unknown>;

export function plainMap(): PlainMap {
  return Object.create(null) as PlainMap;
}
