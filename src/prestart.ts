/**
 * Work begun by bin/run.js before the CLI loads. `ca create` and `certs create` spend most of
 * their time making an RSA key (0.1-0.5 s) and most of the rest loading oclif and the command
 * (about 0.1 s). Begun first, the key is made on libuv's thread pool, on the other core, while
 * the CLI loads; the command takes it (newKey) instead of starting one.
 *
 * This is a guess from the first words of the command line, not a parse: oclif parses the
 * line as usual, and a wrong guess costs a key nobody takes. Only RSA-2048 (the default, and
 * the seed's) is begun early: a process cannot exit while libuv's thread pool is still making
 * a key, and a command refused before its key is needed should not wait long for one.
 */
import {type KeyType, startKeyGeneration} from './core/ca/keys.js'

/** The key `ca create` or `certs create` will make on this command line, if worth beginning early. */
export function keyAhead(argv: readonly string[]): KeyType | undefined {
  if (!(argv[0] === 'ca' || argv[0] === 'certs') || argv[1] !== 'create') return undefined
  let type = 'rsa-2048' // the commands' default
  for (let i = 2; i < argv.length; i++) {
    const word = argv[i]
    if (word === '--') break
    if (word === '--help' || word === '-h') return undefined
    if (word === '--key-type') type = argv[i + 1] ?? ''
    else if (word.startsWith('--key-type=')) type = word.slice('--key-type='.length)
  }
  return type === 'rsa-2048' ? type : undefined
}

export function prestart(argv: readonly string[]): void {
  const type = keyAhead(argv)
  if (type) startKeyGeneration(type)
}
