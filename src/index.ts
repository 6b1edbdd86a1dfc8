/**
 * Every command, by id. oclif's "explicit" discovery reads this map, so the whole CLI can be
 * bundled into one file and nothing is looked up on disk at start-up.
 */
import AliasesAdd from './commands/aliases/add.js'
import AliasesCsr from './commands/aliases/csr.js'
import AliasesDelete from './commands/aliases/delete.js'
import AliasesDescribe from './commands/aliases/describe.js'
import AliasesList from './commands/aliases/list.js'
import AliasesRotate from './commands/aliases/rotate.js'
import AliasesUpdate from './commands/aliases/update.js'
import ArchivesDelete from './commands/archives/delete.js'
import ArchivesDeploy from './commands/archives/deploy.js'
import ArchivesDescribe from './commands/archives/describe.js'
import ArchivesList from './commands/archives/list.js'
import ArchivesValidate from './commands/archives/validate.js'
import CaCreate from './commands/ca/create.js'
import CaDescribe from './commands/ca/describe.js'
import CaList from './commands/ca/list.js'
import CertsApply from './commands/certs/apply.js'
import CertsCreate from './commands/certs/create.js'
import CertsDescribe from './commands/certs/describe.js'
import CertsExport from './commands/certs/export.js'
import CertsHandshake from './commands/certs/handshake.js'
import CertsLint from './commands/certs/lint.js'
import CertsProbe from './commands/certs/probe.js'
import CertsSign from './commands/certs/sign.js'
import CertsVerify from './commands/certs/verify.js'
import ConfigGet from './commands/config/get.js'
import ConfigList from './commands/config/list.js'
import ConfigSet from './commands/config/set.js'
import ConfigUnset from './commands/config/unset.js'
import EmulatorStart from './commands/emulator/start.js'
import EmulatorStatus from './commands/emulator/status.js'
import EmulatorStop from './commands/emulator/stop.js'
import EnvironmentsCreate from './commands/environments/create.js'
import EnvironmentsDelete from './commands/environments/delete.js'
import EnvironmentsDescribe from './commands/environments/describe.js'
import EnvironmentsList from './commands/environments/list.js'
import HybridCheck from './commands/hybrid/check.js'
import HybridNetworkPolicies from './commands/hybrid/network-policies.js'
import HybridPorts from './commands/hybrid/ports.js'
import KeystoresCreate from './commands/keystores/create.js'
import KeystoresDelete from './commands/keystores/delete.js'
import KeystoresDescribe from './commands/keystores/describe.js'
import KeystoresList from './commands/keystores/list.js'
import KeystoresRotate from './commands/keystores/rotate.js'
import MeshInstall from './commands/mesh/install.js'
import OperationsDescribe from './commands/operations/describe.js'
import OperationsList from './commands/operations/list.js'
import OperationsWait from './commands/operations/wait.js'
import ReferencesCreate from './commands/references/create.js'
import ReferencesDelete from './commands/references/delete.js'
import ReferencesDescribe from './commands/references/describe.js'
import ReferencesList from './commands/references/list.js'
import ReferencesUpdate from './commands/references/update.js'
import RuntimeStart from './commands/runtime/start.js'
import RuntimeStatus from './commands/runtime/status.js'
import RuntimeStop from './commands/runtime/stop.js'

export const COMMANDS = {
  'aliases:add': AliasesAdd,
  'aliases:csr': AliasesCsr,
  'aliases:delete': AliasesDelete,
  'aliases:describe': AliasesDescribe,
  'aliases:list': AliasesList,
  'aliases:rotate': AliasesRotate,
  'aliases:update': AliasesUpdate,
  'archives:delete': ArchivesDelete,
  'archives:deploy': ArchivesDeploy,
  'archives:describe': ArchivesDescribe,
  'archives:list': ArchivesList,
  'archives:validate': ArchivesValidate,
  'ca:create': CaCreate,
  'ca:describe': CaDescribe,
  'ca:list': CaList,
  'certs:apply': CertsApply,
  'certs:create': CertsCreate,
  'certs:describe': CertsDescribe,
  'certs:export': CertsExport,
  'certs:handshake': CertsHandshake,
  'certs:lint': CertsLint,
  'certs:probe': CertsProbe,
  'certs:sign': CertsSign,
  'certs:verify': CertsVerify,
  'config:get': ConfigGet,
  'config:list': ConfigList,
  'config:set': ConfigSet,
  'config:unset': ConfigUnset,
  'emulator:start': EmulatorStart,
  'emulator:status': EmulatorStatus,
  'emulator:stop': EmulatorStop,
  'environments:create': EnvironmentsCreate,
  'environments:delete': EnvironmentsDelete,
  'environments:describe': EnvironmentsDescribe,
  'environments:list': EnvironmentsList,
  'hybrid:check': HybridCheck,
  'hybrid:network-policies': HybridNetworkPolicies,
  'hybrid:ports': HybridPorts,
  'keystores:create': KeystoresCreate,
  'keystores:delete': KeystoresDelete,
  'keystores:describe': KeystoresDescribe,
  'keystores:list': KeystoresList,
  'keystores:rotate': KeystoresRotate,
  'mesh:install': MeshInstall,
  'operations:describe': OperationsDescribe,
  'operations:list': OperationsList,
  'operations:wait': OperationsWait,
  'references:create': ReferencesCreate,
  'references:delete': ReferencesDelete,
  'references:describe': ReferencesDescribe,
  'references:list': ReferencesList,
  'references:update': ReferencesUpdate,
  'runtime:start': RuntimeStart,
  'runtime:status': RuntimeStatus,
  'runtime:stop': RuntimeStop,
}
