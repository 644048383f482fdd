import { FlowgateError } from '../../core/errors.ts';
import type { FeatureRow } from './types.ts';

/**
 * A derived feature: a ratio or combination of base features that a linear model cannot form on
 * its own (trees can, but only with depth they rarely get on a few thousand changes).
 */
interface Derived {
  name: string;
  needs: string[];
  compute(f: Record<string, number>): number;
}

const v = (f: Record<string, number>, k: string): number => f[k] ?? 0;

const derivedCatalog: Derived[] = [
  { name: 'churn', needs: ['la', 'ld'], compute: (f) => v(f, 'la') + v(f, 'ld') },
  // Relative churn (Nagappan & Ball): the share of a file rewritten matters more than raw size.
  { name: 'la/lt', needs: ['la', 'lt'], compute: (f) => v(f, 'la') / (v(f, 'lt') + 1) },
  { name: 'ld/lt', needs: ['ld', 'lt'], compute: (f) => v(f, 'ld') / (v(f, 'lt') + 1) },
  { name: 'la/nf', needs: ['la', 'nf'], compute: (f) => v(f, 'la') / Math.max(v(f, 'nf'), 1) },
  { name: 'ld/la', needs: ['la', 'ld'], compute: (f) => v(f, 'ld') / (v(f, 'la') + 1) },
  { name: 'lt/nf', needs: ['lt', 'nf'], compute: (f) => v(f, 'lt') / Math.max(v(f, 'nf'), 1) },
  { name: 'nuc/nf', needs: ['nuc', 'nf'], compute: (f) => v(f, 'nuc') / Math.max(v(f, 'nf'), 1) },
  { name: 'ndev/nf', needs: ['ndev', 'nf'], compute: (f) => v(f, 'ndev') / Math.max(v(f, 'nf'), 1) },
  // Entropy grows with the number of files; normalised, it says how evenly the change is spread.
  { name: 'entropy/max', needs: ['entropy', 'nf'], compute: (f) => (v(f, 'nf') > 1 ? v(f, 'entropy') / Math.log2(v(f, 'nf')) : 0) },
  { name: 'sexp/exp', needs: ['sexp', 'exp'], compute: (f) => v(f, 'sexp') / (v(f, 'exp') + 1) },
  { name: 'rexp/exp', needs: ['rexp', 'exp'], compute: (f) => v(f, 'rexp') / (v(f, 'exp') + 1) },
];

/** Which inputs a model reads: the base feature names seen in training and the derived ones. */
export interface FeatureSpec {
  base: string[];
  derived: string[];
}

/** The feature spec for a training set: its base features (sorted) plus every derivable ratio. */
export function buildFeatureSpec(rows: readonly FeatureRow[], withDerived = true): FeatureSpec {
  const names = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row.features)) names.add(key);
  if (names.size === 0) throw new FlowgateError('INSUFFICIENT_DATA', 'The training rows carry no features: compute change features before fitting a risk model.');
  const base = [...names].sort();
  const derived = withDerived ? derivedCatalog.filter((d) => d.needs.every((n) => names.has(n))).map((d) => d.name) : [];
  return { base, derived };
}

/** The names of the model inputs, in vector order. */
export function specNames(spec: FeatureSpec): string[] {
  return [...spec.base, ...spec.derived];
}

/** One row's raw model inputs (base then derived), missing features as 0. */
export function featureVector(spec: FeatureSpec, features: Record<string, number>): Float64Array {
  const out = new Float64Array(spec.base.length + spec.derived.length);
  let i = 0;
  for (const name of spec.base) out[i++] = v(features, name);
  for (const name of spec.derived) {
    const d = derivedCatalog.find((c) => c.name === name);
    if (d === undefined) throw new FlowgateError('CONFIG_INVALID', `The stored risk model uses the derived feature "${name}", which this flowgate does not know: retrain the model.`);
    out[i++] = d.compute(features);
  }
  return out;
}

/** Column-major matrix of model inputs for many rows: columns[j][i] is input j of row i. */
export function featureColumns(spec: FeatureSpec, rows: readonly FeatureRow[]): Float64Array[] {
  const width = spec.base.length + spec.derived.length;
  const columns = Array.from({ length: width }, () => new Float64Array(rows.length));
  rows.forEach((row, i) => {
    const x = featureVector(spec, row.features);
    for (let j = 0; j < width; j++) (columns[j] as Float64Array)[i] = x[j] ?? 0;
  });
  return columns;
}

/** Symmetric log transform: heavy-tailed counts (lines, experience) become near-normal. */
export function signedLog1p(x: number): number {
  return x < 0 ? -Math.log1p(-x) : Math.log1p(x);
}
