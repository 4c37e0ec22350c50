import { randomInt } from 'node:crypto';
import smpp from 'smpp';
import { GSM7_EXTENSION_CHARSET, type SmsEncoding } from '@app/common';
import {
  type DeliveryReport,
  type OutgoingSms,
  SendFailure,
  type SendAccepted,
  type SmsSender,
} from './sms-sender.js';

export interface SmppSenderOptions {
  host: string;
  port: number;
  systemId: string;
  password: string;
  systemType?: string;
  /** Most submit_sm awaiting their answer at once; default 10. */
  window?: number;
  /** Keep-alive period; default 30 s. A link whose enquire_link is unanswered a period later is dropped. */
  enquireLinkMs?: number;
  /**
   * How long a submit_sm may wait for a session and a window slot, and then, once written, for
   * the SMSC's answer: each wait gets the whole of it. Also the limit for connecting and binding.
   * Default 10 s.
   */
  submitTimeoutMs?: number;
  /** Delay before the first reconnection; doubled on each failed one up to the maximum. Default 500 ms. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Called with each delivery receipt; if it throws, the SMSC is told to deliver the receipt again. */
  /** Stores a receipt; the SMSC gets its answer when this settles (a rejection refuses it, so it comes again). */
  onReport: (report: DeliveryReport) => void | Promise<void>;
  logger?: { log(message: string): void; warn(message: string): void };
}

/**
 * A submit_sm that was written to the SMSC and never answered (the connection dropped, or the
 * answer did not come in time): the SMSC may have taken it, so a resend could deliver the SMS
 * twice. Not transient for that reason; the caller decides whether the risk is worth a resend.
 */
export class SmppOutcomeUnknown extends SendFailure {
  readonly outcomeUnknown = true;

  constructor(reason: string) {
    super(false, 'UNKNOWN_OUTCOME', reason);
    this.name = 'SmppOutcomeUnknown';
  }
}

// Part sizes as libs/common/src/sms/sms-encoding.ts counts them: 160 septets or 70 UTF-16 code
// units alone, 153 or 67 per part once a 6-octet concatenation header takes its room.
const PART_CAPACITY = {
  'GSM-7': { single: 160, multi: 153 },
  'UCS-2': { single: 70, multi: 67 },
} as const satisfies Record<SmsEncoding, { single: number; multi: number }>;

const GSM7_EXTENSION = new Set(GSM7_EXTENSION_CHARSET);

/**
 * The parts `text` is sent in, split where analyzeSms counts its segments: a GSM-7 extension
 * character keeps its escape in the same part and a surrogate pair is never cut. Empty for ''.
 */
export function splitSmsSegments(text: string, encoding: SmsEncoding): string[] {
  const cost =
    encoding === 'GSM-7'
      ? (char: string) => (GSM7_EXTENSION.has(char) ? 2 : 1)
      : (char: string) => char.length;
  // By code point, so that a surrogate pair is one character.
  const chars = Array.from(text);
  const units = chars.reduce((sum, char) => sum + cost(char), 0);
  const { single, multi } = PART_CAPACITY[encoding];
  if (units === 0) return [];
  if (units <= single) return [text];

  const parts: string[] = [];
  let part = '';
  let used = 0;
  for (const char of chars) {
    if (used + cost(char) > multi) {
      parts.push(part);
      part = '';
      used = 0;
    }
    part += char;
    used += cost(char);
  }
  parts.push(part);
  return parts;
}

const DATA_CODING = { 'GSM-7': 0x00, 'UCS-2': 0x08 } as const satisfies Record<SmsEncoding, number>;
const TON_INTERNATIONAL = 1;
const NPI_E164 = 1;
const ESM_CLASS_UDHI = 0x40;
/** esm_class bits 2–5 say what a deliver_sm carries; 0x04 is an MC delivery receipt. */
const ESM_CLASS_MESSAGE_TYPE = 0x3c;
const ESM_CLASS_DELIVERY_RECEIPT = 0x04;
const THROTTLED_RETRY_MS = 1000;
/** Later parts' ids kept to recognise their receipts; the oldest are forgotten past this. */
const REMEMBERED_LATER_PARTS = 10_000;

