// Every workflow the main worker registers.
export { runMas } from './run-mas';
export { campaign, campaignRun, campaignBatch } from './campaign';
export { profilePool, profileCall } from './profiling';
export { designPool } from './design';
