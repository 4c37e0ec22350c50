import type { AddressInfo } from 'node:net';
import smpp from 'smpp';

/** How the SMSC answers submit_sm: ESME_ROK, ESME_RTHROTTLED, ESME_RINVDSTADR, or not at all. */
export type SmscMode = 'accept' | 'throttle' | 'refuse' | 'ignore';
/** The delivery receipt it sends for each accepted submit_sm, if any. */
export type SmscReceipts = 'delivered' | 'undeliverable' | 'none';

/** A submit_sm the SMSC accepted, as it decoded it. */
export interface SmscSubmit {
  source: string;
  destination: string;
  dataCoding: number;
  esmClass: number;
  /** The message, without its UDH. */
  text: string;
  /** The whole user data header, its length octet included. */
  udh?: Buffer;
  messageId: string;
  at: number;
}

export interface Smsc {
  readonly port: number;
  /** `smpp://<systemId>:<password>@127.0.0.1:<port>` */
  readonly url: string;
  /** Every accepted submit_sm, in order of arrival. */
  readonly submits: SmscSubmit[];
  /** Every submit_sm that arrived on a bound session, answered or not. */
  readonly received: number;
  /** enquire_link requests from clients. */
  readonly enquireLinks: number;
  /** Sessions bound now. */
  readonly sessions: number;
  mode: SmscMode;
  receipts: SmscReceipts;
  receiptDelayMs: number;
  /**
   * Adds the receipted_message_id and message_state TLVs, and writes the text's id zero-padded to
   * 10 digits, as some SMSCs do: only a client that prefers the TLVs finds the message.
   */
  receiptTlvs: boolean;
  countByText(text: string): number;
  /** Sends enquire_link on the bound session; resolves with the answer's command_status. */
  enquireLink(): Promise<number>;
  /** Destroys every session, as a network failure would. */
  dropConnections(): void;
  /** An outage: stops listening and drops every session. */
  stop(): Promise<void>;
  /** Listens again, on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * An SMSC on 127.0.0.1 for tests, scripted over the `smpp` package's own server. Like a real one,
 * it keeps a receipt that finds no bound session, or that the client did not acknowledge, and
 * delivers it on the next bind.
 */
export async function startSmsc(
  options: { systemId?: string; password?: string } = {},
): Promise<Smsc> {
  const smsc = new TestSmsc(options.systemId ?? 'test', options.password ?? 'secret');
  await smsc.start();
  return smsc;
}

const { ESME_ROK, ESME_RINVSYSID, ESME_RINVPASWD, ESME_RINVBNDSTS, ESME_RTHROTTLED } = smpp.errors;
const { ESME_RINVDSTADR } = smpp.errors;
const ESM_CLASS_DELIVERY_RECEIPT = 0x04;
const MESSAGE_STATE = { delivered: 2, undeliverable: 5 } as const;

type Receipt = Parameters<smpp.Session['deliver_sm']>[0];

class TestSmsc implements Smsc {
  port = 0;
  readonly submits: SmscSubmit[] = [];
  received = 0;
  enquireLinks = 0;
  mode: SmscMode = 'accept';
  receipts: SmscReceipts = 'delivered';
  receiptDelayMs = 20;
  receiptTlvs = false;

