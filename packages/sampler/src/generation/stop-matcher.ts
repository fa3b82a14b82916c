/**
 * Finds stop strings in generated text. `find` returns where the earliest stop begins, or -1.
 * `window` is how many trailing characters can hold a stop that the last step completed.
 */
export class StopMatcher {
  readonly maxLength: number;
  constructor(readonly stops: readonly string[]) {
    this.stops = stops.filter((s) => s.length > 0);
    this.maxLength = this.stops.reduce((m, s) => Math.max(m, s.length), 0);
  }

  get active(): boolean {
    return this.stops.length > 0;
  }

  /** Index of the earliest occurrence of any stop at or after `from`, or -1. */
  find(text: string, from = 0): number {
    let best = -1;
    for (const stop of this.stops) {
      const at = text.indexOf(stop, from);
      if (at >= 0 && (best < 0 || at < best)) best = at;
    }
    return best;
  }

  /** The text cut before the earliest stop, and whether one was found. */
  truncate(text: string): { text: string; stopped: boolean } {
    const at = this.find(text);
    return at < 0 ? { text, stopped: false } : { text: text.slice(0, at), stopped: true };
  }
}
