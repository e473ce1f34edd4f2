import { describe, expect, it } from 'vitest';
import { ProbeArrivals } from './probe-arrivals.js';

describe('ProbeArrivals', () => {
  it('times each probe to the first arrival of its value or a later one, per client and node', () => {
    const arrivals = new ProbeArrivals();
    arrivals.record(0, 'a', 1_000, 1_050); // client 0 sees probe 1 of a
    arrivals.record(1, 'a', 2_000, 2_400); // client 1 missed probe 1: it got probe 2 only
    arrivals.record(0, 'b', 1_500, 1_530);
    arrivals.record(0, 'a', 2_000, 2_060);
    const result = arrivals.deliveries(
      [
        { node: 'a', sentAt: 1_000 },
        { node: 'b', sentAt: 1_500 },
        { node: 'a', sentAt: 2_000 },
      ],
      2,
    );
    // a@1000: client 0 after 50 ms, client 1 through probe 2 (1,400 ms); b: client 0 only; a@2000: both.
    expect(result.latencyMs).toEqual([50, 1_400, 30, 60, 400]);
    expect(result.superseded).toBe(1);
    expect(result.missing).toBe(1);
    expect(result.dropped).toBe(0);
  });

  it('takes the first arrival in time, not the closest value, and ignores older values', () => {
    const arrivals = new ProbeArrivals();
    arrivals.record(0, 'a', 900, 950); // an older probe: delivers nothing sent at 1,000
    arrivals.record(0, 'a', 3_000, 3_100); // a later probe arrived first
    arrivals.record(0, 'a', 1_000, 3_200); // then the probe itself, late and out of order
    const result = arrivals.deliveries([{ node: 'a', sentAt: 1_000 }], 1);
    expect(result.latencyMs).toEqual([2_100]);
    expect(result.superseded).toBe(1);
  });

  it('keeps every arrival past its first buffer and forgets them on reset', () => {
    const arrivals = new ProbeArrivals();
    for (let client = 0; client < 3_000; client++) arrivals.record(client, 'a', 1_000, 1_000 + client);
    const all = arrivals.deliveries([{ node: 'a', sentAt: 1_000 }], 3_000);
    expect(all.missing).toBe(0);
    expect(all.latencyMs[2_999]).toBe(2_999);
    arrivals.reset();
    expect(arrivals.deliveries([{ node: 'a', sentAt: 1_000 }], 3_000)).toMatchObject({
      latencyMs: [],
      missing: 3_000,
    });
  });
});
