import { describe, expect, it } from 'vitest';
import type { QueueOutlook } from '../../analyses/simulate/outlook.ts';
import { renderQueueOutlook } from './views.ts';

const outlook: QueueOutlook = {
  reviews: 120,
  windowDays: 90,
  reviewers: 3,
  utilisation: 0.4,
  scenarios: [
    { name: 'as measured', whatIf: {}, requests: 100, waitP50: 30, waitP90: 120, doneP90: 240, meanQueue: 0.5, utilisation: 0.4 },
    { name: 'volume ×3', whatIf: { volumeFactor: 3 }, requests: 300, waitP50: 600, waitP90: 2400, doneP90: 2600, meanQueue: 6.2, utilisation: 0.95 },
  ],
};

describe('the report section of the review-queue what-ifs', () => {
  it('charts and tabulates every scenario', () => {
    const html = renderQueueOutlook(outlook);
    expect(html).toContain('data-chart="queue-outlook"');
    expect(html).toContain('<svg');
    expect(html.match(/<tr><td>/g)?.length).toBe(2);
    expect(html).toContain('volume ×3');
    expect(html).toContain('120 reviews of the last 90 days by 3 reviewers');
    expect(html).not.toContain('unstable');
  });

  it('says what is missing when there are too few reviews, and warns on an unstable queue', () => {
    expect(renderQueueOutlook(null)).toContain('Too few reviews');
    expect(renderQueueOutlook({ ...outlook, utilisation: 1.2 })).toContain('unstable');
    expect(renderQueueOutlook(undefined)).toBe('');
  });
});
