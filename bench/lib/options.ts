// The benchmark's options as parsed from its command line (args.ts). A file of its own because the
// scenarios read them and args.ts checks --only against the scenarios: each imports this, not the other.
export interface Options {
  quick: boolean;
  build: boolean;
  only?: string[];
  reps?: number;
  healthInterval?: string;
  report?: string;
  help: boolean;
}
