// The container (Docker) runner and its parts: engine errors, logs, images, networks,
// container specs and lifecycle, and the runner.
export { createDockerRunner, type DockerRunnerDeps } from './runner';
export { listJobContainers, type JobContainer } from './containers';
export { LABEL_AGENT, LABEL_JOB, LABEL_SPEC } from './labels';
export { bindOf, memoryBytes } from './spec';
export { demuxLogs } from './logs';
