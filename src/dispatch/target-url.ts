/**
 * The rule a target's base URL follows, written once: `pushq serve --target NAME=URL` checks it as
 * it parses the flag, PushqService.start and startPushq before anything is bound; each names the
 * input its own way (`--target default`, `targets.default`).
 */

/** Why `url` cannot be a target's base URL (not a URL; not http or https), or null. */
export function targetUrlProblem(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `"${url}" is not a URL`;
  }
  return u.protocol === 'http:' || u.protocol === 'https:' ? null : 'only http and https URLs';
}
