import Table from 'cli-table3';

/** Rows under a header, for people to read (--json is for scripts), drawn as `audit replay` draws its history. */
export function table(head: string[], rows: Array<Array<string | number>>): string {
  // No colours: the output is often piped or pasted.
  const drawn = new Table({ head, style: { head: [], border: [] } });
  drawn.push(...rows);
  return drawn.toString();
}
