import { describe, expect, it } from 'vitest';
import { fields, MessageWriter, text } from './protobuf-wire.js';

describe('MessageWriter', () => {
  it('writes what the reader reads back: strings, bools, embedded messages, in order', () => {
    const long = 'x'.repeat(300);
    const inner = new MessageWriter().string(4, long);
    const bytes = new MessageWriter()
      .string(1, 'a')
      .bool(16, true)
      .message(2, inner)
      .strings(3, ['', 'b'])
      .finish();
    const read = fields(bytes);
    expect(read.map((f) => [f.number, f.wireType])).toEqual([
      [1, 2],
      [16, 0],
      [2, 2],
      [3, 2],
      [3, 2],
    ]);
    expect(text(read[0])).toBe('a');
    // field 16, varint: the key takes two bytes (0x80 0x01), the value one.
    expect([...bytes.subarray(3, 6)]).toEqual([0x80, 0x01, 0x01]);
    expect(text(fields(read[2]?.bytes ?? Buffer.alloc(0))[0])).toBe(long);
    expect(read.slice(3).map((f) => text(f))).toEqual(['', 'b']);
  });

  it('leaves out proto3 defaults (empty string, false, absent message) but keeps an empty message', () => {
    expect(new MessageWriter().string(1, '').bool(2, false).message(3, undefined).finish().length).toBe(0);
    expect([...new MessageWriter().message(3, new MessageWriter()).finish()]).toEqual([0x1a, 0x00]);
  });
});
