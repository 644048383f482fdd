import { FlowgateError } from '../../core/errors.ts';
import type { LabelsConfig } from './config.ts';

/** How a change was recognised as a fix, strongest first. */
export type FixKind = 'revert' | 'issue' | 'keyword';

/** A recognised fix, with the text that gave it away and, for a revert, the change it reverts. */
export interface Fix {
  kind: FixKind;
  evidence: string;
  /** Position of the reverted change, when it could be found. */
  reverts: number | null;
}

/** What fix detection reads of a change. */
export interface FixCandidate {
  position: number;
  subject: string;
  body: string;
  /** Subjects of the commits a merge brought in (empty for direct commits and squashes). */
  commitSubjects?: readonly string[];
}

/** Finds earlier changes by sha (mainline or brought-in commit), by PR number or by subject. */
export interface ChangeIndex {
  bySha(shaOrPrefix: string): number | undefined;
  byPr(pr: number): number | undefined;
  bySubject(subject: string, before: number): number | undefined;
}

/** A fix detector compiled from the `labels` config. */
export type FixDetector = (change: FixCandidate, index: ChangeIndex) => Fix | null;

/** Compiles the config's keywords and issue patterns; a bad pattern is a CONFIG_INVALID error naming it. */
export function createFixDetector(config: Pick<LabelsConfig, 'fixKeywords' | 'issuePatterns'>): FixDetector {
  const escaped = config.fixKeywords.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const keyword = escaped.length === 0 ? null : new RegExp(`(?<![\\w-])(?:${escaped.join('|')})(?![\\w])`, 'i');
  const issues = config.issuePatterns.map((pattern) => {
    try {
      return new RegExp(pattern, 'i');
    } catch (error) {
      throw new FlowgateError('CONFIG_INVALID', `labels.issuePatterns has an invalid regular expression "${pattern}": ${(error as Error).message}. Fix it in .flowgate.yml.`, {
        cause: error,
        details: { pattern },
      });
    }
  });

  return (change, index) => {
    const revert = detectRevert(change, index);
    if (revert !== null) return revert;
    const text = `${change.subject}\n${change.body}`;
    for (const pattern of issues) {
      const m = pattern.exec(text);
      if (m !== null) return { kind: 'issue', evidence: m[0], reverts: null };
    }
    // Keywords are looked for in the subject (and a merge's PR title in its body) only: long bodies
    // mention "bug" and "fix" in passing far more often than they describe one.
    const head = change.body.split('\n').find((l) => l.trim() !== '') ?? '';
    const m = keyword?.exec(change.subject) ?? (/^Merge /.test(change.subject) ? keyword?.exec(head) : null) ?? null;
    if (m !== null) return { kind: 'keyword', evidence: m[0], reverts: null };
    // A branch merge that is no PR (a maintenance branch merged forward) lands the fixes made there:
    // its own subject says nothing, the subjects it brought do.
    if (!/^Merge (remote-tracking )?branch /.test(change.subject)) return null;
    for (const subject of change.commitSubjects ?? []) {
      if (/^Revert /.test(subject)) continue;
      const hit = issues.map((p) => p.exec(subject)).find((x) => x !== null) ?? keyword?.exec(subject) ?? null;
      if (hit !== null) return { kind: issues.some((p) => p.test(subject)) ? 'issue' : 'keyword', evidence: `${hit[0]} (brought: ${subject})`, reverts: null };
    }
    return null;
  };
}

/**
 * Reverts: `This reverts commit <sha>` (git's own message), a revert PR's branch `revert-<pr>-...`,
 * or a `Revert "<subject>"` subject whose quoted subject names a PR or matches an earlier change.
 */
function detectRevert(change: FixCandidate, index: ChangeIndex): Fix | null {
  const text = `${change.subject}\n${change.body}`;
  const sha = /This reverts commit ([0-9a-f]{7,40})/i.exec(text);
  if (sha !== null) {
    const reverts = index.bySha(sha[1] ?? '') ?? null;
    return { kind: 'revert', evidence: sha[0], reverts: reverts !== null && reverts < change.position ? reverts : null };
  }
  const branch = /^Merge pull request #\d+ from \S+\/revert-(\d+)-/.exec(change.subject);
  if (branch !== null) return { kind: 'revert', evidence: branch[0], reverts: earlier(index.byPr(Number(branch[1])), change.position) };
  const quoted = /^Revert "(.+)"\s*$/.exec(change.subject) ?? /^Revert "(.+)"\s*$/m.exec(change.body);
  if (quoted === null) return null;
  const title = quoted[1] ?? '';
  const pr = /\(#(\d+)\)\s*$/.exec(title) ?? /^Merge pull request #(\d+)/.exec(title);
  const reverts = pr !== null ? index.byPr(Number(pr[1])) : index.bySubject(title, change.position);
  return { kind: 'revert', evidence: quoted[0], reverts: earlier(reverts, change.position) };
}

function earlier(position: number | undefined, before: number): number | null {
  return position !== undefined && position < before ? position : null;
}

/** A ChangeIndex over lists already in memory. */
export function createChangeIndex(
  changes: readonly { position: number; sha: string; subject: string; prNumber: number | null }[],
  broughtCommits: readonly { sha: string; position: number }[],
): ChangeIndex {
  const shas = new Map<string, number>();
  for (const c of broughtCommits) shas.set(c.sha, c.position);
  for (const c of changes) shas.set(c.sha, c.position);
  const prs = new Map<number, number>();
  const subjects = new Map<string, number[]>();
  for (const c of changes) {
    if (c.prNumber !== null && !prs.has(c.prNumber)) prs.set(c.prNumber, c.position);
    const list = subjects.get(c.subject) ?? [];
    list.push(c.position);
    subjects.set(c.subject, list);
  }
  const sorted = [...shas.keys()].sort();
  return {
    bySha(prefix) {
      const exact = shas.get(prefix);
      if (exact !== undefined) return exact;
      // Binary search for an abbreviated sha; ambiguous prefixes resolve to nothing.
      let lo = 0;
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((sorted[mid] ?? '') < prefix) lo = mid + 1;
        else hi = mid;
      }
      const hit = sorted[lo];
      if (hit === undefined || !hit.startsWith(prefix) || sorted[lo + 1]?.startsWith(prefix) === true) return undefined;
      return shas.get(hit);
    },
    byPr: (pr) => prs.get(pr),
    bySubject(subject, before) {
      const list = subjects.get(subject) ?? [];
      let best: number | undefined;
      for (const p of list) if (p < before && (best === undefined || p > best)) best = p;
      return best;
    },
  };
}
