import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { PrototypedExpressAdapter } from './express-server.js';

describe('PrototypedExpressAdapter', () => {
  it("builds requests and responses with Express's prototypes before Express sees them", async () => {
    const app = express();
    app.get('/', (_req, res) => void res.json({ ok: true }));
    const adapter = new PrototypedExpressAdapter(app);
    adapter.initHttpServer({});
    const server = adapter.getHttpServer() as Server;
    const seen: boolean[] = [];
    // Runs before Express's own handler, which would otherwise re-parent both objects.
    server.prependListener('request', (request, response) => {
      seen.push(
        Object.getPrototypeOf(request) === app.request &&
          Object.getPrototypeOf(response) === app.response,
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/`);
      expect(await response.json()).toEqual({ ok: true });
      expect(seen).toEqual([true]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
