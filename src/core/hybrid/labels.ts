import {invalidArgument} from '../errors.js'

/**
 * The pod labels Apigee hybrid puts on its runtime components, by the seed's component id.
 * The apigee-controller creates these pods, so the labels appear in manifests that select them:
 *   - apigee/apigee-hybrid-install (Google's kustomize install, commit 316b1f0):
 *     overlays/initialization/ingress/envoyfilter-1.11.yaml (workloadSelector `app: apigee-ingressgateway`),
 *     overlays/instances/instance1/route-config/test-envgroup/apigee-route-config.yaml (selector `app: apigee-ingressgateway`).
 *   - srinandan/hybrid-network-policies (an Apigee engineer's NetworkPolicies for hybrid, commit 277a44d):
 *     base/common/netpol-cassandra-server.yaml (`app: apigee-cassandra`), base/common/netpol-ingress.yaml
 *     (`app: apigee-mart`, `app: apigee-runtime`), org-template/netpol-connect.yaml (`app: apigee-connect-agent`),
 *     org-template/envs/test/netpol-sync.yaml (`app: apigee-synchronizer`), org-template/envs/test/netpol-udca.yaml
 *     (`app: apigee-udca`, which admits the Message Processor on 20001: fluentd runs in the UDCA pod),
 *     base/common/netpol-monitoring.yaml (`app: apigee-metrics`, the Prometheus pod).
 *   - `app: apigee-watcher`: used by operators' scripts (`kubectl get po -l app=apigee-watcher`); no public
 *     manifest of it was found. The public apigee-hybrid-helm-charts repository could not be fetched here.
 * Every label can be overridden (`--label COMPONENT=KEY=VALUE`) for installations that differ.
 */
export const DEFAULT_LABELS: Record<string, Record<string, string>> = {
  'apigee-connect': {app: 'apigee-connect-agent'},
  cassandra: {app: 'apigee-cassandra'},
  'default-istio-ingress': {app: 'apigee-ingressgateway'},
  fluentd: {app: 'apigee-udca'},
  mart: {app: 'apigee-mart'},
  'message-processor': {app: 'apigee-runtime'},
  prometheus: {app: 'apigee-metrics'},
  synchronizer: {app: 'apigee-synchronizer'},
  udca: {app: 'apigee-udca'},
  watcher: {app: 'apigee-watcher'},
}

/** Applies `COMPONENT=KEY=VALUE` overrides (each replaces that component's labels; repeat for several keys). */
export function componentLabels(overrides: string[] = []): Record<string, Record<string, string>> {
  const labels = structuredClone(DEFAULT_LABELS)
  const replaced = new Set<string>()
  for (const text of overrides) {
    const match = /^([a-z0-9-]+)=([A-Za-z0-9./_-]+)=([A-Za-z0-9._-]*)$/.exec(text)
    if (!match || !(match[1] in labels)) {
      throw invalidArgument(
        `Invalid --label "${text}": use COMPONENT=KEY=VALUE with COMPONENT one of ${Object.keys(labels).join(', ')}.`,
      )
    }
    const [, component, key, value] = match
    if (!replaced.has(component)) labels[component] = {}
    replaced.add(component)
    labels[component][key] = value
  }
  return labels
}
