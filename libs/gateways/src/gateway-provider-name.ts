/** The SMS gateways a connection can be for. */
export const GATEWAY_PROVIDERS = ['twilio', 'android-sms-gateway', 'textbee', 'smpp'] as const;
export type GatewayProviderName = (typeof GATEWAY_PROVIDERS)[number];

/** The providers that post to a webhook; SMPP reports over its own connection. */
export type WebhookProviderName = Exclude<GatewayProviderName, 'smpp'>;

export function hasWebhook(provider: GatewayProviderName): provider is WebhookProviderName {
  return provider !== 'smpp';
}
