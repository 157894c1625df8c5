/** Durations as config keys take them (idle_stop): units, and seconds written back. No imports: `spoon list` loads it. */

export const DURATION_UNITS: [string, number][] = [
  ['d', 86400],
  ['h', 3600],
  ['m', 60],
  ['s', 1],
];

/** Seconds the way parseDuration reads them: 5400 → "1h30m". */
export function formatDuration(seconds: number): string {
  let left = Math.round(seconds);
  if (left <= 0) return '0s';
  let out = '';
  for (const [name, unit] of DURATION_UNITS) {
    if (left >= unit) {
      out += `${Math.floor(left / unit)}${name}`;
      left %= unit;
    }
  }
  return out;
}
