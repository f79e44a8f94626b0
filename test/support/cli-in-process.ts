import { CommanderError, type Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { GatehouseError } from '../../src/platform/errors.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * A client command of `gatehouse` run in this process against an API on a real port: the same
 * program `src/main.ts` parses, its stdout and stderr captured, its exit code as main.ts would set it.
 * A child process per command costs a Node start and a TypeScript load (5-6 s each on a loaded
 * machine), which a test of several steps multiplies past its timeout; test/integration/cli.test.ts
 * keeps the real binary covered. Runs must not overlap: the streams and the exit code are global.
 */
/** Commander's own refusals (a missing option …) throw rather than end this process, on every command. */
function throwInsteadOfExit(command: Command): Command {
  command.exitOverride();
  for (const sub of command.commands) throwInsteadOfExit(sub);
  return command;
}

export async function runCliInProcess(
  api: { url: string; token: string },
  ...args: string[]
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const writeOut = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  const capture =
    (append: (text: string) => void) =>
    (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const done = rest.find((r): r is () => void => typeof r === 'function');
      done?.();
      return true;
    };
  const exitCodeBefore = process.exitCode;
  process.exitCode = undefined;
  process.stdout.write = capture((s) => (stdout += s));
  process.stderr.write = capture((s) => (stderr += s));
  let code = 0;
  try {
    await throwInsteadOfExit(buildProgram()).parseAsync(['--url', api.url, '--token', api.token, ...args], {
      from: 'user',
    });
    code = Number(process.exitCode ?? 0);
  } catch (error) {
    // as src/main.ts reports them
    if (error instanceof CommanderError) {
      code = error.exitCode;
    } else if (error instanceof GatehouseError) {
      stderr += `gatehouse: ${error.message}\n`;
      code = 2;
    } else {
      throw error;
    }
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
    process.exitCode = exitCodeBefore;
  }
  return { code, stdout, stderr };
}
