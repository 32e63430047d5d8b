/**
 * Why `pushq serve` would not start: typed, with stable codes (docs/errors.md), each found before
 * anything is dispatched or logged. The message names the fix and ends with the code, as the
 * API's errors do.
 */
export type ServeStartErrorCode = 'UNPROTECTED_PUBLIC_BIND' | 'AUTH_TOKEN_INVALID' | 'ALLOW_HOST_INVALID' | 'ALLOW_ORIGIN_INVALID' | 'ALLOW_HTTP_TARGET_INVALID' | 'PORT_IN_USE';

export class ServeStartError extends Error {
  override name = 'ServeStartError';
  constructor(
    readonly code: ServeStartErrorCode,
    text: string,
  ) {
    super(`${text} (${code})`);
  }
}

/** A failed `listen` as the user should read it: a port in use says how to pick another. */
export function listenError(err: unknown, host: string, port: number, flag = '--port'): Error {
  if ((err as NodeJS.ErrnoException)?.code === 'EADDRINUSE') {
    return new ServeStartError('PORT_IN_USE', `port ${port} on ${host} is in use by another process: stop it, or choose another port with ${flag} N (${flag} 0 picks a free one)`);
  }
  return err instanceof Error ? err : new Error(String(err));
}
