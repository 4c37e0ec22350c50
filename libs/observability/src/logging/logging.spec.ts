import { pinoHttp, type Options } from 'pino-http';
import type { DestinationStream } from 'pino';
import type { FinishedRequest } from '../http/http-traffic.js';
import { logFinishedRequest, loggingParams } from './logging.js';

function capture() {
  const lines: string[] = [];
  const destination: DestinationStream = { write: (line: string) => void lines.push(line) };
  const [options] = loggingParams({ level: 'info', pretty: false, destination }).pinoHttp as [
    Options,
    DestinationStream,
  ];
  const { logger } = pinoHttp(options, destination);
  return {
    logger,
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

const finished = (overrides: Partial<FinishedRequest> = {}): FinishedRequest => ({
  requestId: 'req-1',
  method: 'POST',
  route: '/api/send-sms',
  status: 201,
  durationSeconds: 0.00345,
  aborted: false,
  ...overrides,
});

describe('logging', () => {
  it('writes a request as one JSON line: request id, method, route, status, duration', () => {
    const { logger, records } = capture();
    logFinishedRequest(logger, finished());
    expect(records()).toEqual([
      {
        level: 'info',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        pid: process.pid,
        hostname: expect.any(String),
        requestId: 'req-1',
        method: 'POST',
        route: '/api/send-sms',
        status: 201,
        durationMs: 3.5,
        msg: 'POST /api/send-sms 201 3.5 ms',
      },
    ]);
  });

  it('logs a 5xx at error level, and names the path of a request that matched no route', () => {
    const { logger, records } = capture();
    logFinishedRequest(logger, finished({ status: 503 }));
    logFinishedRequest(logger, finished({ route: 'unmatched', path: '/nope', status: 404 }));
    logFinishedRequest(logger, finished({ aborted: true, status: 200 }));
    expect(records()).toEqual([
      expect.objectContaining({ level: 'error', status: 503 }),
      expect.objectContaining({ level: 'info', route: 'unmatched', path: '/nope' }),
      expect.objectContaining({ aborted: true, msg: 'POST /api/send-sms aborted 3.5 ms' }),
    ]);
  });

  it('never writes an Authorization header or a cookie, wherever it appears', () => {
    const { logger, records } = capture();
    logger.info(
      { req: { headers: { authorization: 'Bearer sms_secret', cookie: 'session=1' } } },
      'a request',
    );
    logger.info({ headers: { authorization: 'Bearer sms_secret' } }, 'headers');
    expect(JSON.stringify(records())).not.toContain('sms_secret');
    expect(JSON.stringify(records())).not.toContain('session=1');
  });
});
