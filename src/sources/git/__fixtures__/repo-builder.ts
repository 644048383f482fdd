import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, unlinkSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Who makes a scripted commit; `date` is an ISO date or Unix seconds. */
export interface Signature {
  name: string;
  email: string;
}

export interface CommitOptions {
  author?: Signature;
  committer?: Signature;
  /** Author and committer date: Unix seconds. Defaults to a clock that advances a day per commit. */
  time?: number;
  allowEmpty?: boolean;
}

/**
 * A real git repository in a temp dir, driven by scripted steps, for tests of everything that reads
 * history. Every call runs the real `git` binary.
 */
export class RepoBuilder {
  readonly dir: string;
  private clock = 1_700_000_000;

  constructor(dir?: string) {
    this.dir = dir ?? mkdtempSync(join(tmpdir(), 'flowgate-repo-'));
    this.git('init', '-q', '-b', 'main');
    this.git('config', 'user.name', 'Default Dev');
    this.git('config', 'user.email', 'dev@example.com');
    this.git('config', 'commit.gpgsign', 'false');
    this.git('config', 'core.quotepath', 'true');
  }

  /** Runs git in the repository and returns its standard output. */
  git(...args: string[]): string {
    return this.gitWith({}, ...args);
  }

  /** Runs git with extra environment variables. */
  gitWith(env: Record<string, string>, ...args: string[]): string {
    return execFileSync('git', args, {
      cwd: this.dir,
      env: { ...process.env, ...env, GIT_CONFIG_NOSYSTEM: '1' },
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
  }

  /** Writes a file (creating folders); `content` may be a Buffer for binary or non-UTF-8 data. */
  write(path: string | Buffer, content: string | Buffer): this {
    const full = typeof path === 'string' ? join(this.dir, path) : Buffer.concat([Buffer.from(this.dir + '/'), path]);
    mkdirSync(dirname(full.toString()), { recursive: true });
    writeFileSync(full, content);
    return this;
  }

  remove(path: string): this {
    unlinkSync(join(this.dir, path));
    return this;
  }

  move(from: string, to: string): this {
    mkdirSync(dirname(join(this.dir, to)), { recursive: true });
    renameSync(join(this.dir, from), join(this.dir, to));
    return this;
  }

  /** Stages everything and commits; returns the new sha. */
  commit(message: string, options: CommitOptions = {}): string {
    this.git('add', '-A');
    return this.commitStaged(message, options);
  }

  /** Commits what is staged (or nothing, with allowEmpty). */
  commitStaged(message: string, options: CommitOptions = {}): string {
    const time = options.time ?? this.tick();
    const author = options.author ?? { name: 'Default Dev', email: 'dev@example.com' };
    const committer = options.committer ?? author;
    const env = {
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      GIT_AUTHOR_DATE: `@${time} +0000`,
      GIT_COMMITTER_NAME: committer.name,
      GIT_COMMITTER_EMAIL: committer.email,
      GIT_COMMITTER_DATE: `@${time} +0000`,
    };
    const args = ['commit', '-q', '--no-verify', '-F', '-'];
    if (options.allowEmpty === true) args.push('--allow-empty');
    execFileSync('git', args, { cwd: this.dir, env: { ...process.env, ...env }, input: message });
    return this.head();
  }

  /** Merges `branch` into the current branch with a merge commit (`--no-ff`). */
  merge(branch: string | string[], message: string, options: CommitOptions = {}): string {
    const time = options.time ?? this.tick();
    const author = options.author ?? { name: 'Default Dev', email: 'dev@example.com' };
    const env = {
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      GIT_AUTHOR_DATE: `@${time} +0000`,
      GIT_COMMITTER_NAME: author.name,
      GIT_COMMITTER_EMAIL: author.email,
      GIT_COMMITTER_DATE: `@${time} +0000`,
    };
    const branches = Array.isArray(branch) ? branch : [branch];
    this.gitWith(env, 'merge', '-q', '--no-ff', '-m', message, ...branches);
    return this.head();
  }

  /** Squash-merges `branch` into the current branch as one commit. */
  squash(branch: string, message: string, options: CommitOptions = {}): string {
    this.git('merge', '-q', '--squash', branch);
    return this.commitStaged(message, options);
  }

  checkout(branch: string, create = false): this {
    if (create) this.git('checkout', '-q', '-b', branch);
    else this.git('checkout', '-q', branch);
    return this;
  }

  head(): string {
    return this.git('rev-parse', 'HEAD').trim();
  }

  /** Adds a git note under `ref` (e.g. refs/notes/ai) to `sha`. */
  note(sha: string, body: string, ref = 'refs/notes/commits'): this {
    this.git('notes', '--ref', ref, 'add', '-f', '-m', body, sha);
    return this;
  }

  /** The next scripted time: one day after the previous. */
  tick(): number {
    this.clock += 86_400;
    return this.clock;
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
