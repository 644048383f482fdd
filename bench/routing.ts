import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { blameFile } from '../src/analyses/routing/git.ts';
import { reviewersFromStore } from '../src/analyses/routing/stored.ts';
import { erlangC } from '../src/analyses/simulate/erlang.ts';
import { simulateQueue } from '../src/analyses/simulate/queue.ts';
import { seededRandom } from '../src/analyses/simulate/random.ts';
import { openStore, type Store } from '../src/store/store.ts';
import { mmcExample } from '../src/analyses/simulate/__fixtures__/mmc.ts';
import { quantileOf } from './timing.ts';
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


interface Decision {
  files: string[];
  author: string;
  now: number;
  tier: 'standard' | 'senior';
}

/** 60 decisions replayed from a real store: recent non-merge changes of 1-20 files, routed just before each landed. */
async function realDecisions(store: Store, repoId: number): Promise<Decision[]> {
  const recent = await store.db
    .selectFrom('changes')
    .select(['id', 'author_email as email', 'commit_time as time'])
    .where('repo_id', '=', repoId)
    .where('kind', '!=', 'merge')
    .where('files_changed', '>=', 1)
    .where('files_changed', '<=', 20)
    .orderBy('position', 'desc')
    .limit(3000)
    .execute();
  const picked = recent.filter((_, i) => i % 50 === 0).slice(0, 60);
  const decisions: Decision[] = [];
  for (const [i, change] of picked.entries()) {
    const files = await store.db.selectFrom('change_files').select('path').where('change_id', '=', change.id).execute();
    decisions.push({ files: files.map((f) => f.path), author: change.email, now: change.time - 1, tier: i % 4 === 0 ? 'senior' : 'standard' });
  }
  return decisions;
}

/** 60 decisions on the synthetic store: 3 files of one folder each. */
function syntheticDecisions(): Decision[] {
  return Array.from({ length: 60 }, (_, i) => {
    const folder = i % folders;
    return {
      files: [`src/m${folder}/f${i % filesPerFolder}.ts`, `src/m${folder}/f${(i + 1) % filesPerFolder}.ts`, `src/m${folder}/f${(i + 7) % filesPerFolder}.ts`],
      author: `dev${(i * 13) % people}@example.com`,
      now: T0 + changes * 1800 + 86_400,
      tier: i % 4 === 0 ? 'senior' : 'standard',
    };
  });
}


/**
 * Routing decision time on a 50,000+ change store, blame cost on this repository, simulator speed.
 * The store is FLOWGATE_BENCH_ROUTING_DB (an analyzed store; it is only read) and the repository in
 * it FLOWGATE_BENCH_ROUTING_REPO (its key; default: the one with the most changes); without them a
 * synthetic 50,000-change store is built in a temp directory, and the result says so.
 */
