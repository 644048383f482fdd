import { createHash } from 'node:crypto';
import { FlowgateError } from '../../core/errors.ts';

/**
 * RFC 6962 (section 2.1) Merkle tree hashing, audit paths and consistency proofs; verification as
 * RFC 9162 section 2.1.3.2 and 2.1.4.2 describe it. All hashes are 32-byte SHA-256 digests.
 */

const hashSize = 32;

/** SHA-256 of the concatenated parts. */
export function sha256(...parts: Uint8Array[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** The Merkle tree hash of an empty tree: SHA-256 of nothing. */
export const emptyRoot: Buffer = sha256();

/** Leaf hash: SHA-256(0x00 || data). */
export function leafHash(data: Uint8Array): Buffer {
  return sha256(Buffer.of(0), data);
}

/** Interior node hash: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return sha256(Buffer.of(1), left, right);
}

/** The largest power of two strictly below n (n >= 2): where RFC 6962 splits a tree of n leaves. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** A Merkle tree that grows by appending leaf hashes and answers for any size up to its own. */
export interface MerkleTree {
  readonly size: number;
  append(leaf: Uint8Array): void;
  /** The Merkle tree hash of the first `size` leaves (default: all). */
  root(size?: number): Buffer;
  /** The audit path of leaf `index` in the tree of the first `size` leaves. */
  inclusionProof(index: number, size?: number): Buffer[];
  /** The proof that the tree of `size1` leaves is a prefix of the tree of `size2` leaves. */
  consistencyProof(size1: number, size2?: number): Buffer[];
}

/** Builds a tree over leaf hashes; keeps every complete subtree so proofs cost O(log² n). */
export function merkleTree(leaves: Iterable<Uint8Array> = []): MerkleTree {
  // levels[l][i] is the hash of the complete subtree over leaves [i * 2^l, (i + 1) * 2^l).
  const levels: Buffer[][] = [[]];

  const append = (leaf: Uint8Array): void => {
    if (leaf.length !== hashSize) throw new FlowgateError('INTERNAL', `A Merkle leaf hash must be ${hashSize} bytes, got ${leaf.length}.`);
    let node: Buffer = Buffer.from(leaf);
    for (let level = 0; ; level++) {
      const row = (levels[level] ??= []);
      row.push(node);
      if (row.length % 2 === 1) return;
      node = nodeHash(row[row.length - 2] as Buffer, node);
    }
  };

  const size = (): number => levels[0]?.length ?? 0;

  // RFC 6962 only ever splits [a, b) into a complete left part aligned on its own size and a rest.
  const subtree = (a: number, b: number): Buffer => {
    const n = b - a;
    if ((n & (n - 1)) === 0 && a % n === 0) {
      const stored = levels[Math.log2(n)]?.[a / n];
      if (stored !== undefined) return stored;
    }
    const k = splitPoint(n);
    return nodeHash(subtree(a, a + k), subtree(a + k, b));
  };

  const checkSize = (n: number): number => {
    if (!Number.isInteger(n) || n < 0 || n > size()) {
      throw new FlowgateError('USAGE', `Tree size ${n} is out of range: the tree has ${size()} leaves.`);
    }
    return n;
  };

  const path = (m: number, a: number, b: number): Buffer[] => {
    if (b - a === 1) return [];
    const k = splitPoint(b - a);
    if (m < a + k) return [...path(m, a, a + k), subtree(a + k, b)];
    return [...path(m, a + k, b), subtree(a, a + k)];
  };

  const subproof = (m: number, a: number, b: number, complete: boolean): Buffer[] => {
    if (m === b - a) return complete ? [] : [subtree(a, b)];
    const k = splitPoint(b - a);
    if (m <= k) return [...subproof(m, a, a + k, complete), subtree(a + k, b)];
    return [...subproof(m - k, a + k, b, false), subtree(a, a + k)];
  };

  for (const leaf of leaves) append(leaf);

  return {
    get size() {
      return size();
    },
    append,
    root: (n = size()) => (checkSize(n) === 0 ? emptyRoot : subtree(0, n)),
    inclusionProof: (index, n = size()) => {
      checkSize(n);
      if (!Number.isInteger(index) || index < 0 || index >= n) {
        throw new FlowgateError('USAGE', `Leaf ${index} is not in a tree of ${n} leaves.`);
      }
      return path(index, 0, n);
    },
    consistencyProof: (size1, size2 = size()) => {
      checkSize(size2);
      if (!Number.isInteger(size1) || size1 < 0 || size1 > size2) {
        throw new FlowgateError('USAGE', `Cannot prove size ${size1} consistent with size ${size2}: the first must not exceed the second.`);
      }
      if (size1 === 0 || size1 === size2) return [];
      return subproof(size1, 0, size2, true);
    },
  };
}

/** The Merkle tree hash of a list of leaf hashes. */
export function merkleRoot(leaves: Uint8Array[]): Buffer {
  return merkleTree(leaves).root();
}

const isHash = (value: Uint8Array): boolean => value.length === hashSize;

/** True when `proof` shows the leaf hash at `index` is in the tree of `size` leaves with `root`. */
export function verifyInclusion(leaf: Uint8Array, index: number, size: number, proof: Uint8Array[], root: Uint8Array): boolean {
  if (!isHash(leaf) || !isHash(root) || !proof.every(isHash)) return false;
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** True when `proof` shows the tree of `size1` leaves (`root1`) is a prefix of the tree of `size2` (`root2`). */
export function verifyConsistency(size1: number, size2: number, root1: Uint8Array, root2: Uint8Array, proof: Uint8Array[]): boolean {
  if (!isHash(root1) || !isHash(root2) || !proof.every(isHash)) return false;
  if (!Number.isInteger(size1) || !Number.isInteger(size2) || size1 < 0 || size1 > size2) return false;
  if (size1 === size2) return proof.length === 0 && Buffer.from(root1).equals(root2);
  if (size1 === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = (size1 & (size1 - 1)) === 0 ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  const [first, ...rest] = path;
  if (first === undefined) return false;
  let fr: Buffer = Buffer.from(first);
  let sr: Buffer = Buffer.from(first);
  for (const c of rest) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(root1) && sr.equals(root2);
}
