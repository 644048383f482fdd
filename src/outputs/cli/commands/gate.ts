import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { signaturesFromConfig } from '../../../analyses/provenance/index.ts';
import { configFileName, configJsonSchema, parseConfig, readConfigAt } from '../../../core/config.ts';
import { FlowgateError } from '../../../core/errors.ts';
import { collectChangeFacts, type ListedFile } from '../../../decisions/gate/facts.ts';
import { assertRepository, resolveCommit, resolveCommits } from '../../../sources/git/git.ts';
import { repositoryKey } from '../../../sources/git/miner.ts';
import { isPostgresUrl, resolveStoreUrl } from '../../../store/dialect.ts';
import { decideChange } from '../../../decisions/gate/decide.ts';
import { formatDecision, type DecisionFormat } from '../../../decisions/gate/format.ts';
import { recordDecision } from '../../../decisions/gate/record.ts';
import { prepareStoredGateInputs, storedGateInputs } from '../../../decisions/gate/stored-inputs.ts';
import type { Decision, RiskEstimate } from '../../../decisions/gate/types.ts';
import { loadPolicy, tierRank, tiers } from '../../../decisions/policy/policy.ts';
import { writeStarterPolicy } from '../../../decisions/policy/starter.ts';
import type { Tier } from '../../../decisions/policy/schema.ts';
import { computeTrust } from '../../../decisions/trust/trust.ts';
import type { Store } from '../../../store/store.ts';
import { printJson, resolvePathArg, withDbOption, withStore } from '../shared.ts';

/** Exit status of `check`/`explain` when the tier is at or above --fail-on (documented in docs/policy.md). */
export const exitTierAtOrAbove = 10;
/** Exit status of `check`/`explain` when the change is blocked. */
export const exitBlocked = 11;

// Lenient: these files come from other tools (CI scripts, GitHub exports).
const ApprovalsFile = z.array(z.object({ by: z.string().min(1), sha: z.string().min(4) }));
const ChecksFile = z.array(z.object({ name: z.string().min(1), status: z.string().min(1), sha: z.string().optional() }));
const RiskFile = z.object({
  probability: z.number().min(0).max(1),
  topFactors: z.array(z.object({ feature: z.string(), value: z.number(), contribution: z.number() })).default([]),
});
const TrustFile = z.array(z.object({ lane: z.enum(tiers as [Tier, ...Tier[]]), defectInducing: z.boolean(), reverted: z.boolean(), time: z.number() }));

/** Reads and validates a JSON input file named by a flag. */
function readJsonFlag<T>(file: string, flag: string, schema: z.ZodType<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new FlowgateError('USAGE', `${flag} ${file}: not a readable JSON file (${(error as Error).message}).`, { cause: error });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new FlowgateError('USAGE', `${flag} ${file} is not in the expected shape:\n${z.prettifyError(parsed.error)}\nSee docs/policy.md.`);
  return parsed.data;
}

interface DecideOptions {
  format: string;
  failOn: string;
  approvals?: string;
  checks?: string;
  risk?: string;
  trust?: string;
  db?: string;
}

/** Checks --format and --fail-on before any work. */
function checkFlags(options: DecideOptions): { format: DecisionFormat; failOn: Tier | 'blocked' } {
  const formats: DecisionFormat[] = ['text', 'json', 'markdown'];
  if (!formats.includes(options.format as DecisionFormat)) throw new FlowgateError('USAGE', `--format must be one of ${formats.join(', ')}, got "${options.format}".`);
  const failOns = [...tiers, 'blocked'];
  if (!failOns.includes(options.failOn)) throw new FlowgateError('USAGE', `--fail-on must be one of ${failOns.join(', ')}, got "${options.failOn}".`);
  return { format: options.format as DecisionFormat, failOn: options.failOn as Tier | 'blocked' };
}

/** The exit status for a decision under --fail-on. */
export function exitStatusFor(decision: Decision, failOn: Tier | 'blocked'): number {
  if (decision.outcome === 'blocked') return exitBlocked;
  if (failOn !== 'blocked' && tierRank(decision.tier) >= tierRank(failOn)) return exitTierAtOrAbove;
  return 0;
}

