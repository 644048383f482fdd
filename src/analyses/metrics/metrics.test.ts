import { afterEach, describe, expect, it } from 'vitest';
import { openTestStore, storeKinds, type TestStore } from '../../store/__fixtures__/test-stores.ts';
import { ingestEvents, parseEventLines } from '../../sources/events/ingest.ts';
import { seedRepository } from './__fixtures__/seed.ts';
import { computeMetrics } from './compute.ts';
import { loadFlowData } from './load.ts';
import { changeFlows, type ChangeFlow, type Stage } from './flow.ts';
import { computeBottleneck } from './bottleneck.ts';
import type { FlowChange } from './data.ts';
import { folderKnowledge } from './knowledge.ts';

const h = 3600;
/** Monday 2025-01-06 00:00 UTC. */
const t0 = 1_736_121_600;
const at = (hours: number): number => t0 + hours * h;
const sha = (n: number): string => `${n}`.repeat(12).slice(0, 12).padEnd(40, 'a');

/**
 * A small history with every awkward case the metrics must handle, and the values worked out by
 * hand (hours after t0):
 *  c0  direct commit, coding 0 -> 1                           (shipped by the first deployment only)
 *  c1  PR #1 by alice: first commit 3, opened 5, bob comments at 4 (before the PR existed),
 *      alice comments on her own PR at 6, carol approves at 8, merged 10
 *      -> coding 2, pickup 3, review 2; deployed by D2 at 12 -> deploy 2, lead time 9; D3 redeploys it at 13
 *  c2  PR #2 by erin: first commit 11, opened 11.5, dave approves 12, merged (PR event) 20 but shipped by D4 at 14
 *      -> coding 0.5, pickup 0.5, review 8, deploy null (negative), lead time 3
 *  D1 at 2: the first deployment, no earlier successful one: ships nothing measurable
 *  I1 opened 1, resolved 1.5: before any deployment, no deployment caused it (restore 0.5)
 *  I2 opened 15, resolved 17: attributed to D4, the latest deployment before it (restore 2)
 *  D5 at 16 failed
 */
const events = [
  { id: 'd1', type: 'deployment', at: at(2), environment: 'production', result: 'success', sha: sha(0) },
  { id: 'pr1-open', type: 'pull_request', action: 'opened', at: at(5), number: 1, author: 'alice', head_branch: 'feature/one' },
  { id: 'r-bob', type: 'review', at: at(4), number: 1, reviewer: 'bob', state: 'commented' },
  { id: 'r-alice', type: 'review', at: at(6), number: 1, reviewer: 'alice', state: 'commented' },
  { id: 'r-carol', type: 'review', at: new Date(at(8) * 1000).toISOString(), number: 1, reviewer: 'carol', state: 'approved' },
  { id: 'pr1-merged', type: 'pull_request', action: 'merged', at: at(10), number: 1, merge_sha: sha(1) },
  { id: 'd2', type: 'deployment', at: at(12), environment: 'production', result: 'success', sha: sha(1) },
  { id: 'd3', type: 'deployment', at: at(13), environment: 'production', result: 'success', sha: sha(1) },
  { id: 'pr2-open', type: 'pull_request', action: 'opened', at: at(11.5), number: 2, author: 'erin' },
  { id: 'r-dave', type: 'review', at: at(12), number: 2, reviewer: 'dave', state: 'approved' },
  { id: 'd4', type: 'deployment', at: at(14), environment: 'production', result: 'success', sha: sha(2).slice(0, 12) },
  { id: 'pr2-merged', type: 'pull_request', action: 'merged', at: at(20), number: 2 },
  { id: 'staging', type: 'deployment', at: at(14), environment: 'staging', result: 'success', sha: sha(2) },
  { id: 'i1-open', type: 'incident', action: 'opened', at: at(1), incident: 'INC-1', severity: 'sev2' },
  { id: 'i1-done', type: 'incident', action: 'resolved', at: at(1.5), incident: 'INC-1' },
  { id: 'i2-open', type: 'incident', action: 'opened', at: at(15), incident: 'INC-2' },
  { id: 'i2-done', type: 'incident', action: 'resolved', at: at(17), incident: 'INC-2' },
  { id: 'd5', type: 'deployment', at: at(16), environment: 'production', result: 'failure', sha: sha(2) },
  { id: 'ci1', type: 'check', at: at(10.5), name: 'test', sha: sha(1), branch: 'main', conclusion: 'success' },
  { id: 'ci2', type: 'check', at: at(14), name: 'test', sha: sha(2), branch: 'main', conclusion: 'failure' },
  { id: 'ci3', type: 'check', at: at(14), name: 'lint', sha: sha(2), branch: 'main', conclusion: 'cancelled' },
  { id: 'ci4', type: 'check', at: at(9), name: 'test', sha: 'abcdef1', branch: 'feature/one', conclusion: 'failure' },
];

