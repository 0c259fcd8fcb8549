// The kubernetes runner and its parts: the kubeconfig, a small API client, the objects of an
// agent, its pods, and the loopback forwarder to the service proxy.
export { createKubernetesRunner, type KubernetesRunnerDeps } from './runner';
export { kubeconfigPath, loadClusterAccess, contextNames } from './kubeconfig';
