import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { DeliveryReports, outboundConfig } from '@app/outbound';
import { GatewaysService, type OutboundConnection } from '../gateways.service.js';
import { AndroidSmsGatewaySender } from '../senders/android-sms-gateway.sender.js';
import type { SmppSender } from '../senders/smpp.sender.js';
import type { SmsSender } from '../senders/sms-sender.js';

/**
 * One sender per connection, made on first use and kept: an SMPP sender holds
 * a bound session, which is also where its delivery receipts arrive.
 * Connections never change, only come and go, so a sender lives until its
 * connection is deleted or the app stops.
 */
@Injectable()
export class SenderPool implements OnApplicationShutdown {
  private readonly logger = new Logger('Delivery');
  private readonly senders = new Map<string, Promise<SmsSender | undefined>>();
  private readonly callbackUrls = new Map<string, string>();

  constructor(
    private readonly gateways: GatewaysService,
    private readonly reports: DeliveryReports,
    @Inject(outboundConfig.KEY) private readonly config: ConfigType<typeof outboundConfig>,
  ) {}

  /** The connection's sender; undefined when it is gone or does not send. */
  get(gatewayId: string): Promise<SmsSender | undefined> {
    let sender = this.senders.get(gatewayId);
    if (!sender) {
      sender = this.gateways.findOutbound(gatewayId).then((connection) => {
        if (!connection) {
          this.senders.delete(gatewayId);
          return undefined;
        }
        const { settings } = connection;
        if (settings.provider === 'twilio') {
          this.callbackUrls.set(gatewayId, settings.statusCallbackUrl);
        }
        return this.create(connection);
      });
      sender.catch(() => this.senders.delete(gatewayId));
      this.senders.set(gatewayId, sender);
    }
    return sender;
  }

  /** Makes the connection's sender and, for SMPP, binds it now (receipts come on the bound session). */
  async open(gatewayId: string): Promise<void> {
    const sender = await this.get(gatewayId);
    if (sender?.provider === 'smpp') (sender as SmppSender).open();
  }

  /** Where the provider posts status changes for this connection ('' when it has no such setting). */
  statusCallbackUrl(gatewayId: string): string {
    return this.callbackUrls.get(gatewayId) ?? '';
  }

  /** Closes the senders of connections not in `current` (deleted ones). */
  async retainOnly(current: ReadonlySet<string>): Promise<void> {
    for (const [gatewayId, sender] of this.senders) {
      if (current.has(gatewayId)) continue;
      this.senders.delete(gatewayId);
      await (await sender.catch(() => undefined))?.close();
      this.logger.log(`Gateway ${gatewayId} is gone; its sender is closed`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    const senders = [...this.senders.values()];
    this.senders.clear();
    await Promise.all(
      senders.map(async (sender) => (await sender.catch(() => undefined))?.close()),
    );
  }

  /**
   * A hand-over must end well within its lease: one still under way when the
   * lease runs out would be taken for a crashed one. 10 s, or a third of a
   * shorter lease.
   */
  private get sendTimeoutMs(): number {
    return Math.min(10_000, Math.floor(this.config.leaseMs / 3));
  }

  private async create({
    gateway,
    settings,
    credentials,
    secret,
  }: OutboundConnection): Promise<SmsSender> {
    switch (settings.provider) {
      case 'smpp': {
        // Loaded on first use, like the Twilio SDK below: an app without SMPP connections never needs it.
        const { SmppSender } = await import('../senders/smpp.sender.js');
        return new SmppSender({
          host: settings.host,
          port: settings.port,
          systemId: settings.systemId,
          password: credentials.password ?? '',
          systemType: settings.systemType,
          onReport: (report) => {
            this.reports
              .apply(gateway.id, report)
              .catch((error: Error) =>
                this.logger.warn(
                  `Gateway ${gateway.id}: a delivery receipt was not stored: ${error.message}`,
                ),
              );
          },
          logger: {
            log: (message) => this.logger.log(`Gateway ${gateway.id}: ${message}`),
            warn: (message) => this.logger.warn(`Gateway ${gateway.id}: ${message}`),
          },
        });
      }
      case 'android-sms-gateway':
        return new AndroidSmsGatewaySender({
          url: settings.url,
          username: settings.username,
          password: credentials.password ?? '',
          timeoutMs: this.sendTimeoutMs,
        });
      case 'twilio': {
        // Loaded on first use: the SDK is ~27 MB of RSS that an app with no Twilio connection never needs.
        const { TwilioSender } = await import('../senders/twilio.sender.js');
        return new TwilioSender({
          accountSid: settings.accountSid,
          authToken: secret ?? '',
          apiBaseUrl: this.config.twilioApiBaseUrl,
          timeoutMs: this.sendTimeoutMs,
        });
      }
    }
  }
}
