import type { Command } from 'commander';
import { runAnalysis } from '../../../analyses/run.ts';
import { countChanges } from '../../../store/changes.ts';
import { writeReport } from '../../report/write.ts';
import { createProgress } from '../progress.ts';
import { printJson, resolvePathArg, withDbOption, withStore } from '../shared.ts';

interface AnalyzeFlags {
  db?: string;
  branch?: string;
  json?: boolean;
  /** A path, or false for --no-report. */
  report?: string | false;
  /** false for --no-steps. */
  steps?: boolean;
  batchSize: string;
}

/** Registers `flowgate analyze [path]`: mine, attribute, label, and write the report. */
export function registerAnalyze(program: Command): void {
  withDbOption(
    program
      .command('analyze')
      .description('mine a git repository into the store (incremental), attribute provenance, run the analyses and write the report')
      .argument('[path]', 'repository path', '.')
      .option('--branch <name>', 'branch whose first-parent history is the mainline (default: the branch HEAD points at)')
      .option('--json', 'print a machine-readable summary (see docs/cli.md)')
      .option('--report <file>', 'where to write the HTML report (default: next to the store)')
      .option('--no-report', 'do not write the HTML report')
      .option('--no-steps', 'only mine; skip labels, features and the model')
      .option('--batch-size <n>', 'changes written per transaction (tuning)', '500'),
  ).action(async (path: string, flags: AnalyzeFlags) => {
    const repoPath = resolvePathArg(path);
    await withStore(flags.db, async (store) => {
      const started = Date.now();
      const progress = createProgress(flags.json === true);
      const { mined, steps: stepResults } = await runAnalysis(store, repoPath, {
        branch: flags.branch,
        mineOnly: flags.steps === false,
        batchSize: Number(flags.batchSize),
        progress: (label, done, total) => progress.update(label, done, total),
      });
      const reportPath =
        flags.report === false ? null : await writeReport(store, { repoId: mined.repoId, ...(typeof flags.report === 'string' ? { out: flags.report } : {}) });
      progress.stop();
      const counts = await countChanges(store.db, mined.repoId);
      for (const warning of mined.warnings) process.stderr.write(`flowgate: warning: ${warning}\n`);
      const summary = {
        repository: mined.key,
        branch: mined.branch,
        tip: mined.tip,
        changes: counts.total,
        added: mined.added,
        removed: mined.removed,
        missingLineCounts: mined.missingLineCounts,
        byProvenance: counts.byProvenance,
        byTool: counts.byTool,
        steps: stepResults,
        report: reportPath,
        warnings: mined.warnings,
        store: store.url,
        seconds: Math.round((Date.now() - started) / 100) / 10,
      };
      if (flags.json === true) {
        printJson(summary);
        return;
      }
      const mix = Object.entries(counts.byProvenance)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      const tools = Object.entries(counts.byTool)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      process.stdout.write(
        `${mined.key} (${mined.branch}): ${counts.total} changes stored, ${mined.added} new` +
          (mined.removed > 0 ? `, ${mined.removed} removed after a rewrite` : '') +
          `\nprovenance: ${mix}\n` +
          (tools === '' ? '' : `tools: ${tools}\n`) +
          (reportPath === null ? '' : `report: ${reportPath}\n`),
      );
    });
  });
}
