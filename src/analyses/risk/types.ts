/**
 * One change as the risk learner sees it: features computed as of the change's own time, its label
 * (defect-inducing or not, as eventually known) and its effort (changed lines).
 */
export interface FeatureRow {
  /** The change's id (commit sha). */
  id: string;
  /** Unix seconds of the change; rows are evaluated in this order. */
  time: number;
  /** 1 when the change turned out defect-inducing (as eventually known), else 0. */
  label: 0 | 1;
  /**
   * Unix seconds when the defect became known (the fix landed); null for clean changes. Absent on
   * external datasets, whose labels are taken as given. Used for verification latency: a training
   * change only counts as defect-inducing if its fix was known by the training cutoff.
   */
  fixKnownAt?: number | null;
  /** Effort to inspect the change: lines added + deleted. */
  churn: number;
  /** Named numeric features (Kamei: ns, nd, nf, entropy, la, ld, lt, fix, ndev, age, nuc, exp, rexp, sexp). */
  features: Record<string, number>;
}

/** The Kamei et al. (TSE 2013) feature names, lower case, as the learner and the loader use them. */
export const kameiFeatureNames = ['ns', 'nd', 'nf', 'entropy', 'la', 'ld', 'lt', 'fix', 'ndev', 'age', 'nuc', 'exp', 'rexp', 'sexp'] as const;
