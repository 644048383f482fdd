/**
 * Measures both SZZ engines on a real repository (not a test: run by hand with tsx).
 * Usage: npx tsx src/analyses/labels/__fixtures__/measure-szz.ts <repo> [blame-sample-size]
 */
import { execFileSync } from 'node:child_process';
import { LabelsConfig } from '../config.ts';
import { createChangeIndex, createFixDetector } from '../fixes.ts';
import type { SzzInput } from '../szz.ts';
import { traceByBlame, traceByStream } from '../trace.ts';

const repo = process.argv[2] ?? '.';
const sample = Number(process.argv[3] ?? '0');
const raw = execFileSync('git', ['log', '--first-parent', '--reverse', '--format=%H%x1f%P%x1f%s%x1f%b%x1e', 'HEAD'], { cwd: repo, encoding: 'utf8', maxBuffer: 1 << 30 });
const changes = raw
  .split('\x1e')
  .map((r) => r.replace(/^\n/, ''))
  .filter((r) => r !== '')
  .map((r, position) => {
    const [sha = '', parents = '', subject = '', body = ''] = r.split('\x1f');
    return { position, sha, parent: parents.split(' ')[0] || null, subject, body, prNumber: null };
  });
const config = LabelsConfig.parse({});
const detect = createFixDetector(config);
const index = createChangeIndex(changes, []);
const fixes = changes.filter((c) => {
  const f = detect(c, index);
  return f !== null && f.kind !== 'revert';
});
const input: SzzInput = {
  positions: new Map(changes.map((c) => [c.sha, c.position])),
  fixes: new Set(fixes.map((f) => f.position)),
  ignored: new Set(),
  filesChanged: () => 1,
  options: { traceKinds: config.traceKinds, maxFixFiles: config.maxFixFiles, pick: 'most-recent' },
};
let t = performance.now();
const streamed = await traceByStream(repo, 'HEAD', input);
const streamMs = performance.now() - t;
console.log(JSON.stringify({ repo, changes: changes.length, fixes: fixes.length, streamMs: Math.round(streamMs), streamLabels: streamed.length, inducing: new Set(streamed.map((l) => l.inducing)).size, heapMb: Math.round(process.memoryUsage().rss / 1e6) }));
if (sample > 0) {
  const step = Math.max(1, Math.floor(fixes.length / sample));
  const chosen = fixes.filter((_, i) => i % step === 0).slice(0, sample);
  const chosenSet = new Set(chosen.map((c) => c.position));
  t = performance.now();
  const blamed = await traceByBlame(repo, chosen, { ...input, fixes: chosenSet }, []);
  const blameMs = performance.now() - t;
  const key = (l: { inducing: number; fix: number }): string => `${l.inducing}:${l.fix}`;
  const streamSet = new Set(streamed.filter((l) => chosenSet.has(l.fix)).map(key));
  const blameSet = new Set(blamed.map(key));
  const agree = [...blameSet].filter((k) => streamSet.has(k)).length;
  console.log(JSON.stringify({ sampledFixes: chosen.length, blameMs: Math.round(blameMs), blameMsPerFix: Math.round(blameMs / chosen.length), projectedBlameAllFixesS: Math.round((blameMs / chosen.length) * fixes.length / 1000), blameLabels: blameSet.size, streamLabelsOnSample: streamSet.size, agree }));
}
