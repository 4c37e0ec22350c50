import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AdminKey, AuthModule } from '@app/auth';
import { CursorCodec } from '@app/common';
import { AuditController } from './audit.controller.js';
import { AuditRepository } from './audit.repository.js';
import { AuditService } from './audit.service.js';
import { ErasureAudit } from './erasure-audit.entity.js';
import { ErasureController } from './erasure.controller.js';
import { ErasureRepository } from './erasure.repository.js';
import { ErasureService } from './erasure.service.js';
import { PartyPseudonyms } from './pseudonyms.js';
import { RetentionEvents } from './retention-events.js';
import { RetentionRepository } from './retention.repository.js';
import { RetentionService } from './retention.service.js';

/** Erasing a number (issue 11), retention (RETENTION_DAYS), and the audit of both. */
@Module({
  imports: [TypeOrmModule.forFeature([ErasureAudit]), AuthModule],
  controllers: [ErasureController, AuditController],
  providers: [
    ErasureService,
    ErasureRepository,
    AuditService,
    AuditRepository,
    RetentionService,
    RetentionRepository,
    RetentionEvents,
    // Derived from the admin key like the cursors' secret: the same on every instance.
    {
      provide: PartyPseudonyms,
      inject: [AdminKey],
      useFactory: (adminKey: AdminKey) =>
        new PartyPseudonyms(
          adminKey.deriveSecret('erasure-pseudonyms'),
          adminKey.deriveSecret('erasure-audit'),
        ),
    },
    {
      provide: CursorCodec,
      inject: [AdminKey],
      useFactory: (adminKey: AdminKey) => new CursorCodec(adminKey.deriveSecret('cursors')),
    },
  ],
  exports: [RetentionEvents, RetentionService, ErasureRepository],
})
export class PrivacyModule {}
