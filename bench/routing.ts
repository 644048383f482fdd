import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { blameFile } from '../src/analyses/routing/git.ts';
import { selectReviewers } from '../src/analyses/routing/select.ts';
import { erlangC } from '../src/analyses/simulate/erlang.ts';
import { simulateQueue } from '../src/analyses/simulate/queue.ts';
import { seededRandom } from '../src/analyses/simulate/random.ts';
import { openStore, type Store } from '../src/store/store.ts';
import type { BenchResult } from './types.ts';

const changes = 50_000;
const people = 200;
const folders = 40;
const filesPerFolder = 50;
const T0 = 1_600_000_000;

/** A 50,000-change store: 200 people, 2,000 files in 40 folders, each folder with a few main authors. */
export async function synthesise(store: Store): Promise<void> {
  const random = seededRandom(7);
  const db = store.db;
  const repo = await db.insertInto('repositories').values({ key: '/bench/routing', path: null, branch: 'main', tip_sha: null, created_at: T0, updated_at: T0 }).returning('id').executeTakeFirstOrThrow();
  const ids: number[] = [];
  for (let p = 0; p < people; p++) {
    const row = await db
      .insertInto('identities')
      .values({ key: `dev${p}@example.com`, name: `Dev ${p}`, email: `dev${p}@example.com`, kind: p % 50 === 49 ? 'bot' : 'person', tool: null, github_login: `dev${p}` })
      .returning('id')
      .executeTakeFirstOrThrow();
    ids.push(row.id);
  }
  const batch = 1000;
  for (let start = 0; start < changes; start += batch) {
    await db.transaction().execute(async (tx) => {
      const rows = [];
      const touched: { folder: number; files: number[] }[] = [];
      for (let i = start; i < Math.min(changes, start + batch); i++) {
        const folder = Math.floor(random() * folders);
        // Most changes to a folder come from its few main authors; the rest from anyone.
        const author = random() < 0.7 ? (folder * 5 + Math.floor(random() * 4)) % people : Math.floor(random() * people);
        const files = Array.from({ length: 1 + Math.floor(random() * 4) }, () => Math.floor(random() * filesPerFolder));
        touched.push({ folder, files: [...new Set(files)] });
        const authorId = ids[author] ?? 0;
        rows.push({
          repo_id: repo.id,
          sha: i.toString(16).padStart(40, '0'),
          position: i,
          parents: '[]',
          kind: 'direct' as const,
          author_id: authorId,
          author_name: `Dev ${author}`,
          author_email: `dev${author}@example.com`,
          author_time: T0 + i * 1800,
          committer_id: authorId,
          committer_name: `Dev ${author}`,
          committer_email: `dev${author}@example.com`,
          commit_time: T0 + i * 1800,
          subject: `change ${i}`,
          body: '',
          trailers: '[]',
          pr_number: null,
          coding_started_at: T0 + i * 1800,
          files_changed: files.length,
          lines_added: 20,
          lines_deleted: 5,
          provenance: 'human' as const,
          tool: null,
          provenance_strength: 'none',
          provenance_evidence: '[]',
        });
      }
      const inserted = await tx.insertInto('changes').values(rows).returning('id').execute();
      const fileRows = inserted.flatMap((row, k) =>
        (touched[k]?.files ?? []).map((f) => ({ change_id: row.id, path: `src/m${touched[k]?.folder ?? 0}/f${f}.ts`, old_path: null, status: 'M', added: 10, deleted: 2, binary: 0 })),
      );
      for (let i = 0; i < fileRows.length; i += 500) await tx.insertInto('change_files').values(fileRows.slice(i, i + 500)).execute();
    });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Routing decision time on a 50,000-change store, blame cost on this repository, simulator speed. */
export async function run(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-bench-routing-'));
  const store = await openStore({ url: join(dir, 'bench.db') });
  try {
    const built = performance.now();
    await synthesise(store);
    const buildMs = performance.now() - built;
    const now = T0 + changes * 1800 + 86_400;
    const openRequests = Array.from({ length: 30 }, (_, i) => ({ reviewer: `dev${(i * 7) % people}@example.com`, estimatedMinutes: 30 + i }));
    const decide = async (i: number) => {
      const folder = i % folders;
      return selectReviewers({
        store,
        repoId: 1,
        files: [`src/m${folder}/f${i % filesPerFolder}.ts`, `src/m${folder}/f${(i + 1) % filesPerFolder}.ts`, `src/m${folder}/f${(i + 7) % filesPerFolder}.ts`],
        authors: [`dev${(i * 13) % people}@example.com`],
        tier: i % 4 === 0 ? 'senior' : 'standard',
        openRequests,
        config: { seniors: ['@dev1', '@dev6', '@dev11'], secondReviewerForSilos: true },
        now,
      });
    };
    for (let i = 0; i < 5; i++) await decide(i);
    const decisionMs: number[] = [];
    for (let i = 0; i < 60; i++) {
      const started = performance.now();
      const selection = await decide(i);
      decisionMs.push(performance.now() - started);
      if (process.env["BENCH_TIMINGS"] === "1" && i < 3) console.log(JSON.stringify(selection.timings));
      if (selection.reviewers.length === 0 && selection.tier !== 'senior') throw new Error('bench: no reviewer chosen');
    }
    const queryMs: number[] = [];
    for (let i = 0; i < 60; i++) {
      const folder = i % folders;
      const started = performance.now();
      await store.db
        .selectFrom('change_files as cf')
        .innerJoin('changes as c', 'c.id', 'cf.change_id')
        .select(['c.author_id', 'c.commit_time'])
        .where('cf.path', 'in', [`src/m${folder}/f${i % filesPerFolder}.ts`, `src/m${folder}/f${(i + 1) % filesPerFolder}.ts`, `src/m${folder}/f${(i + 7) % filesPerFolder}.ts`])
        .execute();
      queryMs.push(performance.now() - started);
    }

    // Blame of the files of one change, on this repository (bounded: only the change's files).
    const repoPath = process.env['FLOWGATE_BENCH_REPO'] ?? resolve(import.meta.dirname, '..');
    const blameTargets = ['src/analyses/routing/select.ts', 'src/analyses/routing/expertise.ts', 'src/core/config.ts'];
    const blameMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      for (const path of blameTargets) blameFile(repoPath, 'HEAD', path, []);
      blameMs.push(performance.now() - started);
    }

    const simStarted = performance.now();
    const sim = simulateQueue({
      seed: 42,
      horizonMinutes: 60 * 60_000,
      warmupMinutes: 60 * 500,
      arrivals: [{ tier: 'standard', ratePerHour: 3 }],
      service: { standard: { kind: 'exponential', meanMinutes: 50 } },
      reviewers: ['r1', 'r2', 'r3', 'r4'].map((id) => ({ id })),
      maxOpenPerReviewer: 1,
    });
    const simMs = performance.now() - simStarted;
    const exact = erlangC(3 / 60, 1 / 50, 4);

    return [
      {
        name: 'routing decision, 50k changes (median)',
        value: median(decisionMs),
        unit: 'ms',
        reference: { name: 'plain indexed file-history query', value: median(queryMs) },
        goal: '<= 50 ms',
        notes: `store built in ${(buildMs / 1000).toFixed(1)} s by direct inserts; p90 ${[...decisionMs].sort((a, b) => a - b)[Math.floor(decisionMs.length * 0.9)]?.toFixed(1)} ms; no blame (no work tree)`,
      },
      {
        name: 'git blame of a change’s 3 files (median)',
        value: median(blameMs),
        unit: 'ms',
        notes: `on ${repoPath}; added to a decision when a clone is given (flowgate reviewers)`,
      },
      {
        name: 'M/M/4 simulation, 180k requests',
        value: simMs,
        unit: 'ms',
        notes: `mean wait ${sim.wait.meanMinutes.toFixed(2)} min against Erlang C ${exact.meanWait.toFixed(2)} min (${((100 * (sim.wait.meanMinutes - exact.meanWait)) / exact.meanWait).toFixed(1)}%)`,
      },
    ];
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
