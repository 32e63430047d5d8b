/**
 * Why `pushq serve` would not start: typed, with stable codes (docs/errors.md), each found before
 * anything is dispatched or logged. The message names the fix and ends with the code, as the
 * API's errors do.
 */
import { targetUrlProblem } from '../dispatch/target-url.js';

export type ServeStartErrorCode = 'UNPROTECTED_PUBLIC_BIND' | 'AUTH_TOKEN_INVALID' | 'AUTH_TOKEN_FILE_UNREADABLE' | 'ALLOW_HOST_INVALID' | 'ALLOW_ORIGIN_INVALID' | 'ALLOW_HTTP_TARGET_INVALID' | 'TARGET_URL_INVALID' | 'PORT_IN_USE';

/**
 * How a start error names what it was given: as `pushq serve`'s flags (`--auth-token`, `--target
 * default`; the default: the command's, and PushqService.start's unless told) or as the library's
 * options (`authToken`, `targets.default`: startPushq). Each rule is written once; this says
 * whose words its message uses.
 */
export type InputNames = 'flags' | 'options';

const INPUTS = {
  authToken: ['--auth-token', 'authToken'],
  host: ['--host', 'host'],
  insecurePublic: ['--insecure-public', 'insecurePublic: true'],
  allowHosts: ['--allow-host', 'allowHosts'],
  allowOrigins: ['--allow-origin', 'allowOrigins'],
  allowHttpTargets: ['--allow-http-target', 'allowHttpTargets'],
  targets: ['--target', 'targets'],
  port: ['--port', 'port'],
  grpcPort: ['--grpc-port', 'grpcPort'],
} as const;

/** An input as `names` calls it; `key` one entry of it (`--target default`, `targets.default`). */
export function inputName(input: keyof typeof INPUTS, names: InputNames = 'flags', key?: string): string {
  const [flag, option] = INPUTS[input];
  if (names === 'flags') return key === undefined ? flag : `${flag} ${key}`;
  if (key === undefined) return option;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${option}.${key}` : `${option}[${JSON.stringify(key)}]`;
}

export class ServeStartError extends Error {
  override name = 'ServeStartError';
  constructor(
    readonly code: ServeStartErrorCode,
    text: string,
  ) {
    super(`${text} (${code})`);
  }
}

/** The refusal of a target whose base URL breaks the rule (src/dispatch/target-url.ts), or null; `input` names it (`--target default`, `targets.default`). */
export function targetUrlError(input: string, url: string): ServeStartError | null {
  const problem = targetUrlProblem(url);
  return problem === null ? null : new ServeStartError('TARGET_URL_INVALID', `${input}: ${problem}`);
}

/** A failed `listen` as the user should read it: a port in use says how to pick another (the port's `input`, named as `names` says). */
export function listenError(err: unknown, host: string, port: number, input: 'port' | 'grpcPort' = 'port', names: InputNames = 'flags'): Error {
  if ((err as NodeJS.ErrnoException)?.code === 'EADDRINUSE') {
    const set = (value: string): string => `${inputName(input, names)}${names === 'flags' ? ' ' : ': '}${value}`;
    return new ServeStartError('PORT_IN_USE', `port ${port} on ${host} is in use by another process: stop it, or choose another port with ${set('N')} (${set('0')} picks a free one)`);
  }
  return err instanceof Error ? err : new Error(String(err));
}
