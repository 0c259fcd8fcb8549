// The process toolkit: /proc reads, signals, and TERM → grace → KILL.
export * from './proc';
export * from './terminate';
export * from './ports';
