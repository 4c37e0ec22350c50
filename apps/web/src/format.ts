import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js';
import { parsePartyAddress, type PartyKind } from '@app/common/phone/party-address.js';
import { analyzeSms } from '@app/common/sms/sms-encoding.js';

/** The country of an E.164 number, if it has one. */
export function countryOf(phone: string): CountryCode | undefined {
  return parsePhoneNumberFromString(phone)?.country;
}

/**
 * A number as people write it: national format when it is in the viewer's own
 * country ("(202) 555-0143"), international otherwise ("+44 20 7946 0958").
 * Short codes and sender IDs are shown as they are.
 */
export function formatPhone(value: string, homeCountry?: CountryCode): string {
  if (!/^\+[1-9][0-9]{1,14}$/.test(value)) return value;
  const parsed = parsePhoneNumberFromString(value);
  if (!parsed) return value;
  return homeCountry && parsed.country === homeCountry
    ? parsed.formatNational()
    : parsed.formatInternational();
}

/**
 * What the user typed as a party, read by the server's own parser (the code
 * behind its PhoneNumbers), so the page accepts what the API accepts and says
 * why not in the API's words. A number without + is read in the viewer's own
 * country, the way the page shows numbers; with no country to go by, the text
 * goes to the server as typed, which reads it in its DEFAULT_COUNTRY and
 * answers 400 if it is not a party.
 */
export function readParty(
  input: string,
  accept: readonly PartyKind[],
  country: CountryCode | undefined,
): { value: string } | { problem: string } {
  const text = input.trim();
  if (!country) return text ? { value: text } : { problem: 'must not be empty' };
  const parsed = parsePartyAddress(text, { defaultCountry: country, accept });
  return 'problem' in parsed ? parsed : { value: parsed.value };
}

const sameDay = (a: Date, b: Date) => a.toDateString() === b.toDateString();

/** A list's time: "14:05" today, "Mon" this week, "24 Nov" this year, else "24 Nov 2024". */
export function formatListTime(unixSeconds: number, now = new Date()): string {
  const date = new Date(unixSeconds * 1000);
  if (sameDay(date, now))
    return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const days = (now.getTime() - date.getTime()) / 86_400_000;
  if (days >= 0 && days < 6) return date.toLocaleDateString([], { weekday: 'short' });
  return date.toLocaleDateString([], {
    day: 'numeric',
    month: 'short',
    ...(date.getFullYear() === now.getFullYear() ? {} : { year: 'numeric' }),
  });
}

export function formatClock(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
  });
}

/** A day separator in a thread: "Today", "Yesterday", "Monday 24 November 2025". */
export function formatDay(unixSeconds: number, now = new Date()): string {
  const date = new Date(unixSeconds * 1000);
  if (sameDay(date, now)) return 'Today';
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (sameDay(date, yesterday)) return 'Yesterday';
  return date.toLocaleDateString([], {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
  });
}

/** A date in a sentence: "24 November 2025". */
export function formatDate(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toLocaleDateString([], {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
  });
}

export function formatFullTime(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toLocaleString([], {
    dateStyle: 'full',
    timeStyle: 'medium',
  });
}

export const MAX_MESSAGE_LENGTH = 1600;

export interface SmsCount {
  characters: number;
  segments: number;
  encoding: 'GSM-7' | 'UCS-2';
  /** Units left in the last segment (septets for GSM-7, UTF-16 units for UCS-2). */
  remaining: number;
}

/** Characters, segments and encoding exactly as the server will count them (same code). */
export function countSms(text: string): SmsCount {
  const info = analyzeSms(text);
  const used = info.segments <= 1 ? info.units : info.units - (info.segments - 1) * info.perSegment;
  return {
    characters: [...text].length,
    segments: info.segments,
    encoding: info.encoding,
    remaining: Math.max(0, info.perSegment - used),
  };
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
