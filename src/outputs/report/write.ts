import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { FlowgateError } from '../../core/errors.ts';
import { defaultStorePath } from '../../store/dialect.ts';
import type { Store } from '../../store/store.ts';
import { buildReport, type ReportOptions } from './build.ts';
import { renderReportPage } from './views.ts';

export interface WriteReportOptions extends ReportOptions {
  repoId: number;
  /** Output file; default: `reports/<repository name>.html` beside the SQLite store (or the default store's folder). */
  out?: string;
}

/** Where a repository's report goes by default: never inside the repository. */
export function defaultReportPath(store: { url: string; dialect: { name: string } }, repoKey: string): string {
  const base = store.dialect.name === 'sqlite' && store.url !== ':memory:' ? dirname(resolve(store.url)) : dirname(defaultStorePath());
  // A bare repository's key ends in `.git` (`/srv/rails.git`, `/x/rails/.git`): name it after the project.
  const parts = repoKey.split(/[/\\]+/).filter((p) => p !== '' && p !== '.git');
  const name = basename(parts.at(-1) ?? '').replace(/\.git$/, '').replace(/[^\w.-]+/g, '_') || 'repository';
  return join(base, 'reports', `${name}.html`);
}

/** Writes the HTML report for a repository and returns its path. */
export async function writeReport(store: Store, options: WriteReportOptions): Promise<string | null> {
  const repo = await store.db.selectFrom('repositories').select(['key']).where('id', '=', options.repoId).executeTakeFirst();
  if (repo === undefined) throw new FlowgateError('NOT_FOUND', `No repository with id ${options.repoId} in the store. Run \`flowgate analyze\` first.`);
  const report = await buildReport(store, options.repoId, options);
  const out = options.out ?? defaultReportPath(store, repo.key);
  saveReport(out, renderReportPage(report.metrics, { comparison: report.comparison, queue: report.queue }));
  return out;
}

/** Writes report text to a file, creating its folder; a USAGE error names the path when it cannot. */
export function saveReport(out: string, text: string): void {
  try {
    mkdirSync(dirname(resolve(out)), { recursive: true });
    writeFileSync(out, text);
  } catch (error) {
    throw new FlowgateError('USAGE', `Cannot write the report to ${out}: ${(error as Error).message}. Pass --out with a writable path.`, { cause: error });
  }
}
