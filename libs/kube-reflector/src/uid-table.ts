const MIN_CAPACITY = 1024;
const MAX_LOAD = 0.75;
/** 128-bit keys: four 32-bit words per slot. */
const WORDS = 4;

/** Scratch words for the key being looked up (synchronous use only). */
const scratch = new Uint32Array(WORDS);

/**
 * A map from object uid to a non-negative integer, built for hundreds of thousands
 * of entries at ~35 bytes each instead of the ~105 a `Map<string, number>` costs. Kubernetes uids are RFC 4122 UUIDs (36 characters); such a uid is stored as
 * its 128 bits in a typed array (open addressing, linear probing, backward-shift
 * deletion: no tombstones). Anything else (upper-case hex, another format) goes to a
 * plain `Map`, so every uid works and only the common case is compact.
 *
 * Values must be integers in [0, 2^53 - 2] (a float64 slot holds them exactly, so a
 * caller may pack two ids into one value).
 */
export class UidTable {
  private keys: Uint32Array;
  /** Stored value + 1; 0 marks an empty slot. */
  private values: Float64Array;
  private mask: number;
  private used = 0;
  private readonly others = new Map<string, number>();

  /** `expected`: how many entries to make room for up front. */
  constructor(expected = 0) {
    let capacity = MIN_CAPACITY;
    while (capacity * MAX_LOAD < expected) capacity *= 2;
    this.keys = new Uint32Array(capacity * WORDS);
    this.values = new Float64Array(capacity);
    this.mask = capacity - 1;
  }

  /** Number of entries. */
  get size(): number {
    return this.used + this.others.size;
  }

  /** Approximate bytes held: the typed arrays plus ~105 bytes per non-UUID entry. */
  get byteSize(): number {
    return this.keys.byteLength + this.values.byteLength + this.others.size * 105;
  }

  get(uid: string): number | undefined {
    if (!parseUuid(uid)) return this.others.get(uid);
    const slot = this.find();
    return slot < 0 ? undefined : (this.values[slot] as number) - 1;
  }

  /** Sets `uid` to `value`; returns the previous value, if any. */
  set(uid: string, value: number): number | undefined {
    if (!Number.isSafeInteger(value + 1) || value < 0) {
      throw new RangeError(`UidTable values must be integers in [0, 2^53-2], got ${value}`);
    }
    if (!parseUuid(uid)) {
      const previous = this.others.get(uid);
      this.others.set(uid, value);
      return previous;
    }
    const found = this.find();
    if (found >= 0) {
      const previous = (this.values[found] as number) - 1;
      this.values[found] = value + 1;
      return previous;
    }
    if (this.used + 1 > (this.mask + 1) * MAX_LOAD) {
      this.grow();
    }
    let slot = this.home();
    while (this.values[slot] !== 0) slot = (slot + 1) & this.mask;
    this.keys.set(scratch, slot * WORDS);
    this.values[slot] = value + 1;
    this.used += 1;
    return undefined;
  }

  /** Removes `uid`; returns its value, or undefined when it was not there. */
  delete(uid: string): number | undefined {
    if (!parseUuid(uid)) {
      const previous = this.others.get(uid);
      this.others.delete(uid);
      return previous;
    }
    let slot = this.find();
    if (slot < 0) return undefined;
    const previous = (this.values[slot] as number) - 1;
    // Backward-shift deletion: pull later members of the probe run into the hole.
    let next = (slot + 1) & this.mask;
    while (this.values[next] !== 0) {
      const home = this.homeOfSlot(next);
      const between = slot <= next ? slot < home && home <= next : slot < home || home <= next;
      if (!between) {
        this.keys.copyWithin(slot * WORDS, next * WORDS, next * WORDS + WORDS);
        this.values[slot] = this.values[next] as number;
        slot = next;
      }
      next = (next + 1) & this.mask;
    }
    this.values[slot] = 0;
    this.used -= 1;
    return previous;
  }

  /** Calls `fn` with every entry's value (order unspecified). */
  forEachValue(fn: (value: number) => void): void {
    for (let i = 0; i <= this.mask; i++) {
      const v = this.values[i] as number;
      if (v !== 0) fn(v - 1);
    }
    for (const v of this.others.values()) fn(v);
  }

  /** Every entry as `[uid, value]` (uids of the compact part in canonical lower-case form). */
  *entries(): Generator<[string, number]> {
    for (let i = 0; i <= this.mask; i++) {
      const v = this.values[i] as number;
      if (v !== 0) yield [formatUuid(this.keys, i * WORDS), v - 1];
    }
    yield* this.others.entries();
  }

  /** Slot of the key in `scratch`, or -1. */
  private find(): number {
    let slot = this.home();
    for (;;) {
      if (this.values[slot] === 0) return -1;
      const base = slot * WORDS;
      if (
        this.keys[base] === scratch[0] &&
        this.keys[base + 1] === scratch[1] &&
        this.keys[base + 2] === scratch[2] &&
        this.keys[base + 3] === scratch[3]
      ) {
        return slot;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  private home(): number {
    return (
      hash(scratch[0] as number, scratch[1] as number, scratch[2] as number, scratch[3] as number) & this.mask
    );
  }

  private homeOfSlot(slot: number): number {
    const b = slot * WORDS;
    const k = this.keys;
    return hash(k[b] as number, k[b + 1] as number, k[b + 2] as number, k[b + 3] as number) & this.mask;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const capacity = (this.mask + 1) * 2;
    this.keys = new Uint32Array(capacity * WORDS);
    this.values = new Float64Array(capacity);
    this.mask = capacity - 1;
    for (let i = 0; i < oldValues.length; i++) {
      const v = oldValues[i] as number;
      if (v === 0) continue;
      const b = i * WORDS;
      let slot =
        hash(
          oldKeys[b] as number,
          oldKeys[b + 1] as number,
          oldKeys[b + 2] as number,
          oldKeys[b + 3] as number,
        ) & this.mask;
      while (this.values[slot] !== 0) slot = (slot + 1) & this.mask;
      this.keys.set(oldKeys.subarray(b, b + WORDS), slot * WORDS);
      this.values[slot] = v;
    }
  }
}

function hash(a: number, b: number, c: number, d: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ b ^ (h >>> 15), 0xc2b2ae35);
  h = Math.imul(h ^ c ^ (h >>> 13), 0x27d4eb2f);
  h = Math.imul(h ^ d ^ (h >>> 16), 0x165667b1);
  return (h ^ (h >>> 15)) >>> 0;
}

/** Parses a lower-case canonical UUID into `scratch`; false for anything else. */
function parseUuid(uid: string): boolean {
  if (uid.length !== 36) return false;
  let word = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < 36; i++) {
    const c = uid.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45 /* - */) return false;
      continue;
    }
    let nibble: number;
    if (c >= 48 && c <= 57) nibble = c - 48;
    else if (c >= 97 && c <= 102) nibble = c - 87;
    else return false;
    value = ((value << 4) | nibble) >>> 0;
    digits += 1;
    if (digits === 8) {
      scratch[word] = value;
      word += 1;
      value = 0;
      digits = 0;
    }
  }
  return true;
}

function formatUuid(keys: Uint32Array, base: number): string {
  const hex =
    (keys[base] as number).toString(16).padStart(8, '0') +
    (keys[base + 1] as number).toString(16).padStart(8, '0') +
    (keys[base + 2] as number).toString(16).padStart(8, '0') +
    (keys[base + 3] as number).toString(16).padStart(8, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
