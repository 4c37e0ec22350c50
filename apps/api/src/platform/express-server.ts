import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { CONNECTIONS_CHECKING_INTERVAL_MS } from '@app/common';

interface ExpressPrototypes {
  request: object;
  response: object;
}

/**
 * Express gives every request and response its own prototype on arrival
 * (`Object.setPrototypeOf(req, app.request)`), which V8 handles badly: on a
 * bare Express app it cost a third of the CPU per request and promoted ten
 * times the memory to the old generation (bench/README.md). This adapter's
 * Node server builds both objects with those prototypes in the first place,
 * so Express's call changes nothing. Only the plain-HTTP server is built
 * here; other options go to Nest's own.
 */
export class PrototypedExpressAdapter extends ExpressAdapter {
  override initHttpServer(options: NestApplicationOptions): void {
    if (options.httpsOptions || options.return503OnClosing || options.forceCloseConnections) {
      super.initHttpServer(options);
      return;
    }
    const app = this.getInstance<ExpressPrototypes & Parameters<typeof createServer>[1]>();
    this.setHttpServer(
      createServer(
        {
          IncomingMessage: withPrototype(IncomingMessage, app.request),
          ServerResponse: withPrototype(ServerResponse, app.response),
          connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
        },
        app,
      ),
    );
  }
}

/**
 * A constructor for Node's server whose instances have exactly `prototype`.
 * A function, not a class: a class's `prototype` cannot be replaced. Node's
 * IncomingMessage and ServerResponse are plain functions, so they can be
 * applied to the new object.
 */
function withPrototype<T extends typeof IncomingMessage | typeof ServerResponse>(
  base: T,
  prototype: object,
): T {
  function Prototyped(this: object, ...args: [Socket] | [IncomingMessage]) {
    Reflect.apply(base, this, args);
  }
  Prototyped.prototype = prototype;
  return Prototyped as unknown as T;
}