const {
  ESME_ROK,
  ESME_RSYSERR,
  ESME_RBINDFAIL,
  ESME_RINVPASWD,
  ESME_RINVSYSID,
  ESME_RMSGQFUL,
  ESME_RTHROTTLED,
  ESME_RX_T_APPN,
} = smpp.errors;
const CREDENTIAL_REFUSALS = new Set([ESME_RBINDFAIL, ESME_RINVPASWD, ESME_RINVSYSID]);
const STATUS_NAMES = new Map(Object.entries(smpp.errors).map(([name, status]) => [status, name]));

interface SubmitParams {
  source_addr_ton: number;
  source_addr_npi: number;
  source_addr: string;
  dest_addr_ton: number;
  dest_addr_npi: number;
  destination_addr: string;
  esm_class: number;
  registered_delivery: number;
  data_coding: number;
  short_message: Buffer;
}

/** One submit_sm, from the send until it is answered or given up. */
interface Submit {
  params: SubmitParams;
  isLaterPart: boolean;
  written: boolean;
  settled: boolean;
  timer: NodeJS.Timeout;
  resolve(messageId: string): void;
  reject(failure: SendFailure): void;
}

/**
 * SMPP 3.4 over one transceiver session, bound on the first send and kept: delivery receipts
 * arrive on it. A lost session is re-established with exponential backoff until `close()`, or
 * until the SMSC refuses the credentials, which fails every send from then on.
 *
 * A long message goes out as one submit_sm per part, each after the previous one's answer. Its
 * provider id is the first part's message_id; later parts' receipts are recognised by their ids
 * and ignored, so the first part's receipt alone reports the message. A part refused after
 * earlier ones were taken fails the send: a resend reaches the handset under a new reference,
 * as a whole message, next to the stray parts.
 */
export class SmppSender implements SmsSender {
  readonly provider = 'smpp' as const;
  readonly deduplicatesByReference = false;
  readonly window: number;

  private readonly enquireLinkMs: number;
  private readonly submitTimeoutMs: number;
  private readonly reconnectMinMs: number;
  private readonly reconnectMaxMs: number;
  private readonly logger?: SmppSenderOptions['logger'];

  private session?: smpp.Session;
  private bound = false;
  private reconnectTimer?: NodeJS.Timeout;
  private failedReconnects = 0;
  private stopKeepAlive?: () => void;
  /** Why the last connection or bind failed, for the sends that gave up waiting. */
  private lastProblem = 'not connected yet';
  /** Set when the SMSC refused the credentials: no more connecting. */
  private bindRefusal?: SendFailure;
  private closed = false;
  private closing?: Promise<void>;

  /** Sends waiting for a connection or a window slot, first in first out. */
  private queue: Submit[] = [];
  /** Written on the current session, awaiting their submit_sm_resp. */
  private readonly outstanding = new Set<Submit>();
  private onDrained?: () => void;
  private readonly laterPartIds = new Set<string>();
  /** The UDH concatenation reference, 8 bits, so that a handset never joins parts of two messages. */
  private reference = randomInt(256);

  constructor(private readonly options: SmppSenderOptions) {
    this.window = options.window ?? 10;
    this.enquireLinkMs = options.enquireLinkMs ?? 30_000;
    this.submitTimeoutMs = options.submitTimeoutMs ?? 10_000;
    this.reconnectMinMs = options.reconnectMinMs ?? 500;
    this.reconnectMaxMs = options.reconnectMaxMs ?? 30_000;
    this.logger = options.logger;
  }

