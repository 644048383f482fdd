import type { Store } from '../../store/store.ts';

export interface WriteReportOptions {
  repoId: number;
  /** Output file; the report module chooses a default when absent. */
  out?: string;
}

/** Writes the HTML report for a repository and returns its path (filled in by the report module). */
export function writeReport(_store: Store, _options: WriteReportOptions): Promise<string | null> {
  return Promise.resolve(null);
}
