import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { readCodeOwnersAt } from '../../../analyses/routing/codeowners.ts';
import { estimateReviewMinutes, evaluateReviewTimeModel, fitReviewTimeModel, type ReviewTimeModel } from '../../../analyses/routing/estimate.ts';
import { changedPaths, commitAuthors } from '../../../analyses/routing/git.ts';
import { gitSync as runGit, resolveCommit } from '../../../sources/git/git.ts';
import { reviewTiers, selectReviewers, type ReviewTier } from '../../../analyses/routing/select.ts';
import { openRequestsFromStore, storedReviewHistory } from '../../../analyses/routing/stored-history.ts';
import { assignHistoricalTiers, backtestQueue, deriveReviewEvents, measureQueueParams, observationsFromEvents, recentReviewEvents, type ReviewEvent } from '../../../analyses/simulate/measure.ts';
import { decideChange } from '../../../decisions/gate/decide.ts';
import { loadPolicy, loadPolicyAt, type Policy } from '../../../decisions/policy/policy.ts';
import { applyWhatIf, simulateQueue, type SimulationResult, type WhatIf } from '../../../analyses/simulate/queue.ts';
import { readConfigAt } from '../../../core/config.ts';
import { FlowgateError, isFlowgateError } from '../../../core/errors.ts';
import { repositoryKey } from '../../../sources/git/miner.ts';
import { getRepository } from '../../../store/repositories.ts';
import { formatTable, parseDateFlag, printJson, resolvePathArg, withDbOption, withStore } from '../shared.ts';

/** Merges the review-time estimate of `flowgate reviewers` is fitted on (the latest before the decision time). */
const ESTIMATE_HISTORY = 2000;

/** The --load file: open review requests (lenient on extra fields, which other tools may add). */
const LoadFile = z.array(z.looseObject({ reviewer: z.string().min(1), estimatedMinutes: z.number().nonnegative() }));

interface ReviewersFlags {
  db?: string;
  base: string;
  head: string;
  tier: string;
  load?: string;
  now?: string;
  json?: boolean;
}

interface SimulateFlags {
  db?: string;
  days: string;
  horizonDays: string;
  seed: string;
  volume?: string;
  autoShare?: string;
  addReviewers?: string;
  removeReviewers?: string;
  maxOpen?: string;
  backtest?: boolean;
  backtestDays?: string;
  json?: boolean;
}

function parseTier(value: string): ReviewTier {
  const tier = reviewTiers.find((t) => t === value);
  if (tier === undefined) throw new FlowgateError('USAGE', `--tier must be one of ${reviewTiers.join(', ')}, got "${value}".`);
  return tier;
}

function parseNumberFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new FlowgateError('USAGE', `${flag} expects a number, got "${value}".`);
  return n;
}

function readLoadFile(path: string): { reviewer: string; estimatedMinutes: number }[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new FlowgateError('USAGE', `--load ${path} is not readable JSON: ${error instanceof Error ? error.message : String(error)}. Give a JSON array of {"reviewer", "estimatedMinutes"}.`, { cause: error });
  }
  const parsed = LoadFile.safeParse(raw);
  if (!parsed.success) {
    throw new FlowgateError('USAGE', `--load ${path} is invalid:\n${z.prettifyError(parsed.error)}\nGive a JSON array of {"reviewer": "@login or e-mail", "estimatedMinutes": 30}.`, { cause: parsed.error });
  }
  return parsed.data;
}

/** The repository's store row, via the key the miner stores it under. */
async function storedRepo(db: Parameters<typeof getRepository>[0], repoPath: string): Promise<{ id: number; key: string }> {
  const { key } = await repositoryKey(repoPath);
  const repo = await getRepository(db, key);
  return { id: repo.id, key: repo.key };
}

/**
 * The tier the policy's rules give a historical change (no risk score: `tiers.unscored`, raised by
 * size, lanes, floors, protected paths and provenance), for changes with no recorded decision.
 */
export function policyTierOf(policy: Policy): (event: ReviewEvent) => ReviewTier {
  return (event) =>
    decideChange({
      policy,
      change: {
        base: '',
        head: event.sha,
        mergeBase: '',
        author: event.author,
        provenance: event.provenance,
        files: event.files.map((f) => ({ path: f.path, oldPath: null, status: 'M' as const, added: f.added ?? 0, deleted: f.deleted ?? 0, binary: f.added === null, whitespaceOnly: false })),
        codeOwners: null,
        changedSince: {},
      },
      risk: null,
      approvals: [],
      checks: [],
      trust: null,
    }).tier;
}

