import type { IdentityKind } from '../../store/schema.ts';

/** A possible reviewer: a stored identity, or someone known only from review history or blame. */
export interface Person {
  /** The identity key (`Name <email>`); the stable sort key of every ranking. */
  key: string;
  /** identities.id, or null for someone not in the store. */
  id: number | null;
  name: string;
  email: string;
  login: string | null;
  kind: IdentityKind;
}

/**
 * True when a config or CLI spec names this person: `@login`, `Name <email>`, an e-mail, or a
 * name/login; case-insensitive.
 */
export function personMatches(person: Person, spec: string): boolean {
  const s = spec.trim().toLowerCase();
  if (s === '') return false;
  if (s.startsWith('@')) return person.login !== null && person.login.toLowerCase() === s.slice(1);
  const angle = /<([^>]+)>/.exec(s);
  if (angle !== null) return person.key.toLowerCase() === s || person.email.toLowerCase() === angle[1];
  if (s.includes('@')) return person.email.toLowerCase() === s;
  return person.name.toLowerCase() === s || person.login?.toLowerCase() === s;
}

/** True when any of `specs` names the person. */
export function matchesAny(person: Person, specs: readonly string[]): boolean {
  return specs.some((spec) => personMatches(person, spec));
}

/** A person known only by `Name <email>` (or a bare e-mail / login), for reviewers and blame authors not in the store. */
export function personFromSpec(spec: string): Person {
  const trimmed = spec.trim();
  const angle = /^(.*?)\s*<([^>]+)>$/.exec(trimmed);
  const name = angle?.[1] ?? (trimmed.startsWith('@') ? trimmed.slice(1) : trimmed);
  const email = angle?.[2] ?? (trimmed.includes('@') && !trimmed.startsWith('@') ? trimmed : '');
  const login = trimmed.startsWith('@') ? trimmed.slice(1) : null;
  const key = angle !== null ? trimmed : email !== '' ? `${name} <${email}>` : trimmed;
  return { key, id: null, name, email, login, kind: looksLikeBot(trimmed) ? 'bot' : 'person' };
}

/** Bot accounts named by the platform convention (`name[bot]`), for people the store has not classified. */
export function looksLikeBot(text: string): boolean {
  return /\[bot\]/i.test(text);
}
