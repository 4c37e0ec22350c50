import { ApiProperty } from '@nestjs/swagger';
import { IsDefined, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { ApiText, ApiUuid, HasCodePointLength, IsStorableText } from '@app/common';
import { DELIVERY_STATUSES, type DeliveryStatus, MAX_MESSAGE_LENGTH } from '@app/messaging';

const MAX_ADDRESS_INPUT_LENGTH = 32;

/** A message to send for real, through the outbound gateway of `from`. */
export class SendMessageDto {
  /**
   * The number to send from: one of a gateway connection's numbers, which the key acts for. Any format libphonenumber understands.
   * @example "+12025550143"
   */
  @IsDefined()
  @IsString()
  @MaxLength(MAX_ADDRESS_INPUT_LENGTH)
  from: string;

  /**
   * The number to send to, or a short code.
   * @example "+12025550178"
   */
  @IsDefined()
  @IsString()
  @MaxLength(MAX_ADDRESS_INPUT_LENGTH)
  to: string;

  /**
   * 1 to 1600 characters; long texts go out as concatenated segments.
   * @example "Your table is ready"
   */
  @IsDefined()
  @IsString()
  @IsStorableText()
  @HasCodePointLength(1, MAX_MESSAGE_LENGTH)
  @ApiText(MAX_MESSAGE_LENGTH)
  text: string;

  /**
   * The message's id, for retries: the same uuid with the same content answers its current status and sends nothing again. Omit it and the server makes one.
   * @example "5f0c6f1e-8d2b-4c7e-9a51-3c1d2b8e7f40"
   */
  @IsOptional()
  @IsUUID('all')
  @ApiUuid()
  @ApiProperty({ required: false })
  uuid?: string;
}

/** Where a message sent through a gateway stands. */
export class SendAcceptedDto {
  /** @example "5f0c6f1e-8d2b-4c7e-9a51-3c1d2b8e7f40" */
  @ApiUuid()
  uuid: string;
  /** `queued` when it was accepted just now; the current status when the uuid was known. @example "queued" */
  @ApiProperty({ enum: DELIVERY_STATUSES })
  status: DeliveryStatus;
}
