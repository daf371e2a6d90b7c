/**
 * ApplicationFailure type raised for a run of a campaign the results store does not know. In a
 * module of its own: the campaign workflow reads it, and importing core/campaign/spec.ts would
 * evaluate its zod schemas, the methods and @noble/hashes again for every workflow (#17).
 */
export const UNKNOWN_CAMPAIGN_TYPE = 'UnknownCampaign';
