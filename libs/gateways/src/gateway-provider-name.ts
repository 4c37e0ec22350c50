/** The SMS gateways whose webhooks the service understands. */
export const GATEWAY_PROVIDERS = ['twilio', 'android-sms-gateway', 'textbee'] as const;
export type GatewayProviderName = (typeof GATEWAY_PROVIDERS)[number];
