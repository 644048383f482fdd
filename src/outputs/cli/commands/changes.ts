import type { Command } from 'commander';
import { FlowgateError } from '../../../core/errors.ts';
import { listChanges, type ChangeFilter } from '../../../store/changes.ts';
import { getRepository } from '../../../store/repositories.ts';
import type { ProvenanceClass } from '../../../store/schema.ts';
import { repositoryKey } from '../../../sources/git/miner.ts';
import { formatTable, parseDateFlag, printJson, resolvePathArg, withDbOption, withStore } from '../shared.ts';

const provenanceClasses: ProvenanceClass[] = ['human', 'ai-assisted', 'agent', 'automation'];

interface ChangesFlags {
  db?: string;
  provenance?: string;
  tool?: string;
  since?: string;
  until?: string;
  limit?: string;
  json?: boolean;
}

/** Registers `flowgate changes [path]`: the stored changes of a repository, filtered. */
export function registerChanges(program: Command): void {
  withDbOption(
    program
      .command('changes')
      .description('list the stored changes of a repository (newest first)')
      .argument('[path]', 'repository path', '.')
      .option('--provenance <class>', `only this class: ${provenanceClasses.join(', ')}`)
      .option('--tool <tool>', 'only changes attributed to this tool (claude-code, copilot, ...)')
      .option('--since <date>', 'only changes committed on or after this date (YYYY-MM-DD or Unix seconds)')
      .option('--until <date>', 'only changes committed before this date')
      .option('--limit <n>', 'at most this many changes')
      .option('--json', 'print JSON (an array of changes, with files)'),
  ).action(async (path: string, flags: ChangesFlags) => {
    const filter = toFilter(flags);
    const { key } = await repositoryKey(resolvePathArg(path));
    await withStore(flags.db, async (store) => {
      const repo = await getRepository(store.db, key);
      const changes = await listChanges(store.db, repo.id, filter);
      if (flags.json === true) {
        const ids = changes.map((c) => c.id);
        const files = ids.length === 0 ? [] : await filesOf(store.db, ids);
        printJson(
          changes.map((c) => ({
            sha: c.sha,
            position: c.position,
            kind: c.kind,
            author: { name: c.author_name, email: c.author_email },
            authorTime: c.author_time,
            commitTime: c.commit_time,
            subject: c.subject,
            prNumber: c.pr_number,
            codingStartedAt: c.coding_started_at,
            linesAdded: c.lines_added,
            linesDeleted: c.lines_deleted,
            provenance: c.provenance,
            tool: c.tool,
            strength: c.provenance_strength,
            evidence: JSON.parse(c.provenance_evidence) as unknown,
            trailers: JSON.parse(c.trailers) as unknown,
            files: files.filter((f) => f.change_id === c.id).map(({ change_id: _id, binary, ...f }) => ({ ...f, binary: binary === 1 })),
          })),
        );
        return;
      }
      const rows = changes.map((c) => [
        c.sha.slice(0, 10),
        new Date(c.commit_time * 1000).toISOString().slice(0, 10),
        c.kind,
        c.pr_number === null ? null : `#${c.pr_number}`,
        c.provenance,
        c.tool,
        `+${c.lines_added}/-${c.lines_deleted}`,
        c.author_name.slice(0, 24),
        c.subject.slice(0, 60),
      ]);
      process.stdout.write(`${formatTable(['sha', 'date', 'kind', 'pr', 'provenance', 'tool', 'lines', 'author', 'subject'], rows)}\n`);
      process.stdout.write(`${changes.length} changes\n`);
    });
  });
}

function toFilter(flags: ChangesFlags): ChangeFilter {
  if (flags.provenance !== undefined && !provenanceClasses.includes(flags.provenance as ProvenanceClass)) {
    throw new FlowgateError('USAGE', `--provenance must be one of ${provenanceClasses.join(', ')}, got "${flags.provenance}".`);
  }
  const limit = flags.limit === undefined ? undefined : Number(flags.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit <= 0)) throw new FlowgateError('USAGE', `--limit expects a positive integer, got "${flags.limit ?? ''}".`);
  return {
    provenance: flags.provenance as ProvenanceClass | undefined,
    tool: flags.tool,
    since: flags.since === undefined ? undefined : parseDateFlag(flags.since, '--since'),
    until: flags.until === undefined ? undefined : parseDateFlag(flags.until, '--until'),
    limit,
  };
}

async function filesOf(db: Parameters<typeof listChanges>[0], ids: number[]) {
  const out = [];
  for (let i = 0; i < ids.length; i += 500) {
    out.push(...(await db.selectFrom('change_files').selectAll().where('change_id', 'in', ids.slice(i, i + 500)).execute()));
  }
  return out;
}
