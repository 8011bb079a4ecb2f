/** Where moby's commands write their normal output. */

/** Where a command writes its normal output: stdout unless a caller says otherwise. */
export type Write = (text: string) => void;

/** Writes to the process's standard output. */
export const writeStdout: Write = (text) => void process.stdout.write(text);
