/**
 * The seeded randomness the simulation draws from (the world generator's `Rng`
 * satisfies it). Everything random in the simulation goes through one instance, in
 * a deterministic order, so the same seed and the same actions give the same
 * cluster. Never `Math.random`.
 */
export interface SimRandom {
  /** A float in [0, 1). */
  next(): number;
  /** A random RFC 4122 v4 UUID string. */
  uuid(): string;
}

/** An integer in [0, n). */
export function randomIndex(random: SimRandom, n: number): number {
  return Math.min(n - 1, Math.floor(random.next() * n));
}

/** True with probability `p`. */
export function randomChance(random: SimRandom, p: number): boolean {
  return random.next() < p;
}

/** A float in [min, max). */
export function randomBetween(random: SimRandom, min: number, max: number): number {
  return min + random.next() * (max - min);
}

const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** The random suffix the API server appends to `generateName` (5 characters, no vowels). */
export function randomNameSuffix(random: SimRandom, length = 5): string {
  let out = '';
  for (let i = 0; i < length; i++) out += NAME_ALPHABET.charAt(randomIndex(random, NAME_ALPHABET.length));
  return out;
}