describe.each(storeKinds)('flow metrics on %s', (kind) => {
  let store: TestStore | undefined;
  afterEach(async () => {
    await store?.dispose();
    store = undefined;
  });

  async function seeded(): Promise<{ store: TestStore; repoId: number }> {
    store = await openTestStore(kind);
    const { repoId } = await seedRepository(store, 'acme/shop', [
      { sha: sha(0), author: 'Zed', codingStartedAt: at(0), commitTime: at(1) },
      { sha: sha(1), author: 'alice', prNumber: 1, codingStartedAt: at(3), commitTime: at(10) },
      { sha: sha(2), author: 'erin', prNumber: 2, codingStartedAt: at(11), commitTime: at(13.5) },
    ]);
    const parsed = parseEventLines(events.map((e) => JSON.stringify(e)).join('\n'), 'events.jsonl');
    const first = await ingestEvents(store.db, repoId, parsed);
    expect(first).toEqual({ inserted: events.length, skipped: 0 });
    return { store, repoId };
  }

  it('splits flow time into stages, ignoring own comments and comments dated before the PR', async () => {
    const { store, repoId } = await seeded();
    const data = await loadFlowData(store, repoId);
    const flows = changeFlows(data);
    const [c0, c1, c2] = flows;
    expect(c0?.split).toBe('direct');
    expect(c0?.deployment).toBeNull();
    expect(c0?.leadTime).toBeNull();
    expect(c1?.stages).toEqual({ coding: 2 * h, pickup: 3 * h, review: 2 * h, deploy: 2 * h });
    expect(c1?.reviewers).toEqual(['carol']);
    expect(c1?.deployment?.id).toBe('d2');
    expect(c1?.leadTime).toBe(9 * h);
    // Merged (by its PR event) after the deployment that shipped it: no negative deploy span.
    expect(c2?.stages).toEqual({ coding: 0.5 * h, pickup: 0.5 * h, review: 8 * h, deploy: null });
    expect(c2?.deployment?.id).toBe('d4');
    expect(c2?.leadTime).toBe(3 * h);
  });

  it('computes the four keys, review load and main-branch CI by hand-checked values', async () => {
    const { store, repoId } = await seeded();
    const data = await loadFlowData(store, repoId);
    const m = computeMetrics(data, { period: { from: t0, to: t0 + 7 * 24 * h }, now: t0 });
    expect(m.dora.deployments.count).toBe(4);
    expect(m.dora.deployments.failed).toBe(1);
    // Median of 9 h and 3 h; c0 has no lead time (the first deployment's changes are unknown), c1 counts once though deployed twice.
    expect(m.dora.leadTime).toMatchObject({ p50: 6 * h, changes: 2, basis: 'deployment', band: 'elite' });
    // d1..d5 in production: d4 caused INC-2, d5 failed -> 2 of 5.
    expect(m.dora.changeFailureRate).toMatchObject({ rate: 0.4, failed: 2, total: 5, band: 'low' });
    expect([...m.dora.changeFailureRate.failedDeployments].sort()).toEqual(['d4', 'd5']);
    const inc1 = m.dora.incidents.find((i) => i.incident.key === 'INC-1');
    expect(inc1).toMatchObject({ deploymentId: null, attribution: 'none', restore: 0.5 * h });
    expect(m.dora.incidents.find((i) => i.incident.key === 'INC-2')).toMatchObject({ deploymentId: 'd4', attribution: 'latest-before' });
    expect(m.dora.timeToRestore).toMatchObject({ p50: 1.25 * h, incidents: 2, resolved: 2, band: 'high' });

    expect(m.flow.stages.coding.p50).toBe(1 * h);
    expect(m.flow.stages.pickup.p50).toBe(1.75 * h);
    expect(m.flow.stages.review.p50).toBe(5 * h);
    expect(m.flow.stages.deploy).toMatchObject({ p50: 2 * h, count: 1 });
    expect(m.review.reviewers.map((r) => [r.reviewer, r.reviews])).toEqual([
      ['carol', 1],
      ['dave', 1],
    ]);
    expect(m.review.timeToFirstReview).toMatchObject({ p50: 1.75 * h, count: 2 });
    // Main-branch runs: one success, one failure; cancelled and feature-branch runs do not count.
    expect(m.ci).toEqual({ rate: 0.5, runs: 2 });
    expect(m.weekly).toHaveLength(1);
    expect(m.weekly[0]).toMatchObject({ changes: 3, deployments: 4 });
    expect(m.coverage).toMatchObject({ changes: 3, prsWithEvents: 2, prsDerived: 0, labels: 'not-yet-computed', lanes: 'not-yet-computed' });
  });

  it('takes a first success after only failed deployments as the baseline, and counts a change deployed twice once', async () => {
    store = await openTestStore(kind);
    // c0..c3: direct commits at hours 1..4, each coded for an hour before.
    const { repoId } = await seedRepository(
      store,
      'acme/baseline',
      [0, 1, 2, 3].map((n) => ({ sha: sha(n), codingStartedAt: at(n), commitTime: at(n + 1) })),
    );
    const deployments = [
      // Failed: ships nothing, and the next success still has no earlier successful one.
      { id: 'f0', at: at(4.5), result: 'failure', sha: sha(3) },
      // The first success: which of c0, c1 were already running is unknown, so it ships none of them.
      { id: 's1', at: at(5), result: 'success', sha: sha(1) },
      // Ships c2 (lead time 6 - 2 = 4 h) and c3 (6 - 3 = 3 h).
      { id: 's2', at: at(6), result: 'success', sha: sha(3) },
      // A rollback to c2 and a redeploy of c3: nothing new ships.
      { id: 's3', at: at(7), result: 'success', sha: sha(2) },
      { id: 's4', at: at(8), result: 'success', sha: sha(3) },
    ].map((d) => JSON.stringify({ ...d, type: 'deployment', environment: 'production' }));
    await ingestEvents(store.db, repoId, parseEventLines(deployments.join('\n'), 'deployments.jsonl'));
    const data = await loadFlowData(store, repoId);
    const flows = changeFlows(data);
    expect(flows.map((f) => f.deployment?.id ?? null)).toEqual([null, null, 's2', 's2']);
    expect(flows.map((f) => f.leadTime)).toEqual([null, null, 4 * h, 3 * h]);
    expect(flows.map((f) => f.stages.deploy)).toEqual([null, null, 3 * h, 2 * h]);
    const m = computeMetrics(data, { period: { from: t0, to: t0 + 7 * 24 * h }, now: t0 });
    expect(m.dora.deployments).toMatchObject({ count: 4, failed: 1 });
    expect(m.dora.leadTime).toMatchObject({ p50: 3.5 * h, changes: 2 });
    // Five production deployments, one failed, no incidents.
    expect(m.dora.changeFailureRate).toMatchObject({ rate: 0.2, failed: 1, total: 5, failedDeployments: ['f0'] });
  });

  it('flags individual output up while team lead time is flat, naming people and never bots', async () => {
    store = await openTestStore(kind);
    const week = 7 * 24 * h;
    // Every change is coded in 1 h, so the median lead time stays flat. Earlier 8 weeks: Ann 10, the bot 1;
    // last 8 weeks: Ann 10, the bot 6, Cleo 5 (new). Cleo is up, the bot is not a person.
    const earlier = [...Array.from({ length: 10 }, () => 'Ann'), 'bot'];
    const recent = [...Array.from({ length: 10 }, () => 'Ann'), ...Array.from({ length: 6 }, () => 'bot'), ...Array.from({ length: 5 }, () => 'Cleo')];
    const changes = [...earlier.map((a, i) => ({ a, t: t0 + i * (week / 2) })), ...recent.map((a, i) => ({ a, t: t0 + 8 * week + i * Math.floor((8 * week) / 22) }))].map(
      ({ a, t }, i) => ({ sha: sha(i % 10) + String(i), author: a, codingStartedAt: t, commitTime: t + h, provenance: a === 'bot' ? ('automation' as const) : ('human' as const) }),
    );
    const { repoId } = await seedRepository(store, 'acme/people', changes);
    const m = computeMetrics(await loadFlowData(store, repoId), { period: { from: t0, to: t0 + 16 * week }, now: t0 });
    const w = m.warnings.find((x) => x.id === 'individual-output-up-team-flat');
    expect(w?.status).toBe('triggered');
    expect(w?.evidence.map((e) => [e.ref, e.detail])).toEqual([['Cleo', '0 -> 5 changes']]);
  });

  it('is idempotent by event id: importing the same events again changes nothing', async () => {
    const { store, repoId } = await seeded();
    const again = await ingestEvents(store.db, repoId, parseEventLines(events.map((e) => JSON.stringify(e)).join('\n'), 'again.jsonl'));
    expect(again).toEqual({ inserted: 0, skipped: events.length });
    const count = await store.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(String(count.n))).toBe(events.length);
  });
});

