import { describe, expect, it } from 'vitest';
import { defaultReportPath } from './write.ts';

const sqlite = { url: '/data/flowgate/flowgate.db', dialect: { name: 'sqlite' } } as const;

describe('defaultReportPath', () => {
  it('names the report after the repository, beside the store, never inside the repository', () => {
    expect(defaultReportPath(sqlite, '/home/me/src/rails')).toBe('/data/flowgate/reports/rails.html');
    expect(defaultReportPath(sqlite, '/home/me/src/rails/')).toBe('/data/flowgate/reports/rails.html');
  });

  it('names a bare repository after its project, not `.git`', () => {
    expect(defaultReportPath(sqlite, '/srv/git/rails.git')).toBe('/data/flowgate/reports/rails.html');
    expect(defaultReportPath(sqlite, '/home/me/src/rails/.git')).toBe('/data/flowgate/reports/rails.html');
  });

  it('keeps owner/name keys readable and file-name safe', () => {
    expect(defaultReportPath(sqlite, 'acme/web app')).toBe('/data/flowgate/reports/web_app.html');
  });
});
