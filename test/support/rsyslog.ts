import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A real rsyslogd of its own (Debian's package) on a loopback port: its own config, work folder and
 * pid file in a temp folder, never the machine's rsyslog service. Every message it receives over TCP
 * (octet-counted or not) is written as received (`%rawmsg%`), one per line, to `outFile`.
 */
export interface Rsyslog {
  port: number;
  outFile: string;
  /** The messages received so far, in arrival order. */
  received(): string[];
  start(): Promise<void>;
  /** SIGTERM by the pid of the process this helper started; waits for it to exit. */
  stop(): Promise<void>;
  /** Stops it and removes its folder. */
  dispose(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

export async function createRsyslog(): Promise<Rsyslog> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-rsyslog-'));
  const workDir = path.join(dir, 'work');
  mkdirSync(workDir);
  const port = await freePort();
  const outFile = path.join(dir, 'received.log');
  const confFile = path.join(dir, 'rsyslog.conf');
  const pidFile = path.join(dir, 'rsyslogd.pid');
  writeFileSync(
    confFile,
    [
      `global(workDirectory="${workDir}" maxMessageSize="256k")`,
      'module(load="imtcp")',
      `input(type="imtcp" address="127.0.0.1" port="${port}" ruleset="gatehouse")`,
      'template(name="raw" type="string" string="%rawmsg%\\n")',
      `ruleset(name="gatehouse") { action(type="omfile" file="${outFile}" template="raw" flushOnTXEnd="on" asyncWriting="off") }`,
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  let exited: Promise<void> | undefined;
  let stderr = '';

  const rsyslog: Rsyslog = {
    port,
    outFile,
    received: () =>
      existsSync(outFile)
        ? readFileSync(outFile, 'utf8')
            .split('\n')
            .filter((line) => line.length > 0)
        : [],
    async start() {
      if (child) throw new Error('rsyslogd already started');
      const started = spawn('/usr/sbin/rsyslogd', ['-n', '-f', confFile, '-i', pidFile], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      started.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child = started;
      exited = new Promise((resolve) => started.once('exit', () => resolve()));
      for (let i = 0; i < 200; i++) {
        if (started.exitCode !== null) throw new Error(`rsyslogd exited at start: ${stderr}`);
        if (await accepts(port)) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`rsyslogd did not listen on 127.0.0.1:${port}: ${stderr}`);
    },
    async stop() {
      if (!child) return;
      child.kill('SIGTERM');
      await exited;
      child = undefined;
    },
    async dispose() {
      await rsyslog.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return rsyslog;
}

/** The parts of an RFC 5424 line Gatehouse writes: structured data params and the JSON message. */
export function parseSyslogLine(line: string): {
  pri: string;
  msgId: string;
  sd: Record<string, string>;
  msg: string;
} {
  const head = /^<(\d+)>1 (\S+) (\S+) (\S+) (\S+) (\S+) \[(\S+) /.exec(line);
  if (!head) throw new Error(`not an RFC 5424 line: ${line.slice(0, 120)}`);
  let i = head[0].length;
  const sd: Record<string, string> = {};
  for (;;) {
    const name = /^([^=\s\]"]+)="/.exec(line.slice(i));
    if (!name) break;
    i += name[0].length;
    let value = '';
    while (line[i] !== '"') {
      if (line[i] === '\\') i++;
      value += line[i];
      i++;
    }
    i++;
    sd[name[1]!] = value;
    if (line[i] === ' ') i++;
  }
  if (line[i] !== ']' || line[i + 1] !== ' ')
    throw new Error(`bad structured data in: ${line.slice(0, 200)}`);
  return { pri: head[1]!, msgId: head[6]!, sd, msg: line.slice(i + 2) };
}