  async send(sms: OutgoingSms): Promise<SendAccepted> {
    const parts = splitSmsSegments(sms.text, sms.encoding);
    if (parts.length === 0) throw SendFailure.permanent('empty', 'the message has no text');

    const reference = parts.length > 1 ? this.nextReference() : 0;
    const ids: string[] = [];
    for (const [index, part] of parts.entries()) {
      const udh =
        parts.length > 1
          ? Buffer.of(0x05, 0x00, 0x03, reference, parts.length, index + 1)
          : undefined;
      ids.push(await this.submit(submitParams(sms, part, udh), index > 0));
    }
    return { providerMessageId: ids[0] };
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    for (const submit of this.queue.splice(0)) {
      this.settle(submit, SendFailure.transient('network', 'the SMPP sender was closed'));
    }
    // Written ones are answered (or time out) first, so that none is left in doubt by the unbind.
    if (this.outstanding.size > 0) {
      await new Promise<void>((resolve) => (this.onDrained = resolve));
    }
    const session = this.session;
    if (!session) return;
    // Listened for now: the SMSC may close the socket itself as soon as it answers the unbind.
    const socketClosed = new Promise<void>((resolve) => session.on('close', resolve));
    if (this.bound) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.submitTimeoutMs);
        const sent = session.unbind({}, () => {
          clearTimeout(timer);
          resolve();
        });
        if (!sent) resolve();
      });
    }
    session.destroy();
    await socketClosed;
  }

  private nextReference(): number {
    this.reference = (this.reference + 1) % 256;
    return this.reference;
  }

  private submit(params: SubmitParams, isLaterPart: boolean): Promise<string> {
    const refusal = this.closed
      ? SendFailure.transient('network', 'the SMPP sender is closed')
      : this.bindRefusal;
    if (refusal) return Promise.reject(refusal);
    return new Promise<string>((resolve, reject) => {
      const submit: Submit = {
        params,
        isLaterPart,
        written: false,
        settled: false,
        timer: setTimeout(() => this.expire(submit), this.submitTimeoutMs),
        resolve,
        reject,
      };
      this.queue.push(submit);
      if (!this.session && !this.reconnectTimer) this.connect();
      this.writeQueued();
    });
  }

  /**
   * Binds now rather than at the first send: an SMSC delivers receipts to a
   * bound session, so one is kept for them even while nothing is sent.
   */
  open(): void {
    if (this.closed || this.bindRefusal) return;
    if (!this.session && !this.reconnectTimer) this.connect();
  }

  private writeQueued(): void {
    const session = this.session;
    if (!session || !this.bound) return;
    while (this.outstanding.size < this.window && this.queue.length > 0) {
      const submit = this.queue[0];
      // The library answers false, writing nothing, when the socket is closing: the submit stays
      // queued for the next session.
      if (!session.submit_sm(submit.params, (pdu) => this.answered(submit, pdu))) return;
      this.queue.shift();
      submit.written = true;
      this.outstanding.add(submit);
      clearTimeout(submit.timer);
      submit.timer = setTimeout(() => this.expire(submit), this.submitTimeoutMs);
    }
  }

  private answered(submit: Submit, pdu: smpp.PDU): void {
    if (submit.settled) {
      this.logger?.warn(
        `SMPP: answer to a submit_sm after its timeout (${statusName(pdu.command_status)}, id ${pdu.message_id ?? '-'})`,
      );
      return;
    }
    if (pdu.command_status !== ESME_ROK) {
      this.settle(submit, submitFailure(pdu.command_status));
    } else if (!pdu.message_id) {
      this.settle(submit, new SmppOutcomeUnknown('the SMSC took the message without an id'));
    } else {
      // Remembered here, not after the send's await: the part's receipt may be in the same read.
      if (submit.isLaterPart) this.rememberLaterPart(pdu.message_id);
      this.settle(submit, pdu.message_id);
    }
    this.writeQueued();
  }

  private expire(submit: Submit): void {
    if (submit.written) {
      this.settle(
        submit,
        new SmppOutcomeUnknown(
          `the SMSC did not answer the submit_sm within ${this.submitTimeoutMs} ms; it may have taken the message`,
        ),
      );
      this.writeQueued();
      return;
    }
    this.queue = this.queue.filter((queued) => queued !== submit);
    this.settle(
      submit,
      this.bound
        ? SendFailure.transient('timeout', `no free window slot within ${this.submitTimeoutMs} ms`)
        : SendFailure.transient(
            'network',
            `no SMPP session within ${this.submitTimeoutMs} ms: ${this.lastProblem}`,
          ),
    );
  }

  private settle(submit: Submit, outcome: string | SendFailure): void {
    submit.settled = true;
    clearTimeout(submit.timer);
    if (typeof outcome === 'string') submit.resolve(outcome);
    else submit.reject(outcome);
    if (this.outstanding.delete(submit) && this.outstanding.size === 0) this.onDrained?.();
  }

  private connect(): void {
    if (this.closed || this.bindRefusal) return;
    const session = smpp.connect({ host: this.options.host, port: this.options.port });
    // Small PDUs, each awaited: Nagle's algorithm would hold them for the peer's delayed ACK
    // (measured: ten submits per ~85 ms, instead of one round trip).
    session.socket.setNoDelay(true);
    this.session = session;
    // Covers a host that never completes the TCP handshake and an SMSC that never answers the bind.
    const bindTimer = setTimeout(() => {
      this.lastProblem = `no bind answer within ${this.submitTimeoutMs} ms`;
      session.destroy();
    }, this.submitTimeoutMs);

    session.on('connect', () => {
      session.bind_transceiver(
        {
          system_id: this.options.systemId,
          password: this.options.password,
          system_type: this.options.systemType ?? '',
        },
        (pdu) => {
          clearTimeout(bindTimer);
          this.bindAnswered(session, pdu.command_status);
        },
      );
    });
    session.on('error', (error) => {
      this.lastProblem = error.message;
      // A socket error closes the socket; a PDU the library cannot parse leaves it open but stuck.
      session.destroy();
    });
    session.on('close', () => {
      clearTimeout(bindTimer);
      this.lost(session);
    });
    session.on('enquire_link', (pdu) => session.send(pdu.response()));
    session.on('unbind', (pdu) => {
      this.lastProblem = 'the SMSC unbound the session';
      session.send(pdu.response());
      session.close();
    });
    // Inbound SMPP (MO messages) is not part of this sender: those are acknowledged and dropped.
    session.on('deliver_sm', (pdu) => this.onDeliverSm(session, pdu));
  }

  private bindAnswered(session: smpp.Session, status: number): void {
    if (status !== ESME_ROK) {
      const failure = bindFailure(status);
      this.lastProblem = failure.reason;
      this.logger?.warn(`SMPP ${this.options.host}:${this.options.port}: ${failure.reason}`);
      if (!failure.transient) {
        this.bindRefusal = failure;
        for (const submit of this.queue.splice(0)) this.settle(submit, failure);
      }
      session.destroy();
      return;
    }
    this.bound = true;
    this.failedReconnects = 0;
    // What a later loss is put down to, unless a socket error says more.
    this.lastProblem = 'the SMSC closed the connection';
    this.logger?.log(`SMPP ${this.options.host}:${this.options.port}: bound as transceiver`);
    this.stopKeepAlive = this.keepAlive(session);
    this.writeQueued();
  }

  /** enquire_link every period; one still unanswered a period later means the link is dead. */
  private keepAlive(session: smpp.Session): () => void {
    let awaitingAnswer = false;
    const timer = setInterval(() => {
      if (awaitingAnswer) {
        this.lastProblem = `enquire_link unanswered for ${this.enquireLinkMs} ms`;
        session.destroy();
        return;
      }
      awaitingAnswer = true;
      session.enquire_link({}, () => (awaitingAnswer = false));
    }, this.enquireLinkMs);
    return () => clearInterval(timer);
  }

  private lost(session: smpp.Session): void {
    if (session !== this.session) return;
    this.session = undefined;
    this.stopKeepAlive?.();
    this.stopKeepAlive = undefined;
    if (this.bound) {
      this.logger?.warn(
        `SMPP ${this.options.host}:${this.options.port}: session lost: ${this.lastProblem}`,
      );
    }
    this.bound = false;
    for (const submit of [...this.outstanding]) {
      this.settle(
        submit,
        new SmppOutcomeUnknown(
          'the connection to the SMSC was lost before it answered the submit_sm; it may have taken the message',
        ),
      );
    }
    if (this.closed || this.bindRefusal) return;
    const ceiling = Math.min(this.reconnectMaxMs, this.reconnectMinMs * 2 ** this.failedReconnects);
    // Half fixed, half random: instances cut off together do not all come back at once.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.failedReconnects += 1;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delay);
  }

  /**
   * A receipt is acknowledged only once onReport has stored it: an SMSC keeps
   * what was not acknowledged and sends it again, so a crash in between loses
   * nothing. One that cannot be stored is refused (ESME_RX_T_APPN) for the
   * same reason.
   */
  private onDeliverSm(session: smpp.Session, pdu: smpp.PDU): void {
    const isReceipt =
      ((pdu.esm_class ?? 0) & ESM_CLASS_MESSAGE_TYPE) === ESM_CLASS_DELIVERY_RECEIPT;
    const report = isReceipt ? this.receiptReport(pdu) : undefined;
    if (!report) {
      session.send(pdu.response());
      return;
    }
    Promise.resolve()
      .then(() => this.options.onReport(report))
      .then(
        () => session.send(pdu.response()),
        (error: unknown) => {
          this.logger?.warn(
            `SMPP: a delivery receipt was not taken, the SMSC will resend it: ${String(error)}`,
          );
          session.send(pdu.response({ command_status: ESME_RX_T_APPN }));
        },
      );
  }

  private receiptReport(pdu: smpp.PDU): DeliveryReport | undefined {
    const receipt = readReceipt(pdu);
    if (typeof receipt === 'string') {
      this.logger?.warn(`SMPP: unreadable delivery receipt (${receipt})`);
      return undefined;
    }
    if (this.laterPartIds.has(receipt.id)) return undefined;
    return reportOf(receipt);
  }

  private rememberLaterPart(messageId: string): void {
    this.laterPartIds.add(messageId);
    if (this.laterPartIds.size > REMEMBERED_LATER_PARTS) {
      const [oldest] = this.laterPartIds;
      this.laterPartIds.delete(oldest);
    }
  }
}

