import { Hono, type Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import type { Child, FC } from 'hono/jsx';
import type { Kysely } from 'kysely';
import { isFlowgateError } from '../../core/errors.ts';
import type { Database } from '../../store/schema.ts';
import { authorize, sessionCookie } from '../server/api.ts';
import { queryDecisions, queryMetrics, readFilters, type ReadFilters } from '../server/queries.ts';
import { authenticateToken, requireScope, type ApiToken } from '../server/tokens.ts';
import { CountBars, StackedBars } from './charts.tsx';

const style = `
body{font:14px system-ui,sans-serif;margin:0;color:#222}
header{background:#1f2937;color:#fff;padding:8px 16px;display:flex;gap:16px;align-items:center}
header a{color:#fff}main{padding:16px}
table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}
.chart{display:inline-block;margin:0 16px 16px 0;vertical-align:top}.legend i{display:inline-block;width:10px;height:10px;margin:0 4px 0 8px}
form.filters{margin-bottom:16px;display:flex;gap:8px;align-items:end}.error{color:#b91c1c}
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
            {p === '' ? 'all time' : `last ${p}`}
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

/** The dashboard: server-rendered pages behind a token login (cookie); `read` tokens see everything, change nothing. */
export function dashboardRoutes(db: Kysely<Database>, teams: Teams = {}): Hono {
  const app = new Hono();
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

  app.get('/', async (c) => {
    const token = await session(c);
    if (token instanceof Response) return token;
    const query = c.req.query();
    const metrics = await queryMetrics(db, filtersOf(query));
    return c.html(
      <Layout title="Overview" token={token}>
        <Filters query={query} repos={await repos()} teams={Object.keys(teams)} action="/" />
        <p id="totals">
          {metrics.changes} changes, {metrics.linesChanged} lines changed, {metrics.decisions.autoMerged} auto-merged.
        </p>
        <StackedBars id="weekly" title="Changes per week by provenance" points={metrics.weekly.map((w) => ({ x: w.week, series: w.provenance, value: w.changes }))} />
        <CountBars id="provenance" title="Changes by provenance" counts={metrics.byProvenance} />
        <CountBars id="tiers" title="Gate decisions by tier" counts={metrics.decisions.byTier} />
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
              <th>Pull request</th>
              <th>Head</th>
              <th>Tier</th>
              <th>Conclusion</th>
              <th>Merged</th>
              <th>Why</th>
            </tr>
          </thead>
          <tbody>
            {decisions.map((d) => (
              <tr>
                <td>{new Date(d.time * 1000).toISOString().slice(0, 16).replace('T', ' ')}</td>
                <td>{`${d.repo}#${d.prNumber}`}</td>
                <td>
                  <code>{d.headSha.slice(0, 10)}</code>
                </td>
                <td>{d.tier}</td>
                <td>{d.conclusion}</td>
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
