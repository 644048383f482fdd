import cliProgress from 'cli-progress';
import { isInteractive } from '../../core/terminal.ts';

/** A progress display: a bar on an interactive terminal, nothing in CI, pipes or `--json` runs. */
export interface Progress {
  update(label: string, done: number, total: number): void;
  stop(): void;
}

/** Creates the progress display for a command; `quiet` forces silence. */
export function createProgress(quiet: boolean): Progress {
  if (quiet || !isInteractive()) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { format: '{label} [{bar}] {value}/{total} {eta_formatted}', stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let current: string | null = null;
  return {
    update(label, done, total) {
      if (current !== label) {
        if (current !== null) bar.stop();
        bar.start(total, done, { label });
        current = label;
        return;
      }
      bar.update(done, { label });
    },
    stop() {
      if (current !== null) bar.stop();
      current = null;
    },
  };
}