function submitParams(sms: OutgoingSms, part: string, udh: Buffer | undefined): SubmitParams {
  // Encoded here rather than by the library, whose choice for data_coding 0 follows a
  // process-wide setting (smpp.encodings.default).
  const text =
    sms.encoding === 'GSM-7'
      ? smpp.gsmCoder.encode(part, 0)
      : Buffer.from(part, 'utf16le').swap16();
  return {
    source_addr_ton: TON_INTERNATIONAL,
    source_addr_npi: NPI_E164,
    source_addr: sms.from.replace(/^\+/, ''),
    dest_addr_ton: TON_INTERNATIONAL,
    dest_addr_npi: NPI_E164,
    destination_addr: sms.to.replace(/^\+/, ''),
    esm_class: udh ? ESM_CLASS_UDHI : 0,
    registered_delivery: 1,
    data_coding: DATA_CODING[sms.encoding],
    short_message: udh ? Buffer.concat([udh, text]) : text,
  };
}

function statusName(status: number): string {
  return STATUS_NAMES.get(status) ?? `0x${status.toString(16).toUpperCase().padStart(8, '0')}`;
}

function statusText(status: number): string {
  return `${statusName(status)} (0x${status.toString(16).toUpperCase().padStart(8, '0')})`;
}

function submitFailure(status: number): SendFailure {
  const code = statusName(status);
  const reason = `SMSC refused the message: ${statusText(status)}`;
  switch (status) {
    case ESME_RTHROTTLED:
    case ESME_RMSGQFUL:
      return SendFailure.transient(code, reason, THROTTLED_RETRY_MS);
    case ESME_RSYSERR:
      return SendFailure.transient(code, reason);
    default:
      return SendFailure.permanent(code, reason);
  }
}

