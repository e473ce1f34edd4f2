import { describe, expect, it } from 'vitest';
import { LuaScript, scriptStatus } from './lua-script.js';

describe('scriptStatus', () => {
  it('reads {code, value} replies, with Buffers as strings', () => {
    expect(scriptStatus([0, 12])).toEqual({ code: 0, value: 12 });
    expect(scriptStatus([1, '7'])).toEqual({ code: 1, value: '7' });
    expect(scriptStatus([2, Buffer.from('staged 1/2 nodes')])).toEqual({
      code: 2,
      value: 'staged 1/2 nodes',
    });
  });

  it('returns undefined for anything else', () => {
    for (const reply of [null, 'OK', 3, [], [0], ['0', 1], [0, null], [0, [1]], { code: 0, value: 1 }]) {
      expect(scriptStatus(reply), JSON.stringify(reply)).toBeUndefined();
    }
  });
});

describe('LuaScript', () => {
  it('names its ioredis command after the script text, so two versions never collide', () => {
    const a = new LuaScript('apply-nodes', 'return 1', 1);
    const b = new LuaScript('apply-nodes', 'return 2', 1);
    expect(a.commandName).toMatch(/^knm_apply_nodes_[0-9a-f]{10}$/);
    expect(b.commandName).not.toBe(a.commandName);
    expect(new LuaScript('apply-nodes', 'return 1', 1).commandName).toBe(a.commandName);
  });
});
