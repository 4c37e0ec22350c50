import { SseParser, type SseEvent } from './sse.js';

function parse(chunks: string[], lastEventId?: string) {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const parser = new SseParser(
    { event: (event) => events.push(event), comment: (text) => comments.push(text) },
    lastEventId,
  );
  for (const chunk of chunks) parser.push(chunk);
  return { events, comments, parser };
}

describe('SseParser', () => {
  it('reads typed events with ids, as Nest writes them', () => {
    const { events, parser } = parse([
      '\nevent: ready\nid: 1\ndata: {"a":1}\n\nevent: message.created\nid: 2\ndata: {"b":2}\n\n',
    ]);
    expect(events).toEqual([
      { type: 'ready', data: '{"a":1}', lastEventId: '1' },
      { type: 'message.created', data: '{"b":2}', lastEventId: '2' },
    ]);
    expect(parser.lastEventId).toBe('2');
  });

  it('joins data lines and accepts every line ending, even split across chunks', () => {
    const { events } = parse(['data: one\r', '\ndata:two\rdata: three\r\n', '\r\n']);
    expect(events).toEqual([{ type: 'message', data: 'one\ntwo\nthree', lastEventId: '' }]);
  });

  it('waits for the blank line before dispatching', () => {
    const { events } = parse(['data: par', 'tial\n']);
    expect(events).toEqual([]);
  });

  it('keeps the last id across events and takes an id without data', () => {
    const { events, parser } = parse(['id: 7\n\ndata: x\n\n'], '3');
    expect(events).toEqual([{ type: 'message', data: 'x', lastEventId: '7' }]);
    expect(parser.lastEventId).toBe('7');
  });

  it('starts from the id it resumes from', () => {
    expect(parse(['data: x\n\n'], '3').events[0].lastEventId).toBe('3');
  });

  it('reports comments (heartbeats) without dispatching them', () => {
    const { events, comments } = parse([': heartbeat\n\n:\n\n']);
    expect(events).toEqual([]);
    expect(comments).toEqual(['heartbeat', '']);
  });
});
