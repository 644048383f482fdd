/**
 * Who reviewed what and when. The events module (migration 0002) will provide one backed by its
 * review table; until then callers (and tests) pass records directly.
 */
export interface ReviewRecord {
  /** The reviewer as `@login`, `Name <email>` or an e-mail. */
  reviewer: string;
  /** The files the reviewed change touched. */
  paths: readonly string[];
  /** When the review was submitted, Unix seconds. */
  time: number;
}

/** A source of review records; it may return more than asked, the caller filters. */
export interface ReviewHistory {
  /** Reviews of changes touching any of `paths` or any file under `folders` (no trailing slash), since `since`. */
  reviewsTouching(paths: readonly string[], folders: readonly string[], since: number): Promise<readonly ReviewRecord[]>;
}

/** A ReviewHistory over records held in memory. */
export function reviewHistoryFrom(records: readonly ReviewRecord[]): ReviewHistory {
  return {
    reviewsTouching: (paths, folders, since) => {
      const wanted = new Set(paths);
      const prefixes = folders.map((f) => `${f}/`);
      return Promise.resolve(
        records.filter((r) => r.time >= since && r.paths.some((p) => wanted.has(p) || prefixes.some((prefix) => p.startsWith(prefix)))),
      );
    },
  };
}
