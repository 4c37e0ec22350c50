import { Histogram, Registry } from 'prom-client';
import { RequestDurationHistogram } from './request-duration.histogram.js';

const BOUNDS = [0.005, 0.01, 0.1, 1];
const OBSERVATIONS: Array<[string, string, number, number]> = [
  ['GET', '/api/get-conversation/:phone_number', 200, 0.003],
  ['GET', '/api/get-conversation/:phone_number', 200, 0.005],
  ['GET', '/api/get-conversation/:phone_number', 200, 0.2],
  ['POST', '/api/send-sms', 201, 0.0071],
  ['POST', '/api/send-sms', 409, 3],
  ['GET', 'unmatched', 404, 0.0001],
];

describe('RequestDurationHistogram', () => {
  it("renders exactly what prom-client's own Histogram renders for the same observations", async () => {
    const ours = new Registry();
    const histogram = new RequestDurationHistogram(BOUNDS, ours);
    const theirs = new Registry();
    const reference = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time to answer HTTP requests, by route pattern and final status',
      labelNames: ['method', 'route', 'status_code'],
      buckets: BOUNDS,
      registers: [theirs],
    });
    for (const [method, route, status, seconds] of OBSERVATIONS) {
      histogram.observe(method, route, status, seconds);
      reference.observe({ method, route, status_code: String(status) }, seconds);
    }
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain(
      'http_request_duration_seconds_count{method="GET",route="/api/get-conversation/:phone_number",status_code="200"} 3',
    );
  });

  it('starts empty again after a reset', async () => {
    const registry = new Registry();
    const histogram = new RequestDurationHistogram(BOUNDS, registry);
    histogram.observe('GET', '/x', 200, 0.1);
    histogram.reset();
    expect(await registry.metrics()).not.toContain('_count');
  });
});
