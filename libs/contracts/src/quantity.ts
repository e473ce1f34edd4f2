/**
 * Kubernetes resource quantities (`250m`, `1.5`, `30Gi`, `32847364Ki`, `1e3`) in the
 * integer base units knm counts in: millicores for `cpu`, the plain value (bytes for
 * memory, storage and hugepages; a count for pods, GPUs and other extended
 * resources) for everything else. Exact (decimal arithmetic on BigInt) and rounded
 * up like apimachinery's `MilliValue()` / `Value()`, which is what the scheduler
 * sums: `0.1m` of CPU is 1 millicore, `500m` bytes of memory is 1 byte.
 */

const DECIMAL_EXPONENT: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const BINARY_POWER: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

// apimachinery's grammar: a signed decimal number, then a binary or decimal SI suffix
// or a decimal exponent (`e3`, `E-2`); `E` alone is exa.
const QUANTITY = /^([+-]?)(\d*)(?:\.(\d*))?(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

/** The resource counted in thousandths (millicores), as the scheduler does. */
export const MILLI_RESOURCES: ReadonlySet<string> = new Set(['cpu']);

/**
 * Quantities already converted: nodes of one instance type, and pods of one workload,
 * repeat the same few thousands of times (the watcher converts every counted pod's
 * quantities at each of its events).
 */
const converted = new Map<string, number | undefined>();
/** Bounds {@link converted} (a cluster has far fewer distinct resource quantities). */
const MAX_CONVERTED = 4_096;

/**
 * The quantity in `resource`'s base units, rounded up to an integer; undefined when
 * it is not a valid quantity (the API server never stores one). Memoized: sorting
 * 5,000 nodes by a resource percent converts each node's allocatable.
 */
export function quantityToBaseUnits(resource: string, quantity: string): number | undefined {
  // The unit depends only on whether the resource counts in thousandths.
  const key = `${MILLI_RESOURCES.has(resource) ? 'm' : ''}:${quantity}`;
  if (converted.has(key)) return converted.get(key);
  const value = convert(resource, quantity);
  if (converted.size >= MAX_CONVERTED) converted.clear();
  converted.set(key, value);
  return value;
}

function convert(resource: string, quantity: string): number | undefined {
  const match = QUANTITY.exec(quantity.trim());
  if (!match) return undefined;
  const [, sign = '', whole = '', fraction = '', suffix = ''] = match;
  if (whole === '' && fraction === '') return undefined;
  // value = digits / 10^fraction.length * 10^exponent * 2^power * scale
  let numerator = BigInt(`${whole}${fraction}` || '0');
  let denominator = 10n ** BigInt(fraction.length);
  let exponent = 0;
  let power = 0;
  if (suffix in BINARY_POWER) power = BINARY_POWER[suffix] as number;
  else if (suffix in DECIMAL_EXPONENT) exponent = DECIMAL_EXPONENT[suffix] as number;
  else exponent = Number(suffix.slice(1));
  if (MILLI_RESOURCES.has(resource)) exponent += 3;
  if (Math.abs(exponent) > 64) return undefined;
  if (exponent >= 0) numerator *= 10n ** BigInt(exponent);
  else denominator *= 10n ** BigInt(-exponent);
  numerator <<= BigInt(power);
  const negative = sign === '-';
  // Round away from zero's floor: up for positives (ceil), as apimachinery does.
  let value = numerator / denominator;
  if (!negative && numerator % denominator !== 0n) value += 1n;
  return Number(negative ? -value : value);
}
