/**
 * The query parameters of the Cloud Tasks REST calls: each call's own (the fields of its request
 * message that the HTTP rule leaves to the query, cloudtasks.proto: ListTasks `pageSize`,
 * `pageToken`, `responseView`, ...), under their camelCase or their proto name (`page_size`), as
 * Google's transcoding takes them; and Google's system parameters (`$alt`, `fields`, `key`, ...),
 * which any call takes and pushq ignores (the official clients' REST mode sends `$alt`).
 *
 * Anything else is refused, as Google's front end refuses it (400 "Cannot bind query parameter"):
 * a typo such as `pagesize=5` or `responseview=FULL` taken silently would answer a list of 1000
 * tasks, or a task without its body, with nothing to say why. A parameter given twice is refused
 * too (which one would count?), as a body field given under both its names is.
 */
import { closestKey } from '../config/suggest.js';
import { ApiError } from './errors.js';
import { snakeCase } from './request-fields.js';

/**
 * Google's system parameters as URL query parameters (cloud.google.com/apis/docs/system-parameters,
 * and the standard parameters of the discovery documents the REST clients are generated from).
 */
export const SYSTEM_PARAMETERS: ReadonlySet<string> = new Set([
  '$alt', 'alt', '$apiVersion', '$.xgafv', '$callback', 'callback', '$ct', '$fields', 'fields', '$key', 'key',
  '$outputDefaults', '$prettyPrint', 'prettyPrint', '$quotaUser', 'quotaUser', '$requestReason', '$unique',
  '$userProject', 'userProject', 'access_token', 'oauth_token', 'upload_protocol', 'uploadType',
]);

/**
 * The call's own parameters of `query` by camelCase name (`fields`: the names it takes), the
 * system parameters left out. An unknown parameter is UNKNOWN_FIELD, one given twice (or under
 * both its names) INVALID_FIELD; either names it in the BadRequest by its proto name.
 */
export function queryFields(query: URLSearchParams, fields: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const given = new Map<string, string>();
  for (const [key, value] of query) {
    // A parameter with no name (`?=x`, what a stray `=` makes) names nothing to refuse or take.
    if (SYSTEM_PARAMETERS.has(key) || key === '') continue;
    const name = fields.find((f) => f === key || snakeCase(f) === key);
    if (name === undefined) {
      const near = closestKey(key, fields);
      const takes = fields.length === 0 ? 'this call takes none' : `this call takes ${fields.join(', ')}`;
      throw new ApiError('UNKNOWN_FIELD', `unknown query parameter ${JSON.stringify(key.slice(0, 100))}${near === null ? '' : ` (did you mean ${near}?)`}: ${takes}, and Google's system parameters ($alt, fields, key, ...)`, snakeCase(key.slice(0, 100)));
    }
    const before = given.get(name);
    if (before !== undefined) {
      throw new ApiError('INVALID_FIELD', `query parameter ${name} is given twice (${before === key ? `as ${key}` : `as ${before} and as ${key}`}): give it once`, snakeCase(name));
    }
    given.set(name, key);
    out[name] = value;
  }
  return out;
}
