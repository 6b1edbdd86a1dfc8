import type {RotationPlan} from './plan.js'
import {DeploymentFailed, type Made, type RotationFailed} from './run.js'

/** A rotation's plan in words: printed on stderr before a rotation, and as the result of --dry-run. */
export function describePlan(plan: RotationPlan, options: {dryRun?: boolean} = {}): string {
  const lines: string[] = []
  const title = plan.kind === 'alias' ? `Rotating alias [${plan.alias}] of keystore [${plan.keystore}]` : `Rotating truststore [${plan.keystore}]`
  lines.push(`${title} in environment [${plan.environment}] (organization ${plan.organization})${options.dryRun ? ': dry run, nothing is made, changed or deployed.' : '.'}`)
  if (plan.kind === 'keystore') lines.push(`  New keystore:   ${plan.newKeystore}`)
  for (const a of plan.newAliases) lines.push(`  New alias:      ${a.alias} in keystore ${a.keystore} (${a.from})`)
  if (plan.renewal) {
    const r = plan.renewal
    lines.push(`  Certificate:    ${r.subject}${r.sans.length ? `, SANs ${r.sans.join(', ')}` : ''}; ${r.keyType}, ${r.usage === 'both' ? 'clientAuth+serverAuth' : `${r.usage}Auth`}, ${r.days} days, new key`)
    lines.push(`                  (renews serial ${r.oldSerialNumber}, issued by ${r.oldIssuer}, expiring ${r.oldNotAfter})`)
  }
  for (const r of plan.newReferences) lines.push(`  New reference:  ${r.name} -> ${r.refers} (${r.resourceType}), replacing ${r.replaces}`)
  const file = plan.files[0]?.file
  lines.push(`  Target servers (${file}):`)
  for (const c of plan.targetServers) {
    lines.push(`    ${c.targetServer}: sSLInfo.${c.field} ${c.from} -> ${c.to}${c.reference && c.field === 'keyAlias' ? ` (keystore through ref://${c.reference}, kept)` : ''}`)
  }
  if (plan.leftAlone.length > 0) {
    lines.push('  Left alone:')
    for (const l of plan.leftAlone) lines.push(`    ${l.file}: ${l.targetServer}: ${l.why}`)
  }
  const proxies = plan.deployment.proxies.map((p) => `${p.name} revision ${p.revision}`).join(', ')
  lines.push(`  Deployment:     ${plan.source} as rewritten, to environment ${plan.environment}${proxies ? ` (${proxies})` : ''}; ${file} is written once it has succeeded`)
  const old = plan.kind === 'alias' ? `alias ${plan.alias}` : `keystore ${plan.keystore}${plan.newReferences.length ? ` and reference(s) ${plan.newReferences.map((r) => r.replaces).join(', ')}` : ''}`
  lines.push(plan.deleteOld ? `  Afterwards:     delete ${old} once the latest deployment no longer uses it` : `  Afterwards:     ${old} kept (--delete-old deletes it once unused)`)
  for (const note of plan.notes) lines.push(`  Note: ${note}`)
  if (plan.problems.length > 0) lines.push(`  Preflight:      ${plan.problems.length} problem(s): the rotation would stop before making anything`)
  else lines.push('  Preflight:      passed (with the new resources taken as made)')
  return `${lines.join('\n')}\n\n${plan.files.map((f) => f.diff).join('')}`
}

const madeWords = (m: Made) => (m.kind === 'alias' ? `alias [${m.name}] in keystore [${m.keystore}]` : `${m.kind} [${m.name}]`)

/** What a stopped rotation left: what it made (kept) and that the source folder is unchanged. */
export function describeFailure(failure: RotationFailed, source: string): string {
  const where = {plan: 'planning', create: 'making the new resources', preflight: 'the preflight', deploy: 'the deployment', write: 'writing the source folder', 'delete-old': 'deleting the old one'}[failure.stage]
  if (failure.stage === 'delete-old') return `The rotation succeeded (deployed, ${source} written); it stopped at ${where}.`
  const made0 = failure.made.map(madeWords).join(', ')
  if (failure.stage === 'write') {
    return `The rotation deployed, then stopped at ${where}: the latest deployment uses ${made0 || 'the new resources'}, so keep them; ${source} is unchanged: apply the diff above to it by hand.`
  }
  if (failure.stage === 'deploy' && !(failure.reason instanceof DeploymentFailed) && failure.made.length > 0) {
    return `The rotation stopped at ${where} with its outcome unknown (the deployment may still go through): made and kept: ${made0}; do not delete them before \`mtlsctl archives list\` shows how the deployment ended; ${source} is unchanged.`
  }
  const made = failure.made.length === 0 ? 'nothing was made' : `made and kept: ${failure.made.map(madeWords).join(', ')} (harmless: no deployment names them; delete them, or give a new name when you rotate again)`
  return `The rotation stopped at ${where}: ${made}; ${source} is unchanged.`
}
