import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeQueue } from '../../service/store-queue.ts';
import { openTestStore, type TestStore } from '../../store/__fixtures__/test-stores.ts';
import { seedChanges } from '../server/__fixtures__/seed.ts';
import { createServer } from '../server/app.ts';
import { createToken } from '../server/tokens.ts';

describe('the dashboard in Chromium', () => {
  let store: TestStore;
  let server: ServerType;
  let base: string;
  let browser: Browser;
  let readSecret: string;
  let ingestSecret: string;

  beforeAll(async () => {
    store = await openTestStore('sqlite');
    await seedChanges(store.db, 'acme/web', [
      { provenance: 'human', daysAgo: 1, author: 'ann' },
      { provenance: 'human', daysAgo: 9, author: 'ann' },
      { provenance: 'agent', daysAgo: 2, author: 'claude' },
      { provenance: 'ai-assisted', daysAgo: 20, author: 'bob' },
      { provenance: 'automation', daysAgo: 200, author: 'dependabot' },
    ]);
    readSecret = (await createToken(store.db, 'viewer', ['read'])).secret;
    ingestSecret = (await createToken(store.db, 'ci', ['ingest'])).secret;
    const app = createServer({ db: store.db, queue: storeQueue(store.db), webhookSecret: 's', teams: { web: ['ann', 'bob@example.com'] } });
    server = await new Promise<ServerType>((resolve) => {
      const s: ServerType = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });

  afterAll(async () => {
    await browser.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await store.dispose();
  });

  it('logs in with a read token, filters, shows charts, decisions and the audit log without console errors', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));

    await page.goto(`${base}/`);
    expect(page.url()).toBe(`${base}/login`);
    await page.fill('input[name=token]', readSecret);
    await page.click('button[type=submit]');
    await page.waitForURL(`${base}/`);
    expect(await page.textContent('.who')).toContain('read-only');
    expect(await page.textContent('#totals')).toContain('5 changes');
    // The report's own views, live: summary, DORA tiles, and its charts (inline SVG from the report module).
    expect(await page.getAttribute('#report', 'data-repo')).toBe('acme/web');
    expect(await page.textContent('#report #summary')).toContain('5 changes by 4 authors');
    expect(await page.locator('#report #dora .tile').count()).toBe(4);
    const charts = await page.locator('#report figure.chart svg').count();
    expect(charts).toBeGreaterThanOrEqual(6);
    expect(await page.locator('#report figure.chart[data-chart="provenance-mix"] svg path').count()).toBeGreaterThan(0);

    await page.selectOption('select[name=period]', '30d');
    await page.selectOption('select[name=provenance]', 'human');
    await page.click('form.filters button[type=submit]');
    await page.waitForURL(/provenance=human/);
    expect(await page.textContent('#totals')).toContain('2 changes');
    expect(await page.textContent('#report #summary')).toContain('2 changes by 1 authors');
    expect(await page.locator('#report figure.chart svg').count()).toBe(charts);

    // The team filter (teams from the server's config): ann and bob, any provenance.
    await page.selectOption('select[name=provenance]', '');
    await page.selectOption('select[name=period]', '');
    await page.selectOption('select[name=team]', 'web');
    await page.click('form.filters button[type=submit]');
    await page.waitForURL(/team=web/);
    expect(await page.textContent('#report #summary')).toContain('3 changes by 2 authors');

    await page.click('a[href="/decisions"]');
    await page.waitForURL(`${base}/decisions`);
    // Five decisions the service published on pull requests and one of the CLI gate, newest first.
    expect(await page.locator('#decisions tbody tr').count()).toBe(6);
    expect(await page.locator('#decisions tbody tr', { hasText: 'gate' }).count()).toBe(1);
    expect(await page.textContent('#decisions tbody tr:first-child')).toContain('acme/web#1');
    await page.click('a[href="/audit"]');
    await page.waitForURL(`${base}/audit`);
    expect(await page.locator('#audit').count()).toBe(1);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('refuses a token without the read scope and sends anonymous visitors to the login page', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/login`);
    await page.fill('input[name=token]', ingestSecret);
    await page.click('button[type=submit]');
    expect(await page.textContent('.error')).toContain('lacks the "read" scope');
    const response = await page.goto(`${base}/decisions`);
    expect(response?.url()).toBe(`${base}/login`);
    await page.close();
  });
});
