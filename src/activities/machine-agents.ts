// This machine's agents as the local and Docker runners find them, for the leftover collection
// (src/jobs/leftovers.ts), which is handed them rather than importing the runners.
import type Docker from 'dockerode';
import type { MachineAgents } from '../jobs/leftovers';
import { listJobContainers, removeContainer } from './docker/containers';
import { listMarkedAgents } from './local-runner';
import { groupsHere, removeGroupsOf } from './limits';

export const machineAgents = (docker: Docker): MachineAgents => ({
  containers: (only) => listJobContainers(docker, only),
  removeContainer: (id) => removeContainer(docker, id),
  processes: listMarkedAgents,
  groups: groupsHere,
  removeGroups: removeGroupsOf,
});
