import { describe, expect, it } from 'vitest';
import type { HistoryEntry, HistoryPage } from '@knm/contracts';
import { NodeHistory } from './node-history.js';

/** A node's stored history, newest first, paged as the gateway pages it. */
function fakeGateway(pageSize: number) {
  const stored: HistoryEntry[] = [];
  let ms = 1_000;
  return {
    add(count: number): void {
      for (let i = 0; i < count; i += 1) {
        ms += 1;
        stored.unshift({
          id: `${ms}-0`,
          at: new Date(ms).toISOString(),
          timeSource: 'observed',
          kind: 'uncordon',
        });
      }
    },
    load: (node: string, before?: string): Promise<HistoryPage> => {
      const from = before === undefined ? 0 : stored.findIndex((e) => e.id === before) + 1;
      const items = stored.slice(from, from + pageSize);
      const more = from + pageSize < stored.length;
      return Promise.resolve({
        cluster: 'dev',
        node,
        items,
        ...(more ? { next: items.at(-1)?.id } : {}),
      } as HistoryPage);
    },
  };
}

const ids = (h: NodeHistory): string[] => h.lines.value.map((l) => l.id);

describe('NodeHistory', () => {
  it('pages older entries with next, and a refresh keeps them when the newest page overlaps', async () => {
    const gateway = fakeGateway(3);
    gateway.add(7);
    const history = new NodeHistory(gateway.load);
    await history.show('n1');
    expect(ids(history)).toEqual(['1007-0', '1006-0', '1005-0']);
    await history.loadOlder();
    await history.loadOlder();
    expect(ids(history)).toEqual(['1007-0', '1006-0', '1005-0', '1004-0', '1003-0', '1002-0', '1001-0']);
    expect(history.next.value).toBeUndefined();
    gateway.add(2);
    await history.refresh();
    expect(ids(history)[0]).toBe('1009-0');
    expect(ids(history)).toHaveLength(9);
    expect(history.next.value).toBeUndefined();
  });

  it('starts over from the newest page when more entries came than one page holds', async () => {
    const gateway = fakeGateway(3);
    gateway.add(5);
    const history = new NodeHistory(gateway.load);
    await history.show('n1');
    await history.loadOlder();
    gateway.add(4);
    await history.refresh();
    expect(ids(history)).toEqual(['1009-0', '1008-0', '1007-0']);
    expect(history.next.value).toBe('1007-0');
  });

  it("shows the gateway's message, and drops answers for a node no longer shown", async () => {
    let fail = true;
    const gateway = fakeGateway(3);
    gateway.add(1);
    const history = new NodeHistory((node, before) =>
      fail ? Promise.reject(new Error('cluster dev is not known')) : gateway.load(node, before),
    );
    await history.show('n1');
    expect(history.error.value).toBe('cluster dev is not known');
    fail = false;
    const late = history.refresh();
    history.dispose();
    await late;
    expect(ids(history)).toEqual([]);
  });
});
