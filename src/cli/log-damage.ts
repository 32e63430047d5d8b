/**
 * What a command says of a log damaged before its tail (LOG_CORRUPT): the reader's message names
 * the line, the byte and the problem; each command adds what its own `--repair` would do, since
 * they differ: `pushq serve --repair` cuts the data directory's log and keeps the cut-off bytes
 * beside it, `pushq replay --repair` only reads up to the damage and changes nothing.
 */
import { LogError } from '../log/log-errors.js';
import { damagedPath, nextDamagedPath } from '../server/log-repair.js';
import { counted } from './counted.js';

/** `err`'s message, with the command's --repair advice when it is LOG_CORRUPT, ending with its code as every refusal does. */
export function logErrorMessage(err: LogError, command: 'serve' | 'replay'): string {
  return `${advice(err, command)} (${err.code})`;
}

function advice(err: LogError, command: 'serve' | 'replay'): string {
  const { file, cutAt, fileBytes } = err.details;
  if (err.code !== 'LOG_CORRUPT' || cutAt === undefined) return err.message;
  if (command === 'replay') return `${err.message}; --repair replays up to the last complete batch before it (byte ${cutAt}) and leaves the file as it is`;
  let kept = '';
  if (fileBytes !== undefined && file !== undefined) {
    // The name the repair will write: a suffix when an earlier repair's file has the plain one.
    const path = nextDamagedPath(file, cutAt);
    const where = path ?? `a file beside it, once one of ${damagedPath(file, cutAt)} and its .1 to .99 is moved away (all are taken)`;
    kept = `, keeping the ${counted(fileBytes - cutAt, 'byte')} from there on in ${where}`;
  }
  return `${err.message}; pushq serve --repair cuts the log at byte ${cutAt}, the end of the last complete batch before it${kept}, and starts`;
}
