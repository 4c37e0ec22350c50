/** One problem with one field of a request. */
export class ErrorDetail {
  /** The offending field, as a path into the request (`events[3].uuid`), or `path`/`query` names. @example "senderPhone" */
  field: string;
  /** What is wrong with it. @example "must be a phone number" */
  problem: string;
}

/**
 * The one error body of the API: Nest's usual keys plus the field list, so a
 * client can point at the field a person has to fix.
 */
export class ErrorBody {
  /** @example 400 */
  statusCode: number;
  /** The HTTP reason phrase. @example "Bad Request" */
  error: string;
  /** A sentence for a person. @example "senderPhone must be a phone number" */
  message: string;
  /** Present when specific fields are at fault. */
  details?: ErrorDetail[];
  /** The X-Request-Id of this request, to quote when reporting a problem. @example "3f9a6c1e-27d4-4b0e-9f51-8c2d1e7a4b60" */
  requestId?: string;
}
