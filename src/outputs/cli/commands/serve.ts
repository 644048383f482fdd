import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { configFileName } from '../../../core/config.ts';
import { FlowgateError } from '../../../core/errors.ts';
import type { Service } from '../../../service/service.ts';
import { createToken, listTokens, parseScopes, revokeToken } from '../../server/tokens.ts';
import { formatTable, printJson, withDbOption, withStore } from '../shared.ts';

// The server, the job queues and the GitHub clients load only when their command runs: importing
// them (graphile-worker pulls in TypeScript through cosmiconfig) costs every other command ~0.5 s.
const loadService = (): Promise<typeof import('../../../service/service.ts')> => import('../../../service/service.ts');
const loadGitHub = async (): Promise<typeof import('../../../sources/github/backfill.ts') & typeof import('../../../sources/github/client.ts')> => ({
  ...(await import('../../../sources/github/backfill.ts')),
  ...(await import('../../../sources/github/client.ts')),
});

function parseCount(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new FlowgateError('USAGE', `${flag} expects a whole number, got "${value}".`);
  return n;
}

/** Keeps a service running until SIGINT or SIGTERM, then stops it cleanly (running jobs finish). */
async function runUntilSignal(service: Service): Promise<void> {
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await service.stop();
}

/** Registers `serve`, `worker`, `github backfill` and `token create|list|revoke`. */
export function registerServe(program: Command): void {
  withDbOption(
    program
      .command('serve')
      .description('Run the server: GitHub webhooks, the API and the dashboard (FLOWGATE_WEBHOOK_SECRET, FLOWGATE_GITHUB_APP_ID, FLOWGATE_GITHUB_PRIVATE_KEY, FLOWGATE_GITHUB_API_URL)')
      .option('--port <n>', 'HTTP port (0 picks a free one)', process.env['PORT'] ?? '8080')
      .option('--host <address>', 'address to listen on', process.env['FLOWGATE_HOST'] ?? '127.0.0.1')
      .option('--workers <n>', 'job workers in this process (default: 4 on SQLite, 0 on PostgreSQL where `flowgate worker` runs them)')
      .option('--config <file>', "a .flowgate.yml whose teams the dashboard filters by (default FLOWGATE_CONFIG, else ./.flowgate.yml when present)"),
  ).action(async (opts: { db?: string; port: string; host: string; workers?: string; config?: string }) => {
    const configPath = opts.config ?? process.env['FLOWGATE_CONFIG'] ?? (existsSync(configFileName) ? configFileName : undefined);
    if (configPath !== undefined && !existsSync(configPath)) throw new FlowgateError('USAGE', `--config ${configPath} does not exist. Pass the path of a .flowgate.yml.`);
    const { startService, teamsFromConfig } = await loadService();
    const teams = configPath === undefined ? {} : teamsFromConfig(configPath);
    const service = await startService({
      teams,
      db: opts.db,
      port: parseCount(opts.port, '--port'),
      host: opts.host,
      webhookSecret: process.env['FLOWGATE_WEBHOOK_SECRET'],
      workers: opts.workers === undefined ? undefined : parseCount(opts.workers, '--workers'),
    });
    process.stdout.write(
      `flowgate: listening on http://${opts.host}:${service.port ?? 0} (store ${service.store.url}${configPath === undefined ? '' : `, ${Object.keys(teams).length} teams from ${configPath}`})\n`,
    );
    await runUntilSignal(service);
  });

  withDbOption(
    program
      .command('worker')
      .description('Run job workers on the PostgreSQL queue; start as many as needed, on any machines')
      .option('--concurrency <n>', 'jobs run at once by this process', '4'),
  ).action(async (opts: { db?: string; concurrency: string }) => {
    const concurrency = parseCount(opts.concurrency, '--concurrency');
    if (concurrency === 0) throw new FlowgateError('USAGE', '--concurrency must be at least 1.');
    const { startService } = await loadService();
    const service = await startService({ db: opts.db, workers: concurrency });
    process.stdout.write(`flowgate: worker running (${concurrency} at once, store ${service.store.url})\n`);
    await runUntilSignal(service);
  });

  const github = program.command('github').description('GitHub integration');
  withDbOption(
    github
      .command('backfill')
      .description('Import pull requests, reviews, check runs and deployments of a repository through the REST API (resumable)')
      .requiredOption('--repo <owner/name>', 'the repository')
      .option('--json', 'print the counts as JSON'),
  ).action(async (opts: { db?: string; repo: string; json?: boolean }) => {
    const { backfillRepository, gitHubClients, gitHubConfigFromEnv, parseRepoArg } = await loadGitHub();
    const { owner, repo: name } = parseRepoArg(opts.repo);
    await withStore(opts.db, async (store) => {
      const clients = gitHubClients(gitHubConfigFromEnv());
      const { client } = await clients.forRepo(owner, name);
      const result = await backfillRepository(store.db, client, { owner, repo: name }, (resource, count) => {
        if (opts.json !== true) process.stderr.write(`  ${resource}: ${count}\n`);
      });
      if (opts.json === true) printJson(result);
      else process.stdout.write(`Backfilled ${opts.repo}: ${Object.entries(result.counts).map(([k, v]) => `${v} ${k}`).join(', ')}; ${result.inserted} new events.\n`);
    });
  });

  const token = program.command('token').description('API tokens for the API and the dashboard');
  withDbOption(
    token
      .command('create')
      .description('Create a token; its secret is shown once')
      .requiredOption('--name <name>', 'what the token is for')
      .option('--scopes <list>', 'comma-separated: ingest, read, admin', 'read')
      .option('--json', 'print as JSON'),
  ).action(async (opts: { db?: string; name: string; scopes: string; json?: boolean }) => {
    const scopes = parseScopes(opts.scopes);
    await withStore(opts.db, async (store) => {
      const { token: created, secret } = await createToken(store.db, opts.name, scopes);
      if (opts.json === true) printJson({ ...created, secret });
      else process.stdout.write(`Token ${created.id} "${created.name}" (${scopes.join(', ')}):\n${secret}\nStore it now: it is not shown again.\n`);
    });
  });
  withDbOption(token.command('list').description('List tokens (never their secrets)').option('--json', 'print as JSON')).action(
    async (opts: { db?: string; json?: boolean }) => {
      await withStore(opts.db, async (store) => {
        const tokens = await listTokens(store.db);
        if (opts.json === true) return printJson(tokens);
        const date = (t: number | null): string | null => (t === null ? null : new Date(t * 1000).toISOString().slice(0, 10));
        process.stdout.write(
          `${formatTable(
            ['id', 'name', 'prefix', 'scopes', 'created', 'last used', 'revoked'],
            tokens.map((t) => [t.id, t.name, t.prefix, t.scopes.join(','), date(t.createdAt), date(t.lastUsedAt), date(t.revokedAt)]),
          )}\n`,
        );
      });
    },
  );
  withDbOption(token.command('revoke').description('Revoke a token by id').argument('<id>', 'token id')).action(async (id: string, opts: { db?: string }) => {
    await withStore(opts.db, async (store) => {
      await revokeToken(store.db, parseCount(id, 'id'));
      process.stdout.write(`Token ${id} revoked.\n`);
    });
  });
}
