import { Hono, type Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { raw } from 'hono/html';
import type { Child, FC } from 'hono/jsx';
import { PostgresAdapter, type Kysely } from 'kysely';
import { computeMetrics, type FlowMetrics } from '../../analyses/metrics/compute.ts';
import type { FlowData } from '../../analyses/metrics/data.ts';
import { loadFlowData } from '../../analyses/metrics/load.ts';
import { isFlowgateError } from '../../core/errors.ts';
import { postgresDialect, sqliteDialect } from '../../store/dialect.ts';
import { findRepository } from '../../store/repositories.ts';
import type { Database } from '../../store/schema.ts';
import type { Store } from '../../store/store.ts';
import {
  renderDoraTiles,
  renderFlow,
  renderKnowledge,
  renderLanes,
  renderProvenance,
  renderReviewerLoad,
  renderSummary,
  renderTrends,
  renderWarnings,
} from '../report/views.ts';
import { authorize, sessionCookie } from '../server/api.ts';
import { queryDecisions, queryMetrics, readFilters, type ReadFilters } from '../server/queries.ts';
import { authenticateToken, requireScope, type ApiToken } from '../server/tokens.ts';

// The page frame and the filters; the report's own sections (tiles, charts, tables) are styled here
// the way the report page styles them.
const style = `
body{font:14px system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#1f2937;color:#fff;padding:8px 16px;display:flex;gap:16px;align-items:center}
header a{color:#fff}main{padding:16px;max-width:1100px}
table{border-collapse:collapse;background:#fff;font-size:13px}td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
form.filters{margin-bottom:16px;display:flex;gap:8px;align-items:end}.error{color:#b91c1c}
h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:28px}.coverage,.rule{color:#666;font-size:13px}.derived{color:#8a6d00}
.tiles{display:grid;grid-template-columns:repeat(4,1fr);gap:12px}.tile{background:#fff;border:1px solid #ddd;border-radius:8px;padding:12px}
.tile-name{font-size:13px;color:#666}.tile-value{font-size:24px;font-weight:600;margin:6px 0}.tile-detail{font-size:12px;color:#666;margin-top:6px}
.band{font-size:12px;padding:2px 8px;border-radius:10px;color:#fff}.band.elite{background:#1a9850}.band.high{background:#66bd63}.band.medium{background:#f4a582}.band.low{background:#d73027}.band.none{background:#aaa}
figure.chart{margin:12px 0;background:#fff;border:1px solid #eee;border-radius:6px;overflow:hidden}figure.chart svg{display:block;max-width:100%;height:auto}
ul.warnings{list-style:none;padding:0}li.warning{background:#fff;border:1px solid #e3e3e3;border-left:4px solid #aaa;padding:8px 12px;margin:8px 0}
li.warning.triggered{border-left-color:#d73027}li.warning.ok{border-left-color:#1a9850}
`;

const Layout: FC<{ title: string; token: ApiToken | null; children?: Child }> = ({ title, token, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <title>{`flowgate: ${title}`}</title>
      <style>{style}</style>
    </head>
    <body>
      <header>
        <strong>flowgate</strong>
        {token === null ? null : (
          <>
            <a href="/">Overview</a>
            <a href="/decisions">Decisions</a>
            <a href="/audit">Audit</a>
            <span class="who">
              {token.name} ({token.scopes.includes('admin') ? 'admin' : 'read-only'})
            </span>
            <form method="post" action="/logout">
              <button type="submit">Log out</button>
            </form>
          </>
        )}
      </header>
      <main>
        <h1>{title}</h1>
        {children}
      </main>
    </body>
  </html>
);

const Filters: FC<{ query: Record<string, string>; repos: string[]; teams: string[]; action: string }> = ({ query, repos, teams, action }) => (
  <form class="filters" method="get" action={action}>
    <label>
      Repository
      <br />
      <select name="repo">
        <option value="">all</option>
        {repos.map((r) => (
          <option value={r} selected={query['repo'] === r}>
            {r}
          </option>
        ))}
      </select>
    </label>
    <label>
      Team
      <br />
      <select name="team">
        <option value="">everyone</option>
        {teams.map((t) => (
          <option value={t} selected={query['team'] === t}>
            {t}
          </option>
        ))}
      </select>
    </label>
    <label>
      Period
      <br />
      <select name="period">
        {['', '7d', '30d', '90d', '365d'].map((p) => (
          <option value={p} selected={(query['period'] ?? '') === p}>
            {p === '' ? 'last 365d (report default)' : `last ${p}`}
          </option>
        ))}
      </select>
    </label>
    <label>
      Provenance
      <br />
      <select name="provenance">
        {['', 'human', 'ai-assisted', 'agent', 'automation'].map((p) => (
          <option value={p} selected={(query['provenance'] ?? '') === p}>
            {p === '' ? 'all' : p}
          </option>
        ))}
      </select>
    </label>
    <button type="submit">Apply</button>
  </form>
);

/** Teams: name to member names, e-mails or logins (from the server's config). */
export type Teams = Record<string, string[]>;

const day = 86_400;
/** How long loaded flow data serves before it is read again (the dashboard is live within this). */
const flowDataTtlMs = 30_000;

/** The report module reads through a Store; the dashboard has the connection only. */
function storeOver(db: Kysely<Database>): Store {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  return { db, dialect: postgres ? postgresDialect : sqliteDialect, url: postgres ? 'postgres' : 'sqlite', close: () => Promise.resolve() };
}

/** The report's views (src/outputs/report/views.ts) of one repository's metrics, as the dashboard shows them. */
function reportViews(m: FlowMetrics): string {
  return [renderSummary(m), renderDoraTiles(m), renderFlow(m), renderTrends(m), renderProvenance(m), renderLanes(m), renderWarnings(m), renderReviewerLoad(m), renderKnowledge(m)].join('\n');
}

/** The dashboard: server-rendered pages behind a token login (cookie); `read` tokens see everything, change nothing. */
export function dashboardRoutes(db: Kysely<Database>, teams: Teams = {}): Hono {
  const app = new Hono();
  const store = storeOver(db);
  const flowData = new Map<number, { data: Promise<FlowData>; until: number }>();
  app.get('/favicon.ico', (c) => c.body(null, 204));

  app.get('/login', (c) => c.html(<LoginPage error={null} />));
  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const secret = typeof form['token'] === 'string' ? form['token'].trim() : '';
    try {
      const token = await authenticateToken(db, secret);
      requireScope(token, 'read');
    } catch (error) {
      if (!isFlowgateError(error)) throw error;
      return c.html(<LoginPage error={error.message} />, 401);
    }
    setCookie(c, sessionCookie, secret, { httpOnly: true, sameSite: 'Strict', path: '/', maxAge: 7 * 86_400 });
    return c.redirect('/');
  });
  app.post('/logout', (c) => {
    deleteCookie(c, sessionCookie, { path: '/' });
    return c.redirect('/login');
  });

  /** The signed-in token, or a redirect to the login page. */
  const session = async (c: Context): Promise<ApiToken | Response> => {
    try {
      return await authorize(db, c, 'read');
    } catch (error) {
      if (isFlowgateError(error, 'UNAUTHORIZED')) return c.redirect('/login');
      throw error;
    }
  };
  const members = (team: string | undefined): Set<string> | null => (team ? new Set((teams[team] ?? []).map((m) => m.toLowerCase())) : null);
  const filtersOf = (query: Record<string, string>): ReadFilters => {
    const filters = readFilters(query);
    const team = query['team'];
    if (team) filters.authors = teams[team] ?? [];
    return filters;
  };
  const repos = async (): Promise<string[]> => {
    const rows = await db.selectFrom('repositories').select('key').orderBy('key').execute();
    const prRepos = await db.selectFrom('pr_decisions').select('repo').distinct().execute();
    return [...new Set([...rows.map((r) => r.key), ...prRepos.map((r) => r.repo)])].sort();
  };
  /** A repository's flow data, read at most every 30 s (loading is the expensive part; computing views is not). */
  const loadData = (repoId: number): Promise<FlowData> => {
    const cached = flowData.get(repoId);
    if (cached !== undefined && cached.until > Date.now()) return cached.data;
    const data = loadFlowData(store, repoId, { filesSince: Math.floor(Date.now() / 1000) - 2 * 365 * day, tagsSince: Math.floor(Date.now() / 1000) - 2 * 365 * day });
    flowData.set(repoId, { data, until: Date.now() + flowDataTtlMs });
    data.catch(() => flowData.delete(repoId));
    return data;
  };
  /** The report's metrics for the filters: period up to now, the team's members, one provenance class. */
  const metricsFor = async (repoId: number, query: Record<string, string>): Promise<FlowMetrics> => {
    const data = await loadData(repoId);
    const days = /^(\d+)d$/.exec(query['period'] ?? '')?.[1];
    const to = Math.floor(Date.now() / 1000) + 1;
    const period = { from: to - Number(days ?? 365) * day, to };
    const team = members(query['team']);
    const provenance = query['provenance'];
    const filtered: FlowData = provenance ? { ...data, changes: data.changes.filter((ch) => ch.provenance === provenance) } : data;
    const label = [query['period'] ? `last ${query['period']}` : 'last 365d', query['team'] ? `team ${query['team']}` : null, provenance ?? null].filter(Boolean).join(', ');
    return computeMetrics(filtered, {
      period,
      label,
      ...(team === null ? {} : { include: (author: string, email: string | null) => team.has(author.toLowerCase()) || (email !== null && team.has(email.toLowerCase())) }),
    });
  };

  app.get('/', async (c) => {
    const token = await session(c);
    if (token instanceof Response) return token;
    const query = c.req.query();
    const metrics = await queryMetrics(db, filtersOf(query));
    // The report's views need a repository with history: the chosen one, else the first analyzed.
    const analyzed = await db
      .selectFrom('repositories')
      .select(['id', 'key'])
      .where((eb) => eb.exists(eb.selectFrom('changes').select('changes.id').whereRef('changes.repo_id', '=', 'repositories.id')))
      .orderBy('key')
      .execute();
    // The store's lookup: a clone analyzed under its path is found by its owner/name too.
    const asked = query['repo'] ? await findRepository(db, query['repo']) : undefined;
    const chosen = query['repo'] ? analyzed.find((r) => r.id === asked?.id) : analyzed[0];
    const views = chosen === undefined ? null : reportViews(await metricsFor(chosen.id, query));
    return c.html(
      <Layout title="Overview" token={token}>
        <Filters query={{ ...query, ...(chosen === undefined ? {} : { repo: chosen.key }) }} repos={await repos()} teams={Object.keys(teams)} action="/" />
        <p id="totals">
          {metrics.changes} changes, {metrics.linesChanged} lines changed, {metrics.decisions.autoMerged} auto-merged.
        </p>
        {views === null ? (
          <p id="no-report">{query['repo'] ? `${query['repo']} has no analyzed history in this store: run flowgate analyze on it.` : 'No repository has been analyzed into this store yet: run flowgate analyze.'}</p>
        ) : (
          <div id="report" data-repo={chosen?.key}>
            {raw(views)}
          </div>
        )}
      </Layout>,
    );
  });

  app.get('/decisions', async (c) => {
    const token = await session(c);
    if (token instanceof Response) return token;
    const query = c.req.query();
    const decisions = await queryDecisions(db, filtersOf(query));
    return c.html(
      <Layout title="Decisions" token={token}>
        <Filters query={query} repos={await repos()} teams={Object.keys(teams)} action="/decisions" />
        <table id="decisions">
          <thead>
            <tr>
              <th>When</th>
              <th>Subject</th>
              <th>From</th>
              <th>Tier</th>
              <th>Outcome</th>
              <th>Check</th>
              <th>Merged</th>
              <th>Why</th>
            </tr>
          </thead>
          <tbody>
            {decisions.map((d) => (
              <tr>
                <td>{new Date(d.time * 1000).toISOString().slice(0, 16).replace('T', ' ')}</td>
                <td>{d.prNumber === null ? d.subject : `${d.repo ?? ''}#${d.prNumber}`}</td>
                <td>{d.source}</td>
                <td>{d.tier ?? ''}</td>
                <td>{d.outcome ?? ''}</td>
                <td>{d.conclusion ?? ''}</td>
                <td>{d.merged ? 'yes' : 'no'}</td>
                <td>{d.reasons.join('; ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Layout>,
    );
  });

  app.get('/audit', async (c) => {
    const token = await session(c);
    if (token instanceof Response) return token;
    const rows = await db.selectFrom('audit_records').select(['seq', 'time', 'kind', 'subject', 'hash']).orderBy('seq', 'desc').limit(200).execute();
    return c.html(
      <Layout title="Audit log" token={token}>
        <table id="audit">
          <thead>
            <tr>
              <th>Seq</th>
              <th>When</th>
              <th>Kind</th>
              <th>Subject</th>
              <th>Hash</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr>
                <td>{r.seq}</td>
                <td>{new Date(r.time * 1000).toISOString().slice(0, 16).replace('T', ' ')}</td>
                <td>{r.kind}</td>
                <td>{r.subject}</td>
                <td>
                  <code>{r.hash.slice(0, 16)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Layout>,
    );
  });

  return app;
}

const LoginPage: FC<{ error: string | null }> = ({ error }) => (
  <Layout title="Log in" token={null}>
    {error === null ? null : <p class="error">{error}</p>}
    <form method="post" action="/login">
      <label>
        API token <input type="password" name="token" autocomplete="off" />
      </label>
      <button type="submit">Log in</button>
    </form>
  </Layout>
);
