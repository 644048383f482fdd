import { describe, expect, it } from 'vitest';
import { emptyRoot, leafHash, merkleRoot, merkleTree, nodeHash, sha256, verifyConsistency, verifyInclusion } from './merkle.ts';

// Certificate Transparency / RFC 6962 reference vectors (as published with transparency-dev/merkle).
const data = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) =>
  Buffer.from(h, 'hex'),
);
const roots = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const hex = (hashes: Buffer[]): string[] => hashes.map((h) => h.toString('hex'));
const unhex = (hashes: string[]): Buffer[] => hashes.map((h) => Buffer.from(h, 'hex'));
const rootAt = (n: number): Buffer => Buffer.from(roots[n] as string, 'hex');

// [leaf index (0-based), tree size, audit path]
const inclusionVectors: [number, number, string[]][] = [
  [0, 1, []],
  [0, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [5, 8, ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [1, 5, ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
];

// [size1, size2, consistency proof]
const consistencyVectors: [number, number, string[]][] = [
  [1, 1, []],
  [1, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [6, 8, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [2, 5, ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
  [6, 7, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
];

const tree = merkleTree(data.map(leafHash));

describe('Merkle tree (RFC 6962)', () => {
  it('hashes leaves and nodes with the 0x00 / 0x01 prefixes', () => {
    expect(leafHash(Buffer.alloc(0)).toString('hex')).toBe(roots[1]);
    const [a, b] = data.slice(0, 2).map(leafHash) as [Buffer, Buffer];
    expect(nodeHash(a, b).toString('hex')).toBe(roots[2]);
    expect(nodeHash(a, b).equals(sha256(Buffer.of(1), a, b))).toBe(true);
  });

  it('gives the reference root for every size 0..8', () => {
    expect(emptyRoot.toString('hex')).toBe(roots[0]);
    for (let n = 0; n <= 8; n++) {
      expect(tree.root(n).toString('hex'), `size ${n}`).toBe(roots[n]);
      expect(merkleRoot(data.slice(0, n).map(leafHash)).toString('hex')).toBe(roots[n]);
    }
  });

  it.each(inclusionVectors)('gives and verifies the reference audit path of leaf %i in a tree of %i', (index, size, proof) => {
    expect(hex(tree.inclusionProof(index, size))).toEqual(proof);
    expect(verifyInclusion(leafHash(data[index] as Buffer), index, size, unhex(proof), rootAt(size))).toBe(true);
  });

  it.each(consistencyVectors)('gives and verifies the reference consistency proof from %i to %i', (size1, size2, proof) => {
    expect(hex(tree.consistencyProof(size1, size2))).toEqual(proof);
    expect(verifyConsistency(size1, size2, rootAt(size1), rootAt(size2), unhex(proof))).toBe(true);
  });

  it('rejects a corrupted, shortened, lengthened or misplaced audit path', () => {
    const [index, size, proof] = inclusionVectors[2] as [number, number, string[]];
    const leaf = leafHash(data[index] as Buffer);
    const good = unhex(proof);
    const flipped = unhex(proof);
    flipped[1]![0]! ^= 8;
    expect(verifyInclusion(leaf, index, size, flipped, rootAt(size))).toBe(false);
    expect(verifyInclusion(leaf, index, size, good.slice(0, -1), rootAt(size))).toBe(false);
    expect(verifyInclusion(leaf, index, size, [...good, rootAt(size)], rootAt(size))).toBe(false);
    expect(verifyInclusion(leaf, index - 1, size, good, rootAt(size))).toBe(false);
    expect(verifyInclusion(leaf, index + 1, size, good, rootAt(size))).toBe(false);
    expect(verifyInclusion(leaf, index, size * 2, good, rootAt(size))).toBe(false);
    expect(verifyInclusion(leafHash(Buffer.from('WrongLeaf')), index, size, good, rootAt(size))).toBe(false);
    expect(verifyInclusion(leaf, index, size, good, emptyRoot)).toBe(false);
  });

  it('rejects a corrupted or shortened consistency proof, swapped roots and time travel', () => {
    const [size1, size2, proof] = consistencyVectors[2] as [number, number, string[]];
    const good = unhex(proof);
    const flipped = unhex(proof);
    flipped[0]![0]! ^= 16;
    expect(verifyConsistency(size1, size2, rootAt(size1), rootAt(size2), flipped)).toBe(false);
    expect(verifyConsistency(size1, size2, rootAt(size1), rootAt(size2), good.slice(0, -1))).toBe(false);
    expect(verifyConsistency(size1, size2, rootAt(size1), rootAt(size2), [])).toBe(false);
    expect(verifyConsistency(size1, size2, rootAt(size2), rootAt(size1), good)).toBe(false);
    expect(verifyConsistency(size2, size1, rootAt(size2), rootAt(size1), good)).toBe(false);
    expect(verifyConsistency(size1 - 1, size2, rootAt(size1), rootAt(size2), good)).toBe(false);
    expect(verifyConsistency(4, 4, rootAt(4), rootAt(4), [])).toBe(true);
    expect(verifyConsistency(4, 4, rootAt(4), rootAt(5), [])).toBe(false);
  });

  it('proves every leaf and every prefix of a larger ragged tree, appended one leaf at a time', () => {
    const big = merkleTree();
    const leaves = Array.from({ length: 70 }, (_, i) => leafHash(Buffer.from(`record ${i}`)));
    for (const leaf of leaves) big.append(leaf);
    for (let n = 1; n <= leaves.length; n += 3) {
      const root = big.root(n);
      expect(root.equals(merkleRoot(leaves.slice(0, n)))).toBe(true);
      for (let i = 0; i < n; i++) expect(verifyInclusion(leaves[i] as Buffer, i, n, big.inclusionProof(i, n), root)).toBe(true);
      for (let m = 0; m <= n; m++) expect(verifyConsistency(m, n, big.root(m), root, big.consistencyProof(m, n))).toBe(true);
    }
    expect(() => big.inclusionProof(70, 70)).toThrow(/not in a tree of 70/);
    expect(() => big.root(71)).toThrow(/out of range/);
  });
});
