import type { FlowChange, FlowFileTouch } from './data.ts';

/** Knowledge of one folder: who wrote it and how spread the work is (code-maat / CodeScene style). */
export interface FolderKnowledge {
  folder: string;
  changes: number;
  /** Added lines whose count is known. */
  linesAdded: number;
  /** What main developer and share are measured in: added lines, or changes when no line count is known. */
  basis: 'lines' | 'changes';
  /** The author with most added lines (most changes on the `changes` basis). */
  mainDeveloper: string;
  mainShare: number;
  /** 1 - sum((author's revisions / revisions)^2): 0 when one author made every change. */
  fragmentation: number;
  /** Authors with a change in the folder in the recent window. */
  activeAuthors: number;
  /** One active author holds the folder: a knowledge silo. */
  silo: boolean;
}

/** The folder a path is counted under: its first `depth` directories (files at the root count as `.`). */
export function folderOf(path: string, depth: number): string {
  const parts = path.split('/');
  if (parts.length === 1) return '.';
  return parts.slice(0, Math.min(depth, parts.length - 1)).join('/');
}

/**
 * Knowledge per folder over the given touches: main developer by added lines (by revisions where no
 * line count is known, as in a partial clone: unknown is not zero), fragmentation by revisions; a silo has at least `minChanges` changes and one active author in the recent window
 * (`activeSince`) who is also its main developer.
 */
export function folderKnowledge(
  touches: readonly FlowFileTouch[],
  changesById: ReadonlyMap<number, FlowChange>,
  options: { depth?: number; activeSince: number; minChanges?: number; limit?: number },
): FolderKnowledge[] {
  const depth = options.depth ?? 2;
  const minChanges = options.minChanges ?? 5;
  interface Acc {
    changes: Set<number>;
    added: Map<string, number>;
    revisions: Map<string, Set<number>>;
    active: Set<string>;
  }
  const folders = new Map<string, Acc>();
  for (const t of touches) {
    const change = changesById.get(t.changeId);
    // Automation (dependency bots) owns nothing: its lines are not knowledge.
    if (change === undefined || change.provenance === 'automation') continue;
    const folder = folderOf(t.path, depth);
    const acc: Acc = folders.get(folder) ?? { changes: new Set<number>(), added: new Map<string, number>(), revisions: new Map<string, Set<number>>(), active: new Set<string>() };
    acc.changes.add(t.changeId);
    if (t.added !== null) acc.added.set(change.author, (acc.added.get(change.author) ?? 0) + t.added);
    const revs = acc.revisions.get(change.author) ?? new Set<number>();
    revs.add(t.changeId);
    acc.revisions.set(change.author, revs);
    if (change.commitTime >= options.activeSince) acc.active.add(change.author);
    folders.set(folder, acc);
  }
  const out: FolderKnowledge[] = [];
  for (const [folder, acc] of folders) {
    let main = '';
    let mainAdded = -1;
    let totalAdded = 0;
    for (const [author, added] of acc.added) {
      totalAdded += added;
      if (added > mainAdded) {
        main = author;
        mainAdded = added;
      }
    }
    let revisions = 0;
    for (const r of acc.revisions.values()) revisions += r.size;
    const basis = totalAdded > 0 ? 'lines' : 'changes';
    if (basis === 'changes') {
      mainAdded = -1;
      for (const [author, r] of acc.revisions) {
        if (r.size > mainAdded) {
          main = author;
          mainAdded = r.size;
        }
      }
    }
    let sumSquares = 0;
    for (const r of acc.revisions.values()) sumSquares += (r.size / revisions) ** 2;
    const active = acc.active.size;
    out.push({
      folder,
      changes: acc.changes.size,
      linesAdded: totalAdded,
      basis,
      mainDeveloper: main,
      mainShare: basis === 'lines' ? mainAdded / totalAdded : revisions === 0 ? 0 : mainAdded / revisions,
      fragmentation: 1 - sumSquares,
      activeAuthors: active,
      silo: acc.changes.size >= minChanges && active === 1 && acc.active.has(main),
    });
  }
  return out.sort((a, b) => b.changes - a.changes).slice(0, options.limit ?? 200);
}
