import { toggle } from './pause';

export const usage = 'a2a-deploy resume JOB [--json]';
export const run = (argv: string[]) => toggle(argv, false);
