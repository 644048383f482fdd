import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { FlowgateError } from '../../core/errors.ts';
import { openStore, type Store } from '../../store/store.ts';

/** A function that adds one command (or a group) to the program. */
export type RegisterCommand = (program: Command) => void;

/** Adds the `--db` option every store-using command takes. */
export function withDbOption(command: Command): Command {
  return command.option('--db <url>', 'store: a SQLite file or postgres:// URL (default: FLOWGATE_DB, then ~/.local/share/flowgate/flowgate.db)');
}

/** Opens the store for a command, runs `fn`, and always closes it. */
export async function withStore<T>(db: string | undefined, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore({ url: db });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Resolves a repository path argument (default: the current directory) to an absolute path that exists. */
export function resolvePathArg(path: string | undefined): string {
  const full = resolve(path ?? '.');
  if (!existsSync(full)) throw new FlowgateError('NOT_A_REPOSITORY', `No such directory: ${full}. Pass the path of a git repository.`);
  return full;
}

/** Writes a value as pretty JSON on standard output. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Formats rows as an aligned text table; numbers align right. */
export function formatTable(headers: string[], rows: (string | number | null)[][]): string {
  const cells = rows.map((row) => row.map((cell) => (cell === null ? '-' : String(cell))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]?.length ?? 0)));
  const line = (row: string[], raw?: (string | number | null)[]): string =>
    row
      .map((cell, i) => (typeof raw?.[i] === 'number' ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map((row, i) => line(row, rows[i]))].join('\n');
}

/** Parses a date flag (ISO date, or Unix seconds) into Unix seconds. */
export function parseDateFlag(value: string, flag: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new FlowgateError('USAGE', `${flag} expects a date like 2025-01-31, got "${value}".`);
  return Math.floor(ms / 1000);
}