/** Where check/explain read stored risk and trust: --db, else FLOWGATE_DB, else the default file when it exists. */
function storeToRead(db: string | undefined): { url: string } | { missing: string } {
  const url = resolveStoreUrl(db);
  if (db !== undefined || isPostgresUrl(url)) return { url };
  const path = url.startsWith('sqlite:') ? url.slice('sqlite:'.length).replace(/^\/\//, '') : url;
  // Reading must not create a store: with none there, the repository was never analyzed.
  return existsSync(path) ? { url } : { missing: path };
}

/**
 * Collects facts, reads the base policy, takes risk and trust from the store (flags override),
 * decides, prints, optionally records; sets the exit status. `landed`: explain of a commit on the
 * mainline (its stored features and only the history before it count).
 */
async function runDecision(repoPath: string, base: string, head: string, options: DecideOptions, landed = false): Promise<void> {
  const { format, failOn } = checkFlags(options);
  const approvals = options.approvals === undefined ? [] : readJsonFlag(options.approvals, '--approvals', ApprovalsFile);
  const checks = options.checks === undefined ? [] : readJsonFlag(options.checks, '--checks', ChecksFile).map((c) => (c.sha === undefined ? { name: c.name, status: c.status } : { name: c.name, status: c.status, sha: c.sha }));
  const givenRisk: RiskEstimate | null = options.risk === undefined ? null : { ...readJsonFlag(options.risk, '--risk', RiskFile), source: 'given' };
  const givenTrust = options.trust === undefined ? null : readJsonFlag(options.trust, '--trust', TrustFile);
  // The store's key first: its git processes would otherwise queue behind the diffs, and the
  // store's reads wait for it.
  const repository = repositoryKey(repoPath);
  repository.catch(() => undefined);
  const [baseSha = ''] = resolveCommits(repoPath, [base]);
  // The policy in force is the base revision's: the change under judgement cannot rewrite it.
  const config = readConfigAt(repoPath, baseSha);
  const policy = loadPolicy(config, `${configFileName} at ${baseSha.slice(0, 7)}`);
  // The diffs run in git processes while the store reads what the risk needs: first what any
  // change needs, then, once git has listed the change's files (long before it has counted their
  // lines), the history they select (a proposed change's risk needs it; a landed one has stored
  // features).
  let onListed: (files: readonly ListedFile[]) => void = () => undefined;
  const listing = new Promise<readonly ListedFile[]>((resolve) => {
    onListed = resolve;
  });
  const facts = collectChangeFacts(repoPath, baseSha, head, { approvedShas: approvals.map((a) => a.sha), signatures: signaturesFromConfig(config.provenance), onListed });
  // Awaited below; a failure must not count as unhandled while the store is read.
  facts.catch(() => undefined);
  const { key } = await repository;

  const notes: string[] = [];
  if (givenRisk !== null) notes.push(`risk from --risk ${options.risk ?? ''}`);
  if (givenTrust !== null) notes.push(`agent trust from --trust ${options.trust ?? ''}`);
  let risk = givenRisk;
  let trust = givenTrust === null ? null : computeTrust(givenTrust, policy);
  const decide = async (store: Store | null): Promise<Decision> => {
    const storedWanted = store !== null && (givenRisk === null || givenTrust === null);
    if (storedWanted) await prepareStoredGateInputs(store.db, key, landed || givenRisk !== null ? undefined : Promise.race([listing, facts.then((f) => f.files)]));
    const change = await facts;
    if (storedWanted) {
      const { headCommit } = change;
      const stored = await storedGateInputs(
        store.db,
        key,
        policy,
        {
          files: change.files,
          author: change.author,
          provenance: change.provenance,
          time: landed ? headCommit.time : Math.floor(Date.now() / 1000),
          title: headCommit.subject,
          commits: Math.max(1, change.commits),
          kind: (landed ? headCommit.parents : change.commits) > 1 ? 'merge' : 'direct',
          sha: landed ? change.head : null,
        },
        // A flag replaces its part of the store's answer.
        { risk: givenRisk === null, trust: givenTrust === null },
      );
      risk ??= stored.risk;
      if (givenTrust === null) trust = stored.trust;
      notes.push(...stored.notes);
    }
    const decision = decideChange({ policy, change, risk, approvals, checks, trust, notes });
    if (store !== null && options.db !== undefined) await recordDecision(store.db, decision, decision.head, key);
    return decision;
  };

  let decision: Decision;
  const where = givenRisk !== null && givenTrust !== null && options.db === undefined ? null : storeToRead(options.db);
  if (where === null) {
    decision = await decide(null);
  } else if ('missing' in where) {
    notes.push(`no store at ${where.missing}: ${key} was never analyzed, decided by rules alone (run \`flowgate analyze\`, or pass --db)`);
    decision = await decide(null);
  } else {
    decision = await withStore(where.url, decide);
  }
  process.stdout.write(formatDecision(decision, format));
  process.exitCode = exitStatusFor(decision, failOn);
}

/** Adds the options shared by check and explain. */
function withDecisionOptions(command: Command): Command {
  return withDbOption(
    command
      .option('--format <format>', 'text, json or markdown (the PR comment body)', 'text')
      .option('--fail-on <tier|blocked>', `exit ${exitTierAtOrAbove} when the tier is at or above this one; blocked changes always exit ${exitBlocked}`, 'blocked')
      .option('--approvals <file>', 'JSON: [{"by": "<login or e-mail>", "sha": "<approved head sha>"}]')
      .option('--checks <file>', 'JSON: [{"name": "ci", "status": "success", "sha": "<optional>"}]')
      .option('--risk <file>', 'override the stored risk: JSON {"probability": 0.42, "topFactors": [{"feature", "value", "contribution"}]}')
      .option('--trust <file>', "override the agent's stored record: JSON [{lane, defectInducing, reverted, time}]"),
  ).addHelpText('after', `\nExit status: 0 pass, ${exitTierAtOrAbove} tier at or above --fail-on, ${exitBlocked} blocked (see docs/policy.md).`);
}

/** Resolves the policy file argument of `policy validate`: a file, or a directory holding .flowgate.yml. */
function policyFileArg(path: string | undefined): string {
  const full = resolvePathArg(path);
  const file = statSync(full).isDirectory() ? join(full, configFileName) : full;
  if (!existsSync(file)) throw new FlowgateError('NOT_FOUND', `${file} does not exist. Run \`flowgate init\` to write a starter policy.`);
  return file;
}

/** Registers the `gate` command(s) (issue 4: init, policy, check, explain). */
export function registerGate(program: Command): void {
  program
    .command('init [path]')
    .description('write a commented starter .flowgate.yml at the root of the repository')
    .option('--force', 'replace an existing .flowgate.yml')
    .action((path: string | undefined, options: { force?: boolean }) => {
      const file = writeStarterPolicy(resolvePathArg(path), options.force === true);
      process.stdout.write(`wrote ${file}\n`);
    });

  const policy = program.command('policy').description('validate the policy file or print its JSON Schema');
  policy
    .command('validate [path]')
    .description('check a .flowgate.yml (a file, or a repository directory) against the schema and the policy rules')
    .action((path: string | undefined) => {
      const file = policyFileArg(path);
      const compiled = loadPolicy(parseConfig(readFileSync(file, 'utf8'), file), file);
      signaturesFromConfig(compiled.config.provenance);
      const { agents, teams, rules } = compiled.config;
      process.stdout.write(`ok: ${file}: ${agents.length} agents, ${Object.keys(teams).length} teams, ${rules.floors.length} floors, ${compiled.protectedPaths.length} protected paths\n`);
      for (const warning of compiled.warnings) process.stdout.write(`warning: ${warning}\n`);
    });
  policy
    .command('schema')
    .description('print the JSON Schema of .flowgate.yml (for editors)')
    .action(() => printJson(configJsonSchema()));

  withDecisionOptions(
    program
      .command('check [path]')
      .description('decide a change between two revisions of a local repository: tier, approvals, checks, explanation')
      .requiredOption('--base <rev>', 'the revision the change merges into (its policy is the one in force)')
      .requiredOption('--head <rev>', 'the head of the change'),
  ).action(async (path: string | undefined, options: DecideOptions & { base: string; head: string }) => {
    await runDecision(resolvePathArg(path), options.base, options.head, options);
  });

  withDecisionOptions(
    program.command('explain <sha> [path]').description('decide a change that already landed, against its first parent'),
  ).action(async (sha: string, path: string | undefined, options: DecideOptions) => {
    const repoPath = resolvePathArg(path);
    assertRepository(repoPath);
    const head = resolveCommit(repoPath, sha);
    let base: string;
    try {
      base = resolveCommit(repoPath, `${head}^1`);
    } catch {
      throw new FlowgateError('USAGE', `${sha} is a root commit: it has no first parent to judge it against. Use \`flowgate check --base <rev> --head ${sha}\`.`);
    }
    await runDecision(repoPath, base, head, options, true);
  });
}
