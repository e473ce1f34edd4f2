import { describe, expect, it } from 'vitest';
import { TermGate, type SyncState } from './term-gate.js';

describe('TermGate', () => {
  it('hands the writer only to work of the current term, and tracks its state', () => {
    const moves: string[] = [];
    const gate = new TermGate<string>((state, previous) => moves.push(`${previous}->${state}`));
    expect(gate.state).toBe('standby');
    const first = gate.begin('w1');
    expect(gate.writerFor(first)).toBe('w1');
    expect(gate.serving(first)).toBe(false);
    gate.enter(first, 'serving');
    expect(gate.serving(first)).toBe(true);
    gate.end();
    expect(gate.writerFor(first)).toBeUndefined();
    // Work of the ended term changes nothing.
    gate.enter(first, 'repairing');
    expect(gate.state).toBe<SyncState>('standby');
    const second = gate.begin('w2');
    expect(second).not.toBe(first);
    expect(gate.writerFor(first)).toBeUndefined();
    expect(gate.writerFor(second)).toBe('w2');
    expect(moves).toEqual([
      'standby->reconciling',
      'reconciling->serving',
      'serving->standby',
      'standby->reconciling',
    ]);
  });
});
