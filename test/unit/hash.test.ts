import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import test from 'node:test';
import fc from 'fast-check';
import { canonicalJson, sha256Hex } from '../../core/designer/hash';

const nodeSha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

test('sha256Hex: FIPS 180-2 test vectors', () => {
  assert.equal(sha256Hex(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(
    sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'),
    '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
  );
  assert.equal(sha256Hex('a'.repeat(1_000_000)), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
});

test('sha256Hex hashes the UTF-8 encoding, as node:crypto does', () => {
  // Two- to four-byte sequences, and 55/56/64-byte messages around the padding boundary.
  for (const s of ['héllo wörld', '✓ 漢字', '😀 emoji (a surrogate pair)', 'x'.repeat(55), 'x'.repeat(56), 'é'.repeat(32)])
    assert.equal(sha256Hex(s), nodeSha256(s), JSON.stringify(s));
});

test('sha256Hex: a lone surrogate is hashed as U+FFFD (EF BF BD), as node:crypto does', () => {
  const replacement = nodeSha256('\ufffd');
  assert.equal(
    replacement,
    createHash('sha256')
      .update(Buffer.from([0xef, 0xbf, 0xbd]))
      .digest('hex'),
  );
  assert.equal(sha256Hex('\ud800'), replacement);
  assert.equal(sha256Hex('\udc00'), replacement);
  assert.equal(sha256Hex('a\ud83dz'), nodeSha256('a\ud83dz'));
});

test('sha256Hex agrees with node:crypto on any string of UTF-16 code units (lone surrogates included)', () => {
  const anyUnits = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 150 }).map((u) => String.fromCharCode(...u));
  fc.assert(
    fc.property(anyUnits, (s) => sha256Hex(s) === nodeSha256(s)),
    { numRuns: 500, seed: 12 },
  );
});

test('content hashes of canonical JSON are stable: key order does not matter', () => {
  const a = canonicalJson({ b: [1, 'ü'], a: { d: 2, c: null } });
  assert.equal(a, canonicalJson({ a: { c: null, d: 2 }, b: [1, 'ü'] }));
  assert.equal(sha256Hex(a), nodeSha256('{"a":{"c":null,"d":2},"b":[1,"ü"]}'));
});
