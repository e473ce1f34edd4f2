import type { NodeAllocation, ResourceAmounts } from '@knm/contracts';

/**
 * The one JSON form of a {@link NodeAllocation} that knm stores and sends: resource
 * names sorted, zero entries left out. One form per value lets the scripts compare a
 * node's new allocation with the stored one as strings (an unchanged node is neither
 * rewritten nor announced). Undefined when nothing is left (the field is deleted).
 * RangeError on an amount that is not a finite non-negative number.
 */
export function allocationJson(node: string, allocation: NodeAllocation): string | undefined {
  const requests = canonicalAmounts(node, 'requests', allocation.requests);
  const limits = canonicalAmounts(node, 'limits', allocation.limits);
  if (requests === undefined && limits === undefined) return undefined;
  return JSON.stringify({ requests: requests ?? {}, limits: limits ?? {} });
}

/** The JSON of an allocation with nothing in it (what an `allocation` envelope says of an emptied node). */
export const EMPTY_ALLOCATION_JSON = '{"requests":{},"limits":{}}';

function canonicalAmounts(node: string, what: string, amounts: ResourceAmounts): ResourceAmounts | undefined {
  let out: ResourceAmounts | undefined;
  for (const name of Object.keys(amounts).sort()) {
    const amount = amounts[name] as number;
    if (!Number.isFinite(amount) || amount < 0) {
      throw new RangeError(
        `${what} of ${name} on "${node}" must be a finite non-negative number, got ${amount}`,
      );
    }
    if (amount === 0) continue;
    out ??= {};
    out[name] = amount;
  }
  return out;
}
