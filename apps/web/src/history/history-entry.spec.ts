import { describe, expect, it } from 'vitest';
import { HistoryEntrySchema, type HistoryEntry } from '@knm/contracts';
import { describeHistoryEntry, historyTone, toHistoryLine } from './history-entry.js';

const at = '2026-12-01T10:00:00.000Z';

/** An entry as the gateway sends it, checked against the contract. */
function entry(fields: Record<string, unknown>): HistoryEntry {
  return HistoryEntrySchema.parse({ id: '1764583200000-0', at, timeSource: 'transition', ...fields });
}

describe('describeHistoryEntry', () => {
  it('words condition changes with the previous status, the reason and a message that says more', () => {
    const notReady = entry({
      kind: 'condition',
      condition: 'Ready',
      status: 'False',
      previous: 'True',
      reason: 'KubeletNotReady',
      message: 'container runtime is down',
    });
    expect(describeHistoryEntry(notReady)).toBe(
      'Ready True → False (KubeletNotReady: container runtime is down)',
    );
    expect(
      describeHistoryEntry(
        entry({
          kind: 'condition',
          condition: 'Ready',
          status: 'True',
          previous: 'False',
          reason: 'KubeletReady',
          message: 'KubeletReady',
        }),
      ),
    ).toBe('Ready False → True (KubeletReady)');
    expect(
      describeHistoryEntry(entry({ kind: 'condition', condition: 'DiskPressure', status: 'True' })),
    ).toBe('DiskPressure appeared → True');
    expect(
      describeHistoryEntry(entry({ kind: 'condition', condition: 'GPUHealthy', status: 'Removed' })),
    ).toBe('GPUHealthy condition removed');
  });

  it('words cordons with who and why when knm recorded them', () => {
    expect(describeHistoryEntry(entry({ kind: 'cordon', by: 'alice', reason: 'maintenance' }))).toBe(
      'Cordoned by alice: maintenance',
    );
    expect(describeHistoryEntry(entry({ kind: 'cordon' }))).toBe('Cordoned');
    expect(describeHistoryEntry(entry({ kind: 'uncordon' }))).toBe('Uncordoned');
  });

  it('words taints as kubectl writes them, and node life', () => {
    const taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
    expect(describeHistoryEntry(entry({ kind: 'taint_added', taint }))).toBe(
      'Taint added dedicated=gpu:NoSchedule',
    );
    expect(
      describeHistoryEntry(entry({ kind: 'taint_removed', taint: { key: 'spot', effect: 'NoExecute' } })),
    ).toBe('Taint removed spot:NoExecute');
    expect(describeHistoryEntry(entry({ kind: 'node_added' }))).toBe('Node added to the cluster');
    expect(describeHistoryEntry(entry({ kind: 'node_removed' }))).toBe('Node removed from the cluster');
  });

  it('words operation steps with their action, result, author and error', () => {
    const op = { id: 'op-1', action: 'drain', status: 'succeeded', by: 'bob' };
    expect(describeHistoryEntry(entry({ kind: 'operation', operation: op }))).toBe(
      'Operation drain succeeded (by bob)',
    );
    expect(
      describeHistoryEntry(
        entry({
          kind: 'operation',
          operation: { ...op, status: 'failed', error: 'PDB web blocks eviction' },
        }),
      ),
    ).toBe('Operation drain failed (by bob): PDB web blocks eviction');
  });
});

describe('historyTone and toHistoryLine', () => {
  it('marks health lost as bad, regained as ok, the rest neutral', () => {
    expect(historyTone(entry({ kind: 'condition', condition: 'Ready', status: 'Unknown' }))).toBe('bad');
    expect(historyTone(entry({ kind: 'condition', condition: 'Ready', status: 'True' }))).toBe('ok');
    expect(historyTone(entry({ kind: 'condition', condition: 'MemoryPressure', status: 'True' }))).toBe(
      'bad',
    );
    expect(historyTone(entry({ kind: 'condition', condition: 'MemoryPressure', status: 'False' }))).toBe(
      'ok',
    );
    expect(historyTone(entry({ kind: 'condition', condition: 'Custom', status: 'True' }))).toBe('neutral');
    expect(historyTone(entry({ kind: 'node_removed' }))).toBe('bad');
    expect(historyTone(entry({ kind: 'cordon' }))).toBe('neutral');
  });

  it('carries the time as epoch ms and says when it is the time knm saw the change', () => {
    const line = toHistoryLine({ ...entry({ kind: 'uncordon' }), timeSource: 'observed' });
    expect(line).toEqual({
      id: '1764583200000-0',
      at: Date.parse(at),
      kind: 'uncordon',
      text: 'Uncordoned',
      tone: 'neutral',
      observed: true,
    });
  });
});
