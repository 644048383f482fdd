import type { MinedChange, Provenance, ProvenanceClass, ProvenanceEvidence, ProvenanceStrength, Trailer } from '../../changes/change.ts';
import { parseGitAiNote } from './git-ai.ts';
import type { Signature, SignatureWhere } from './signatures.ts';

/** What the detector reads: the mined change, plus the PR's description and author when known. */
export interface ProvenanceInput
  extends Pick<MinedChange, 'author' | 'committer' | 'subject' | 'body' | 'trailers' | 'headBranch' | 'commits' | 'notes'> {
  prBody?: string | null | undefined;
  prAuthorLogin?: string | null | undefined;
}

/** One piece of text a signature may be tested against, and where it came from. */
interface Field {
  where: SignatureWhere;
  /** Evidence location: the field name, `note:<ref>`, or `commit:<sha7>/<field>`. */
  label: string;
  text: string;
  own: boolean;
}

const strengthRank: Record<ProvenanceStrength, number> = { strong: 3, medium: 2, weak: 1, none: 0 };
const maxMatched = 200;

const compiled = new WeakMap<Signature, RegExp>();

/** The signature's pattern compiled once (signatures are immutable data, so identity is a safe key). */
function regexOf(signature: Signature): RegExp {
  const cached = compiled.get(signature);
  if (cached !== undefined) return cached;
  const source = signature.literal ? signature.pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : signature.pattern;
  const regex = new RegExp(source, 'im');
  compiled.set(signature, regex);
  return regex;
}

/**
 * Trailer-like lines (`Key: value`) anywhere in a message. Not only the last paragraph: a GitHub
 * squash commit lists every squashed commit's message, trailers included, one after the other.
 * Trailer signatures are anchored on their key, so prose lines do not match them.
 */
function trailersInText(text: string): Trailer[] {
  const found: Trailer[] = [];
  for (const line of text.split(/\r?\n/)) {
    const match = /^([A-Za-z0-9][A-Za-z0-9-]*)[ \t]*:[ \t]*(\S.*?)\s*$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) found.push({ key: match[1], value: match[2] });
  }
  return found;
}

/** The change's trailers as `Key: value`, from the mined list and the message body, without repeats. */
function trailerTexts(trailers: Trailer[], body: string): string[] {
  const texts = new Map<string, string>();
  for (const trailer of [...trailers, ...trailersInText(body)]) {
    const text = `${trailer.key.trim()}: ${trailer.value.trim()}`;
    const key = text.toLowerCase().replace(/\s+/g, ' ');
    if (!texts.has(key)) texts.set(key, text);
  }
  return [...texts.values()];
}

/** Every place of the change (and of the commits a merge brought in) signatures look at. */
function fieldsOf(input: ProvenanceInput): Field[] {
  const fields: Field[] = [
    { where: 'author-email', label: 'author-email', text: input.author.email, own: true },
    { where: 'author-name', label: 'author-name', text: input.author.name, own: true },
    { where: 'committer', label: 'committer', text: `${input.committer.name} <${input.committer.email}>`, own: true },
    { where: 'subject', label: 'subject', text: input.subject, own: true },
    { where: 'body', label: 'body', text: input.body, own: true },
    ...trailerTexts(input.trailers, input.body).map((text): Field => ({ where: 'trailer', label: 'trailer', text, own: true })),
  ];
  if (input.headBranch !== null) fields.push({ where: 'branch', label: 'branch', text: input.headBranch, own: true });
  if (input.prBody != null) fields.push({ where: 'pr-body', label: 'pr-body', text: input.prBody, own: true });
  if (input.prAuthorLogin != null) fields.push({ where: 'pr-author', label: 'pr-author', text: input.prAuthorLogin, own: true });
  for (const note of input.notes) fields.push({ where: 'note', label: `note:${note.ref}`, text: note.body, own: true });
  for (const commit of input.commits) {
    const prefix = `commit:${commit.sha.slice(0, 7)}/`;
    fields.push(
      { where: 'author-email', label: `${prefix}author-email`, text: commit.author.email, own: false },
      { where: 'author-name', label: `${prefix}author-name`, text: commit.author.name, own: false },
      { where: 'subject', label: `${prefix}subject`, text: commit.subject, own: false },
      { where: 'body', label: `${prefix}body`, text: commit.body, own: false },
      ...trailerTexts(commit.trailers, commit.body).map((text): Field => ({ where: 'trailer', label: `${prefix}trailer`, text, own: false })),
    );
  }
  return fields;
}

