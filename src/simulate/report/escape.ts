/**
 * Escaping for the two places the report puts text from outside: HTML text and attribute values
 * (queue names, the scenario's file name and YAML), and JSON inside a <script> element.
 */

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe in HTML content and in a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
}

/**
 * JSON safe inside `<script type="application/json">`: the HTML parser ends the element at the
 * first `</script` and treats `<!--` specially, whatever JSON string it sits in. Writing every `<`
 * as `\u003c` (the same string to JSON.parse) removes both; U+2028/U+2029 are escaped too, so the
 * text stays valid if someone pastes it into a script.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
