/** The revocation reasons certified records and puts in CRLs, in the order help and completion list them. */
export const REVOCATION_REASONS = ['unspecified', 'keyCompromise', 'superseded', 'cessationOfOperation', 'affiliationChanged'] as const;
export type RevokeReason = (typeof REVOCATION_REASONS)[number];
