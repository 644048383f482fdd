import { describe, expect, it } from 'vitest';
import { fileKind, languageOf } from '../features/file-kinds.ts';
import { meaningfulLines } from './comments.ts';

describe('meaningful lines per language', () => {
  it.each([
    ['a.ts', ['// note', 'const x = 1; // trailing', '/* block', ' * inside', ' */', '', 'return x;']],
    ['a.go', ['// note', 'x := 1', '/* one-liner */', '', 'return x']],
    ['A.java', ['/**', ' * Javadoc', ' */', 'int x = 1;', '   ', 'return x;']],
    ['a.c', ['/* header */', 'int x = 1;', '// c99', 'return x;']],
    ['a.rs', ['/// doc', '//! inner', 'let x = 1;', 'x']],
    ['a.py', ['# note', 'x = 1', '"""Docstring."""', '"""', 'more docs', '"""', 'return x']],
    ['a.rb', ['# note', 'x = 1', '=begin', 'docs', '=end', 'x']],
  ])('%s', (path, lines) => {
    const flags = meaningfulLines(lines, languageOf(path));
    const kept = lines.filter((_, i) => flags[i]);
    expect(kept.map((l) => l.trim()).filter((l) => /x/.test(l) && !/^(\/\/|#|\/\*|\*|"""|=)/.test(l))).toEqual(kept.map((l) => l.trim()));
    expect(kept.length).toBeGreaterThanOrEqual(2);
  });

  it('keeps code after a closing block comment and drops only blanks in unknown languages', () => {
    expect(meaningfulLines(['/* a', 'b */ call();'], 'c-like')).toEqual([false, true]);
    expect(meaningfulLines(['x', '  ', '# not a comment here'], null)).toEqual([true, false, true]);
  });
});

describe('file kinds', () => {
  it.each([
    ['src/app.ts', 'code'],
    ['src/app.test.ts', 'test'],
    ['tests/test_models.py', 'test'],
    ['pkg/server_test.go', 'test'],
    ['src/test/java/FooTests.java', 'test'],
    ['docs/guide.md', 'docs'],
    ['README', 'docs'],
    ['package-lock.json', 'lockfile'],
    ['Cargo.lock', 'lockfile'],
    ['db/migrate/2024_add_users.rb', 'migration'],
    ['.github/workflows/ci.yml', 'build'],
    ['package.json', 'build'],
    ['config/app.yml', 'config'],
    ['assets/logo.png', 'other'],
  ])('%s is %s', (path, kind) => {
    expect(fileKind(path)).toBe(kind);
  });
});
