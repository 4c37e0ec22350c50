/**
 * The part of `smpp` 0.5.1 (https://github.com/farhadi/node-smpp) that the SMPP sender and the
 * test SMSC use. The package ships no types and there is no @types/smpp.
 */
declare module 'smpp' {
  import type { Socket } from 'node:net';
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer } from 'node:net';

  namespace smpp {
    /** `short_message` as the library decodes it: the UDH split into its information elements. */
    interface DecodedMessage {
      message: string | Buffer;
      udh?: Buffer[];
    }

    /** A PDU's mandatory parameters and TLVs, by their names in the SMPP specification. */
    interface PduFields {
      command_status?: number;
      system_id?: string;
      password?: string;
      system_type?: string;
      message_id?: string;
      source_addr_ton?: number;
      source_addr_npi?: number;
      source_addr?: string;
      dest_addr_ton?: number;
      dest_addr_npi?: number;
      destination_addr?: string;
      esm_class?: number;
      registered_delivery?: number;
      data_coding?: number;
      /** Sent: raw bytes (UDH included), a string, or `{ message, udh }`. Received: decoded. */
      short_message?: Buffer | string | { message: string | Buffer; udh?: Buffer } | DecodedMessage;
      receipted_message_id?: string;
      message_state?: number;
    }

    interface PDU extends PduFields {
      readonly command: string;
      readonly command_status: number;
      readonly sequence_number: number;
      short_message?: DecodedMessage;
      isResponse(): boolean;
      response(options?: PduFields): PDU;
    }

    type Callback = (pdu: PDU) => void;
    type Operation = (options: PduFields, onResponse?: Callback) => boolean;

    interface Session extends EventEmitter {
      on(event: 'connect' | 'close', listener: () => void): this;
      on(event: 'error', listener: (error: Error) => void): this;
      on(event: string, listener: Callback): this;
      /** False, and nothing sent, when the socket is not writable. */
      send(pdu: PDU, onSent?: Callback): boolean;
      bind_transceiver: Operation;
      submit_sm: Operation;
      deliver_sm: Operation;
      enquire_link: Operation;
      unbind: Operation;
      close(callback?: () => void): void;
      destroy(callback?: () => void): void;
      readonly socket: Socket;
    }

    interface Server extends NetServer {
      /** The sessions whose socket is open. */
      readonly sessions: Session[];
    }

    /** GSM 03.38 default alphabet, one septet per octet (unpacked), as SMPP carries it. */
    interface GsmCoder {
      /** `shiftTable` 0 is the default alphabet; characters outside it become spaces. */
      encode(text: string, shiftTable: number): Buffer;
    }
  }

  const smpp: {
    connect(options: { host: string; port: number }): smpp.Session;
    createServer(onSession: (session: smpp.Session) => void): smpp.Server;
    /** command_status values by name (ESME_ROK, ESME_RTHROTTLED, ...). */
    readonly errors: Readonly<Record<string, number>> & {
      readonly ESME_ROK: number;
      readonly ESME_RSYSERR: number;
      readonly ESME_RINVDSTADR: number;
      readonly ESME_RBINDFAIL: number;
      readonly ESME_RINVPASWD: number;
      readonly ESME_RINVSYSID: number;
      readonly ESME_RMSGQFUL: number;
      readonly ESME_RTHROTTLED: number;
      readonly ESME_RINVBNDSTS: number;
      readonly ESME_RX_T_APPN: number;
    };
    readonly gsmCoder: smpp.GsmCoder;
  };

  export = smpp;
}
