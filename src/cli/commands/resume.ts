import { toggle } from './pause';

export const run = (argv: string[]) => toggle(argv, false);
