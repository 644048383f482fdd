import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FlowgateError } from '../../../core/errors.ts';
import { ingestEvents, parseEventLines } from '../../../sources/events/ingest.ts';
import { repositoryForEvents } from '../../../sources/events/repository.ts';
import { printJson, withDbOption, withStore } from '../shared.ts';

interface ImportFlags {
  db?: string;
  repo: string;
  json?: boolean;
}

/** Registers `flowgate import <file.jsonl>`: pull request, review, check, deployment and incident events. */
export function registerImport(program: Command): void {
  withDbOption(
    program
      .command('import')
      .description('import PR, review, check, deployment and incident events from a JSON-lines file (format: docs/events.md)')
      .argument('<file>', 'JSON-lines file, one event per line ("-" for standard input)')
      .option('--repo <path-or-key>', 'repository the events belong to: a local path or owner/name', '.')
      .option('--json', 'print the result as JSON'),
  ).action(async (file: string, flags: ImportFlags) => {
    let text: string;
    try {
      text = readFileSync(file === '-' ? 0 : file, 'utf8');
    } catch (error) {
      throw new FlowgateError('USAGE', `Cannot read ${file}: ${(error as Error).message}. Pass the path of a JSON-lines events file.`, { cause: error });
    }
    // Every line is validated before the store is touched: a bad file imports nothing.
    const events = parseEventLines(text, file);
    await withStore(flags.db, async (store) => {
      const repo = await repositoryForEvents(store.db, flags.repo);
      const result = await ingestEvents(store.db, repo.id, events, 'import');
      if (flags.json === true) {
        printJson({ repository: repo.key, events: events.length, ...result });
        return;
      }
      process.stdout.write(`${repo.key}: ${result.inserted} new event(s) imported, ${result.skipped} already present\n`);
    });
  });
}
