import type { Command } from 'commander';
import { FlowgateError } from '../../../core/errors.ts';
import { repositoryToRead } from '../../../sources/events/repository.ts';
import { buildReport, parsePeriod, type ReportOptions } from '../../report/build.ts';
import { renderMarkdown } from '../../report/markdown.ts';
import { renderReportPage } from '../../report/views.ts';
import { defaultReportPath, saveReport } from '../../report/write.ts';
import { parseDateFlag, withDbOption, withStore } from '../shared.ts';

interface ReportFlags {
  db?: string;
  out?: string;
  format: string;
  since?: string;
  until?: string;
  compare?: string;
  pilot?: string;
}

const formats = ['html', 'md', 'json'];

/** The report options the flags ask for. */
function reportOptions(flags: ReportFlags): ReportOptions {
  const options: ReportOptions = {};
  if (flags.since !== undefined || flags.until !== undefined) {
    options.period = {
      ...(flags.since === undefined ? {} : { from: parseDateFlag(flags.since, '--since') }),
      ...(flags.until === undefined ? {} : { to: parseDateFlag(flags.until, '--until') }),
    };
  }
  if (flags.compare !== undefined) options.compare = flags.compare.split(',').map(parsePeriod);
  if (flags.pilot !== undefined) options.pilot = flags.pilot.split(',').map((t) => t.trim()).filter((t) => t !== '');
  if (options.compare !== undefined && options.pilot !== undefined) throw new FlowgateError('USAGE', 'Use either --compare or --pilot, not both.');
  return options;
}

/** Registers `flowgate report [path]`: the flow report as HTML, Markdown or JSON. */
export function registerReport(program: Command): void {
  withDbOption(
    program
      .command('report')
      .description('the flow report: DORA, flow time by stage, review load, provenance, lanes, warning signs (definitions: docs/metrics.md)')
      .argument('[path]', 'repository path or stored key (owner/name)', '.')
      .option('--out <file>', 'write to this file (HTML default: reports/<name>.html beside the store; md and json: standard output)')
      .option('--format <format>', `output format: ${formats.join(', ')}`, 'html')
      .option('--since <date>', 'period start (default: 365 days before the latest activity)')
      .option('--until <date>', 'period end, exclusive (default: just after the latest activity)')
      .option('--compare <periods>', 'compare periods, e.g. 2025-01-01..2025-03-31,2025-04-01..2025-06-30')
      .option('--pilot <teams>', 'compare these teams (from the policy config) with the rest, e.g. team-a,team-b'),
  ).action(async (path: string, flags: ReportFlags) => {
    if (!formats.includes(flags.format)) throw new FlowgateError('USAGE', `--format must be one of ${formats.join(', ')}, got "${flags.format}".`);
    const options = reportOptions(flags);
    await withStore(flags.db, async (store) => {
      const repo = await repositoryToRead(store.db, path);
      const report = await buildReport(store, repo.id, options);
      for (const problem of report.metrics.coverage.problems) process.stderr.write(`flowgate: warning: ${problem}\n`);
      const text =
        flags.format === 'json'
          ? `${JSON.stringify(report.comparison.length > 0 ? report : report.metrics, null, 2)}\n`
          : flags.format === 'md'
            ? renderMarkdown(report)
            : renderReportPage(report.metrics, { comparison: report.comparison, queue: report.queue });
      const out = flags.out ?? (flags.format === 'html' ? defaultReportPath(store, repo.key) : undefined);
      if (out === undefined) {
        process.stdout.write(text);
        return;
      }
      saveReport(out, text);
      process.stderr.write(`flowgate: report written to ${out}\n`);
    });
  });
}
