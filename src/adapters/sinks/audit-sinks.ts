import net from 'node:net';
import tls from 'node:tls';
import type { AuditEvent } from '../../modules/audit/audit.types.js';
import {
  hecBatch,
  hecOutcome,
  octetFrame,
  syslogMessage,
  type HecOptions,
  type SyslogOptions,
} from '../../modules/integrations/domain/forward-format.js';

/** Where audit events go. `deliver` resolves only once the receiver has taken the whole batch. */
export interface AuditSink {
  deliver(events: readonly AuditEvent[], signal?: AbortSignal): Promise<void>;
}

export interface SyslogSinkOptions extends SyslogOptions {
  host: string;
  port: number;
  /** TLS (RFC 5425 framing is the same octet counting); `ca` is a PEM bundle to trust instead of the system's. */
  tls?: { ca?: string | undefined; servername?: string | undefined } | undefined;
  timeoutMs?: number;
}

/**
 * RFC 5424 over TCP with octet-counting framing (RFC 6587), optionally TLS. One connection per batch:
 * the frames are written, our side is half-closed, and the batch counts as delivered only when the
 * receiver closes its side after reading to the end. A receiver that dies mid-batch surfaces as an
 * error, so the batch is sent again (at least once, never silently lost in a socket buffer).
 */
export function createSyslogSink(options: SyslogSinkOptions): AuditSink {
  const timeoutMs = options.timeoutMs ?? 15_000;
  return {
    deliver: (events, signal) =>
      new Promise<void>((resolve, reject) => {
        if (events.length === 0) return resolve();
        const payload = Buffer.concat(events.map((e) => octetFrame(syslogMessage(e, options))));
        const socket = options.tls
          ? tls.connect({
              host: options.host,
              port: options.port,
              servername: options.tls.servername ?? (net.isIP(options.host) ? undefined : options.host),
              ...(options.tls.ca ? { ca: options.tls.ca } : {}),
              rejectUnauthorized: true,
            })
          : net.connect({ host: options.host, port: options.port });
        let settled = false;
        let peerEnded = false;
        const finish = (error?: Error) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          socket.destroy();
          if (error) reject(error);
          else resolve();
        };
        const onAbort = () => finish(new Error('syslog delivery aborted'));
        signal?.addEventListener('abort', onAbort);
        const timer = setTimeout(
          () =>
            finish(
              new Error(`syslog receiver ${options.host}:${options.port} did not finish in ${timeoutMs} ms`),
            ),
          timeoutMs,
        );
        socket.on('error', (error: Error) =>
          finish(new Error(`syslog ${options.host}:${options.port}: ${error.message}`)),
        );
        socket.on('data', () => undefined);
        socket.on('end', () => {
          peerEnded = true;
        });
        socket.on('close', () => {
          if (peerEnded) finish();
          else
            finish(new Error(`syslog receiver ${options.host}:${options.port} closed the connection early`));
        });
        socket.once(options.tls ? 'secureConnect' : 'connect', () => {
          socket.end(payload);
        });
      }),
  };
}

export interface HecSinkOptions extends HecOptions {
  /** The HEC base URL, like https://splunk.example:8088 (the path /services/collector/event is added). */
  url: string;
  token: string;
  timeoutMs?: number;
}

/** Splunk HTTP Event Collector: one POST per batch, `Authorization: Splunk <token>`. */
export function createHecSink(options: HecSinkOptions): AuditSink {
  const endpoint = `${options.url.replace(/\/+$/, '')}/services/collector/event`;
  return {
    async deliver(events, signal) {
      if (events.length === 0) return;
      const timeout = AbortSignal.timeout(options.timeoutMs ?? 15_000);
      let response: Response;
      try {
        response = await fetch(endpoint, {
          method: 'POST',
          headers: { authorization: `Splunk ${options.token}`, 'content-type': 'application/json' },
          body: hecBatch(events, options),
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
      } catch (error) {
        // the message of a fetch failure names the URL, never the headers
        const cause = (error as Error & { cause?: { message?: string } }).cause?.message;
        throw new Error(`HEC ${endpoint}: ${(error as Error).message}${cause ? ` (${cause})` : ''}`);
      }
      const outcome = hecOutcome(response.status, await response.text());
      if (!outcome.ok) throw new Error(outcome.reason);
    },
  };
}
