/**
 * Both adapters locate an event by a pair of unsigned 64-bit numbers (PostgreSQL: transaction id and sequence;
 * EventStoreDB: commit and prepare position). Padding each to 20 digits, the width of 2^64, makes the port's
 * lexicographic order equal the numeric order.
 */
export function encodePosition(major: bigint | string, minor: bigint | string): string {
  return `${String(major).padStart(20, '0')}-${String(minor).padStart(20, '0')}`;
}

export function decodePosition(position: string): [major: bigint, minor: bigint] {
  const match = /^(\d{20})-(\d{20})$/.exec(position);
  if (!match) throw new Error(`Not an event store position: ${JSON.stringify(position)}`);
  return [BigInt(match[1]!), BigInt(match[2]!)];
}
