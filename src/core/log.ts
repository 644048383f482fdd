import { pino, type Logger } from 'pino';

/**
 * The process logger: fixed messages with metadata. Logs go to standard error so that standard
 * output stays clean for `--json`; the level comes from FLOWGATE_LOG (default `warn` for the CLI).
 */
export const log: Logger = pino(
  { level: process.env['FLOWGATE_LOG'] ?? 'warn', base: null },
  pino.destination({ fd: 2, sync: true }),
);
