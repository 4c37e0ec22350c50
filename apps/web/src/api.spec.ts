import { Api, ApiError } from './api.js';

const ME = '+12025550143';
const FRIEND = '+12025550178';

/** Answers every request with `status` and `body`, and keeps the requests. */
function answering(status: number, body: unknown) {
  const requests: Request[] = [];
  vi.stubGlobal('fetch', (request: Request) => {
    requests.push(request);
    return Promise.resolve(
      new Response(JSON.stringify(body), {
        status,
        headers: { 'Content-Type': 'application/json' },
      }),
    );
  });
  return requests;
}

/** Node's Request wants an absolute URL; the page's are relative to its origin. */
class PageRequest extends Request {
  constructor(input: string, init?: RequestInit) {
    super(new URL(input, 'https://sms.example'), init);
  }
}

describe('Api', () => {
  beforeEach(() => vi.stubGlobal('Request', PageRequest));
  afterEach(() => vi.unstubAllGlobals());

  it('calls the documented paths with the key, the numbers encoded', async () => {
    const requests = answering(200, { messages: [], nextCursor: null });
    const page = await new Api('sms_key').thread(ME, FRIEND, 'cursor/1');
    expect(page).toEqual({ messages: [], nextCursor: null });
    const url = new URL(requests[0].url);
    expect(url.pathname).toBe(
      `/api/phones/${encodeURIComponent(ME)}/conversations/${encodeURIComponent(FRIEND)}/messages`,
    );
    expect(url.searchParams.get('limit')).toBe('30');
    expect(url.searchParams.get('before')).toBe('cursor/1');
    expect(requests[0].headers.get('Authorization')).toBe('Bearer sms_key');
  });

  it("turns an error answer into an ApiError with the server's message", async () => {
    const body = {
      statusCode: 400,
      error: 'Bad Request',
      message: 'counterpart must be a phone number, short code or alphanumeric sender ID',
      details: [
        {
          field: 'counterpart',
          problem: 'must be a phone number, short code or alphanumeric sender ID',
        },
      ],
    };
    answering(400, body);
    const failure = await new Api('sms_key').thread(ME, 'hello?').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiError);
    expect(failure).toMatchObject({ status: 400, message: body.message, body });
  });

  it('sends for real, telling a new message (202) from a known one (200)', async () => {
    const requests = answering(202, { uuid: 'u1', status: 'queued' });
    const body = { from: ME, to: FRIEND, text: 'hi', uuid: 'u1' };
    expect(await new Api('sms_key').sendMessage(body)).toEqual({
      accepted: { uuid: 'u1', status: 'queued' },
      queued: true,
    });
    expect(new URL(requests[0].url).pathname).toBe('/api/messages');
    expect(requests[0].method).toBe('POST');
    expect(await requests[0].json()).toEqual(body);

    answering(200, { uuid: 'u1', status: 'delivered' });
    expect(await new Api('sms_key').sendMessage(body)).toMatchObject({ queued: false });
  });

  it('names the field a 422 is about', async () => {
    answering(422, {
      statusCode: 422,
      error: 'Unprocessable Entity',
      message: `${ME} has no outbound gateway`,
      details: [{ field: 'from', problem: 'has no outbound gateway' }],
    });
    const failure = await new Api('sms_key').sendMessage({ from: ME, to: FRIEND, text: 'hi' }).then(
      () => undefined,
      (error: unknown) => error as ApiError,
    );
    expect(failure).toMatchObject({ status: 422 });
    expect(failure?.concerns('from')).toBe(true);
    expect(failure?.concerns('to')).toBe(false);
  });

  it('says when the server cannot be reached', async () => {
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('Failed to fetch')));
    await expect(new Api('sms_key').session()).rejects.toMatchObject({
      status: 0,
      message: 'The server cannot be reached. Check the connection and try again.',
    });
  });
});
