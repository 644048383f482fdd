import type { ColumnType, Generated } from 'kysely';
import type { EventTables } from './migrations/0002-events.ts';
import type { LearningTables } from './migrations/0003-learning.ts';
import type { GateTables } from './migrations/0004-gate.ts';
import type { PrDecisionTable, ServiceTables } from './migrations/0005-service.ts';
import type { ServiceDecisionColumns } from './migrations/0006-service-decisions.ts';
import type { RepositoryRemoteColumns } from './migrations/0007-repository-remote.ts';
import type { ReplayIndexTables } from './migrations/0009-replay-index.ts';

/**
 * The store's tables as Kysely sees them. Times are Unix seconds (integers); booleans are 0/1
 * integers and JSON is text so that SQLite and PostgreSQL share one schema.
 * Each migration in ./migrations owns the tables it creates; keep this file in step with them.
 */

export interface RepositoryTable {
  id: Generated<number>;
  /** Stable key: the absolute path of a local repository, or `owner/name` for a GitHub one. */
  key: string;
  path: string | null;
  branch: string | null;
  /** The last mainline commit stored; mining resumes after it. */
  tip_sha: string | null;
  created_at: number;
  updated_at: number;
}

export type IdentityKind = 'person' | 'agent' | 'bot';

export interface IdentityTable {
  id: Generated<number>;
  /** Canonical `Name <email>` after .mailmap, config aliases and bot rules. */
  key: string;
  name: string;
  email: string;
  kind: IdentityKind;
  /** Tool slug for agents and bots (claude-code, dependabot, ...), else null. */
  tool: string | null;
  github_login: string | null;
}

export interface ChangeTable {
  id: Generated<number>;
  repo_id: number;
  sha: string;
  /** 0 for the oldest change on the mainline, increasing by one. */
  position: number;
  /** JSON array of parent shas. */
  parents: string;
  kind: ChangeKind;
  author_id: number;
  author_name: string;
  author_email: string;
  author_time: number;
  committer_id: number;
  committer_name: string;
  committer_email: string;
  commit_time: number;
  subject: string;
  body: string;
  /** JSON array of { key, value }. */
  trailers: string;
  pr_number: number | null;
  /** Earliest author time of the commits this change brought in (itself for direct commits). */
  coding_started_at: number;
  files_changed: number;
  lines_added: number;
  lines_deleted: number;
  provenance: ProvenanceClass;
  tool: string | null;
  /** 'strong' | 'medium' | 'weak' | 'none' */
  provenance_strength: string;
  /** JSON array of ProvenanceEvidence. */
  provenance_evidence: string;
}

export type ChangeKind = 'direct' | 'merge' | 'squash' | 'octopus';
export type ProvenanceClass = 'human' | 'ai-assisted' | 'agent' | 'automation';

export interface ChangeFileTable {
  change_id: number;
  /** Path after the change (the old path for deletions). Raw bytes that are not UTF-8 are kept as `\xNN` escapes. */
  path: string;
  old_path: string | null;
  /** A added, M modified, D deleted, R renamed, C copied, T type change. */
  status: string;
  /** null for binary files. */
  added: number | null;
  deleted: number | null;
  binary: number;
}

export interface ChangeCommitTable {
  change_id: number;
  sha: string;
  author_id: number;
  author_time: number;
  subject: string;
}

export interface NoteTable {
  repo_id: number;
  sha: string;
  ref: string;
  body: string;
}

export interface CoreTables {
  repositories: RepositoryTable;
  identities: IdentityTable;
  changes: ChangeTable;
  change_files: ChangeFileTable;
  change_commits: ChangeCommitTable;
  notes: NoteTable;
}

/** Every table; each later migration contributes the tables it creates. */
export interface Database extends CoreTables, EventTables, LearningTables, GateTables, ServiceTables, ReplayIndexTables {
  /** 0007: a mined clone's hosted `owner/name`. */
  repositories: RepositoryTable & RepositoryRemoteColumns;
  /** 0006 links each service decision to the gate's `decisions` row. */
  pr_decisions: PrDecisionTable & ServiceDecisionColumns;
}

/** Helper for columns the database fills in. */
export type DbDefault<T> = ColumnType<T, T | undefined, T>;