export async function run(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-bench-routing-'));
  const given = process.env['FLOWGATE_BENCH_ROUTING_DB'];
  const store = await openStore({ url: given !== undefined && given !== '' ? given : join(dir, 'bench.db') });
  try {
    let source: string;
    let repoKey: string;
    let decisions: Decision[];
    let openRequests: { reviewer: string; estimatedMinutes: number }[] = [];
    let config: { seniors: string[]; secondReviewerForSilos: boolean } = { seniors: [], secondReviewerForSilos: true };
    let buildMs = 0;
    if (given !== undefined && given !== '') {
      const counts = await store.db
        .selectFrom('changes')
        .innerJoin('repositories as r', 'r.id', 'changes.repo_id')
        .select(['r.id', 'r.key', (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy(['r.id', 'r.key'])
        .orderBy('n', 'desc')
        .execute();
      const wantedKey = process.env['FLOWGATE_BENCH_ROUTING_REPO'];
      const repo = wantedKey === undefined || wantedKey === '' ? counts[0] : counts.find((c) => c.key === wantedKey);
      if (repo === undefined) throw new Error(`bench: no repository ${wantedKey ?? ''} with changes in ${given}`);
      repoKey = repo.key;
      decisions = await realDecisions(store, repo.id);
      // The busiest recent authors are the seniors: senior-tier decisions then have someone to pick.
      const top = await store.db
        .selectFrom('changes')
        .select(['author_email as email', (eb) => eb.fn.countAll<number>().as('n')])
        .where('repo_id', '=', repo.id)
        .where('commit_time', '>=', Math.min(...decisions.map((d) => d.now)) - 365 * 86_400)
        .groupBy('author_email')
        .orderBy('n', 'desc')
        .limit(5)
        .execute();
      config = { seniors: top.map((t) => t.email), secondReviewerForSilos: true };
      openRequests = top.map((t, i) => ({ reviewer: t.email, estimatedMinutes: 30 * (i + 1) }));
      source = `${repo.key}: ${repo.n.toLocaleString('en')} changes (FLOWGATE_BENCH_ROUTING_DB=${given})`;
    } else {
      const built = performance.now();
      await synthesise(store);
      buildMs = performance.now() - built;
      repoKey = '/bench/routing';
      decisions = syntheticDecisions();
      openRequests = Array.from({ length: 30 }, (_, i) => ({ reviewer: `dev${(i * 7) % people}@example.com`, estimatedMinutes: 30 + i }));
      config = { seniors: ['@dev1', '@dev6', '@dev11'], secondReviewerForSilos: true };
      source = `SYNTHETIC store (${changes.toLocaleString('en')} changes, built in ${(buildMs / 1000).toFixed(1)} s): set FLOWGATE_BENCH_ROUTING_DB to an analyzed store for a real repository`;
    }
    const decide = (d: Decision) => reviewersFromStore(store.db, repoKey, { files: d.files, author: d.author, tier: d.tier, now: d.now, config, extraOpenRequests: openRequests, requireLogin: false });
    // The first decision in a process reads the repository's changes within the horizon (the
    // folder window, src/analyses/routing/folder-window.ts); later ones find them held.
    const coldStarted = performance.now();
    for (const d of decisions.slice(0, 1)) await decide(d);
    const coldMs = performance.now() - coldStarted;
    for (const d of decisions.slice(1, 5)) await decide(d);
    const decisionMs: number[] = [];
    let chosen = 0;
    for (const d of decisions) {
      const started = performance.now();
      const result = await decide(d);
      decisionMs.push(performance.now() - started);
      if (process.env['BENCH_TIMINGS'] === '1') console.log(JSON.stringify(result.selection.timings));
      if (result.reviewers.length > 0) chosen += 1;
    }
    if (chosen === 0) throw new Error('bench: no reviewer chosen in any decision');
    const queryMs: number[] = [];
    for (const d of decisions) {
      const started = performance.now();
      await store.db
        .selectFrom('change_files as cf')
        .innerJoin('changes as c', 'c.id', 'cf.change_id')
        .select(['c.author_id', 'c.commit_time'])
        .where('cf.path', 'in', d.files)
        .execute();
      queryMs.push(performance.now() - started);
    }
    const files = decisions.map((d) => d.files.length);

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
    const sim = simulateQueue(mmcExample);
    const simMs = performance.now() - simStarted;
    const exact = erlangC(3 / 60, 1 / 50, 4);

    return [
      {
        name: 'routing decision from the store (median)',
        value: quantileOf(decisionMs, 0.5),
        unit: 'ms',
        reference: { name: 'plain indexed file-history query', value: quantileOf(queryMs, 0.5) },
        goal: '<= 50 ms',
        notes: `${source}; ${decisions.length} decisions (reviewersFromStore: changes, merges, review events, open requests), ${quantileOf(files, 0.5)} files median (max ${Math.max(...files)}); p90 ${quantileOf(decisionMs, 0.9).toFixed(1)} ms, max ${Math.max(...decisionMs).toFixed(1)} ms, first decision of the process (cold) ${coldMs.toFixed(0)} ms; reviewers chosen in ${chosen}; no blame (no work tree)`,
      },
      {
        name: 'git blame of a change’s 3 files (median)',
        value: quantileOf(blameMs, 0.5),
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
