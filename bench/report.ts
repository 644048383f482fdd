import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildReport } from '../src/outputs/report/build.ts';
import { renderReportPage } from '../src/outputs/report/views.ts';
import { repositoryToRead } from '../src/sources/events/repository.ts';
import { openStore } from '../src/store/store.ts';
import type { BenchResult } from './types.ts';

/**
 * Report generation on a real repository after `flowgate analyze`. FLOWGATE_BENCH_REPO names the
 * repository (default /tmp/rails, a clone of github:rails/rails); FLOWGATE_BENCH_DB its store (analyzed
 * once if it holds no changes). Reference: reading the changes table alone.
 */
export async function run(): Promise<BenchResult[]> {
  const repoPath = resolve(process.env['FLOWGATE_BENCH_REPO'] ?? '/tmp/rails');
  if (!existsSync(repoPath)) {
    console.log(`report: skipped, no repository at ${repoPath} (set FLOWGATE_BENCH_REPO to a clone of e.g. rails/rails)`);
    return [];
  }
  const db = process.env['FLOWGATE_BENCH_DB'] ?? join(tmpdir(), 'flowgate-bench-report.db');
  let store = await openStore({ url: db });
  const count = await store.db.selectFrom('changes').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  if (Number(String(count.n)) === 0) {
    await store.close();
    console.log(`report: analyzing ${repoPath} into ${db} first (once)`);
    execFileSync(process.execPath, [resolve(import.meta.dirname, '../bin/flowgate.js'), 'analyze', repoPath, '--db', db, '--no-report'], { stdio: 'inherit' });
    store = await openStore({ url: db });
  }
  try {
    const repo = await repositoryToRead(store.db, repoPath);
    const changes = await store.db.selectFrom('changes').select((eb) => eb.fn.countAll<number>().as('n')).where('repo_id', '=', repo.id).executeTakeFirstOrThrow();
    let t = performance.now();
    await store.db.selectFrom('changes').selectAll().where('repo_id', '=', repo.id).execute();
    const readSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    const report = await buildReport(store, repo.id);
    const html = renderReportPage(report.metrics);
    const seconds = (performance.now() - t) / 1000;
    return [
      {
        name: 'report generation (load, compute, render HTML)',
        value: seconds,
        unit: 's',
        reference: { name: 'SELECT * FROM changes', value: readSeconds },
        goal: '<= 5 s',
        notes: `${Number(String(changes.n))} changes, ${report.metrics.summary.changes} in the report period, ${(html.length / 1024).toFixed(0)} KiB of HTML`,
      },
    ];
  } finally {
    await store.close();
  }
}
