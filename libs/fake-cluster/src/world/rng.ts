/**
 * A small seeded pseudo-random generator (sfc32 seeded through splitmix32), so a
 * world, and the churn that changes it, is the same for the same seed on every
 * machine and Node version. Not for cryptography.
 */

const HEX = '0123456789abcdef';

// Strings are built with join(), never `+=`: V8 keeps `+=` results as rope (ConsString)
// chains, one 32-byte node per character, which multiplied the heap of a 150,000-pod world.

/** Seeded randomness with the helpers world generation needs. Same seed, same sequence. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed` may be any finite number; it is folded to 32 bits. */
  constructor(seed: number) {
    let state = Math.trunc(seed) >>> 0;
    const splitmix = (): number => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = splitmix();
    this.b = splitmix();
    this.c = splitmix();
    this.d = splitmix();
    for (let i = 0; i < 12; i++) this.next();
  }

  /** A float in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t / 4294967296;
  }

  /** An integer in [minInclusive, maxExclusive); throws RangeError when the range is empty. */
  int(minInclusive: number, maxExclusive: number): number {
    if (!(maxExclusive > minInclusive))
      throw new RangeError(`empty range [${minInclusive}, ${maxExclusive})`);
    return minInclusive + Math.floor(this.next() * (maxExclusive - minInclusive));
  }

  /** One item, uniformly; throws RangeError on an empty list. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('cannot pick from an empty list');
    return items[this.int(0, items.length)] as T;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A random (version 4 layout) UUID string. */
  uuid(): string {
    const out: string[] = [];
    for (let i = 0; i < 32; i++) {
      let nibble = this.int(0, 16);
      if (i === 12) nibble = 4;
      if (i === 16) nibble = 8 + (nibble & 3);
      out.push(HEX[nibble] ?? '0');
      if (i === 7 || i === 11 || i === 15 || i === 19) out.push('-');
    }
    return out.join('');
  }

  /** `length` lowercase hex digits (machine IDs, container IDs). */
  hex(length: number): string {
    const out: string[] = [];
    for (let i = 0; i < length; i++) out.push(HEX[this.int(0, 16)] ?? '0');
    return out.join('');
  }

  /** A Kubernetes generated-name suffix: `length` characters from the API server's alphabet (`bcdfghjklmnpqrstvwxz2456789`). */
  suffix(length = 5): string {
    const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
    const out: string[] = [];
    for (let i = 0; i < length; i++) out.push(alphabet[this.int(0, alphabet.length)] ?? 'b');
    return out.join('');
  }
}