/** A review-time model fitted on the repository's derived reviews, or the default when history is too thin. */
function modelFrom(observations: Parameters<typeof fitReviewTimeModel>[0]): ReviewTimeModel {
  try {
    return fitReviewTimeModel(observations);
  } catch (error) {
    if (isFlowgateError(error, 'INSUFFICIENT_DATA')) return { kind: 'default' };
    throw error;
  }
}

const fmt = (minutes: number): string => (Number.isNaN(minutes) ? '-' : minutes < 120 ? `${minutes.toFixed(0)} min` : `${(minutes / 60).toFixed(1)} h`);

function summarise(result: SimulationResult) {
  return {
    requests: result.requests,
    autoRequests: result.autoRequests,
    waitP50Minutes: result.wait.p50Minutes,
    waitP90Minutes: result.wait.p90Minutes,
    waitMeanMinutes: result.wait.meanMinutes,
    doneP50Minutes: result.sojourn.p50Minutes,
    doneP90Minutes: result.sojourn.p90Minutes,
    meanQueueLength: result.queue.meanLength,
    maxQueueLength: result.queue.maxLength,
    utilisation: result.reviewers.map((r) => ({ reviewer: r.id, utilisation: r.utilisation, completed: r.completed })),
  };
}

/** Registers `flowgate reviewers` (who should review a change) and `flowgate simulate` (review-queue what-ifs). */
export function registerReviewers(program: Command): void {
  withDbOption(
    program
      .command('reviewers')
      .description('choose reviewers for a change by expertise and load, with the tier’s requirements and an explanation')
      .argument('[path]', 'repository path', '.')
      .requiredOption('--base <rev>', 'base revision (the branch the change merges into)')
      .requiredOption('--head <rev>', 'head revision of the change')
      .option('--tier <tier>', `review tier: ${reviewTiers.join(', ')}`, 'standard')
      .option('--load <file>', 'JSON array of open review requests: [{"reviewer": "@login", "estimatedMinutes": 30}]')
      .option('--now <date>', 'decision time (default: the head commit’s time)')
      .option('--json', 'print the whole selection as JSON'),
  ).action(async (path: string, flags: ReviewersFlags) => {
    const repoPath = resolvePathArg(path);
    const tier = parseTier(flags.tier);
    const base = resolveCommit(repoPath, flags.base);
    const head = resolveCommit(repoPath, flags.head);
    const loadFile = flags.load === undefined ? [] : readLoadFile(flags.load);
    const now = flags.now === undefined ? Number(runGit(repoPath, ['show', '-s', '--format=%ct', head]).trim()) : parseDateFlag(flags.now, '--now');
    const files = changedPaths(repoPath, base, head);
    const config = readConfigAt(repoPath, base);
    await withStore(flags.db, async (store) => {
      const repo = await storedRepo(store.db, repoPath);
      const repoId = repo.id;
      // Load: open requests from stored events (and flowgate's own requests), plus any --load file.
      const openRequests = [...(await openRequestsFromStore(store.db, repo, { now })), ...loadFile];
      const selection = await selectReviewers({
        store,
        repoId,
        files,
        authors: commitAuthors(repoPath, base, head),
        tier,
        openRequests,
        reviewHistory: storedReviewHistory(store.db, repoId),
        config: config.routing,
        codeOwners: readCodeOwnersAt(repoPath, base),
        git: { repoPath, base },
        now,
      });
      // The estimate is fitted on the latest merges only: recent practice, and a bounded cost per call.
      const history = await recentReviewEvents(store, repoId, { until: now, max: ESTIMATE_HISTORY });
      await assignHistoricalTiers(store, repoId, history, { ruleTier: policyTierOf(loadPolicy(config, `.flowgate.yml at ${base}`)) });
      const model = modelFrom(observationsFromEvents(history));
      const estimate = estimateReviewMinutes({ files, tier }, model);
      if (flags.json === true) {
        printJson({ base, head, files: files.length, estimate, ...selection });
        return;
      }
      const lines = [
        `${files.length} file(s) changed; estimated review ${fmt(estimate.minutes)} (80%: ${fmt(estimate.low)}-${fmt(estimate.high)}; ${estimate.basis})`,
        '',
        selection.reviewers.length === 0
          ? selection.unmet ?? 'no reviewer needed'
          : formatTable(
              ['reviewer', 'role', 'score', 'expertise', 'open', 'why'],
              selection.reviewers.map((r) => [r.key, r.role, Number(r.score.toFixed(3)), Number(r.expertise.toFixed(3)), r.openReviews, r.reasons[0] ?? '']),
            ),
        '',
        ...selection.explanation.map((line) => `- ${line}`),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  });

  withDbOption(
    program
      .command('simulate')
      .description('simulate the review queue from measured arrivals and review times, with what-ifs')
      .argument('[path]', 'repository path', '.')
      .option('--days <n>', 'history window to measure, in days before the last review', '90')
      .option('--horizon-days <n>', 'simulated period, in days', '365')
      .option('--seed <n>', 'random seed', '1')
      .option('--volume <k>', 'what-if: multiply the arrival volume by k')
      .option('--auto-share <x>', 'what-if: share (0-1) of changes in the auto lane')
      .option('--add-reviewers <n>', 'what-if: add n reviewers')
      .option('--remove-reviewers <ids>', 'what-if: comma-separated reviewers to remove (as listed)')
      .option('--max-open <n>', 'what-if: limit open reviews per person')
      .option('--backtest', 'also backtest: measure on the --days before the middle of history, replay the later half, compare with what happened')
      .option('--backtest-days <n>', 'backtest only the reviews of the last n days (split in half)')
      .option('--json', 'print machine-readable results'),
  ).action(async (path: string, flags: SimulateFlags) => {
    const repoPath = resolvePathArg(path);
    const days = parseNumberFlag(flags.days, '--days') ?? 90;
    const horizonDays = parseNumberFlag(flags.horizonDays, '--horizon-days') ?? 365;
    const seed = parseNumberFlag(flags.seed, '--seed') ?? 1;
    await withStore(flags.db, async (store) => {
      const repoId = (await storedRepo(store.db, repoPath)).id;
      const events = await deriveReviewEvents(store, repoId);
      const tiers = await assignHistoricalTiers(store, repoId, events, { ruleTier: policyTierOf(loadPolicyAt(repoPath, 'HEAD')) });
      const last = Math.max(...events.map((e) => e.arrival), 0);
      const measured = measureQueueParams(events, { from: last - days * 86_400, to: last + 1, seed });
      const params = { ...measured, horizonMinutes: horizonDays * 1440, warmupMinutes: Math.min(30, horizonDays / 10) * 1440 };
      const whatIf: WhatIf = {
        volumeFactor: parseNumberFlag(flags.volume, '--volume'),
        autoShare: parseNumberFlag(flags.autoShare, '--auto-share'),
        addReviewers: parseNumberFlag(flags.addReviewers, '--add-reviewers'),
        removeReviewers: flags.removeReviewers?.split(',').map((s) => s.trim()).filter(Boolean),
        maxOpenPerReviewer: parseNumberFlag(flags.maxOpen, '--max-open'),
      };
      const asked = Object.values(whatIf).some((v) => v !== undefined);
      const baseline = simulateQueue(params);
      const scenario = asked ? simulateQueue(applyWhatIf(params, whatIf)) : null;
      const backtestDays = parseNumberFlag(flags.backtestDays, '--backtest-days');
      const backtested = backtestDays === undefined ? events : events.filter((e) => e.arrival >= last - backtestDays * 86_400);
      const backtest = flags.backtest === true || backtestDays !== undefined ? backtestQueue(backtested, { seed, windowDays: days }) : null;
      let estimateError: ReturnType<typeof evaluateReviewTimeModel> | null = null;
      if (backtest !== null) {
        try {
          estimateError = evaluateReviewTimeModel(observationsFromEvents(events));
        } catch (error) {
          if (!isFlowgateError(error, 'INSUFFICIENT_DATA')) throw error;
        }
      }
      const measuredSummary = {
        reviews: events.length,
        windowDays: days,
        arrivals: measured.arrivals,
        reviewers: measured.reviewers.map((r) => r.id),
        capacity: measured.measures.map((m) => ({ reviewer: m.id, reviews: m.reviews, capacityPerDay: m.capacityPerHour * 24, source: m.capacitySource, effortShare: m.effortShare, utilisation: m.utilisation, meanHeld: m.meanHeld })),
        utilisation: measured.utilisation,
        stable: measured.utilisation < 1 && measured.overloaded.length === 0,
        overloaded: measured.overloaded,
        tiers,
      };
      if (flags.json === true) {
        printJson({ measured: measuredSummary, baseline: summarise(baseline), whatIf: scenario === null ? null : { ...whatIf, ...summarise(scenario) }, backtest, estimateError });
        return;
      }
      const row = (name: string, r: SimulationResult): (string | number)[] => [
        name,
        r.requests,
        fmt(r.wait.p50Minutes),
        fmt(r.wait.p90Minutes),
        fmt(r.wait.meanMinutes),
        fmt(r.sojourn.p50Minutes),
        fmt(r.sojourn.p90Minutes),
        Number(r.queue.meanLength.toFixed(2)),
        `${Math.round((100 * r.reviewers.reduce((s, x) => s + x.utilisation, 0)) / Math.max(1, r.reviewers.length))}%`,
      ];
      const out = [
        `measured ${measuredSummary.reviews} reviews (derived from merges); last ${days} days: ${measured.arrivals.map((a) => `${a.tier} ${(a.ratePerHour * 24).toFixed(2)}/day`).join(', ')}; ${measured.reviewers.length} reviewers`,
        `capacity measured from busy periods (reviews one at a time, at most 8 h each): ${(measured.measures.reduce((s, m) => s + m.capacityPerHour, 0) * 24).toFixed(1)} reviews/day in all; utilisation ${(100 * measured.utilisation).toFixed(1)}%`,
        ...(measuredSummary.stable
          ? []
          : [`warning: the measured queue is unstable (utilisation >= 100%${measured.overloaded.length > 0 ? `; overloaded: ${measured.overloaded.join(', ')}` : ''}): waits grow with the horizon, not to a steady state`]),
        `tiers of the measured history: ${reviewTiers.map((t) => `${t} ${tiers.byTier[t]}`).join(', ')} (from recorded decisions ${tiers.bySource.decision}, policy rules ${tiers.bySource.policy}); auto-lane changes were reviewed then and count as light`,
        '',
        formatTable(['scenario', 'requests', 'wait p50', 'wait p90', 'wait mean', 'done p50', 'done p90', 'queue', 'utilisation'], [row('as measured', baseline), ...(scenario === null ? [] : [row('what-if', scenario)])]),
      ];
      if (backtest !== null) {
        out.push(
          '',
          `backtest: measured on the ${backtest.window.count} reviews of the ${backtest.window.days} days before the split (of ${backtest.train.count} older), replayed ${backtest.test.count} later ones (${backtest.replications} runs); simulated utilisation ${(100 * backtest.simulatedUtilisation).toFixed(1)}%${backtest.overloaded.length > 0 ? `; overloaded when replayed: ${backtest.overloaded.join(', ')}` : ''}`,
          formatTable(
            ['time to review', 'p50', 'p90', 'mean'],
            [
              ['predicted (simulation)', fmt(backtest.predicted.p50Minutes), fmt(backtest.predicted.p90Minutes), fmt(backtest.predicted.meanMinutes)],
              ['observed', fmt(backtest.observed.p50Minutes), fmt(backtest.observed.p90Minutes), fmt(backtest.observed.meanMinutes)],
              ['naive (older half)', fmt(backtest.naive.p50Minutes), fmt(backtest.naive.p90Minutes), fmt(backtest.naive.meanMinutes)],
              ['naive (measured window)', fmt(backtest.naiveWindow.p50Minutes), fmt(backtest.naiveWindow.p90Minutes), fmt(backtest.naiveWindow.meanMinutes)],
            ],
          ),
        );
      }
      if (estimateError !== null) {
        out.push(
          '',
          `review-time estimate on ${estimateError.test} later reviews (fitted on ${estimateError.train} older):`,
          formatTable(
            ['estimator', 'MAE', 'median abs error', 'median abs %', 'within 2x'],
            (
              [
                ['fitted model', estimateError.model],
                ['median of older', estimateError.baseline],
                ['built-in default', estimateError.defaultModel],
              ] as const
            ).map(([name, e]) => [name, fmt(e.maeMinutes), fmt(e.medianAbsMinutes), `${Math.round(e.medianAbsPercent * 100)}%`, `${Math.round(e.withinFactor2 * 100)}%`]),
          ),
        );
      }
      process.stdout.write(`${out.join('\n')}\n`);
    });
  });
}
