/**
 * The command line of `npm run bench`.
 */

/** What the command line asks for. */
export interface BenchArgs {
  /** Fewer and shorter rounds, a smaller store population. */
  quick: boolean;
  /** The benchmarks or groups to run; empty for all. */
  only: string[];
  /** Rounds, overriding the default of the mode. */
  rounds: number | undefined;
  /** The container-store population, overriding the default of the mode. */
  records: number | undefined;
  /** Print the benchmarks' names and exit. */
  list: boolean;
  /** Print the usage and exit. */
  help: boolean;
}

/** The usage text. */
export const USAGE = `usage: node --import tsx bench/run.ts [--quick] [--only <name>[,<name>...]] [--rounds <n>] [--records <n>] [--list]

  --quick          3 short rounds, 5,000 store records (default: 7 RPC, 5 boot, 5 component rounds, 100,000 store records)
  --only <names>   run only these benchmarks or groups (rpc, init, events, container-store); repeatable or comma-separated
  --rounds <n>     rounds per benchmark (each peer is measured once per round)
  --records <n>    records created in the container store before its rounds (default 100,000; quick 5,000)
  --list           print the benchmarks' names and exit
  --help           print this text`;

/** Parses argv (without node and the script); throws with a message on a mistake. */
export function parseArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { quick: false, only: [], rounds: undefined, records: undefined, list: false, help: false };
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
      case "--records": {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1) throw new Error(`--records must be a whole number >= 1`);
        args.records = n;
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
