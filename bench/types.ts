/** One benchmark figure: a measured value, its unit, and a reference measured in the same run. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** What the figure is compared against, measured in the same run (e.g. `git log` alone). */
  reference?: { name: string; value: number };
  goal?: string;
  notes?: string;
}

export type Bench = () => Promise<BenchResult[]>;