describe('bottleneck', () => {
  const day = 24 * h;
  /** A change's flow with just what the bottleneck reads. */
  function flow(mergedAt: number, split: ChangeFlow['split'], stageHours: Partial<Record<Stage, number>>): ChangeFlow {
    const stageSeconds = (s: Stage): number | null => (stageHours[s] === undefined ? null : (stageHours[s] ?? 0) * h);
    return {
      change: { id: mergedAt, sha: sha(mergedAt % 10), position: 0, kind: 'merge', prNumber: null, authorId: 1, author: 'a', authorEmail: 'a@example.com', commitTime: mergedAt, codingStartedAt: mergedAt, linesAdded: 1, linesDeleted: 0, provenance: 'human', tool: null, subject: 's' },
      pr: null,
      mergedAt,
      readyAt: null,
      firstReviewAt: null,
      reviewers: [],
      deployment: null,
      stages: { coding: stageSeconds('coding'), pickup: stageSeconds('pickup'), review: stageSeconds('review'), deploy: stageSeconds('deploy') },
      leadTime: null,
      split,
    };
  }
  const period = { from: t0, to: t0 + 10 * day };

  it('names the largest stage, the one that grew most, and the Amdahl arithmetic, by hand-checked values', () => {
    // Two changes before the middle (day 5) wait 1 h for pickup, three after wait 5 h; the rest is constant.
    const flows = [1, 2, 6, 7, 8].map((d) => flow(t0 + d * day, 'pr', { coding: 2, pickup: d < 5 ? 1 : 5, review: 3, deploy: 4 }));
    const b = computeBottleneck(flows, period);
    // Means: coding 2, pickup (1 + 1 + 5 + 5 + 5) / 5 = 3.4, review 3, deploy 4; sum 12.4 h.
    expect(b).toMatchObject({ basis: 'pr-events', changes: 5, largest: 'deploy', measured: ['coding', 'pickup', 'review', 'deploy'] });
    expect(b.shares.deploy).toBeCloseTo(4 / 12.4, 10);
    expect(b.grewMost).toEqual({ stage: 'pickup', before: 1 * h, after: 5 * h });
    const p = 2 / 12.4;
    expect(b.amdahl?.codingShare).toBeCloseTo(p, 10);
    expect(b.amdahl?.speedupIfCoding2x).toBeCloseTo(1 / (1 - p / 2), 10);
    expect(b.amdahl?.speedupIfCodingFree).toBeCloseTo(1 / (1 - p), 10);
    expect(b.amdahl?.savedIfCoding2x).toBeCloseTo(p / 2, 10);
  });

  it('names no bottleneck when only one stage can be measured', () => {
    // Git only, no deployments: first commit to merge is all there is, so coding would be "100%" by construction.
    const flows = [1, 2, 6].map((d) => flow(t0 + d * day, 'direct', { coding: d }));
    const b = computeBottleneck(flows, period);
    expect(b).toMatchObject({ basis: 'git-only', measured: ['coding'], largest: null, amdahl: null });
    expect(b.grewMost).toEqual({ stage: 'coding', before: 1.5 * h, after: 6 * h });
  });
});