function bindFailure(status: number): SendFailure {
  const reason = `SMSC refused the bind: ${statusText(status)}`;
  return CREDENTIAL_REFUSALS.has(status)
    ? SendFailure.permanent(statusName(status), reason)
    : SendFailure.transient(statusName(status), reason);
}

/** The `stat:` words of an SMPP 3.4 receipt (Appendix B). */
const RECEIPT_STATES = [
  'DELIVRD',
  'ENROUTE',
  'ACCEPTD',
  'EXPIRED',
  'DELETED',
  'UNDELIV',
  'REJECTD',
  'UNKNOWN',
] as const;
type ReceiptState = (typeof RECEIPT_STATES)[number];

/** message_state TLV values (SMPP 3.4 §5.3.2.35) as the same words. */
const MESSAGE_STATES: ReadonlyMap<number, ReceiptState> = new Map([
  [1, 'ENROUTE'],
  [2, 'DELIVRD'],
  [3, 'EXPIRED'],
  [4, 'DELETED'],
  [5, 'UNDELIV'],
  [6, 'ACCEPTD'],
  [7, 'UNKNOWN'],
  [8, 'REJECTD'],
]);

interface Receipt {
  id: string;
  state: ReceiptState;
  /** The `err:` field: network-specific, e.g. '001'. */
  error?: string;
  /** The reported message's addresses (a receipt travels back: its source is the message's destination) and first characters. */
  recognition?: DeliveryReport['recognition'];
}

