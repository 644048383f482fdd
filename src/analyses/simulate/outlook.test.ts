import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAnalysis } from '../run.ts';
import { writeSyntheticHistory } from '../../sources/git/__fixtures__/synthetic-history.ts';
import { openTestStore, type TestStore } from '../../store/__fixtures__/test-stores.ts';
import { queueOutlook } from './outlook.ts';

describe('queueOutlook', () => {
  let dir: string;
  let store: TestStore;
  let repoId: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flowgate-outlook-'));
    writeSyntheticHistory(join(dir, 'repo'), { changes: 800, mergeEvery: 2, startTime: 1_700_000_000 });
    store = await openTestStore('sqlite');
    repoId = (await runAnalysis(store, join(dir, 'repo'), { mineOnly: true })).mined.repoId;
  });
  afterAll(async () => {
    await store.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('simulates the measured queue under volume and auto-lane what-ifs, deterministically', async () => {
    const outlook = await queueOutlook(store, repoId);
    expect(outlook).not.toBeNull();
    if (outlook === null) return;
    expect(outlook.reviews).toBeGreaterThan(100);
    const [measured, twice, thrice, halfAuto] = outlook.scenarios;
    expect(outlook.scenarios.map((s) => s.name)).toEqual(['as measured', 'volume ×2', 'volume ×3', 'volume ×3, half in auto']);
    if (measured === undefined || twice === undefined || thrice === undefined || halfAuto === undefined) return;
    // Volume multiplies the requests and the reviewers' utilisation; the auto lane takes half back out.
    expect(twice.requests / measured.requests).toBeCloseTo(2, 0);
    expect(thrice.requests / measured.requests).toBeCloseTo(3, 0);
    expect(thrice.utilisation).toBeGreaterThan(twice.utilisation);
    expect(twice.utilisation).toBeGreaterThan(measured.utilisation);
    expect(halfAuto.requests / thrice.requests).toBeCloseTo(0.5, 1);
    expect(thrice.meanQueue).toBeGreaterThan(measured.meanQueue);
    expect(await queueOutlook(store, repoId)).toEqual(outlook);
  });

  it('gives nothing to simulate for a repository with too few reviews', async () => {
    const small = join(dir, 'small');
    writeSyntheticHistory(small, { changes: 6, mergeEvery: 2, startTime: 1_700_000_000 });
    const id = (await runAnalysis(store, small, { mineOnly: true })).mined.repoId;
    expect(await queueOutlook(store, id)).toBeNull();
  });
});
