import type { Trailer } from './change.ts';

const trailerLine = /^([A-Za-z0-9][A-Za-z0-9-]*)\s*:\s*(.*)$/;

/**
 * The trailers of a commit message: `Key: value` lines of its last paragraph (git's own rule,
 * simplified: every line of the block is a trailer, a continuation or a `(cherry picked ...)` note).
 */
export function parseTrailers(message: string): Trailer[] {
  const paragraphs = message.trimEnd().split(/\n[ \t]*\n/);
  if (paragraphs.length < 2) return [];
  const block = paragraphs[paragraphs.length - 1] ?? '';
  const trailers: Trailer[] = [];
  for (const line of block.split('\n')) {
    if (line.trim() === '') continue;
    const last = trailers[trailers.length - 1];
    if (/^\s/.test(line) && last !== undefined) {
      last.value = `${last.value} ${line.trim()}`;
      continue;
    }
    if (line.startsWith('(')) continue;
    const match = trailerLine.exec(line);
    if (match === null) return [];
    trailers.push({ key: match[1] ?? '', value: (match[2] ?? '').trim() });
  }
  return trailers;
}

export interface PullRequestRef {
  number: number;
  /** The PR's head branch, when the message names it. */
  headBranch: string | null;
}

/**
 * The pull request a mainline commit landed, from merge and squash conventions: GitHub's
 * `Merge pull request #12 from owner/branch` and `Subject (#12)`, GitLab's `See merge request g/p!12`,
 * Bitbucket's `Merged in branch (pull request #12)`.
 */
export function parsePullRequestRef(subject: string, body: string): PullRequestRef | null {
  const github = /^Merge pull request #(\d+) from ([^\s]+)/.exec(subject);
  if (github !== null) {
    const from = github[2] ?? '';
    const slash = from.indexOf('/');
    return { number: Number(github[1]), headBranch: slash === -1 ? from : from.slice(slash + 1) };
  }
  const bitbucket = /^Merged in (\S+) \(pull request #(\d+)\)/.exec(subject);
  if (bitbucket !== null) return { number: Number(bitbucket[2]), headBranch: bitbucket[1] ?? null };
  const squash = /\(#(\d+)\)\s*$/.exec(subject);
  if (squash !== null) return { number: Number(squash[1]), headBranch: null };
  const gitlab = /See merge request [^\s!]+!(\d+)/.exec(body);
  if (gitlab !== null) {
    const branch = /^Merge branch '([^']+)'/.exec(subject);
    return { number: Number(gitlab[1]), headBranch: branch?.[1] ?? null };
  }
  return null;
}