/** Evidence from one signature matching one field; a git-ai log yields one per AI session instead. */
function evidenceFor(signature: Signature, field: Field, matched: string): ProvenanceEvidence[] {
  const base: ProvenanceEvidence = {
    signature: signature.id,
    tool: signature.tool,
    class: signature.class,
    where: field.label,
    matched: matched.length > maxMatched ? `${matched.slice(0, maxMatched)}…` : matched,
    strength: signature.strength,
  };
  if (field.where !== 'note' || signature.tool !== 'git-ai') return [base];
  const note = parseGitAiNote(field.text, { where: field.label });
  // Unreadable log: the marker itself is still a self-declared git-ai claim, so keep it.
  if (note === null) return [base];
  // A readable log that attests no AI lines says the commit is human-written.
  return note.evidence.map((session) => ({ ...session, signature: signature.id, class: signature.class, strength: signature.strength }));
}

// Slugs that name a format rather than the tool that wrote the code: any named tool is preferred.
const vagueTools = new Set(['git-ai', 'agent-trace', 'unspecified']);

/** Orders evidence strongest first: strength, a named tool, the change's own fields, table order. */
function rankEvidence(evidence: { item: ProvenanceEvidence; own: boolean; order: number }[]): ProvenanceEvidence[] {
  const vague = (item: ProvenanceEvidence): number => Number(vagueTools.has(item.tool));
  return [...evidence]
    .sort(
      (a, b) =>
        strengthRank[b.item.strength] - strengthRank[a.item.strength] ||
        vague(a.item) - vague(b.item) ||
        Number(b.own) - Number(a.own) ||
        a.order - b.order,
    )
    .map((entry) => entry.item);
}

const ownAuthorFields = new Set(['author-email', 'author-name', 'pr-author']);

/**
 * Who or what wrote a change: every signature is tested against the change's own fields and those
 * of the commits a merge brought in; all matches are kept as evidence. The class is `automation`
 * when the author is a bot (the change's author or PR author, or every brought-in commit's author),
 * else the most specific class seen (agent over ai-assisted over automation); the tool and strength
 * come from the strongest evidence of that class. Nothing matched: human, strength none.
 */
export function detectProvenance(input: ProvenanceInput, signatures: readonly Signature[]): Provenance {
  const found: { item: ProvenanceEvidence; own: boolean; order: number }[] = [];
  const seen = new Set<string>();
  const fields = fieldsOf(input);
  signatures.forEach((signature, order) => {
    const regex = regexOf(signature);
    for (const field of fields) {
      if (field.where !== signature.where) continue;
      const match = regex.exec(field.text);
      if (match === null) continue;
      for (const item of evidenceFor(signature, field, match[0])) {
        const key = `${item.signature}\u0000${item.where}\u0000${item.matched}`;
        if (seen.has(key)) continue;
        seen.add(key);
        found.push({ item, own: field.own, order });
      }
    }
  });
  if (found.length === 0) return { class: 'human', tool: null, strength: 'none', evidence: [] };

  const isBotAuthor = (label: string): boolean =>
    found.some(({ item }) => item.class === 'automation' && item.where === label);
  const ownBot = found.some(({ item, own }) => own && item.class === 'automation' && ownAuthorFields.has(item.where));
  const broughtBot =
    input.commits.length > 0 &&
    input.commits.every((commit) => {
      const prefix = `commit:${commit.sha.slice(0, 7)}/`;
      return isBotAuthor(`${prefix}author-email`) || isBotAuthor(`${prefix}author-name`);
    });
  const classes = new Set(found.map(({ item }) => item.class));
  const chosen: ProvenanceClass =
    ownBot || broughtBot ? 'automation' : classes.has('agent') ? 'agent' : classes.has('ai-assisted') ? 'ai-assisted' : 'automation';

  const evidence = rankEvidence(found);
  const best = evidence.find((item) => item.class === chosen);
  return { class: chosen, tool: best?.tool ?? null, strength: best?.strength ?? 'none', evidence };
}
