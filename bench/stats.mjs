// What the bench scripts measure with: wall time of a call, and the median of several.

/** Milliseconds fn takes (synchronous: a spawnSync, say). */
export const time = (fn) => {
  const start = process.hrtime.bigint()
  fn()
  return Number(process.hrtime.bigint() - start) / 1e6
}

/** The median (the mean of the middle two for an even count). */
export const median = (values) => {
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}