/**
 * The receipt a deliver_sm carries, or why it cannot be read. The TLVs win over the text, which
 * some SMSCs fill with the id in another form (decimal, zero-padded) than submit_sm_resp gave.
 */
function readReceipt(pdu: smpp.PDU): Receipt | string {
  const message = pdu.short_message?.message ?? '';
  const text = typeof message === 'string' ? message : message.toString('latin1');
  const field = (name: string) => new RegExp(`\\b${name}:(\\S+)`, 'i').exec(text)?.[1];

  const id = pdu.receipted_message_id || field('id');
  const stat = field('stat')?.toUpperCase();
  const state =
    MESSAGE_STATES.get(pdu.message_state ?? -1) ?? RECEIPT_STATES.find((known) => known === stat);
  if (!id) return `no message id: "${text}"`;
  if (!state) return `no known state: "${text}"`;
  // `text:` is the last field and may hold spaces (SMPP 3.4 Appendix B: the first 20 characters).
  const textStart = /\btext:(.*)$/is.exec(text)?.[1];
  const recognition =
    textStart && pdu.source_addr && pdu.destination_addr
      ? { senderAddress: pdu.destination_addr, receiverAddress: pdu.source_addr, textStart }
      : undefined;
  return { id, state, error: field('err'), recognition };
}

function reportOf(receipt: Receipt): DeliveryReport {
  const { recognition, ...read } = receipt;
  const report = reportOfState(read);
  return recognition ? { ...report, recognition } : report;
}

function reportOfState({ id, state, error }: Omit<Receipt, 'recognition'>): DeliveryReport {
  const failed = (meaning: string): DeliveryReport => ({
    providerMessageId: id,
    status: 'failed',
    errorCode: error,
    reason: `${state}: ${meaning}${error ? ` (err ${error})` : ''}`,
  });
  switch (state) {
    case 'DELIVRD':
      return { providerMessageId: id, status: 'delivered' };
    // The SMSC holds the message (ENROUTE), or a final state with no delivery to report
    // (ACCEPTD: "accepted" on the subscriber's behalf): reported as sent, which it is.
    case 'ENROUTE':
    case 'ACCEPTD':
      return { providerMessageId: id, status: 'sent' };
    case 'EXPIRED':
      return failed('expired');
    case 'DELETED':
      return failed('deleted');
    case 'UNDELIV':
      return failed('undeliverable');
    case 'REJECTD':
      return failed('rejected');
    case 'UNKNOWN':
      return failed('unknown state');
  }
}
