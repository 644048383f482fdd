import type { ChangeKind, ProvenanceClass } from '../store/schema.ts';

export type { ChangeKind, ProvenanceClass };

/** A name and e-mail as git recorded them (before identity resolution). */
export interface Person {
  name: string;
  email: string;
}

export interface Trailer {
  key: string;
  value: string;
}

/** One file touched by a change, against the change's first parent. */
export interface FileChange {
  /** Path after the change (before it, for deletions). Bytes that are not UTF-8 appear as `\xNN`. */
  path: string;
  oldPath: string | null;
  /** A added, M modified, D deleted, R renamed, C copied, T type change. */
  status: string;
  /** null for binary files. */
  added: number | null;
  deleted: number | null;
  binary: boolean;
}

/** A commit a merge brought onto the mainline. */
export interface BroughtCommit {
  sha: string;
  author: Person;
  authorTime: number;
  subject: string;
  body: string;
  trailers: Trailer[];
}

export interface GitNote {
  ref: string;
  body: string;
}

/** One change as mined from git: a commit on the first-parent history of the mainline. */
export interface MinedChange {
  sha: string;
  parents: string[];
  kind: ChangeKind;
  author: Person;
  authorTime: number;
  committer: Person;
  commitTime: number;
  subject: string;
  body: string;
  trailers: Trailer[];
  prNumber: number | null;
  /** The PR's head branch when the merge message names it (`Merge pull request #1 from owner/branch`). */
  headBranch: string | null;
  codingStartedAt: number;
  files: FileChange[];
  /** Commits a merge brought in (empty for direct and squash changes). */
  commits: BroughtCommit[];
  notes: GitNote[];
}

export type ProvenanceStrength = 'strong' | 'medium' | 'weak' | 'none';

/** One signal that matched: which signature, where it was seen and what text matched. */
export interface ProvenanceEvidence {
  signature: string;
  tool: string;
  class: ProvenanceClass;
  /** Where the signal was found: author, committer, trailer, body, subject, branch, pr-body, pr-author, note, commit:<sha>. */
  where: string;
  matched: string;
  strength: ProvenanceStrength;
}

/** Who or what wrote a change, with the evidence. */
export interface Provenance {
  class: ProvenanceClass;
  tool: string | null;
  strength: ProvenanceStrength;
  evidence: ProvenanceEvidence[];
}
