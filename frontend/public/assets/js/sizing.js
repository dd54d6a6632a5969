// How the page's load maps to backend replicas on the cluster. The numbers are those of
// k8s/base (backend CPU request, HPA target and bounds); tests/k8s checks that they agree
// with the rendered manifests and with docs/kubernetes.md.
//
// One load worker keeps one stress burn running at all times, and a burn keeps one core
// busy (each pod has STRESS_SLOTS burns of one core each under its CPU limit), so
// `concurrency` workers put about `concurrency` cores of CPU on the backend as a whole.
// The HPA asks for enough pods that each one averages its target:
//   desired = ceil(total CPU / (CPU request x target utilisation)), clamped to min..max.

export const CLUSTER_SIZING = Object.freeze({
  workerMillicores: 1000, // one busy core per load worker
  cpuRequestMillicores: 250, // backend container resources.requests.cpu
  targetUtilization: 200, // backend-hpa averageUtilization, % of the request
  minReplicas: 2,
  maxReplicas: 10,
});

/** The CPU one pod should average at the HPA's target, in millicores. */
export function targetMillicoresPerPod(s = CLUSTER_SIZING) {
  return (s.cpuRequestMillicores * s.targetUtilization) / 100;
}

/** Replicas the HPA settles on for `concurrency` load workers (given enough free cores). */
export function expectedReplicas(concurrency, s = CLUSTER_SIZING) {
  const raw = Math.ceil((concurrency * s.workerMillicores) / targetMillicoresPerPod(s));
  return Math.min(s.maxReplicas, Math.max(s.minReplicas, raw));
}
