import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore, storeKinds, type TestStore } from '../../store/__fixtures__/test-stores.ts';
import type { RepoBuilder } from '../../sources/git/__fixtures__/repo-builder.ts';
import { buildHistory, start } from '../../outputs/report/__fixtures__/history.ts';
import { loadFlowData } from './load.ts';
import { changeFlows } from './flow.ts';
import { computeMetrics } from './compute.ts';
import { runAnalysis } from '../run.ts';

const day = 86_400;

describe.each(storeKinds)('metrics derived from git on %s', (kind) => {
  let repo: RepoBuilder;
  let store: TestStore | undefined;
  beforeAll(() => {
    repo = buildHistory();
  });
  afterAll(() => repo.dispose());
  afterEach(async () => {
    await store?.dispose();
    store = undefined;
  });

  it('derives PRs from merge and squash messages, deployments from release tags and failures from reverts and hotfixes', async () => {
    store = await openTestStore(kind);
    const { mined } = await runAnalysis(store, repo.dir, { mineOnly: true });
    expect(mined.warnings).toEqual([]);
    const data = await loadFlowData(store, mined.repoId);

    expect(data.pullRequests.map((p) => [p.number, p.derived]).sort()).toEqual([
      [1, true],
      [2, true],
    ]);
    // Pre-releases (v1.2.0-rc1) are not deployments.
    expect(data.deployments.map((d) => [d.id, d.derived, d.position])).toEqual([
      ['tag:v1.0.0', true, 0],
      ['tag:v1.1.0', true, 4],
      ['tag:v1.1.1', true, 5],
    ]);
    expect(data.derived).toMatchObject({ pullRequests: 2, deployments: 3, incidents: 2 });
    const kinds = data.incidents.map((i) => i.derivedFrom);
    expect(kinds).toEqual(['revert', 'hotfix']);

    const flows = changeFlows(data);
    // v1.0.0 is the first deployment: its change gets no deploy time. v1.1.0 (day 6) ships positions 1..4.
    expect(flows[0]?.deployment).toBeNull();
    const pr1 = flows[1];
    expect(pr1?.split).toBe('derived-pr');
    expect(pr1?.deployment?.id).toBe('tag:v1.1.0');
    expect(pr1?.leadTime).toBe(5 * day);
    expect(pr1?.stages.coding).toBe(1 * day);
    expect(pr1?.stages.deploy).toBe(4 * day);

    const m = computeMetrics(data, { period: { from: start, to: start + 14 * day }, now: start });
    // The revert was fixed before any release shipped it: no production failure. The hotfix failure is tied to v1.1.0.
    expect(m.dora.incidents.map((i) => [i.incident.derivedFrom, i.deploymentId])).toEqual([
      ['revert', null],
      ['hotfix', 'tag:v1.1.0'],
    ]);
    expect(m.dora.changeFailureRate).toMatchObject({ failed: 1, total: 3 });
    expect(m.provenance.byClass.find((r) => r.key === 'human')).toMatchObject({ changes: 6, reverted: 1 });
    expect(m.coverage).toMatchObject({ prsDerived: 2, deploymentsDerived: 3, incidentsDerived: 2 });
  });
});
