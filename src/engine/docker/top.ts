/**
 * Reading `GET /containers/{id}/top`. Docker answers one cell per column; Podman 4.3
 * answers each title and each row as one unsplit line of `ps` output. Both carry the
 * command last, so it is what remains after the other columns' words.
 */
export interface TopAnswer {
  Titles?: string[];
  Processes?: string[][];
}

/** The processes' command lines, or undefined when the answer has no command column. */
export function commandLines(top: TopAnswer | undefined): string[] | undefined {
  if (!top) return undefined;
  const titles = top.Titles?.length === 1 ? (top.Titles[0] ?? '').trim().split(/\s+/) : (top.Titles ?? []);
  const column = titles.findIndex((t) => t === 'CMD' || t === 'COMMAND');
  if (column < 0) return undefined;
  return (top.Processes ?? []).map((row) => {
    if (row.length === titles.length) return row[column] ?? '';
    // One unsplit line: drop the words of the columns before the command.
    let rest = row.join(' ').trim();
    for (let i = 0; i < column; i++) rest = rest.replace(/^\S+\s+/, '');
    return rest;
  });
}
