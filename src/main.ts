#!/usr/bin/env node
import { CommanderError } from 'commander';
import { buildProgram } from './cli/program.js';
import { GatehouseError } from './platform/errors.js';

// `gatehouse audit export | head` closes the pipe early: that is not an error
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

try {
  await buildProgram().exitOverride().parseAsync(process.argv);
} catch (error) {
  if ((error as NodeJS.ErrnoException).code === 'EPIPE') {
    process.exitCode = 0;
  } else if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else if (error instanceof GatehouseError) {
    process.stderr.write(`gatehouse: ${error.message}\n`);
    const rows =
      (error.details?.errors as { row?: number; field?: string; message: string }[] | undefined) ?? [];
    for (const row of rows) {
      process.stderr.write(
        `  ${row.row !== undefined ? `row ${row.row}: ` : ''}${row.field ? `${row.field}: ` : ''}${row.message}\n`,
      );
    }
    process.exitCode = 2;
  } else {
    process.stderr.write(`gatehouse: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 70;
  }
}
