/**
 * Phase timings for --verbose. Phases are measured back to back from the start of
 * the command, so together they add up to the total.
 */
export class Timeline {
  private readonly start = performance.now();
  private last = this.start;
  private readonly phases: [string, number][] = [];

  /** Ends the current phase under `name` (the time since the previous mark). */
  mark(name: string): void {
    const now = performance.now();
    const prev = this.phases.find(([n]) => n === name);
    if (prev) prev[1] += now - this.last;
    else this.phases.push([name, now - this.last]);
    this.last = now;
  }

  summary(): string {
    this.mark('other');
    const total = this.last - this.start;
    const parts = this.phases.filter(([n, ms]) => n !== 'other' || ms >= 1).map(([n, ms]) => `${n} ${Math.round(ms)} ms`);
    return `${parts.join(', ')}; total ${Math.round(total)} ms`;
  }
}
