import { describe, expect, it } from 'vitest';
import { defaultConfig, parseConfig } from '../../core/config.ts';
import { loadPolicy } from '../policy/policy.ts';
import { computeTrust, type TrustRecord } from './trust.ts';

const policy = loadPolicy(defaultConfig());
const rec = (time: number, lane: TrustRecord['lane'] = 'auto', bad: 'defect' | 'revert' | null = null): TrustRecord => ({ lane, time, defectInducing: bad === 'defect', reverted: bad === 'revert' });
const cleanRun = (from: number, n: number): TrustRecord[] => Array.from({ length: n }, (_, i) => rec(from + i));

describe('computeTrust', () => {
  it('starts trusted and counts changes per lane, defects and reverts', () => {
    const trust = computeTrust([rec(1), rec(2, 'light', 'defect'), rec(3, 'standard', 'revert')], policy);
    expect(trust).toMatchObject({ level: 'trusted', autoLane: true, changes: 3, defects: 1, reverts: 1, escapes: 0, changesByLane: { auto: 1, light: 1, standard: 1, senior: 0 } });
  });

  it('loses the auto lane at maxEscapes escapes through an escape lane and earns it back after regainAfter clean changes', () => {
    const lost = computeTrust([...cleanRun(0, 5), rec(10, 'auto', 'defect'), rec(11, 'auto', 'revert')], policy);
    expect(lost).toMatchObject({ level: 'suspended', autoLane: false, escapes: 2, toEarnAutoLane: 20 });

    const almost = computeTrust([...cleanRun(0, 5), rec(10, 'auto', 'defect'), rec(11, 'auto', 'revert'), ...cleanRun(20, 19)], policy);
    expect(almost).toMatchObject({ autoLane: false, toEarnAutoLane: 1 });

    const back = computeTrust([...cleanRun(0, 5), rec(10, 'auto', 'defect'), rec(11, 'auto', 'revert'), ...cleanRun(20, 20)], policy);
    expect(back).toMatchObject({ level: 'trusted', autoLane: true, escapesTowardLimit: 0, toEarnAutoLane: 0 });
    expect(back.events.map((e) => [e.time, e.level])).toEqual([[11, 'suspended'], [39, 'trusted']]);
  });

  it('restarts the clean streak on a bad change while suspended, and ignores defects outside escape lanes', () => {
    const reset = computeTrust([rec(1, 'auto', 'defect'), rec(2, 'auto', 'defect'), ...cleanRun(3, 10), rec(13, 'light', 'defect'), ...cleanRun(14, 10)], policy);
    expect(reset).toMatchObject({ level: 'suspended', cleanStreak: 10, toEarnAutoLane: 10 });
    const outside = computeTrust([rec(1, 'standard', 'defect'), rec(2, 'senior', 'revert'), rec(3, 'light', 'defect')], policy);
    expect(outside).toMatchObject({ level: 'trusted', escapes: 0, defects: 2, reverts: 1 });
  });

  it('does not depend on the order of the records', () => {
    const records = [...cleanRun(0, 3), rec(5, 'auto', 'defect'), rec(6, 'auto', 'defect')];
    expect(computeTrust([...records].reverse(), policy)).toEqual(computeTrust(records, policy));
  });

  it('makes a new agent earn the auto lane with minChanges, under the configured bounds', () => {
    const strict = loadPolicy(parseConfig('trust: { minChanges: 3, maxEscapes: 1, regainAfter: 2, escapeLanes: [auto, light] }\n', 't'));
    expect(computeTrust([], strict)).toMatchObject({ level: 'new', autoLane: false, toEarnAutoLane: 3 });
    expect(computeTrust(cleanRun(0, 3), strict)).toMatchObject({ level: 'trusted', autoLane: true });
    expect(computeTrust([...cleanRun(0, 3), rec(9, 'light', 'defect')], strict)).toMatchObject({ level: 'suspended', toEarnAutoLane: 2 });
  });
});
