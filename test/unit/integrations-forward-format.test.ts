import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/modules/audit/audit.types.js';
import {
  hecBatch,
  hecOutcome,
  msgId,
  octetFrame,
  sdEscape,
  syslogMessage,
} from '../../src/modules/integrations/domain/forward-format.js';
import { parseSyslogLine } from '../support/rsyslog.js';

const event = (over: Partial<AuditEvent> = {}): AuditEvent => ({
  seq: 42,
  id: '01890a5d-ac96-774b-bcce-b302099a8057',
  occurredAt: new Date('2026-11-26T15:04:05.678Z'),
  actorType: 'operator',
  actorId: '01890a5d-ac96-774b-bcce-b302099a8058',
  actorName: 'alice',
  action: 'access-request.created',
  targetType: 'access-request',
  targetId: 'r1',
  ticket: 'OPS-1',
  details: { reason: 'fix "it" ] now', note: 'é' },
  requestId: 'req-1',
  sourceIp: '127.0.0.1',
  prevHash: 'a'.repeat(64),
  hash: 'b'.repeat(64),
  ...over,
});

describe('syslog message (RFC 5424)', () => {
  it('has the header, structured data with id, seq and hashes, and the event as canonical JSON', () => {
    const message = syslogMessage(event(), { hostname: 'gh1' });
    expect(message).toBe(
      '<110>1 2026-11-26T15:04:05.678Z gh1 gatehouse - access-request.created ' +
        `[gatehouse@32473 id="01890a5d-ac96-774b-bcce-b302099a8057" seq="42" hash="${'b'.repeat(64)}" prevHash="${'a'.repeat(64)}" action="access-request.created"] ` +
        '{"action":"access-request.created","actorId":"01890a5d-ac96-774b-bcce-b302099a8058","actorName":"alice","actorType":"operator",' +
        `"details":{"note":"é","reason":"fix \\"it\\" ] now"},"hash":"${'b'.repeat(64)}","id":"01890a5d-ac96-774b-bcce-b302099a8057",` +
        `"occurredAt":"2026-11-26T15:04:05.678Z","prevHash":"${'a'.repeat(64)}","requestId":"req-1","seq":42,"sourceIp":"127.0.0.1",` +
        '"targetId":"r1","targetType":"access-request","ticket":"OPS-1"}',
    );
  });

  it('escapes ", \\ and ] in parameter values so that any value reads back unchanged', () => {
    expect(sdEscape('a"b\\c]d')).toBe('a\\"b\\\\c\\]d');
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 1 }), (id, action) => {
        const parsed = parseSyslogLine(syslogMessage(event({ id, action }), { hostname: 'h', sdId: 'x@1' }));
        expect(parsed.sd.id).toBe(id);
        expect(parsed.sd.action).toBe(action);
        expect(parsed.msgId).toMatch(/^[!-~]{1,32}$/);
      }),
    );
  });

  it('cuts the MSGID to 32 printable characters', () => {
    expect(msgId('a'.repeat(40))).toBe('a'.repeat(32));
    expect(msgId('a b')).toBe('a_b');
    expect(msgId('')).toBe('-');
  });

  it('frames by octet count in bytes, not characters (RFC 6587)', () => {
    expect(octetFrame('é1').toString('utf8')).toBe('3 é1');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        const frame = octetFrame(text);
        const space = frame.indexOf(0x20);
        expect(Number(frame.subarray(0, space).toString('ascii'))).toBe(frame.length - space - 1);
        expect(frame.subarray(space + 1).toString('utf8')).toBe(text);
      }),
    );
  });
});

describe('Splunk HEC', () => {
  it('batches one JSON object per event with epoch time, host, source type and the event', () => {
    const body = hecBatch([event(), event({ seq: 43 })], { host: 'gh1', index: 'audit' });
    const lines = body.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      time: 1795705445.678,
      host: 'gh1',
      source: 'gatehouse',
      sourcetype: 'gatehouse:audit',
      index: 'audit',
      event: { seq: 42, hash: 'b'.repeat(64) },
    });
    expect(lines[1]).toMatchObject({ event: { seq: 43 } });
  });

  it("reads HEC's documented answers: only Success counts as delivered", () => {
    expect(hecOutcome(200, '{"text":"Success","code":0}')).toEqual({ ok: true });
    expect(hecOutcome(403, '{"text":"Invalid token","code":4}')).toEqual({
      ok: false,
      reason: 'HEC answered 403: Invalid token (code 4)',
    });
    expect(hecOutcome(400, '{"text":"Invalid data format","code":6,"invalid-event-number":0}')).toMatchObject(
      {
        ok: false,
      },
    );
    expect(hecOutcome(503, '{"text":"Server is busy","code":9}')).toMatchObject({ ok: false });
    expect(hecOutcome(200, '{"text":"Incorrect index","code":7}')).toMatchObject({ ok: false });
    expect(hecOutcome(502, '<html>bad gateway</html>')).toEqual({
      ok: false,
      reason: 'HEC answered 502: <html>bad gateway</html>',
    });
  });
});
