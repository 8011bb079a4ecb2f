/**
 * The command line of `npm run bench`.
 */

/** What the command line asks for. */
export interface BenchArgs {
  /** ~1 minute instead of ~3-4: fewer and shorter rounds. */
  quick: boolean;
  /** The benchmarks or groups to run; empty for all. */
  only: string[];
  /** Rounds, overriding the default of the mode. */
  rounds: number | undefined;
  /** Print the benchmarks' names and exit. */
  list: boolean;
  /** Print the usage and exit. */
  help: boolean;
}

/** The usage text. */
export const USAGE = `usage: node --import tsx bench/run.ts [--quick] [--only <name>[,<name>...]] [--rounds <n>] [--list]

  --quick          about 1 minute: 3 short rounds (default: 7 RPC and 5 boot rounds, about 3-4 minutes)
  --only <names>   run only these benchmarks or groups (rpc, init); repeatable or comma-separated
  --rounds <n>     rounds per benchmark (each peer is measured once per round)
  --list           print the benchmarks' names and exit
  --help           print this text`;

/** Parses argv (without node and the script); throws with a message on a mistake. */
export function parseArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { quick: false, only: [], rounds: undefined, list: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--quick":
        args.quick = true;
        break;
      case "--only":
        args.only.push(...value().split(",").map((s) => s.trim()).filter(Boolean));
        break;
      case "--rounds": {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1) throw new Error(`--rounds must be a whole number >= 1`);
        args.rounds = n;
        break;
      }
      case "--list":
        args.list = true;
        break;
      case "--help":
      case "-h":
        args.help = true;
        break;
      default:
        throw new Error(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  return args;
}
