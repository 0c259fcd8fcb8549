// The labels on every container (and job network) this deployer makes: what gc and a retried
// start look for.
export const LABEL_JOB = 'a2a-deploy.job';
export const LABEL_AGENT = 'a2a-deploy.agent';
export const LABEL_SPEC = 'a2a-deploy.spec';
/** the SERVER marker (see ../markers.ts): whose deployer made it */
export const LABEL_SERVER = 'a2a-deploy.server';
