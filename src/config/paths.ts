/**
 * Key paths name a place in a configuration file in queue.yaml's vocabulary, whatever the file's
 * format: `queue[3].retry_parameters.task_age_limit`. The root is the empty path.
 */

type PathSegment = string | number;
export type Path = readonly PathSegment[];

/** `['queue', 3, 'bucket_size']` → `queue[3].bucket_size`; `[]` → `''`. */
export function formatPath(path: Path): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}
