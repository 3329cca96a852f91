// A small, strict argument parser: --flag value / --flag=value / boolean flags, positionals.
// Unknown flags are errors, so typos never pass silently.

export interface ParsedArgs {
  positionals: string[];
  /** The last value of each option given. */
  values: Map<string, string>;
  /** Every value of each option, in order (for options that may repeat, such as --question). */
  lists: Map<string, string[]>;
  flags: Set<string>;
}

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[], valueOptions: readonly string[], booleanOptions: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { positionals: [], values: new Map(), lists: new Map(), flags: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      out.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = (eq >= 0 ? arg.slice(0, eq) : arg).replace(/^-h$/, '--help');
    if (booleanOptions.includes(name)) {
      if (eq >= 0) throw new UsageError(`${name} takes no value`);
      out.flags.add(name);
    } else if (valueOptions.includes(name)) {
      const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      out.values.set(name, value);
      out.lists.set(name, [...(out.lists.get(name) ?? []), value]);
    } else {
      throw new UsageError(`unknown option ${name}`);
    }
  }
  return out;
}

export function integerOption(args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const raw = args.values.get(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${name} must be an integer from ${min} to ${max}, not "${raw}"`);
  }
  return value;
}
