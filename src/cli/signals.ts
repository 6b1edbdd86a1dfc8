export interface StopSignal {
  /** Resolves on the first SIGINT or SIGTERM. */
  received: Promise<void>
  /** Removes the listeners, once the server has closed. */
  release(): void
}

/**
 * For the foreground servers (`emulator start`, `runtime start`): the first SIGINT or SIGTERM
 * resolves `received`, so the server can close gracefully; a second one while it closes exits
 * at once (130 for SIGINT, 143 for SIGTERM). The listeners stay registered (not `once`) until
 * `release`, so that second signal is still ours.
 */
export function stopSignal(): StopSignal {
  let signals = 0
  let resolve!: () => void
  const received = new Promise<void>((r) => (resolve = r))
  const onSignal = (signal: NodeJS.Signals) => {
    signals++
    if (signals === 1) resolve()
    else process.exit(signal === 'SIGINT' ? 130 : 143)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return {
    received,
    release() {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    },
  }
}
