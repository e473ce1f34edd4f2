/**
 * `record[key]` when it is the record's own entry, else undefined: node names are
 * keys, and a node may be called `constructor` (a valid DNS name), which a plain
 * lookup would answer with Object's prototype member.
 */
export function ownEntry<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record && Object.hasOwn(record, key) ? record[key] : undefined;
}
