// Node's own request and response objects without a server or a network: a
// socket that throws away what is written, so a response really builds and
// writes its header block, and a Nest ExecutionContext stub for the guards.
import type { ExecutionContext } from '@nestjs/common';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';

export const CONVERSATION_ROUTE = '/api/get-conversation/:phone_number';
export const PHONE = '+12025550143';

/** A socket that accepts every write at once and never reads. */
export function discardingSocket(): Duplex {
  return new Duplex({
    write(_chunk, _encoding, callback) {
      callback();
    },
    read() {},
  });
}

/** A GET of the conversation route as Node's HTTP parser would hand it over. */
export function incomingRequest(
  socket: Duplex,
  headers: Record<string, string> = {},
): IncomingMessage {
  const request = new IncomingMessage(socket as never);
  request.method = 'GET';
  request.url = `/api/get-conversation/${encodeURIComponent(PHONE)}`;
  request.httpVersionMajor = 1;
  request.httpVersionMinor = 1;
  request.httpVersion = '1.1';
  request.headers = { host: '127.0.0.1:3000', accept: 'application/json', ...headers };
  return request;
}

/** A response on `socket`, as the server hands it to its request listener. */
export function serverResponse(request: IncomingMessage, socket: Duplex): ServerResponse {
  const response = new ServerResponse(request);
  response.assignSocket(socket as never);
  return response;
}

/** Sends `body` and lets go of the socket, as the server does once a response finishes. */
export function finish(response: ServerResponse, socket: Duplex, body: string): void {
  response.setHeader('Content-Type', 'application/json; charset=utf-8');
  response.end(body);
  response.detachSocket(socket as never);
}

/** What Nest's ExecutionContextHost gives a guard for an HTTP request. */
export function httpContext(
  handler: (...args: never[]) => unknown,
  controller: new () => object,
  request: object,
  response: object,
): ExecutionContext {
  const http = {
    getRequest: <T>() => request as T,
    getResponse: <T>() => response as T,
    getNext: <T>() => (() => undefined) as T,
  };
  return {
    getType: <T>() => 'http' as T,
    getHandler: () => handler,
    getClass: <T>() => controller as T,
    getArgs: <T>() => [request, response] as T,
    getArgByIndex: <T>(index: number) => [request, response][index] as T,
    switchToHttp: () => http,
    switchToRpc: () => {
      throw new Error('not an RPC context');
    },
    switchToWs: () => {
      throw new Error('not a WebSocket context');
    },
  };
}
