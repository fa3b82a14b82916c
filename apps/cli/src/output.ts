/** Where a command's machine-readable result goes: one JSON document on stdout with `--json`. */
export interface Output {
  json: boolean;
  /** A human line on stdout (suppressed with --json). */
  line(text: string): void;
  /** The command's result: JSON on stdout with --json, else printed by `human`. */
  result(value: unknown, human?: (value: unknown) => string): void;
}

export function createOutput(json: boolean, write: (s: string) => void = (s) => process.stdout.write(s)): Output {
  return {
    json,
    line(text) {
      if (!json) write(text + '\n');
    },
    result(value, human) {
      if (json) write(JSON.stringify(value, null, 2) + '\n');
      else write((human ? human(value) : String(value)) + '\n');
    },
  };
}
