import type { Tier, TrustConfig } from '../policy/schema.ts';

/** One past change of an agent, as the trust record needs it. */
export interface TrustRecord {
  /** The tier (lane) it went through. */
  lane: Tier;
  /** Labelled defect-inducing (SZZ) since. */
  defectInducing: boolean;
  reverted: boolean;
  /** Unix seconds it landed. */
  time: number;
}

/** `new`: has not yet earned the auto lane; `trusted`: has it; `suspended`: lost it to escapes. */
export type TrustLevel = 'new' | 'trusted' | 'suspended';

/** An agent's standing, derived from its record. */
export interface Trust {
  level: TrustLevel;
  /** Whether its changes may go through the auto lane. */
  autoLane: boolean;
  changes: number;
  changesByLane: Record<Tier, number>;
  defects: number;
  reverts: number;
  /** Defect-inducing or reverted changes that went through an escape lane (all time). */
  escapes: number;
  /** Escapes counted toward the limit since the agent last earned the auto lane. */
  escapesTowardLimit: number;
  /** Clean changes in a row since it lost (or while it has not yet earned) the auto lane. */
  cleanStreak: number;
  /** Clean changes still needed to get the auto lane; 0 when it has it. */
  toEarnAutoLane: number;
  /** When the standing changed, oldest first. */
  events: { time: number; level: TrustLevel }[];
}

/**
 * Computes an agent's trust from its past changes: it loses the auto lane once `maxEscapes` of its
 * changes escaped through an escape lane, and earns it back after `regainAfter` clean changes in a
 * row (a new agent after `minChanges`). Pure; records may come in any order.
 */
export function computeTrust(records: readonly TrustRecord[], policy: { config: { trust: TrustConfig } }): Trust {
  const { maxEscapes, regainAfter, minChanges, escapeLanes } = policy.config.trust;
  const sorted = [...records].sort((a, b) => a.time - b.time);
  const trust: Trust = {
    level: minChanges > 0 ? 'new' : 'trusted',
    autoLane: minChanges === 0,
    changes: 0,
    changesByLane: { auto: 0, light: 0, standard: 0, senior: 0 },
    defects: 0,
    reverts: 0,
    escapes: 0,
    escapesTowardLimit: 0,
    cleanStreak: 0,
    toEarnAutoLane: minChanges,
    events: [],
  };
  for (const record of sorted) {
    trust.changes += 1;
    trust.changesByLane[record.lane] += 1;
    if (record.defectInducing) trust.defects += 1;
    if (record.reverted) trust.reverts += 1;
    const bad = record.defectInducing || record.reverted;
    const escape = bad && escapeLanes.includes(record.lane);
    if (escape) trust.escapes += 1;
    if (trust.level === 'trusted') {
      if (!escape) continue;
      trust.escapesTowardLimit += 1;
      if (trust.escapesTowardLimit < maxEscapes) continue;
      trust.level = 'suspended';
      trust.cleanStreak = 0;
      trust.events.push({ time: record.time, level: 'suspended' });
      continue;
    }
    trust.cleanStreak = bad ? 0 : trust.cleanStreak + 1;
    const needed = trust.level === 'new' ? minChanges : regainAfter;
    if (trust.cleanStreak < needed) continue;
    trust.level = 'trusted';
    trust.escapesTowardLimit = 0;
    trust.cleanStreak = 0;
    trust.events.push({ time: record.time, level: 'trusted' });
  }
  trust.autoLane = trust.level === 'trusted';
  trust.toEarnAutoLane = trust.autoLane ? 0 : (trust.level === 'new' ? minChanges : regainAfter) - trust.cleanStreak;
  return trust;
}
