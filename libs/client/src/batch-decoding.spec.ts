import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { BatchMessage, ClusterName } from '@knm/contracts';
import { decodeBatch } from './batch-decoding.js';

const cluster = 'dev' as ClusterName;
const batch: BatchMessage = {
  type: 'batch',
  cluster,
  fromSeq: 4,
  seq: 9,
  envelopes: [
    {
      type: 'node_delete',
      cluster,
      node: 'n-1',
      seq: 7,
      timestamp: '2026-12-03T00:00:00.000Z',
      data: { uid: 'u-1' },
    },
    {
      type: 'pod_counts',
      cluster,
      seq: 9,
      timestamp: '2026-12-03T00:00:00.000Z',
      data: { counts: { 'n-2': 3 } },
    },
  ],
};
const { envelopes, ...header } = batch;

describe('decodeBatch', () => {
  it('takes a plain batch as it is', () => {
    expect(decodeBatch(batch)).toEqual({ ok: true, batch });
  });

  it('inflates a compressed batch, from a Buffer (Node) or an ArrayBuffer (browser), to the same batch', () => {
    const data = deflateRawSync(JSON.stringify(envelopes));
    expect(decodeBatch({ ...header, encoding: 'deflate', data })).toEqual({ ok: true, batch });
    const copy = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    expect(decodeBatch({ ...header, encoding: 'deflate', data: copy })).toEqual({ ok: true, batch });
  });

  it('keeps a compressed live batch live (the watch acks it like live envelopes)', () => {
    const data = deflateRawSync(JSON.stringify(envelopes));
    expect(decodeBatch({ ...header, live: true, encoding: 'deflate', data })).toEqual({
      ok: true,
      batch: { ...batch, live: true },
    });
  });

  it.each([
    [
      'data that is not deflate',
      { ...header, encoding: 'deflate', data: Buffer.from('not deflate') },
      /does not inflate/,
    ],
    ['an unknown encoding', { ...header, encoding: 'br', data: deflateRawSync('[]') }, /encoding/],
    [
      'envelopes that break the contract',
      { ...header, encoding: 'deflate', data: deflateRawSync('[{"type":"nope"}]') },
      /envelopes/,
    ],
    ['a plain batch without envelopes', header, /envelopes/],
  ])('refuses %s, saying why', (_, raw, why) => {
    const decoded = decodeBatch(raw);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.error).toMatch(why);
  });
});
