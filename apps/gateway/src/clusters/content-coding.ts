import { NotAcceptableException } from '@nestjs/common';

/** The content codings the gateway sends a cached answer in. */
export type ContentCoding = 'identity' | 'gzip' | 'br';

/** Codings the gateway compresses to, preferred first when a client weighs them equally. */
const COMPRESSED: readonly Exclude<ContentCoding, 'identity'>[] = ['br', 'gzip'];

/** A qvalue as RFC 9110 §12.4.2 writes it: 0 to 1, at most three decimals. */
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/**
 * The weight a client gives each coding it named in `Accept-Encoding` (lowercase
 * names; `*` for the wildcard). An element whose parameters do not parse is left out,
 * as if unnamed: a header we cannot read must not make the answer fail.
 */
function weights(header: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const element of header.split(',')) {
    const [rawName, ...params] = element.split(';');
    const name = rawName?.trim().toLowerCase();
    if (!name) continue;
    let q = 1;
    let valid = true;
    for (const param of params) {
      const [key, value] = param.split('=').map((p) => p.trim());
      if (key?.toLowerCase() !== 'q') continue;
      if (value === undefined || !QVALUE.test(value)) valid = false;
      else q = Number(value);
    }
    if (valid) out.set(name, q);
  }
  return out;
}

/**
 * The coding to answer in for `Accept-Encoding` (RFC 9110 §12.5.3): of `br`, `gzip`
 * and `identity`, the one the client weighs highest, above 0 (a tie goes to the
 * smaller bytes: `br`, then `gzip`). An unnamed coding takes the weight of `*` when
 * there is one; else an unnamed `identity` is acceptable but last (a client that lists
 * only `gzip;q=0.5` still prefers gzip to nothing said), and an unnamed compressed
 * coding is not acceptable. No header, or an empty one, means identity. When the
 * client refused identity and accepts neither compressed coding, there is nothing to
 * send: 406.
 */
export function negotiateCoding(acceptEncoding: string | undefined): ContentCoding {
  if (acceptEncoding === undefined || acceptEncoding.trim() === '') return 'identity';
  const named = weights(acceptEncoding);
  const wildcard = named.get('*');
  let best: ContentCoding | undefined;
  let bestWeight = 0;
  for (const coding of COMPRESSED) {
    const weight =
      named.get(coding) ?? (coding === 'gzip' ? named.get('x-gzip') : undefined) ?? wildcard ?? 0;
    if (weight > bestWeight) {
      best = coding;
      bestWeight = weight;
    }
  }
  const identity = named.get('identity') ?? wildcard;
  if (identity !== undefined && identity > bestWeight) return 'identity';
  if (best) return best;
  if (identity === undefined) return 'identity';
  throw new NotAcceptableException(
    `Accept-Encoding "${acceptEncoding.slice(0, 200)}" refuses identity and accepts neither br nor gzip, the codings this answer is available in`,
  );
}

/** Whether `Accept-Encoding` lets the answer go in identity (it does unless identity, or `*` with identity unnamed, weighs 0). */
export function acceptsIdentity(acceptEncoding: string | undefined): boolean {
  if (acceptEncoding === undefined || acceptEncoding.trim() === '') return true;
  const named = weights(acceptEncoding);
  return (named.get('identity') ?? named.get('*') ?? 1) > 0;
}
