/**
 * A transport runs one command on a host and returns what it printed: the one thing scanners and
 * template appliers need from a server. argv is passed as separate arguments (never through a local
 * shell); stdin, when given, is written to the command and closed.
 */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Transport {
  /** For records and messages: `local`, `ssh`, `namespace` … */
  readonly kind: string;
  exec(argv: readonly string[], stdin?: string): Promise<ExecResult>;
}
