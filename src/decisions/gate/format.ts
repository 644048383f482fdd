import type { Decision } from './types.ts';

/** Output formats of a decision: text for terminals, json for tools, markdown for the PR comment. */
export type DecisionFormat = 'text' | 'json' | 'markdown';

const outcomeLabel: Record<Decision['outcome'], string> = {
  'merge-allowed': 'merge allowed',
  'needs-review': 'needs review',
  blocked: 'blocked',
};

const short = (sha: string): string => sha.slice(0, 7);

const riskSource: Record<NonNullable<NonNullable<Decision['risk']>['source']>, string> = {
  'repository-model': "the repository's model",
  'default-model': 'the default model',
  given: 'given with --risk',
};

/** The explanation as labelled sections of lines, shared by the text and markdown formats. */
function sections(d: Decision): { title: string; lines: string[] }[] {
  const author = `${d.author.name} <${d.author.email}> (${d.author.kind}${d.author.agent === null ? '' : `: ${d.author.agent}`}; provenance ${d.provenance.class}${d.provenance.tool === null ? '' : `, ${d.provenance.tool}`})`;
  const out: { title: string; lines: string[] }[] = [
    {
      title: 'Change',
      lines: [`${short(d.base)}..${short(d.head)}: ${d.files} file${d.files === 1 ? '' : 's'}, ${d.lines} lines${d.lane === null ? '' : `, ${d.lane} lane`}`, `author ${author}`, `policy ${d.policySource}`],
    },
  ];
  if (d.reasons.length > 0) out.push({ title: 'Blocked because', lines: d.reasons });
  if (d.risk !== null) {
    out.push({
      title: 'Risk',
      lines: [
        `probability ${d.risk.probability.toFixed(2)}${d.risk.source === undefined ? '' : ` (${riskSource[d.risk.source]}${d.risk.modelId === undefined ? '' : ` ${d.risk.modelId}`})`}`,
        ...d.risk.topFactors.slice(0, 5).map((f) => `${f.feature} = ${featureValue(f.value)} (${f.contribution >= 0 ? '+' : ''}${f.contribution.toFixed(3)})`),
      ],
    });
  }
  out.push({ title: 'Rules that fired', lines: d.rules.map((r) => `${r.rule}${r.tier === null ? '' : ` [${r.tier}]`}: ${r.detail}`) });
  if (d.requirements.length > 0) {
    out.push({ title: 'Approvals required', lines: d.requirements.map((r) => `${r.met ? '[x]' : '[ ]'} ${r.description}${r.satisfiedBy.length > 0 ? ` (by ${r.satisfiedBy.join(', ')})` : ''}`) });
  }
  if (d.approvals.length > 0) {
    out.push({ title: 'Approvals given', lines: d.approvals.map((a) => `${a.by} on ${short(a.sha)}: ${a.counted ? 'counts' : `does not count: ${a.reason ?? ''}`}`) });
  }
  if (d.checks.length > 0) out.push({ title: 'Required checks', lines: d.checks.map((c) => `${c.name}: ${c.state}`) });
  if (d.trust !== null) {
    const t = d.trust;
    out.push({ title: 'Agent trust', lines: [`${t.level}: ${t.changes} changes, ${t.escapes} escapes, ${t.reverts} reverts${t.autoLane ? '' : `; ${t.toEarnAutoLane} more clean changes to earn the auto lane`}`] });
  }
  if (d.toLowerTier.length > 0) out.push({ title: 'To move it down a tier', lines: d.toLowerTier });
  if (d.notes.length > 0) out.push({ title: 'Based on', lines: d.notes });
  return out;
}

/** A feature's value as people read it: whole numbers as they are, others to 3 significant digits. */
function featureValue(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(3)));
}

/** Formats a decision for a terminal, a tool (JSON) or a pull-request comment (Markdown). */
export function formatDecision(decision: Decision, format: DecisionFormat): string {
  if (format === 'json') return `${JSON.stringify(decision, null, 2)}\n`;
  const headline = `${outcomeLabel[decision.outcome]}: tier ${decision.tier}`;
  if (format === 'text') {
    const body = sections(decision).map((s) => [`${s.title}:`, ...s.lines.map((l) => `  ${l}`)].join('\n'));
    return `${[`flowgate: ${headline}`, ...body].join('\n\n')}\n`;
  }
  const icon = decision.outcome === 'merge-allowed' ? '✅' : decision.outcome === 'blocked' ? '⛔' : '👀';
  // Brackets stay unescaped so that `[x]` / `[ ]` render as a task list.
  const escape = (s: string): string => s.replace(/([\\`*_<>|])/g, '\\$1');
  const body = sections(decision).map((s) => [`#### ${s.title}`, '', ...s.lines.map((l) => `- ${escape(l)}`)].join('\n'));
  return `${[`### ${icon} flowgate: ${headline}`, ...body, '<!-- flowgate-decision -->'].join('\n\n')}\n`;
}
