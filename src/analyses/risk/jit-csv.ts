import { readFileSync } from 'node:fs';
import { FlowgateError } from '../../core/errors.ts';
import { kameiFeatureNames, type FeatureRow } from './types.ts';

/** Column names in the ISSTA 2021 JIT datasets that differ from flowgate's feature names. */
const renamed: Record<string, string> = { entrophy: 'entropy' };

/**
 * Parses a just-in-time defect dataset in the ISSTA 2021 replication format (`_id`, `date`, `bug`,
 * the 14 Kamei features). The `__` column is a copy of the label and is dropped so it cannot leak.
 * Labels are taken as given (no fix dates: `fixKnownAt` stays absent).
 */
export function parseJitCsv(text: string, source = 'the CSV'): FeatureRow[] {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const index = new Map<string, number>();
  header.forEach((name, i) => index.set(renamed[name] ?? name, i));
  const missing = ['_id', 'date', 'bug', ...kameiFeatureNames].filter((name) => !index.has(name));
  if (missing.length > 0) {
    throw new FlowgateError('EVENT_INVALID', `${source} lacks the column(s) ${missing.join(', ')} on line 1: give a JIT dataset with _id, date, bug and the 14 Kamei features.`, { details: { source, line: 1, missing } });
  }
  const col = (name: string): number => index.get(name) ?? -1;
  const rows: FeatureRow[] = [];
  for (let l = 1; l < lines.length; l++) {
    const line = lines[l] ?? '';
    if (line.trim() === '') continue;
    const cells = line.split(',');
    const number = (name: string): number => {
      const raw = (cells[col(name)] ?? '').trim();
      const value = raw === '' ? Number.NaN : Number(raw);
      if (!Number.isFinite(value)) {
        throw new FlowgateError('EVENT_INVALID', `${source} line ${l + 1}, column "${header[col(name)] ?? name}": "${raw}" is not a number; fix or remove that row.`, { details: { source, line: l + 1, column: header[col(name)] ?? name, value: raw } });
      }
      return value;
    };
    const bug = number('bug');
    if (bug !== 0 && bug !== 1) {
      throw new FlowgateError('EVENT_INVALID', `${source} line ${l + 1}, column "bug": ${bug} is not a label (0 or 1); fix or remove that row.`, { details: { source, line: l + 1, column: 'bug', value: bug } });
    }
    const features: Record<string, number> = {};
    for (const name of kameiFeatureNames) features[name] = number(name);
    rows.push({ id: (cells[col('_id')] ?? '').trim(), time: number('date'), label: bug, churn: (features.la ?? 0) + (features.ld ?? 0), features });
  }
  return rows;
}

/** Reads and parses a JIT dataset file (see parseJitCsv). */
export function loadJitCsv(path: string): FeatureRow[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new FlowgateError('NOT_FOUND', `Cannot read the dataset ${path}: check the path.`, { cause, details: { path } });
  }
  return parseJitCsv(text, path);
}