describe('knowledge map', () => {
  const change = (id: number, author: string, commitTime: number): FlowChange => ({
    id, sha: sha(id), position: id, kind: 'direct', prNumber: null, authorId: id, author, authorEmail: `${author}@example.com`,
    commitTime, codingStartedAt: commitTime, linesAdded: 0, linesDeleted: 0, provenance: 'human', tool: null, subject: 's',
  });

  it('measures main developer by added lines, and by changes where no line count is known (not as zero lines)', () => {
    const changes = new Map([
      [1, change(1, 'ann', at(1))],
      [2, change(2, 'ann', at(2))],
      [3, change(3, 'ann', at(3))],
      [4, change(4, 'ben', at(4))],
    ]);
    const touches = [
      // src/lib: Ben's one change adds 90 lines, Ann's three add 10: Ben holds 90% of the lines.
      ...[1, 2, 3].map((id) => ({ changeId: id, path: 'src/lib/a.ts', added: id === 3 ? 4 : 3 })),
      { changeId: 4, path: 'src/lib/b.ts', added: 90 },
      // src/ui: every count unknown: Ann has 3 of 4 changes.
      ...[1, 2, 3, 4].map((id) => ({ changeId: id, path: 'src/ui/v.ts', added: null })),
    ];
    const k = folderKnowledge(touches, changes, { activeSince: at(0) });
    expect(k.find((f) => f.folder === 'src/lib')).toMatchObject({ basis: 'lines', mainDeveloper: 'ben', mainShare: 0.9, linesAdded: 100, changes: 4 });
    // Fragmentation by revisions: 1 - (3/4)^2 - (1/4)^2 = 0.375.
    expect(k.find((f) => f.folder === 'src/ui')).toMatchObject({ basis: 'changes', mainDeveloper: 'ann', mainShare: 0.75, linesAdded: 0, fragmentation: 0.375 });
  });
});
