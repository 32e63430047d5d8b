/**
 * Why a file could not be read, in the words every message about an unreadable input uses: queue
 * files, scenario files, --auth-token-file, event logs and snapshots all say "no such file", not
 * one of them "cannot read (ENOENT)". Pure (it only reads the error's code), so every layer can
 * share it.
 */
export function readFailure(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return error instanceof Error ? error.message : String(error);
}
