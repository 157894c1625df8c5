/** Results go to stdout: aligned text tables, or JSON with --json. */

export function printJson(data: unknown): void {
  process.stdout.write(JSON.stringify(data, null, 2) + '\n');
}

export function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  process.stdout.write([line(headers), ...rows.map(line)].join('\n') + '\n');
}

export function formatPort(p: { container: number; protocol: string; host: number | null; hostIp: string | null }): string {
  return `${p.container}/${p.protocol} -> ${p.hostIp ?? ''}:${p.host ?? '-'}`;
}

export function formatAge(iso: string, now = Date.now()): string {
  const ms = now - Date.parse(iso);
  if (!Number.isFinite(ms)) return '-';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function formatSize(bytes: number): string {
  // Pick the unit after rounding, so 999 999 bytes reads "1 MB", not "1000 kB".
  const mb = Math.round(bytes / 1e6);
  if (bytes >= 1e9 || mb >= 1000) return `${(bytes / 1e9).toFixed(1)} GB`;
  const kb = Math.round(bytes / 1e3);
  if (bytes >= 1e6 || kb >= 1000) return `${mb} MB`;
  return `${kb} kB`;
}
