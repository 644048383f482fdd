import type { FileKind } from '../labels/config.ts';

export type { FileKind };

/** Programming languages whose comment syntax SZZ knows; `null` for anything else. */
export type Language = 'c-like' | 'python' | 'ruby' | 'shell' | 'sql' | 'lua' | 'html';

const languageByExtension: Record<string, Language> = {
  ts: 'c-like', tsx: 'c-like', mts: 'c-like', cts: 'c-like', js: 'c-like', jsx: 'c-like', mjs: 'c-like', cjs: 'c-like',
  go: 'c-like', java: 'c-like', kt: 'c-like', kts: 'c-like', scala: 'c-like', groovy: 'c-like', gradle: 'c-like',
  c: 'c-like', h: 'c-like', cc: 'c-like', cpp: 'c-like', cxx: 'c-like', hpp: 'c-like', hh: 'c-like', m: 'c-like', mm: 'c-like',
  rs: 'c-like', cs: 'c-like', swift: 'c-like', dart: 'c-like', php: 'c-like', css: 'c-like', scss: 'c-like', less: 'c-like',
  proto: 'c-like', zig: 'c-like', vue: 'c-like', svelte: 'c-like',
  py: 'python', pyi: 'python', pyx: 'python',
  rb: 'ruby', rake: 'ruby', gemspec: 'ruby', erb: 'ruby',
  sh: 'shell', bash: 'shell', zsh: 'shell', pl: 'shell', pm: 'shell', r: 'shell', tcl: 'shell', yml: 'shell', yaml: 'shell', toml: 'shell',
  sql: 'sql', lua: 'lua', hs: 'sql',
  html: 'html', xml: 'html', svg: 'html',
};

const codeExtensions = new Set(
  Object.entries(languageByExtension)
    .filter(([ext, lang]) => lang !== 'html' && !['yml', 'yaml', 'toml', 'css', 'scss', 'less', 'svg', 'xml', 'proto', 'gradle', 'gemspec'].includes(ext))
    .map(([ext]) => ext)
    .concat(['ex', 'exs', 'erl', 'clj', 'ml', 'fs', 'jl', 'nim', 'v', 'asm', 's', 'html', 'erb']),
);

const lockfiles = new Set([
  'package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'npm-shrinkwrap.json', 'bun.lockb', 'Cargo.lock', 'Gemfile.lock', 'poetry.lock',
  'Pipfile.lock', 'uv.lock', 'composer.lock', 'go.sum', 'mix.lock', 'pubspec.lock', 'Podfile.lock', 'gradle.lockfile', 'flake.lock',
]);
const buildFiles = new Set([
  'Makefile', 'CMakeLists.txt', 'Dockerfile', 'Rakefile', 'Gemfile', 'package.json', 'Cargo.toml', 'go.mod', 'pom.xml', 'build.gradle',
  'settings.gradle', 'build.gradle.kts', 'setup.py', 'setup.cfg', 'pyproject.toml', 'requirements.txt', 'tox.ini', 'Jenkinsfile',
  'meson.build', 'BUILD', 'BUILD.bazel', 'WORKSPACE', 'Justfile', 'Taskfile.yml', 'configure.ac', 'Makefile.am',
]);
const docExtensions = new Set(['md', 'mdx', 'rst', 'txt', 'adoc', 'asciidoc', 'rdoc', 'tex', 'org', 'textile']);
const configExtensions = new Set(['yml', 'yaml', 'toml', 'ini', 'cfg', 'conf', 'properties', 'json', 'jsonc', 'json5', 'env', 'editorconfig', 'xml', 'plist']);

/** The lower-case extension of a path's last segment, '' when it has none. */
function extension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? '' : name.slice(dot + 1).toLowerCase();
}

/** The language of a path, for comment syntax; null when unknown. */
export function languageOf(path: string): Language | null {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (name === 'Makefile' || name === 'Dockerfile' || name === 'Rakefile' || name === 'Gemfile') return name === 'Rakefile' || name === 'Gemfile' ? 'ruby' : 'shell';
  return languageByExtension[extension(name)] ?? null;
}

/**
 * What a file is, from its path alone: lockfiles, migrations, tests, CI and build files, docs,
 * config, code, other. The order matters: `test/fixtures/x.json` is a test, `db/migrate/1.rb` a migration.
 */
export function fileKind(path: string): FileKind {
  const lower = path.toLowerCase();
  const name = path.slice(path.lastIndexOf('/') + 1);
  const ext = extension(name);
  if (lockfiles.has(name)) return 'lockfile';
  if (/(^|\/)(migrations?|migrate|db\/migrate|alembic\/versions)\//.test(lower)) return 'migration';
  if (
    /(^|\/)(tests?|__tests__|spec|specs|testing|testdata|test-data|fixtures|__fixtures__|__mocks__|e2e|it)\//.test(lower) ||
    /(^|[._-])(test|spec|tests)\.[a-z0-9]+$/.test(lower) ||
    /^test_.*\.py$/.test(name) ||
    /_test\.(go|py|rb|exs)$/.test(name) ||
    /Tests?\.(java|kt|scala|cs|swift)$/.test(name)
  )
    return 'test';
  if (/(^|\/)(\.github|\.circleci|\.gitlab|\.buildkite|ci)\//.test(lower) || name === '.travis.yml' || name === '.gitlab-ci.yml' || buildFiles.has(name))
    return 'build';
  if (docExtensions.has(ext) || /(^|\/)(docs?|documentation)\//.test(lower) || /^(readme|changelog|changes|license|copying|authors|news|history)/i.test(name))
    return 'docs';
  if (codeExtensions.has(ext) || languageOf(path) === 'shell') return ext === 'yml' || ext === 'yaml' || ext === 'toml' ? 'config' : 'code';
  if (configExtensions.has(ext) || name.startsWith('.')) return 'config';
  return 'other';
}
