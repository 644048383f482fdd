import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Git and database work is process-heavy; two cores are all the machine has.
    pool: 'forks',
    maxWorkers: 2,
  },
});
