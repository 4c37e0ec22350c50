import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import type { Principal } from '@app/auth';
import { ApiException, type PartyClassification, PhoneNumbers } from '@app/common';
import { ANY_PARTY } from '@app/messaging';
import { AuditRepository } from './audit.repository.js';
import type { ErasureResultDto } from './dto/erasure.dto.js';
import { ErasureRepository } from './erasure.repository.js';
import { isPseudonym, PartyPseudonyms } from './pseudonyms.js';

/** Messages per transaction: each batch's locks last milliseconds, and sends to the number go on meanwhile. */
export const ERASE_BATCH_SIZE = 1000;
const REPORTS_BATCH_SIZE = 1000;

/**
 * Erases a number: its messages keep their place in their threads (times,
 * counts, statuses) but lose their text, and the number becomes its
 * pseudonym in them. Its own thread summaries go with its last message, its
 * opt-outs with their keyword texts. Batches run until none of its messages
 * is left, so running it again after a crash finishes the work, and running
 * it on an erased number changes nothing.
 */
@Injectable()
export class ErasureService {
  private readonly logger = new Logger('Erasure');

  constructor(
    private readonly repository: ErasureRepository,
    private readonly audit: AuditRepository,
    private readonly pseudonyms: PartyPseudonyms,
    private readonly phones: PhoneNumbers,
  ) {}

  async erase(
    phone: string | PartyClassification,
    principal: Principal,
    confirm: string | undefined,
  ): Promise<ErasureResultDto> {
    const number = this.phones.require(phone, 'phone', ANY_PARTY);
    if (isPseudonym(number)) {
      throw ApiException.field(HttpStatus.BAD_REQUEST, 'phone', 'is already an erased number');
    }
    // The guard let a phone key through for its own number only; it must say so twice.
    // The admin key need not, but a confirmation it sends must be right.
    const confirmed = confirm === undefined ? principal.isAdmin : this.confirms(confirm, number);
    if (!confirmed) {
      throw ApiException.field(
        HttpStatus.BAD_REQUEST,
        'confirm',
        'must repeat the number to erase (?confirm=<the number>)',
      );
    }
    const pseudonym = this.pseudonyms.pseudonymOf(number);
    const auditId = await this.audit.start({
      action: 'erase',
      actor: principal.isAdmin ? 'admin' : 'key',
      keyId: principal.isAdmin ? null : principal.keyId,
      phoneHash: this.pseudonyms.hashOf(number),
    });
    let messagesErased = 0;
    let summariesRemoved = 0;
    for (;;) {
      const batch = await this.repository.eraseBatch(number, pseudonym, ERASE_BATCH_SIZE, auditId);
      messagesErased += batch.messages;
      summariesRemoved += batch.summaries;
      if (batch.found === 0) break;
    }
    while ((await this.repository.deleteReports(number, REPORTS_BATCH_SIZE)) > 0);
    while (
      (await this.repository.forgetInWebhookEvents(number, pseudonym, REPORTS_BATCH_SIZE)) > 0
    );
    await this.audit.finish(auditId);
    this.logger.log(
      `Erasure ${auditId}: ${messagesErased} messages erased, ${summariesRemoved} thread summaries removed`,
    );
    return { messagesErased, summariesRemoved, pseudonym };
  }

  private confirms(confirm: string, number: string): boolean {
    const parsed = this.phones.parse(confirm, ANY_PARTY);
    return !('problem' in parsed) && parsed.value === number;
  }
}