  private readonly server = smpp.createServer((session) => this.open(session));
  /** Bound sessions, oldest first: receipts go to the newest. */
  private readonly bound = new Set<smpp.Session>();
  /** Receipts sent on a session and not yet acknowledged there. */
  private readonly unacknowledged = new Map<smpp.Session, Set<Receipt>>();
  private held: Receipt[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private lastMessageId = 0;

  constructor(
    private readonly systemId: string,
    private readonly password: string,
  ) {}

  get url(): string {
    const credentials = `${encodeURIComponent(this.systemId)}:${encodeURIComponent(this.password)}`;
    return `smpp://${credentials}@127.0.0.1:${this.port}`;
  }

  get sessions(): number {
    return this.bound.size;
  }

  countByText(text: string): number {
    return this.submits.filter((submit) => submit.text === text).length;
  }

  enquireLink(): Promise<number> {
    const session = [...this.bound].at(-1);
    if (!session) return Promise.reject(new Error('no bound session'));
    return new Promise((resolve) => session.enquire_link({}, (pdu) => resolve(pdu.command_status)));
  }

  dropConnections(): void {
    for (const session of [...this.server.sessions]) session.destroy();
  }

  async stop(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.dropConnections();
    await closed;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.stop();
  }

  private open(session: smpp.Session): void {
    // As an SMSC would: answers go out at once, not after the client's delayed ACK.
    session.socket.setNoDelay(true);
    this.unacknowledged.set(session, new Set());
    // A client that vanishes mid-write: the 'close' that follows is what matters.
    session.on('error', () => undefined);
    session.on('close', () => {
      this.bound.delete(session);
      this.held.push(...(this.unacknowledged.get(session) ?? []));
      this.unacknowledged.delete(session);
      // What the lost session never acknowledged goes to another bound one, if any.
      if (this.bound.size > 0) for (const receipt of this.held.splice(0)) this.deliver(receipt);
    });
    session.on('bind_transceiver', (pdu) => {
      const status =
        pdu.system_id !== this.systemId
          ? ESME_RINVSYSID
          : pdu.password !== this.password
            ? ESME_RINVPASWD
            : ESME_ROK;
      session.send(pdu.response({ command_status: status, system_id: 'test-smsc' }));
      if (status !== ESME_ROK) {
        session.close();
        return;
      }
      this.bound.add(session);
      for (const receipt of this.held.splice(0)) this.deliver(receipt);
    });
    session.on('enquire_link', (pdu) => {
      this.enquireLinks += 1;
      session.send(pdu.response());
    });
    session.on('unbind', (pdu) => {
      this.bound.delete(session);
      session.send(pdu.response());
      session.close();
    });
    session.on('submit_sm', (pdu) => this.submitted(session, pdu));
  }

  private submitted(session: smpp.Session, pdu: smpp.PDU): void {
    if (!this.bound.has(session)) {
      session.send(pdu.response({ command_status: ESME_RINVBNDSTS }));
      return;
    }
    this.received += 1;
    switch (this.mode) {
      case 'ignore':
        return;
      case 'throttle':
        session.send(pdu.response({ command_status: ESME_RTHROTTLED }));
        return;
      case 'refuse':
        session.send(pdu.response({ command_status: ESME_RINVDSTADR }));
        return;
      case 'accept': {
        const messageId = String(++this.lastMessageId);
        const submit = recorded(pdu, messageId);
        this.submits.push(submit);
        session.send(pdu.response({ message_id: messageId }));
        this.scheduleReceipt(submit);
        return;
      }
    }
  }

  private scheduleReceipt(submit: SmscSubmit): void {
    if (this.receipts === 'none') return;
    const delivered = this.receipts === 'delivered';
    const date = smppDate(new Date(submit.at));
    const id = this.receiptTlvs ? submit.messageId.padStart(10, '0') : submit.messageId;
    // SMPP 3.4 Appendix B; the text is the message's first 20 characters.
    const text =
      `id:${id} sub:001 dlvrd:${delivered ? '001' : '000'} submit date:${date} done date:${date} ` +
      `stat:${delivered ? 'DELIVRD' : 'UNDELIV'} err:${delivered ? '000' : '001'} ` +
      `text:${submit.text.slice(0, 20).replace(/[^\x20-\x7e]/g, '.')}`;
    const receipt: Receipt = {
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: submit.destination,
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: submit.source,
      esm_class: ESM_CLASS_DELIVERY_RECEIPT,
      short_message: text,
      ...(this.receiptTlvs
        ? { receipted_message_id: submit.messageId, message_state: MESSAGE_STATE[this.receipts] }
        : {}),
    };
    this.later(() => this.deliver(receipt));
  }

  private deliver(receipt: Receipt): void {
    const session = [...this.bound].at(-1);
    const pending = session && this.unacknowledged.get(session);
    if (!session || !pending) {
      this.held.push(receipt);
      return;
    }
    pending.add(receipt);
    const sent = session.deliver_sm({ ...receipt }, (answer) => {
      pending.delete(receipt);
      // Refused by the client: delivered again later, as an SMSC retries.
      if (answer.command_status !== ESME_ROK) this.later(() => this.deliver(receipt));
    });
    if (!sent) {
      pending.delete(receipt);
      this.held.push(receipt);
    }
  }

  private later(task: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      task();
    }, this.receiptDelayMs);
    this.timers.add(timer);
  }
}

function recorded(pdu: smpp.PDU, messageId: string): SmscSubmit {
  const message = pdu.short_message?.message ?? '';
  const udh = pdu.short_message?.udh ?? [];
  const udhLength = udh.reduce((sum, element) => sum + element.length, 0);
  return {
    source: pdu.source_addr ?? '',
    destination: pdu.destination_addr ?? '',
    dataCoding: pdu.data_coding ?? 0,
    esmClass: pdu.esm_class ?? 0,
    text: typeof message === 'string' ? message : message.toString('hex'),
    udh: udh.length > 0 ? Buffer.concat([Buffer.of(udhLength), ...udh]) : undefined,
    messageId,
    at: Date.now(),
  };
}

/** YYMMDDhhmm, in UTC. */
function smppDate(date: Date): string {
  return date.toISOString().replace(/\D/g, '').slice(2, 12);
}
