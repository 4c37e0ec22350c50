import { DestinationPolicy } from './destinations.js';

describe('DestinationPolicy', () => {
  const strict = new DestinationPolicy({ allowPrivate: false, requireHttps: false });
  const production = new DestinationPolicy({ allowPrivate: false, requireHttps: true });
  const open = new DestinationPolicy({ allowPrivate: true, requireHttps: false });

  it.each([
    ['loopback', 'http://127.0.0.1:8080/hook'],
    ['loopback', 'http://[::1]/hook'],
    ['loopback', 'http://[::ffff:127.0.0.1]/hook'],
    ['private', 'http://10.0.0.5/hook'],
    ['private', 'http://172.16.3.4/hook'],
    ['private', 'http://192.168.1.1/hook'],
    ['link local', 'http://169.254.169.254/latest/meta-data/'],
    ['unique local', 'http://[fd00:ec2::254]/'],
    ['carrier grade nat', 'http://100.100.100.200/'],
    ['unspecified', 'http://0.0.0.0/'],
    ['multicast', 'http://224.0.0.1/'],
    ['rfc6052', 'http://[64:ff9b::a00:1]/'],
  ])('refuses a %s address: %s', async (range, url) => {
    expect(await strict.problemWith(url)).toContain(`resolves to a ${range} address`);
    expect(await open.problemWith(url)).toBeUndefined();
  });

  it('accepts public addresses', async () => {
    expect(await strict.problemWith('https://93.184.215.14/hook')).toBeUndefined();
    expect(await strict.problemWith('https://[2606:4700::1111]/hook')).toBeUndefined();
  });

  it('resolves names, and refuses one that resolves to loopback', async () => {
    expect(await strict.problemWith('http://localhost:3000/hook')).toMatch(
      /resolves to a loopback address \(localhost → /,
    );
    expect(await open.problemWith('http://localhost:3000/hook')).toBeUndefined();
  });

  it('wants https in production unless WEBHOOK_ALLOW_PRIVATE', async () => {
    expect(await production.problemWith('http://93.184.215.14/hook')).toBe(
      'must be an https URL in production',
    );
    expect(await production.problemWith('https://93.184.215.14/hook')).toBeUndefined();
    expect(await strict.problemWith('http://93.184.215.14/hook')).toBeUndefined();
  });

  it.each([
    ['not a url', 'must be an absolute http(s) URL'],
    ['ftp://93.184.215.14/x', 'must be an http(s) URL'],
    ['https://user:secret@93.184.215.14/x', 'must not contain a user name or password'],
    ['https://93.184.215.14/x#part', 'must not contain a fragment'],
  ])('refuses %s', async (url, problem) => {
    expect(await open.problemWith(url)).toBe(problem);
  });

  it('makes the connection lookup refuse a name that resolves to loopback', async () => {
    const refused = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
      strict.lookup('localhost', { all: true }, (error) => resolve(error)),
    );
    expect(refused).toMatchObject({ code: 'EDESTINATION' });
    const allowed = await new Promise<unknown>((resolve, reject) =>
      open.lookup('localhost', {}, (error, address) => (error ? reject(error) : resolve(address))),
    );
    expect(allowed).toMatch(/^(127\.0\.0\.1|::1)$/);
  });
});
