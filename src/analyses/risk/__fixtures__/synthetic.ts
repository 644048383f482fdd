import { seededRandom } from '../random.ts';
import type { FeatureRow } from '../types.ts';

/**
 * Synthetic changes, one a day from 2020-01-01: `la` and `ld` (sizes) and `noise`. The label is
 * drawn with probability sigmoid(steepness * (log1p(la) - 3)) (a large `steepness` makes the data
 * almost separable); `fixLatencyDays` sets when each defect becomes known.
 */
export function syntheticRows(count: number, seed: number, steepness = 2, fixLatencyDays = 60): FeatureRow[] {
  const random = seededRandom(seed);
  const start = Date.UTC(2020, 0, 1) / 1000;
  return Array.from({ length: count }, (_, i) => {
    const la = Math.floor(Math.exp(random() * 6));
    const ld = Math.floor(Math.exp(random() * 4));
    const noise = random() * 10;
    const p = 1 / (1 + Math.exp(-steepness * (Math.log1p(la) - 3)));
    const label: 0 | 1 = random() < p ? 1 : 0;
    const time = start + i * 86_400;
    return { id: `c${i}`, time, label, fixKnownAt: label === 1 ? time + fixLatencyDays * 86_400 : null, churn: la + ld, features: { la, ld, noise } };
  });
}
